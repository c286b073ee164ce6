"""The daily check-in: one message, answered by taps (or typing), edited in place."""

from __future__ import annotations

import re

from telegram import Bot, InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.services.checkin import CheckinView, Claimed, NotYours
from bot.services.urge import contact_topics
from content.loader import Markup, Texts
from content.program import NO_CONTACT
from content.understand import typed_mood, understand
from handlers.callbacks import decode
from handlers.replies import (
    button,
    edit,
    ex_label,
    for_distance,
    gentle_markup,
    keyboard,
    reply,
    send,
    settle,
)

AREA = "checkin"


def _arg(checkin_id: int, value: object) -> str:
    return f"{checkin_id}.{value}"


def contact_markup(texts: Texts, checkin_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [[button(texts.render(f"checkin.contact.{v}"), AREA, "contact", _arg(checkin_id, v))
          for v in ("none", "me", "them")]]
    )  # fmt: skip


def planned_first(topics: tuple[str, ...], planned: tuple[str, ...]) -> tuple[str, ...]:
    """The topics to offer: the usual ones, with the contact the person's path plans for
    (never a slip) before "something else"."""
    usual = tuple(t for t in topics if t != "other")
    return (*usual, *planned, *(t for t in topics if t == "other"))


def opening_text(
    texts: Texts,
    kind: str,
    streak_day: int | None,
    ex_name: str | None,
    distance: str = NO_CONTACT,
) -> str:
    if kind == "risky_day":
        header = texts.render("checkin.header_risky")
    elif streak_day:
        header = texts.render(for_distance("checkin.header_daily", distance), day=streak_day)
    else:
        header = texts.render("checkin.header_start")
    return header + "\n" + texts.render("checkin.ask_contact", ex=ex_label(texts, ex_name))


async def send_scheduled(bot: Bot, texts: Texts, claimed: Claimed) -> int:
    """Send one claimed check-in; returns the message id. The one place check-ins are sent."""
    if claimed.safety_hold:  # a crisis is open: no coaching today, a gentle "how are you?"
        return await send(
            bot, claimed.chat_id, texts.render("safety.gentle_ask"), gentle_markup(texts)
        )
    return await send(
        bot,
        claimed.chat_id,
        opening_text(texts, claimed.kind, claimed.streak_day, claimed.ex_name, claimed.distance),
        contact_markup(texts, claimed.checkin_id),
    )


def render(texts: Texts, view: CheckinView) -> tuple[str, InlineKeyboardMarkup | None]:
    """The check-in message as it stands after the answers so far."""
    distance = view.streak.distance
    lines = [
        opening_text(
            texts,
            view.kind,
            view.streak.current if view.counting else None,
            view.ex_name,
            distance,
        ).split("\n")[0]
    ]
    if view.contact:
        answer = texts.render(f"checkin.contact.{view.contact}")
        if view.contact_topic:
            answer += " — " + texts.render(f"checkin.topic.{view.contact_topic}").lower()
        lines.append(texts.render("checkin.line_contact", answer=answer))
    if view.mood is not None:
        lines.append(texts.render("checkin.line_mood", mood=view.mood))
    if view.urge is not None:
        lines.append(
            texts.render("checkin.line_urge", answer=texts.render(f"checkin.urge.{view.urge}"))
        )
    cid = view.checkin_id
    if view.contact is None:
        return "\n".join(lines[:1]) + "\n" + texts.render(
            "checkin.ask_contact", ex=ex_label(texts, view.ex_name)
        ), contact_markup(texts, cid)
    if view.needs_topic:
        topics = planned_first(contact_topics(view.shares_something), view.planned_topics)
        ask = "checkin.ask_topic" if view.shares_something else "checkin.ask_topic_no_shared"
        lines.append(texts.render(ask))
        return "\n".join(lines), keyboard(
            [
                [button(texts.render(f"checkin.topic.{t}"), AREA, "topic", _arg(cid, t))]
                for t in topics
            ]
        )
    if view.mood is None:
        if view.contact == "them":
            lines.append(texts.render(for_distance("checkin.them_note", distance)))
        lines.append(texts.render("checkin.ask_mood"))
        moods = [button(str(m), AREA, "mood", _arg(cid, m)) for m in range(1, 6)]
        return "\n".join(lines), keyboard([moods])
    if view.urge is None:
        lines.append(texts.render("checkin.ask_urge"))
        return "\n".join(lines), keyboard(
            [[button(texts.render(f"checkin.urge.{u}"), AREA, "urge", _arg(cid, u))
              for u in ("none", "some", "strong")]])  # fmt: skip
    if view.slipped:
        lines.append(
            texts.render(for_distance("checkin.slipped", distance), total=view.streak.total)
        )
    if view.counting:
        lines.append(
            texts.render(
                for_distance("checkin.done", distance),
                current=view.streak.current,
                length=view.streak.length,
                total=view.streak.total,
                resisted=view.streak.urges_resisted,
            )
        )
    else:
        lines.append(texts.render("checkin.done_reconnecting"))
    if view.urge == "strong" and not view.slipped:
        lines.append(texts.render("checkin.strong_urge"))
    return "\n".join(lines), None


