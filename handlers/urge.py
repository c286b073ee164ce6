""" "I want to text them": the menu button, /urge and typed words like "I'm about to text her".

How strong is the pull (a tap, and the urge is logged) → paste the draft here instead of sending
it → what in it works against them, the advice engine's verdict for their situation, and better
versions to copy → "Ask me again in 20 minutes". The held draft lives in the database; the
scheduler's one tick sends "Still want to send it?" when it is due (`send_follow_up`), restart or
not, and the answer buttons resolve the urge.

The conversation only remembers that a draft is expected next (DRAFTING); which urge it belongs
to is in the database.
"""

from __future__ import annotations

import contextlib
import re
import warnings

from telegram import Bot, InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    ConversationHandler,
    MessageHandler,
    filters,
)
from telegram.warnings import PTBUserWarning

from bot.context import CoachContext
from bot.services.advice import NotSetUp
from bot.services.urge import STRENGTHS, TOPICS, DraftReview, FollowUp, NotYourUrge, Resolution
from content.loader import Texts, source_names
from content.timezones import zone_info
from handlers.callbacks import decode, pattern
from handlers.common import button, edit, keyboard, remove_buttons, reply, settle

AREA = "urge"
CONVERSATION = "urge"
DRAFTING = "drafting"
END = ConversationHandler.END
MAX_FINDINGS = 4
DRAFT_QUOTE_CHARS = 300
VERDICT_CHECKS = frozenset({"phase", "verdict"})

# --- typed words: "I'm about to text her", "I want to text him so bad" -------------------------

_CONTACT = (
    r"(?:text|txt|message|msg|call|ring|phone|dm|snap|snapchat|whatsapp|email|e-mail|write to|"
    r"contact|reach out to|texting|messaging|calling|writing to|contacting|reaching out to)"
)
_WHO = ("him", "her", "them", "my ex", "ex", "my ex-boyfriend", "my ex-girlfriend")
_PULLS = (
    # I'm about to / going to / so close to / tempted to text her
    r"\bi(?:'m| am|m)?\s+(?:really\s+|so\s+|just\s+)?(?:about to|going to|gonna|tempted to|"
    r"dying to|itching to|desperate to|(?:so |this )?close to|on the verge of)\s+{contact}\s+"
    r"{who}\b",
    # I want to / wanna / need to / have to text him (so bad)
    r"\bi\s+(?:really\s+|so\s+|just\s+|kinda\s+|kind of\s+|badly\s+)?(?:want|wanna|need|have)\s+"
    r"(?:to\s+)?{contact}\s+{who}\b",
    # the urge to text them
    r"\b(?:urge|urges|temptation|itch)\s+to\s+{contact}\s+{who}\b",
    # I can't stop myself from texting him
    r"\bcan't stop (?:myself )?(?:from )?(?:wanting to )?{contact}\s+{who}\b",
    # my thumb is on the send button
    r"\bmy (?:thumb|finger) is (?:on|over|hovering over) (?:the )?send\b",
)


def _normalise(text: str) -> str:
    return " ".join(text.lower().replace("’", "'").split())


def wants_to_text(text: str, ex_name: str | None = None) -> bool:
    """Typed words that say "I want to reach out to my ex", not "should I?" or "they did"."""
    who = [re.escape(w) for w in _WHO]
    if ex_name:
        who.append(re.escape(_normalise(ex_name)))
    target = f"(?:{'|'.join(sorted(who, key=len, reverse=True))})"
    typed = _normalise(text)
    return any(re.search(p.format(contact=_CONTACT, who=target), typed) is not None for p in _PULLS)


async def try_free_text(update: Update, context: CoachContext) -> bool:
    """'I'm about to text her' and the like start the urge flow. False for anything else."""
    message = update.effective_message
    if message is None or not message.text or update.effective_user is None:
        return False
    profile = await context.services.intake.profile(update.effective_user.id)
    if not wants_to_text(message.text, profile.ex_name if profile else None):
        return False
    await begin(update, context)
    return True


# --- rendering ---------------------------------------------------------------------------------


def ex_label(texts: Texts, ex_name: str | None) -> str:
    return ex_name or texts.render("intake.no_name")


def strength_markup(texts: Texts) -> InlineKeyboardMarkup:
    return keyboard(
        [[button(texts.render(f"urge.strength.{s}"), AREA, "strength", s) for s in STRENGTHS]]
    )


def hold_markup(texts: Texts, urge_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [[button(texts.render("urge.buttons.hold"), AREA, "hold", urge_id)],
         [button(texts.render("urge.buttons.let_go"), AREA, "letgo", urge_id)]]
    )  # fmt: skip


def follow_up_markup(texts: Texts, urge_id: int) -> InlineKeyboardMarkup:
    return keyboard(
        [[button(texts.render("urge.buttons.waited"), AREA, "waited", urge_id)],
         [button(texts.render("urge.buttons.sent"), AREA, "sent", urge_id)],
         [button(texts.render("urge.buttons.not_yet"), AREA, "notyet", urge_id)]]
    )  # fmt: skip


