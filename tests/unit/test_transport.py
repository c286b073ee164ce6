"""The in-process Bot API enforces the rules of the real one that catch real bugs."""

from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden

from bot.transport import FakeUser, InProcessBotApi


@pytest.fixture
async def bot():
    transport = InProcessBotApi()
    bot = Bot("1:x", request=transport, get_updates_request=transport)
    await bot.initialize()
    yield bot, transport
    await bot.shutdown()


async def test_every_call_is_recorded_with_its_parameters(bot):
    bot, transport = bot
    await bot.send_message(5, "hi")
    call = transport.calls_to("sendMessage")[0]
    assert call.params == {"chat_id": 5, "text": "hi"}
    assert call.result["text"] == "hi"


async def test_html_that_telegram_would_reject_is_rejected(bot):
    bot, _ = bot
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.send_message(5, "<b>unclosed", parse_mode=ParseMode.HTML)
    with pytest.raises(BadRequest, match="unsupported tag"):
        await bot.send_message(5, "<div>x</div>", parse_mode=ParseMode.HTML)


async def test_html_is_stored_as_the_plain_text_the_person_sees(bot):
    bot, _ = bot
    message = await bot.send_message(5, "<b>Hi</b> &amp; bye", parse_mode=ParseMode.HTML)
    assert message.text == "Hi & bye"


async def test_texts_over_4096_characters_are_rejected(bot):
    bot, _ = bot
    with pytest.raises(BadRequest, match="too long"):
        await bot.send_message(5, "x" * 4097)


async def test_callback_data_over_64_bytes_is_rejected(bot):
    bot, _ = bot
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("a", callback_data="é" * 33)]])
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(5, "pick", reply_markup=markup)


async def test_editing_a_message_into_itself_is_not_modified(bot):
    bot, _ = bot
    message = await bot.send_message(5, "same")
    with pytest.raises(BadRequest, match="not modified"):
        await bot.edit_message_text("same", chat_id=5, message_id=message.message_id)
    edited = await bot.edit_message_text("new", chat_id=5, message_id=message.message_id)
    assert edited.text == "new"


async def test_injected_errors_look_like_telegrams(bot):
    bot, transport = bot
    transport.inject_error("sendMessage", 403, "Forbidden: bot was blocked by the user")
    with pytest.raises(Forbidden):
        await bot.send_message(5, "hello?")
    await bot.send_message(5, "only the next call fails")


async def test_queued_updates_are_served_to_get_updates_in_order(bot):
    bot, transport = bot
    person = FakeUser()
    transport.queue(transport.message_update(person, "/start"))
    transport.queue(transport.message_update(person, "hello"))
    updates = await bot.get_updates(timeout=1)
    assert [u.message.text for u in updates] == ["/start", "hello"]
    assert updates[0].message.entities[0].type == "bot_command"
    assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()