def milestone_text(texts: Texts, view: CheckinView) -> str | None:
    """The milestone this answer reached, in words, if any."""
    if view.milestone is None:
        return None
    distance = view.streak.distance
    if view.milestone >= view.streak.length:
        return texts.render(for_distance("milestone.end", distance), days=view.streak.length)
    for text_id in (for_distance(f"milestone.{view.milestone}", distance),
                    f"milestone.{view.milestone}"):  # fmt: skip
        if text_id in texts:
            return texts.render(text_id)
    return None


async def on_tap(update: Update, context: CoachContext) -> CheckinView | None:
    """A tap on today's check-in: the message is edited in place. Returns the check-in as it
    stands (the routing table passes it on to the program), None when nothing changed."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    data = decode(query.data)
    match = re.fullmatch(r"(\d+)\.([a-z0-9_]+)", data.arg if data else "")
    if data is None or match is None:
        return None
    try:
        view = await context.services.checkins.answer(
            update.effective_user.id, int(match.group(1)), data.action, match.group(2)
        )
    except NotYours:
        await edit(query, context.texts.render("checkin.stale"))
        return None
    text, markup = render(context.texts, view)
    await edit(query, text, markup)
    return view


_TYPED = {
    "contact": {"no": "none", "nope": "none", "none": "none", "i did": "me", "yes": "me",
                "me": "me", "they did": "them", "they contacted me": "them", "them": "them"},
    "topic": {"emergency": "emergency", "only an emergency": "emergency", "practical": "logistics",
              "logistics": "logistics", "kids": "logistics", "work": "logistics",
              "something else": "other", "other": "other", "else": "other"},
    "urge": {"none": "none", "no": "none", "some": "some", "a bit": "some", "strong": "strong",
             "very": "strong", "strong urge": "strong"},
}  # fmt: skip


# Told in words while the check-in asks whether they were in touch: a slip is "I did", the ex
# getting in touch is "They contacted me".
CONTACT_INTENTS = {"slip": "me", "they_texted": "them"}


async def try_typed_answer(update: Update, context: CoachContext) -> CheckinView | bool:
    """A typed answer to today's open check-in: the check-in as it stands after it, True when
    only a hint was given, False if there is no check-in to answer."""
    assert update.effective_user is not None and update.effective_message is not None
    checkins = context.services.checkins
    checkin_id = await checkins.open_checkin(update.effective_user.id)
    if checkin_id is None:
        return False
    view = await checkins.view(update.effective_user.id, checkin_id)
    field = ("contact" if view.contact is None else "topic" if view.needs_topic
             else "mood" if view.mood is None else "urge")  # fmt: skip
    said = update.effective_message.text or ""
    typed = " ".join(said.lower().split()).strip(".!")
    value: str | None
    if field == "mood":
        # Asked how they feel: a number, or words read as a mood ("a bit better actually").
        mood = int(typed) if typed in {"1", "2", "3", "4", "5"} else typed_mood(said)
        value = None if mood is None else str(mood)
    else:
        value = _TYPED[field].get(typed)
    if value is None:
        intent = understand(said).intent
        if field == "contact":
            value = CONTACT_INTENTS.get(intent)
        if value is None and intent not in ("other", *CONTACT_INTENTS):
            return False  # a message of its own ("I miss him so much"): answered as one
    if value is None:
        text, markup = render(context.texts, view)
        await reply(
            update,
            context,
            context.texts.render("checkin.typed_hint", hint=text.split("\n")[-1]),
            markup,
        )
        return True
    view = await checkins.answer(update.effective_user.id, checkin_id, field, value)
    text, markup = render(context.texts, view)
    await reply(update, context, text, markup)
    return view


async def try_media(update: Update, context: CoachContext) -> bool:
    """A sticker, photo or voice note while today's check-in is open: the check-in's question
    again, with its buttons. False when no check-in is open."""
    assert update.effective_user is not None
    texts, checkins, user_id = context.texts, context.services.checkins, update.effective_user.id
    checkin_id = await checkins.open_checkin(user_id)
    if checkin_id is None:
        return False
    text, markup = render(texts, await checkins.view(user_id, checkin_id))
    hint = Markup(text.split("\n")[-1])
    await reply(update, context, texts.render("robust.media_checkin", hint=hint), markup)
    return True
