"""/journal: recent entries, today's prompt, writing an entry over several messages, reading one.

While an entry is being written the person is in the persistent state `writing_journal_entry`:
every text message is added to it (Telegram splits a long paste into several messages; they are
joined in order), until "Save" keeps it or "Cancel" lets it go. The words themselves are stored
as they arrive (bot/services/program.py), so a restart loses nothing. Commands still work while
writing; the entry waits.
"""

from __future__ import annotations

import contextlib
import warnings

from telegram import InlineKeyboardMarkup, Update
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
from bot.services.program import Draft, EntryTooLong, JournalOverview, NotNow, NotStarted
from content.loader import source_names
from handlers.callbacks import decode, pattern
from handlers.common import Button, button, edit, keyboard, reply, settle
from handlers.program import label

AREA = "journal"
CONVERSATION = "journal"
WRITING_JOURNAL_ENTRY = "writing_journal_entry"
END = ConversationHandler.END
# The message that carries Save / Cancel while writing (a cache: after a restart the old one
# simply keeps its buttons, which still work).
_CONTROLS = "journal_controls_message"


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def day(when: object) -> str:
    return f"{when.day} {when:%b}"  # type: ignore[attr-defined]


def writing_markup(context: CoachContext) -> InlineKeyboardMarkup:
    texts = context.texts
    return keyboard([[button(texts.render("journal.save"), AREA, "save"),
                      button(texts.render("journal.cancel"), AREA, "cancel")]])  # fmt: skip


def overview_view(
    context: CoachContext, overview: JournalOverview
) -> tuple[str, InlineKeyboardMarkup]:
    texts = context.texts
    parts = [texts.render("journal.title")]
    rows: list[list[Button]] = []
    if overview.entries:
        lines = [
            texts.render("journal.entry_line", date=day(e.local_date), preview=e.preview)
            for e in overview.entries
        ]
        parts.append("\n".join(lines))
        if overview.total > len(overview.entries):
            parts.append(
                texts.render("journal.more", shown=len(overview.entries), total=overview.total)
            )
        for e in overview.entries:
            read = label(texts, "journal.read", date=day(e.local_date), preview=e.preview)
            rows.append([button(read, AREA, "read", e.id)])
    else:
        parts.append(texts.render("journal.empty"))
    if overview.draft is not None:
        parts.append(texts.render("journal.in_progress", chars=f"{overview.draft.chars:,}"))
        rows.insert(0, [button(texts.render("journal.keep_writing"), AREA, "write"),
                        button(texts.render("journal.save"), AREA, "save"),
                        button(texts.render("journal.cancel"), AREA, "cancel")])  # fmt: skip
    elif overview.prompts:
        prompt = overview.prompts[0]
        parts.append(
            texts.render("journal.prompt", prompt=prompt.text, sources=source_names(prompt.sources))
        )
        rows.insert(0, [button(texts.render("journal.write_prompt"), AREA, "write", prompt.id),
                        button(texts.render("journal.write_free"), AREA, "write")])  # fmt: skip
    else:
        rows.insert(0, [button(texts.render("journal.write_free"), AREA, "write")])
    return "\n\n".join(parts), keyboard(rows)


async def show_journal(update: Update, context: CoachContext) -> str | int:
    try:
        overview = await context.services.program.journal(_user_id(update))
    except NotStarted:
        from handlers.program import not_set_up

        await not_set_up(update, context)
        return END
    text, markup = overview_view(context, overview)
    await reply(update, context, text, markup)
    return WRITING_JOURNAL_ENTRY if overview.draft is not None else END


async def _send_controls(update: Update, context: CoachContext, text: str) -> None:
    """Send the message with Save / Cancel, and take the previous one away: one set of controls
    in the chat at a time."""
    chat = update.effective_chat
    assert chat is not None
    data = context.user_data if context.user_data is not None else {}
    previous = data.get(_CONTROLS)
    if previous is not None:
        with contextlib.suppress(BadRequest):
            await context.bot.delete_message(chat.id, previous)
    message = await context.bot.send_message(chat.id, text, reply_markup=writing_markup(context))
    data[_CONTROLS] = message.message_id


async def start_writing(update: Update, context: CoachContext, prompt_id: str | None) -> str | int:
    texts = context.texts
    try:
        draft = await context.services.program.start_entry(_user_id(update), prompt_id)
    except NotStarted:
        from handlers.program import not_set_up

        await not_set_up(update, context)
        return END
    if draft.chars:
        text = texts.render("journal.resume", chars=f"{draft.chars:,}")
    elif draft.prompt is not None:
        text = texts.render("journal.start_prompt", prompt=draft.prompt.text)
    else:
        text = texts.render("journal.start_free")
    await _send_controls(update, context, text)
    return WRITING_JOURNAL_ENTRY


