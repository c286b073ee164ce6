""" "I want to text them": the menu button, /urge and typed words like "I'm about to text her".

How strong is the pull (a tap, and the urge is logged) → paste the draft here instead of sending
it → what in it works against them, the advice engine's verdict for their situation, and better
versions to copy → "Ask me again in 20 minutes". The held draft lives in the database; the
scheduler's one tick sends "Still want to send it?" when it is due (`send_follow_up`), restart or
not, and the answer buttons resolve the urge.

While a draft is expected next the person awaits "urge.draft" (bot/services/conversation.py);
which urge it belongs to is in the urges table.
"""

from __future__ import annotations

import contextlib
import re

from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.context import CoachContext
from bot.services.advice import NotSetUp
from bot.services.conversation import Expected
from bot.services.urge import (
    STRENGTHS,
    TOPICS,
    DraftReview,
    FollowUp,
    NotYourUrge,
    Resolution,
    contact_topics,
)
from content.loader import Texts, source_names
from content.review import Finding
from content.timezones import zone_info
from handlers.callbacks import decode
from handlers.replies import (
    Then,
    button,
    edit,
    ex_label,
    keyboard,
    not_set_up,
    remove_buttons,
    reply,
    send,
    settle,
    show_menu,
)

AREA = "urge"
DRAFT = "urge.draft"
SHOWN_FINDINGS = 1  # the most important finding; the rest open from "…and N more"
DRAFT_QUOTE_CHARS = 300
VERDICT_CHECKS = frozenset({"phase", "verdict"})

# --- rendering ---------------------------------------------------------------------------------


def strength_markup(texts: Texts) -> InlineKeyboardMarkup:
    return keyboard(
        [[button(texts.render(f"urge.strength.{s}"), AREA, "strength", s) for s in STRENGTHS]]
    )


def hold_markup(texts: Texts, urge_id: int, *, blocked: bool = False) -> InlineKeyboardMarkup:
    let_go = [button(texts.render("urge.buttons.let_go"), AREA, "letgo", urge_id)]
    if blocked:  # abuse or danger from the ex: letting it go is the only offer
        return keyboard([let_go])
    return keyboard([[button(texts.render("urge.buttons.hold"), AREA, "hold", urge_id)], let_go])


def follow_up_markup(texts: Texts, urge_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [[button(texts.render("urge.buttons.waited"), AREA, "waited", urge_id)],
         [button(texts.render("urge.buttons.sent"), AREA, "sent", urge_id)],
         [button(texts.render("urge.buttons.not_yet"), AREA, "notyet", urge_id)]]
    )  # fmt: skip


def findings_about_the_draft(drafted: DraftReview) -> list[Finding]:
    # Where they are in no contact, and the verdict's own reason, are said by the verdict.
    return [f for f in drafted.review.findings if f.check not in VERDICT_CHECKS]


def review_text(texts: Texts, drafted: DraftReview) -> str:
    """The most important finding (with its sources), then the verdict: headline and days
    left. The other findings open from the "…and N more" button."""
    verdict = drafted.advice.verdict
    about_the_draft = findings_about_the_draft(drafted)
    lines: list[str] = []
    if drafted.leverage:  # a self-harm threat as pressure: flagged first, in the bot's words
        lines += [texts.render("safetyflow.draft.leverage").rstrip(), ""]
    if not about_the_draft:
        lines.append(texts.render("urge.clean"))
    else:
        lines.append(texts.render("urge.findings_title"))
        lines += [
            texts.render("urge.finding", text=f.text, sources=source_names(f.sources))
            for f in about_the_draft[:SHOWN_FINDINGS]
        ]
    lines += ["", texts.render("urge.verdict", headline=verdict.headline)]
    note = drafted.advice.days_note
    if note == "one":
        lines.append(texts.render("urge.days_left_one"))
    elif note == "many":
        lines.append(texts.render("urge.days_left", days=verdict.days_left))
    return "\n".join(lines)


def more_markup(texts: Texts, drafted: DraftReview) -> InlineKeyboardMarkup | None:
    """ "…and 2 more": the rest of the findings, one tap away."""
    rest = len(findings_about_the_draft(drafted)) - SHOWN_FINDINGS
    if rest <= 0:
        return None
    text_id = "urge.more_findings_one" if rest == 1 else "urge.more_findings"
    return keyboard([[button(texts.render(text_id, count=rest), AREA, "more", drafted.urge_id)]])


def more_text(texts: Texts, drafted: DraftReview) -> str:
    return "\n".join(
        texts.render("urge.finding", text=f.text, sources=source_names(f.sources))
        for f in findings_about_the_draft(drafted)[SHOWN_FINDINGS:]
    )


def follow_up_text(texts: Texts, draft: str | None) -> str:
    lines = [texts.render("urge.follow_up")]
    if draft:
        quoted = draft if len(draft) <= DRAFT_QUOTE_CHARS else draft[:DRAFT_QUOTE_CHARS] + "…"
        lines.append(texts.render("urge.follow_up_draft", draft=quoted))
    return "\n\n".join(lines)


