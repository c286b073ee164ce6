"""/journal: recent entries, today's prompt, writing an entry over several messages, reading one.

While an entry is being written the person awaits "journal.entry" (bot/services/conversation.py,
with the id of the message carrying Save / Cancel): every text message is added to it (Telegram
splits a long paste into several messages; they are joined in order), until "Save" keeps it or
"Cancel" lets it go. The words themselves are stored as they arrive (bot/services/program.py),
so a restart loses nothing. Commands still work while writing; the entry waits.
"""

from __future__ import annotations

import contextlib

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest

from bot.context import CoachContext
from bot.services.conversation import Expected
from bot.services.program import Draft, EntryTooLong, JournalOverview, NotNow, NotStarted
from content.loader import Texts, source_names
from handlers.callbacks import decode
from handlers.replies import (
    Button,
    Then,
    button,
    edit,
    keyboard,
    label,
    not_set_up,
    reply,
    send,
    settle,
    short_day,
)

AREA = "journal"
WRITING = "journal.entry"  # data: {"controls": the message id carrying Save / Cancel}


def _user_id(update: Update) -> int:
    assert update.effective_user is not None
    return update.effective_user.id


def day(when: object) -> str:
    return short_day(when)  # type: ignore[arg-type]


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


async def show_journal(update: Update, context: CoachContext) -> None:
    try:
        overview = await context.services.program.journal(_user_id(update))
    except NotStarted:
        await not_set_up(update, context)
        return
    text, markup = overview_view(context, overview)
    await reply(update, context, text, markup)
    conversation = context.services.conversation
    if overview.draft is not None:  # an entry being written takes the next words
        expected = await conversation.expected(_user_id(update))
        if expected is None or expected.key != WRITING:
            await conversation.expect(_user_id(update), WRITING)
    else:
        await conversation.clear(_user_id(update), WRITING)


async def _send_controls(
    update: Update, context: CoachContext, text: str, previous: int | None = None
) -> None:
    """Send the message with Save / Cancel, and take the previous one away: one set of controls
    in the chat at a time. The entry's words are awaited from now on."""
    chat = update.effective_chat
    assert chat is not None
    if previous is None:
        expected = await context.services.conversation.expected(_user_id(update))
        if expected is not None and expected.key == WRITING:
            previous = expected.data.get("controls")
    if isinstance(previous, int):
        with contextlib.suppress(BadRequest):
            await context.bot.delete_message(chat.id, previous)
    controls = await send(context.bot, chat.id, text, writing_markup(context))
    await context.services.conversation.expect(_user_id(update), WRITING, {"controls": controls})


async def start_writing(update: Update, context: CoachContext, prompt_id: str | None) -> None:
    texts = context.texts
    try:
        draft = await context.services.program.start_entry(_user_id(update), prompt_id)
    except NotStarted:
        await not_set_up(update, context)
        return
    await _send_controls(update, context, _entry_opening(texts, draft))


def _entry_opening(texts: Texts, draft: Draft) -> str:
    """What the entry being written starts with: how much is kept, its prompt, or a free page."""
    if draft.chars:
        return texts.render("journal.resume", chars=f"{draft.chars:,}")
    if draft.prompt is not None:
        return texts.render("journal.start_prompt", prompt=draft.prompt.text)
    return texts.render("journal.start_free")


async def on_answer(update: Update, context: CoachContext, expected: Expected) -> Then | None:
    """One more part of the entry being written (words only)."""
    assert update.effective_message is not None
    texts = context.texts
    previous = expected.data.get("controls")
    if update.effective_message.text is None:
        await _send_controls(update, context, texts.render("journal.words_only"), previous)
        return None
    try:
        draft: Draft = await context.services.program.add_to_entry(
            _user_id(update), update.effective_message.text
        )
    except NotStarted:
        await context.services.conversation.clear(_user_id(update), WRITING)
        await not_set_up(update, context)
        return None
    except EntryTooLong as full:
        too_long = texts.render("journal.too_long", chars=f"{full.chars:,}")
        await _send_controls(update, context, too_long, previous)
        return None
    text = texts.render("journal.got_it", chars=f"{draft.chars:,}")
    if draft.first_part and draft.prompt is not None and draft.prompt.follow_up:
        text = texts.render("journal.follow_up", question=draft.prompt.follow_up) + "\n\n" + text
    await _send_controls(update, context, text, previous)
    return None


async def save(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    texts, program = context.texts, context.services.program
    entry = await program.save_entry(_user_id(update))
    await settle(query)
    if entry is None:
        if await program.has_words(_user_id(update)) is False:
            await edit(query, texts.render("journal.nothing_yet"), writing_markup(context))
            return
        await context.services.conversation.clear(_user_id(update), WRITING)
        await edit(query, texts.render("journal.nothing_to_save"))
        return
    await context.services.conversation.clear(_user_id(update), WRITING)
    markup = keyboard([[button(texts.render("journal.read_it"), AREA, "read", entry.id),
                        button(texts.render("journal.open"), AREA, "list")]])  # fmt: skip
    saved = texts.render("journal.saved", date=day(entry.local_date), chars=f"{len(entry.text):,}")
    await edit(query, saved, markup)


async def cancel(update: Update, context: CoachContext) -> None:
    query = update.callback_query
    assert query is not None
    discarded = await context.services.program.discard_entry(_user_id(update))
    await settle(query)
    await context.services.conversation.clear(_user_id(update), WRITING)
    text_id = "journal.discarded" if discarded else "journal.nothing_to_save"
    await edit(query, context.texts.render(text_id))


async def read(update: Update, context: CoachContext, entry_id: str) -> Then | None:
    """One entry in full; a long one arrives in several messages (Telegram's limit)."""
    texts = context.texts
    try:
        entry = await context.services.program.entry(_user_id(update), int(entry_id))
    except (NotNow, ValueError):
        return Then.STALE
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
    return None


async def on_tap(update: Update, context: CoachContext) -> Then | None:
    query = update.callback_query
    assert query is not None
    data = decode(query.data)
    action, arg = (data.action, data.arg) if data else ("", "")
    match action:
        case "write":
            await settle(query)
            await start_writing(update, context, arg or None)
        case "save":
            await save(update, context)
        case "cancel":
            await cancel(update, context)
        case "read":
            return await read(update, context, arg)  # reading changes nothing about writing
        case "list":
            await settle(query)
            await show_journal(update, context)
        case _:
            return Then.STALE
    return None


async def ask_again(update: Update, context: CoachContext, expected: Expected, lead: str) -> bool:
    """After care: the entry being written, with its Save / Cancel again. Returns whether it
    did (not when the entry was finished some other way meanwhile)."""
    if expected.key != WRITING:
        return False
    try:
        overview = await context.services.program.journal(_user_id(update))
    except NotStarted:
        return False
    draft = overview.draft
    if draft is None:
        await context.services.conversation.clear(_user_id(update), WRITING)
        return False
    text = _entry_opening(context.texts, draft)
    await _send_controls(update, context, f"{lead}\n\n{text}")
    return True