async def on_text(update: Update, context: CoachContext) -> str | int:
    """One more part of the entry being written."""
    assert update.effective_message is not None
    texts = context.texts
    try:
        draft: Draft = await context.services.program.add_to_entry(
            _user_id(update), update.effective_message.text or ""
        )
    except NotStarted:
        from handlers.program import not_set_up

        await not_set_up(update, context)
        return END
    except EntryTooLong as full:
        too_long = texts.render("journal.too_long", chars=f"{full.chars:,}")
        await _send_controls(update, context, too_long)
        return WRITING_JOURNAL_ENTRY
    text = texts.render("journal.got_it", chars=f"{draft.chars:,}")
    if draft.first_part and draft.prompt is not None and draft.prompt.follow_up:
        text = texts.render("journal.follow_up", question=draft.prompt.follow_up) + "\n\n" + text
    await _send_controls(update, context, text)
    return WRITING_JOURNAL_ENTRY


async def on_other(update: Update, context: CoachContext) -> str:
    await _send_controls(update, context, context.texts.render("journal.words_only"))
    return WRITING_JOURNAL_ENTRY


async def save(update: Update, context: CoachContext) -> str | int:
    query = update.callback_query
    assert query is not None
    texts, program = context.texts, context.services.program
    entry = await program.save_entry(_user_id(update))
    await settle(query)
    if entry is None:
        if await program.has_words(_user_id(update)) is False:
            await edit(query, texts.render("journal.nothing_yet"), writing_markup(context))
            return WRITING_JOURNAL_ENTRY
        await edit(query, texts.render("journal.nothing_to_save"))
        return END
    if context.user_data is not None:
        context.user_data.pop(_CONTROLS, None)
    markup = keyboard([[button(texts.render("journal.read_it"), AREA, "read", entry.id),
                        button(texts.render("journal.open"), AREA, "list")]])  # fmt: skip
    saved = texts.render("journal.saved", date=day(entry.local_date), chars=f"{len(entry.text):,}")
    await edit(query, saved, markup)
    return END


async def cancel(update: Update, context: CoachContext) -> int:
    query = update.callback_query
    assert query is not None
    discarded = await context.services.program.discard_entry(_user_id(update))
    await settle(query)
    if context.user_data is not None:
        context.user_data.pop(_CONTROLS, None)
    text_id = "journal.discarded" if discarded else "journal.nothing_to_save"
    await edit(query, context.texts.render(text_id))
    return END


async def read(update: Update, context: CoachContext, entry_id: str) -> None:
    """One entry in full; a long one arrives in several messages (Telegram's limit)."""
    texts = context.texts
    try:
        entry = await context.services.program.entry(_user_id(update), int(entry_id))
    except (NotNow, ValueError):
        from handlers.menu import on_stale_button

        await on_stale_button(update, context)
        return
    assert update.callback_query is not None
    await settle(update.callback_query)
    if entry.phase_name:
        header = texts.render("journal.full_header", date=day(entry.local_date),
                              phase=entry.phase_name)  # fmt: skip
    else:
        header = texts.render("journal.full_header_plain", date=day(entry.local_date))
    if entry.prompt:
        header += "\n" + texts.render("journal.full_prompt", prompt=entry.prompt)
    body = texts.render("journal.full_text", text=entry.text)
    await reply(update, context, header + "\n\n" + body)


async def on_tap(update: Update, context: CoachContext) -> str | int | None:
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    action, arg = (data.action, data.arg) if data else ("", "")
    match action:
        case "write":
            await settle(query)
            return await start_writing(update, context, arg or None)
        case "save":
            return await save(update, context)
        case "cancel":
            return await cancel(update, context)
        case "read":
            await read(update, context, arg)
            return None  # reading changes nothing about writing
        case "list":
            await settle(query)
            return await show_journal(update, context)
    from handlers.menu import on_stale_button

    await on_stale_button(update, context)
    return None


def conversation() -> ConversationHandler:
    anything_else = ~filters.TEXT & ~filters.COMMAND & ~filters.StatusUpdate.ALL
    # per_message=False on purpose, as in the intake: one conversation per person.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", category=PTBUserWarning)
        return ConversationHandler(
            entry_points=[
                CommandHandler("journal", show_journal),
                CallbackQueryHandler(on_tap, pattern=pattern(AREA)),
            ],
            states={
                WRITING_JOURNAL_ENTRY: [
                    MessageHandler(filters.TEXT & ~filters.COMMAND, on_text),
                    MessageHandler(anything_else, on_other),
                ],
            },
            fallbacks=[],
            allow_reentry=True,
            name=CONVERSATION,
            persistent=True,
        )
