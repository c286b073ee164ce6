"""Crisis care first: every free-text message is screened before any other handler sees it.

`screen_message` runs in its own group before the coaching handlers (see handlers/__init__.py).
A self-harm or violence message gets a warm reply with helplines and buttons, opens a safety
hold (scheduled nudges become a gentle daily ask until the person taps "I'm safe now") and stops
the update there: a crisis message never gets coaching or the next intake question. What the
person was in the middle of stays recorded, so after "I'm safe now" they carry on where they
were. An abuse disclosure switches the plan to moving on, offers support lines, and the intake
question they are on is asked again. Logs say which kind of reply went out, never what the
person wrote.
"""

from __future__ import annotations

import logging

from telegram import InlineKeyboardMarkup, Update

from bot.context import CoachContext
from bot.services.safety import INTERNATIONAL, UNKNOWN, SafetyView, supported_countries
from content.helplines import format_helplines, helplines_for
from content.loader import Texts, source_names
from content.screen import screen
from handlers.callbacks import decode
from handlers.replies import (
    SAFETY_AREA,
    Then,
    answer_crisis,
    button,
    edit,
    gentle_markup,
    in_rows,
    keyboard,
    lines_for,
    remove_buttons,
    reply,
    settle,
)

AREA = SAFETY_AREA
# The articles' own rule for abuse and repeated cheating (content/rules.yaml).
LET_GO_RULE = "let-go-after-abuse-or-repeated-cheating"

log = logging.getLogger(__name__)


# --- buttons -----------------------------------------------------------------------------------


def abuse_markup(texts: Texts) -> InlineKeyboardMarkup:
    return keyboard(
        [
            [button(texts.render("safety.show_lines"), AREA, "lines")],
            [button(texts.render("safety.trusted"), AREA, "trusted")],
        ]
    )


def country_markup(texts: Texts) -> InlineKeyboardMarkup:
    choices = [button(name, AREA, "country", code) for code, name in supported_countries()]
    choices.append(button(texts.render("helplines.other"), AREA, "country", INTERNATIONAL))
    return keyboard(in_rows(choices, 2))


# --- what a person sees --------------------------------------------------------------------------


async def safety_view(update: Update, context: CoachContext) -> SafetyView:
    """The person's safety state; when the database cannot be read, what Telegram tells us is
    enough to show helplines, so a crisis reply never waits on storage."""
    assert update.effective_user is not None
    try:
        return await context.services.safety.view(update.effective_user.id)
    except Exception as error:
        log.warning("safety state unavailable (%s); using defaults", type(error).__name__)
        return UNKNOWN


def helplines_text(context: CoachContext, update: Update, view: SafetyView) -> str:
    language = update.effective_user.language_code if update.effective_user else None
    hs = helplines_for(view.country, language or view.language_code, timezone=view.timezone)
    texts = context.texts
    return "\n".join(
        (
            texts.render("helplines.title", country=hs.country_name),
            texts.render("helplines.intro"),
            "",
            format_helplines(hs),
        )
    )


async def show_helplines(update: Update, context: CoachContext) -> None:
    """/helplines: the lines for the person's country, and a way to choose the country."""
    view = await safety_view(update, context)
    markup = keyboard([[button(context.texts.render("helplines.set_country"), AREA, "countries")]])
    await reply(update, context, helplines_text(context, update, view), markup)


# --- the screen ------------------------------------------------------------------------------


async def screen_message(update: Update, context: CoachContext) -> Then | None:
    """Every text or caption, new or edited, in any state. None when the message is not a
    crisis or abuse message; otherwise it has been answered here and must go no further (the
    routing table stops it), and the result says whether to ask the question the person was
    on again."""
    message = update.effective_message
    if message is None or update.effective_user is None:
        return None
    result = screen(message.text or message.caption or "")
    if not result.flagged:
        return None
    log.info("screen: %s reply", result.risk)
    try:
        # Danger from the ex gets the abuse reply until it has one of its own.
        if result.risk in ("abuse", "danger"):
            return await answer_abuse(update, context)
        await answer_crisis(update, context, result.risk)
    except Exception:  # whatever failed, the message must not go on to coaching or the intake
        log.exception("screen: the %s reply failed", result.risk)
    return Then.UNHANDLED


async def answer_abuse(update: Update, context: CoachContext) -> Then:
    assert update.effective_user is not None
    texts = context.texts
    try:
        outcome = await context.services.safety.record_abuse(update.effective_user.id)
    except Exception as error:
        log.warning("could not record an abuse disclosure (%s)", type(error).__name__)
        outcome = None
    view = outcome.view if outcome is not None else UNKNOWN
    lines = lines_for(update, view, risk="abuse")
    if outcome is None or outcome.newly:
        rule = context.services.content.rulebook.rules.get(LET_GO_RULE)
        text = texts.render(
            "safety.abuse_new",
            rule=rule.text if rule else "",
            sources=source_names(rule.sources if rule else ("ten-steps",)),
            lines=lines,
        )
    else:
        text = texts.render("safety.abuse_again", lines=lines)
    await reply(update, context, text, abuse_markup(texts))
    in_intake = outcome is not None and outcome.intake_step is not None
    return Then.CARRY_ON if in_intake else Then.UNHANDLED


# --- taps ----------------------------------------------------------------------------------------


async def on_tap(update: Update, context: CoachContext) -> Then | None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    await settle(query)
    data = decode(query.data)
    if data is None:
        return None
    texts, user_id = context.texts, update.effective_user.id
    if data.action == "safe":
        lifted = await context.services.safety.lift_hold(user_id)
        await remove_buttons(query)
        await reply(update, context, texts.render("safety.safe_thanks" if lifted else
                                                   "safety.safe_already"))  # fmt: skip
        return Then.CARRY_ON if lifted else None  # back to what they were answering, if anything
    elif data.action == "lines":
        view = await safety_view(update, context)
        markup = gentle_markup(texts) if view.on_hold else None
        await reply(update, context, helplines_text(context, update, view), markup)
    elif data.action == "trusted":
        view = await safety_view(update, context)
        markup = gentle_markup(texts) if view.on_hold else None
        await reply(update, context, texts.render("safety.trusted_guide"), markup)
    elif data.action == "countries":
        await reply(update, context, texts.render("helplines.ask_country"), country_markup(texts))
    elif data.action == "country":
        await choose_country(update, context, data.arg)
    return None


async def choose_country(update: Update, context: CoachContext, code: str) -> None:
    query = update.callback_query
    assert query is not None and update.effective_user is not None
    names = dict(supported_countries())
    if code != INTERNATIONAL and code not in names:
        return  # a forged or outdated button: nothing to change
    saved = await context.services.safety.set_country(update.effective_user.id, code)
    view = await safety_view(update, context)
    if not saved:  # not set up yet: show that country's lines without storing anything
        view = SafetyView(False, code, None, False, None, False, None, False)
    hs = helplines_for(view.country, None)
    text_id = "helplines.saved" if saved else "helplines.not_saved"
    await edit(query, context.texts.render(text_id, country=hs.country_name))
    await reply(update, context, helplines_text(context, update, view))


async def try_on_hold(update: Update, context: CoachContext) -> bool:
    """While a safety hold is open, a message the bot does not expect gets a gentle word and
    the safety buttons instead of coaching. Returns False when there is no hold."""
    view = await safety_view(update, context)
    if not view.on_hold:
        return False
    await reply(update, context, context.texts.render("safety.on_hold"),
                gentle_markup(context.texts))  # fmt: skip
    return True
