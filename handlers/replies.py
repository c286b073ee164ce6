"""Shared replies every feature may import: sending, editing, keyboards, the main menu, "not set
up yet", how the ex, dates and bullets read, the crisis reply, and the signals a feature hands
back to the routing table (handlers/__init__.py).

This module is a leaf: it imports no feature module, so features never need each other.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from datetime import date
from enum import StrEnum

from telegram import Bot, CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.warnings import PTBUserWarning

from bot.context import CoachContext
from bot.services.safety import AGE_GROUPS, UNKNOWN, SafetyView
from content.helplines import format_helplines, helplines_for
from content.loader import Markup, Texts
from content.program import LIMITED_CONTACT
from handlers.callbacks import encode
from handlers.longtext import split_message

log = logging.getLogger(__name__)

# `_call` asks for two methods PTB has by name, on purpose (it skips parsing the answer), and
# PTB would warn about it at every send.
warnings.filterwarnings(
    "ignore",
    message=r"Please use 'Bot\.(sendMessage|editMessageText)'",
    category=PTBUserWarning,
)

# Every command, in the order /help and Telegram's command menu list them. The routing table
# (handlers/__init__.py) registers a handler for each and checks the two never differ.
COMMANDS = (
    "start",
    "plan",
    "shouldi",
    "urge",
    "today",
    "phase",
    "progress",
    "journal",
    "moveon",
    "settings",
    "helplines",
    "safetyplan",
    "privacy",
    "export",
    "delete",
    "sources",
    "help",
)
SAFETY_AREA = "safety"
SAFETY_PLAN_AREA = "splan"


class StaleButton(Exception):
    """Raised by a feature deep in a tap's handling: this button no longer fits where the person
    is. The routing table answers it like every other out-of-date button."""


class Then(StrEnum):
    """What a feature asks the routing table to do next, when that belongs to another feature."""

    STALE = "stale"  # a button that no longer fits: the usual kind word, and where things are
    CARRY_ON = "carry_on"  # ask again what the person was answering before (after care)
    OFFER_CARRY_ON = "offer_carry_on"  # once safe: one tap to pick up what they were answering
    RESUME = "resume"  # that tap: ask again what they were answering, or say it is done
    SETTINGS = "settings"  # show /settings
    PLAN = "plan"  # show where the person is in the plan
    UNHANDLED = "unhandled"  # not for me after all: the next step of the text route decides


Button = tuple[str, str]  # (label, callback_data)


class _CallbackKeyboard(InlineKeyboardMarkup):
    """An inline keyboard whose buttons are all plain callback buttons (a label and its data),
    as `keyboard` builds them. It serialises itself directly, without PTB's generic walk over
    every attribute of every button (about a tenth of the cost for three buttons)."""

    __slots__ = ()

    def to_dict(self, recursive: bool = True) -> dict[str, object]:
        return {
            "inline_keyboard": [
                [{"text": b.text, "callback_data": b.callback_data} for b in row]
                for row in self.inline_keyboard
            ]
        }


def keyboard(rows: Sequence[Sequence[Button]]) -> InlineKeyboardMarkup:
    return _CallbackKeyboard(
        [[InlineKeyboardButton(label, callback_data=data) for label, data in row] for row in rows]
    )


def in_rows(buttons: Sequence[Button], per_row: int) -> list[list[Button]]:
    return [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]


def button(label: str, area: str, action: str, arg: object = "") -> Button:
    return (label, encode(area, action, arg))


async def reply(
    update: Update, context: CoachContext, text: str, markup: InlineKeyboardMarkup | None = None
) -> None:
    """Send a message to the chat the update came from. A text over Telegram's limit (a long
    quote of what the person wrote) goes out in several parts; the buttons go on the last."""
    chat = update.effective_chat
    if chat is None:
        return
    parts = split_message(text)
    for index, part in enumerate(parts):
        last = index == len(parts) - 1
        await _call(context.bot, "sendMessage", chat.id, part, markup if last else None)


async def _call(
    bot: Bot,
    endpoint: str,
    chat_id: int,
    text: str,
    markup: InlineKeyboardMarkup | None,
    **more: object,
) -> object:
    """Send or edit a message: the same request PTB's send_message and edit_message_text make
    (the HTML parse mode included), with Telegram's answer left as it came, not turned back into
    a Message (which costs more than the rest of a tap's reply)."""
    kwargs: dict[str, object] = {"chat_id": chat_id, "text": text, "parse_mode": ParseMode.HTML}
    if markup is not None:
        kwargs["reply_markup"] = markup
    return await bot.do_api_request(endpoint, {**kwargs, **more})


async def send(
    bot: Bot, chat_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> int:
    """Send one message and return its id, for a message the bot edits or deletes later."""
    sent = await _call(bot, "sendMessage", chat_id, text, markup)
    assert isinstance(sent, dict)
    return int(sent["message_id"])


async def edit(query: CallbackQuery, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message a button sits on; an identical edit (a double tap) is not an error."""
    message = query.message
    try:
        if message is None:  # a message sent through inline mode: only PTB knows its id
            await query.edit_message_text(text, reply_markup=markup)
        else:
            await _call(query.get_bot(), "editMessageText", message.chat.id, text, markup,
                        message_id=message.message_id)  # fmt: skip
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def remove_buttons(query: CallbackQuery) -> None:
    """Take the buttons off the tapped message (already gone after a double tap is fine)."""
    try:
        await query.edit_message_reply_markup(None)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def set_buttons(query: CallbackQuery, markup: InlineKeyboardMarkup) -> None:
    """Replace the buttons on the tapped message in place."""
    try:
        await query.edit_message_reply_markup(markup)
    except BadRequest as exc:
        if "not modified" not in exc.message.lower():
            raise


async def settle(query: CallbackQuery) -> None:
    """Stop the button's loading spinner. Best effort: when Telegram refuses (the tap is too
    old, or was answered already) the tap itself is still handled, and nobody is apologised to
    for a spinner."""
    try:
        await query.answer()
    except BadRequest as exc:
        logging.getLogger(__name__).info("a tap could not be answered (%s)", type(exc).__name__)


def display_name(update: Update) -> str:
    user = update.effective_user
    return (user.first_name if user and user.first_name else "there").strip() or "there"


# --- shared replies ------------------------------------------------------------------------------


def ex_label(texts: Texts, ex_name: str | None) -> str:
    """How the ex is called in a message: their name, or the neutral word when none was given."""
    return ex_name or texts.render("intake.no_name")


def day_month(when: date | None) -> str:
    return f"{when.day} {when:%B}" if when else ""


def short_day(when: date) -> str:
    return f"{when.day} {when:%b}"


def bullets(texts: Texts, items: Sequence[str]) -> Markup:
    return Markup("\n".join(texts.render("plan.bullet", item=i) for i in items))


def for_distance(text_id: str, distance: str) -> str:
    """The text id for a person's kind of distance (content.program.distance_for): the plain id
    for no contact, the id ending in `_limited` for limited contact, so a person who shares
    children, work or a home never hears a no-contact count."""
    return f"{text_id}_limited" if distance == LIMITED_CONTACT else text_id


def label(texts: Texts, text_id: str, **values: object) -> str:
    """A button's text: buttons are plain text, so the values are not HTML-escaped."""
    return texts.render(text_id, **{k: Markup(str(v)) for k, v in values.items()})


def begin_button(context: CoachContext) -> InlineKeyboardMarkup:
    return keyboard([[button(context.texts.render("menu.begin"), "intake", "begin")]])


def main_menu(context: CoachContext) -> InlineKeyboardMarkup:
    texts = context.texts
    return keyboard(
        [
            [button(texts.render("advice.menu_button"), "advice", "start")],
            [button(texts.render("urge.menu_button"), "urge", "start")],
            [button(texts.render("program.menu.today"), "program", "today"),
             button(texts.render("program.menu.phase"), "program", "phase")],
            [button(texts.render("program.menu.journal"), "journal", "list"),
             button(texts.render("program.menu.progress"), "progress", "show")],
            [button(texts.render("menu.my_plan"), "menu", "plan"),
             button(texts.render("menu.settings"), "menu", "settings")],
            [button(texts.render("menu.help"), "menu", "help"),
             button(texts.render("menu.privacy"), "menu", "privacy")],
        ]
    )  # fmt: skip


async def not_set_up(update: Update, context: CoachContext) -> None:
    """The person has not finished setting up: say so, with the button that begins."""
    await reply(update, context, context.texts.render("errors.not_set_up"), begin_button(context))


async def show_menu(update: Update, context: CoachContext) -> None:
    await reply(update, context, context.texts.render("menu.title"), main_menu(context))


# --- care: the crisis reply, shared by the screen and by any flow that finds a crisis ----------


def crisis_markup(texts: Texts, *, offer_plan: bool = False) -> InlineKeyboardMarkup:
    rows = [
        [button(texts.render("safety.safe_now"), SAFETY_AREA, "safe")],
        [button(texts.render("safety.show_lines"), SAFETY_AREA, "lines")],
        [button(texts.render("safety.trusted"), SAFETY_AREA, "trusted")],
    ]
    if offer_plan:  # after any crisis, until the person's safety plan is complete
        rows.append([button(texts.render("safety2.plan.make"), SAFETY_PLAN_AREA, "start")])
    return keyboard(rows)


def age_markup(texts: Texts) -> InlineKeyboardMarkup:
    """The optional age question's answers (at /start and in /settings), one tap each."""
    return keyboard(
        [[button(texts.render(f"safetycare.age.{group}"), SAFETY_AREA, "age", group)
          for group in AGE_GROUPS]]
    )  # fmt: skip


def gentle_markup(texts: Texts) -> InlineKeyboardMarkup:
    """Under the daily gentle ask while a safety hold is open."""
    return keyboard(
        [
            [button(texts.render("safety.safe_now"), SAFETY_AREA, "safe")],
            [button(texts.render("safety.show_lines"), SAFETY_AREA, "lines")],
        ]
    )


def lines_for(update: Update, view: SafetyView, *, risk: str | None = None) -> Markup:
    language = update.effective_user.language_code if update.effective_user else None
    hs = helplines_for(view.country, language or view.language_code, timezone=view.timezone)
    return Markup(format_helplines(hs, risk=risk, youth_first=view.minor))


async def answer_crisis(update: Update, context: CoachContext, risk: str) -> None:
    """Helplines, the safety buttons, and a hold on the daily nudges until they say they are
    safe. Whatever the person was in the middle of stays where it was."""
    assert update.effective_user is not None
    try:
        view = await context.services.safety.open_hold(update.effective_user.id)
    except Exception as error:  # the reply matters more than the hold: send it regardless
        log.warning("could not open a safety hold (%s)", type(error).__name__)
        view = UNKNOWN
    text_id = "safety.violence" if risk == "violence" else "safety.crisis"
    text = context.texts.render(text_id, lines=lines_for(update, view))
    try:  # the person's own safety plan, first, when they have made one
        plan = await context.services.safety_plan.plan(update.effective_user.id)
    except Exception as error:
        log.warning("could not read the safety plan (%s)", type(error).__name__)
        plan = None
    if plan is not None and plan.started:
        first = context.texts.render("safety2.plan.first", plan=Markup(plan.short_html))
        text = f"{first}\n{text}"
    offer = plan is None or not plan.complete
    await reply(update, context, text, crisis_markup(context.texts, offer_plan=offer))