async def send_follow_up(bot: Bot, texts: Texts, follow_up: FollowUp) -> int:
    """Send one claimed follow-up ("Still want to send it?"); returns the message id. The one
    place follow-ups are sent, called by the scheduler's tick."""
    return await send(
        bot,
        follow_up.chat_id,
        follow_up_text(texts, follow_up.draft),
        follow_up_markup(texts, follow_up.urge_id),
    )


def _hour(hour: int) -> str:
    return f"{hour:02d}:00"


# --- the steps ---------------------------------------------------------------------------------


async def begin(update: Update, context: CoachContext) -> None:
    """The menu button, /urge and typed words all start here: how strong is the pull?"""
    assert update.effective_user is not None
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or not profile.set_up:
        await not_set_up(update, context)
        return
    texts = context.texts
    await reply(update, context, texts.render("urge.start").rstrip(), strength_markup(texts))


async def chose_strength(update: Update, context: CoachContext, strength: str) -> None:
    assert update.effective_user is not None and update.callback_query is not None
    texts = context.texts
    try:
        await context.services.urges.start(update.effective_user.id, strength)
    except NotSetUp:
        await not_set_up(update, context)
        return
    answer = texts.render(f"urge.strength.{strength}")
    await edit(update.callback_query, texts.render("urge.strength_answered", answer=answer))
    profile = await context.services.intake.profile(update.effective_user.id)
    ex = ex_label(texts, profile.ex_name if profile else None)
    await reply(update, context, texts.render("urge.ask_draft", ex=ex).rstrip())
    await context.services.conversation.expect(update.effective_user.id, DRAFT)


async def show_review(update: Update, context: CoachContext, drafted: DraftReview) -> None:
    texts = context.texts
    await reply(update, context, review_text(texts, drafted), more_markup(texts, drafted))
    rewrites = drafted.review.rewrites
    if rewrites:
        await reply(update, context, texts.render("urge.rewrites_intro"))
        for rewrite in rewrites:
            await reply(
                update,
                context,
                texts.render(
                    "urge.rewrite", text=rewrite.text, sources=source_names(rewrite.sources)
                ),
            )
    markup = hold_markup(texts, drafted.urge_id, blocked=drafted.blocked)
    offer = "safetyflow.draft.let_go_only" if drafted.blocked else "urge.offer_hold"
    await reply(update, context, texts.render(offer), markup)


async def on_answer(update: Update, context: CoachContext, expected: Expected) -> Then | None:
    """The draft, pasted here instead of sent. Reviewed, kept only while it may be held."""
    assert update.effective_user is not None and update.effective_message is not None
    draft = update.effective_message.text
    if expected.key != DRAFT or draft is None:
        return Then.UNHANDLED  # a sticker or photo: answered as anywhere else
    user_id = update.effective_user.id
    await context.services.conversation.clear(user_id, DRAFT)
    try:
        drafted = await context.services.urges.review_draft(user_id, draft)
    except NotSetUp:
        await not_set_up(update, context)
        return None
    if drafted is None:  # nothing is waiting for a draft any more (an old wait): as usual
        return Then.UNHANDLED
    await show_review(update, context, drafted)
    return None


async def held(update: Update, context: CoachContext, urge_id: int) -> None:
    assert update.effective_user is not None
    texts = context.texts
    result = await context.services.urges.hold(update.effective_user.id, urge_id)
    if result is None:
        await reply(update, context, texts.render("urge.already"))
        return
    local = result.at.astimezone(zone_info(result.zone))
    await reply(update, context, texts.render("urge.held", time=f"{local:%H:%M}").rstrip())


async def resolved(update: Update, context: CoachContext, resolution: Resolution) -> None:
    texts = context.texts
    if not resolution.changed:
        await reply(update, context, texts.render("urge.already"))
        return
    if resolution.outcome == "resisted":
        text = texts.render("urge.resisted", resisted=resolution.resisted)
    elif not resolution.slipped:
        text = texts.render("urge.sent_ok")
    elif resolution.total_days:
        text = texts.render("urge.sent_slip", total=resolution.total_days)
    else:
        text = texts.render("urge.sent_slip_fresh")
    await reply(update, context, text.rstrip())
    found = resolution.pattern
    if found is not None:
        hour = _hour(found.hour)
        await reply(
            update,
            context,
            texts.render(
                "urge.pattern", around=found.around, urges=found.urges, hour=hour
            ).rstrip(),
            keyboard(
                [[button(texts.render("urge.buttons.move", hour=hour), AREA, "move", found.hour)],
                 [button(texts.render("urge.buttons.keep"), AREA, "keep")]]
            ),
        )  # fmt: skip