def review_text(texts: Texts, drafted: DraftReview) -> str:
    """The findings (briefly, with their sources), then the verdict: headline and days left."""
    result, verdict = drafted.review, drafted.advice.verdict
    # Where they are in no contact, and the verdict's own reason, are said by the verdict below.
    about_the_draft = [f for f in result.findings if f.check not in VERDICT_CHECKS]
    lines: list[str] = []
    if not about_the_draft:
        lines.append(texts.render("urge.clean"))
    else:
        lines.append(texts.render("urge.findings_title"))
        shown = about_the_draft[:MAX_FINDINGS]
        lines += [
            texts.render("urge.finding", text=f.text, sources=source_names(f.sources))
            for f in shown
        ]
        rest = len(about_the_draft) - len(shown)
        if rest == 1:
            lines.append(texts.render("urge.more_findings_one"))
        elif rest > 1:
            lines.append(texts.render("urge.more_findings", count=rest))
    lines += ["", texts.render("urge.verdict", headline=verdict.headline)]
    already_said = f"{verdict.days_left} day" in verdict.headline
    if verdict.days_left and not already_said:
        if verdict.days_left == 1:
            lines.append(texts.render("urge.days_left_one"))
        else:
            lines.append(texts.render("urge.days_left", days=verdict.days_left))
    return "\n".join(lines)


def follow_up_text(texts: Texts, draft: str | None) -> str:
    lines = [texts.render("urge.follow_up")]
    if draft:
        quoted = draft if len(draft) <= DRAFT_QUOTE_CHARS else draft[:DRAFT_QUOTE_CHARS] + "…"
        lines.append(texts.render("urge.follow_up_draft", draft=quoted))
    return "\n\n".join(lines)


async def send_follow_up(bot: Bot, texts: Texts, follow_up: FollowUp) -> int:
    """Send one claimed follow-up ("Still want to send it?"); returns the message id. The one
    place follow-ups are sent, called by the scheduler's tick."""
    message = await bot.send_message(
        follow_up.chat_id,
        follow_up_text(texts, follow_up.draft),
        reply_markup=follow_up_markup(texts, follow_up.urge_id),
    )
    return message.message_id


def _hour(hour: int) -> str:
    return f"{hour:02d}:00"


# --- the steps ---------------------------------------------------------------------------------


async def not_set_up(update: Update, context: CoachContext) -> int:
    from handlers.menu import begin_button

    await reply(update, context, context.texts.render("errors.not_set_up"), begin_button(context))
    return END


async def begin(update: Update, context: CoachContext) -> int:
    """The menu button, /urge and typed words all start here: how strong is the pull?"""
    assert update.effective_user is not None
    profile = await context.services.intake.profile(update.effective_user.id)
    if profile is None or not profile.set_up:
        return await not_set_up(update, context)
    texts = context.texts
    await reply(update, context, texts.render("urge.start").rstrip(), strength_markup(texts))
    return END


async def chose_strength(update: Update, context: CoachContext, strength: str) -> int:
    assert update.effective_user is not None and update.callback_query is not None
    texts = context.texts
    try:
        await context.services.urges.start(update.effective_user.id, strength)
    except NotSetUp:
        return await not_set_up(update, context)
    answer = texts.render(f"urge.strength.{strength}")
    await edit(update.callback_query, texts.render("urge.strength_answered", answer=answer))
    profile = await context.services.intake.profile(update.effective_user.id)
    ex = ex_label(texts, profile.ex_name if profile else None)
    await reply(update, context, texts.render("urge.ask_draft", ex=ex).rstrip())
    return DRAFTING


async def show_review(update: Update, context: CoachContext, drafted: DraftReview) -> None:
    texts = context.texts
    await reply(update, context, review_text(texts, drafted))
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
    await reply(
        update, context, texts.render("urge.offer_hold"), hold_markup(texts, drafted.urge_id)
    )


async def on_draft(update: Update, context: CoachContext) -> int:
    """The draft, pasted here instead of sent. Reviewed, kept only while it may be held."""
    from handlers.menu import on_unexpected

    assert update.effective_user is not None and update.effective_message is not None
    draft = update.effective_message.text or ""
    try:
        drafted = await context.services.urges.review_draft(update.effective_user.id, draft)
    except NotSetUp:
        return await not_set_up(update, context)
    if drafted is None:  # nothing is waiting for a draft any more (an old state): as usual
        await on_unexpected(update, context)
        return END
    await show_review(update, context, drafted)
    return END


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
    topics = TOPICS if shares else tuple(t for t in TOPICS if t != "logistics")
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
_WITH_ID = frozenset({"hold", "letgo", "waited", "sent", "notyet"})


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


async def on_tap(update: Update, context: CoachContext) -> str | int | None:
    """Every button in this area. Anything forged or outdated changes nothing."""
    from handlers.menu import main_menu, on_stale_button

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
        await on_stale_button(update, context)
        return None
    await settle(query)
    urges, texts, user_id = context.services.urges, context.texts, update.effective_user.id
    try:
        match action:
            case "start":
                return await begin(update, context)
            case "strength":
                return await chose_strength(update, context, arg)
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
                await reply(update, context, texts.render("menu.title"), main_menu(context))
    except NotYourUrge:
        await on_stale_button(update, context)
    except NotSetUp:
        return await not_set_up(update, context)
    return END


async def on_command(update: Update, context: CoachContext) -> int:
    return await begin(update, context)


def conversation() -> ConversationHandler:
    drafts = filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    # per_message=False on purpose, as in the intake: one conversation per person.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("urge", on_command),
                CallbackQueryHandler(on_tap, pattern=pattern(AREA)),
            ],
            states={DRAFTING: [MessageHandler(drafts, on_draft)]},
            fallbacks=[],
            allow_reentry=True,
            name=CONVERSATION,
            persistent=True,
        )