async def ask_topic(update: Update, context: CoachContext, urge_id: int) -> None:
    assert update.effective_user is not None
    texts = context.texts
    profile = await context.services.intake.profile(update.effective_user.id)
    shares = bool(profile and profile.shared)
    topics = contact_topics(shares)
    await reply(
        update,
        context,
        texts.render("urge.ask_topic" if shares else "urge.ask_topic_no_shared"),
        keyboard(
            [[button(texts.render(f"urge.topic.{t}"), AREA, "topic", f"{urge_id}.{t}")]
             for t in topics]
        ),
    )  # fmt: skip


# --- the adapters ----------------------------------------------------------------------------

_ID = re.compile(r"\d{1,18}")
_TOPIC = re.compile(r"(\d{1,18})\.([a-z]+)")
_WITH_ID = frozenset({"hold", "letgo", "waited", "sent", "notyet", "more"})


async def _answered(update: Update, context: CoachContext, text_id: str, label_id: str) -> None:
    """Show the tapped answer on the message it came from, in place of its buttons (and of the
    quoted draft: it has done its job)."""
    query = update.callback_query
    assert query is not None
    answer = context.texts.render(label_id)
    try:
        await edit(query, context.texts.render(text_id, answer=answer))
    except BadRequest:  # too old to edit: taking the buttons away is enough
        with contextlib.suppress(BadRequest):
            await remove_buttons(query)


async def on_tap(update: Update, context: CoachContext) -> Then | None:
    """Every button in this area. Anything forged or outdated changes nothing."""
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    data = decode(query.data)
    action, arg = (data.action, data.arg) if data else ("", "")
    topic = _TOPIC.fullmatch(arg) if action == "topic" else None
    valid = (
        action in ("start", "keep", "menu")
        or (action == "strength" and arg in STRENGTHS)
        or (action in _WITH_ID and _ID.fullmatch(arg) is not None)
        or (topic is not None and topic.group(2) in TOPICS)
        or (action == "move" and arg.isdigit() and 0 <= int(arg) <= 23)
    )
    if not valid:
        return Then.STALE
    await settle(query)
    urges, texts, user_id = context.services.urges, context.texts, update.effective_user.id
    # A tap moves the flow on: a draft is awaited again only once a strength is chosen.
    await context.services.conversation.clear(user_id, DRAFT)
    try:
        match action:
            case "start":
                await begin(update, context)
            case "strength":
                await chose_strength(update, context, arg)
            case "more":
                await remove_buttons(query)
                drafted = await urges.review_again(user_id, int(arg))
                if drafted is None:
                    return Then.STALE
                await reply(update, context, more_text(texts, drafted))
            case "hold":
                await remove_buttons(query)
                await held(update, context, int(arg))
            case "letgo":
                await remove_buttons(query)
                await resolved(update, context, await urges.resisted(user_id, int(arg)))
            case "waited":
                await _answered(update, context, "urge.follow_up_answered", "urge.buttons.waited")
                await resolved(update, context, await urges.resisted(user_id, int(arg)))
            case "sent":
                await _answered(update, context, "urge.follow_up_answered", "urge.buttons.sent")
                await ask_topic(update, context, int(arg))
            case "topic":
                assert topic is not None
                urge_id, chosen = int(topic.group(1)), topic.group(2)
                await _answered(update, context, "urge.topic_answered", f"urge.topic.{chosen}")
                await resolved(update, context, await urges.sent(user_id, urge_id, chosen))
            case "notyet":
                await _answered(update, context, "urge.follow_up_answered", "urge.buttons.not_yet")
                if await urges.not_yet(user_id, int(arg)):
                    await reply(update, context, texts.render("urge.not_yet"),
                                hold_markup(texts, int(arg)))  # fmt: skip
                else:
                    await reply(update, context, texts.render("urge.already"))
            case "move":
                await remove_buttons(query)
                hour = await urges.move_checkin(user_id, int(arg))
                await reply(update, context, texts.render("urge.moved", hour=_hour(hour)))
            case "keep":
                await remove_buttons(query)
                await reply(update, context, texts.render("urge.kept"))
            case _:  # "menu"
                await remove_buttons(query)
                await show_menu(update, context)
    except NotYourUrge:
        return Then.STALE
    except NotSetUp:
        await not_set_up(update, context)
    return None


async def on_command(update: Update, context: CoachContext) -> None:
    """/urge."""
    assert update.effective_user is not None
    await context.services.conversation.clear(update.effective_user.id, DRAFT)
    await begin(update, context)


async def ask_again(update: Update, context: CoachContext, expected: Expected, lead: str) -> bool:
    """After care: the draft they were about to write, asked for again. Returns whether it did."""
    if expected.key != DRAFT or update.effective_user is None:
        return False
    texts = context.texts
    profile = await context.services.intake.profile(update.effective_user.id)
    ex = ex_label(texts, profile.ex_name if profile else None)
    await reply(update, context, f"{lead}\n\n" + texts.render("urge.ask_draft", ex=ex).rstrip())
    return True
