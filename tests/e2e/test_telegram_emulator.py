"""The real `python -m bot` process over real HTTP, against a Bot API emulator
(telegram-test-api with our work-arounds), driven the way a person uses Telegram."""

from __future__ import annotations

import httpx
import pytest

from tests.e2e.harness import WEBHOOK_SECRET, Person, Reply, intake_until_the_hour

pytestmark = pytest.mark.e2e


def finish_intake(person: Person) -> Reply:
    """The intake from tests/handlers/test_intake.py, tap by tap, over HTTP (the check-in hour
    typed, as in test_flows_over_http, but tapped here to prove the tap)."""
    intake_until_the_hour(person)
    return person.tap("20:00", expect="Send /plan any time")  # the plan's last message


def test_a_person_completes_the_intake_over_http_and_gets_the_first_step_of_the_plan(person):
    reply = finish_intake(person)
    assert "Your first step: Stop chasing" in reply.text
    assert "Then: No contact" in reply.text
    assert "that's everything I need" in reply.text
    assert "From: " in reply.text
    assert "<b>" not in reply.text  # Telegram shows the HTML as formatting
    first_step = next(m for m in reply.messages if "Your first step" in m["text"])
    assert {"type": "bold", "offset": 0, "length": len("Your first step: Stop chasing")} in (
        first_step["entities"]
    )
    assert reply.count("answerCallbackQuery") == 1  # the tap on 20:00 stopped its spinner


def test_the_welcome_greets_the_person_by_name_and_says_it_is_not_a_therapist(person):
    reply = person.send("/start", expect="What should I call your ex?")
    welcome, question = reply.sent
    assert "Hi Sam, I'm Breakup Coach." in welcome
    assert "not a therapist" in welcome
    assert "You can also skip this" in question
    assert person.buttons() == ['Skip — just say "them"']


def test_typed_answers_work_and_a_tap_turns_the_question_into_the_answer(person):
    person.send("/start", expect="What should I call your ex?")
    person.send("  J.  ", expect="When did the breakup happen?")
    question = person.last_keyboard_message()
    reply = person.tap("Today", expect="Who ended it?")
    assert reply.edits == ["When it ended: Today"]
    edited = next(m for m in person.messages() if m["message_id"] == question["message_id"])
    assert edited["text"] == "When it ended: Today"
    assert "reply_markup" not in edited  # its buttons went away
    assert "edit_date" in edited
    assert [a["text"] for a in reply.answers] == [None]  # the spinner stopped, silently
    person.send("they did", expect="Is there anything you share")
    person.send("we work together", expect="Was there abuse")
    person.send("no", expect="What do you want most")
    person.send("move on", expect="Where are you?")
    person.send("Paris", expect="What time of day")
    reply = person.send("7pm", expect="Your first step: Let go and move on")
    assert "What I'll call them: J." in reply.text
    assert "Your time zone: Europe/Paris" in reply.text


def test_a_shared_choice_toggles_its_button_in_place(person):
    person.send("/start", expect="What should I call your ex?")
    person.send("Alex", expect="When did the breakup happen?")
    person.tap("Today", expect="Who ended it?")
    person.tap("I did", expect="Is there anything you share")
    before = len(person.messages())
    reply = person.tap("Kids")
    person.wait_until(lambda r: r.count("editMessageReplyMarkup") == 1, "the buttons to change")
    assert "✓ Kids" in person.buttons()
    assert len(person.messages()) == before  # no new message, the same one changed
    assert reply.count("sendMessage") == 0


def test_help_and_privacy_answer_over_http(person):
    reply = person.send("/help", expect="What I can do")
    for command in ("/start", "/plan", "/settings", "/privacy", "/delete"):
        assert command in reply.text
    assert "988" in reply.text and "116 123" in reply.text
    assert "My plan" in person.buttons()
    reply = person.send("/privacy", expect="Your privacy")
    for part in ("What I store", "Who sees it", "How long", "/delete"):
        assert part in reply.text


def test_delete_asks_first_and_after_the_tap_the_person_is_a_stranger_again(person):
    finish_intake(person)
    reply = person.send("/delete", expect="can't be undone")
    assert person.buttons() == ["Yes, delete everything", "No, keep it"]
    reply = person.tap("Yes, delete everything", expect="everything about you is gone")
    assert "reply_markup" not in person.messages()[-1]
    assert len(reply.answers) == 1
    reply = person.send("/start", expect="What should I call your ex?")
    assert "Hi Sam" in reply.text
    assert "Welcome back" not in reply.text
    assert "Right now" not in reply.text


def test_the_bot_registers_its_commands_with_the_bot_api_when_it_starts(
    shared_emulator, shared_bot
):
    commands = shared_emulator.state()["commands"][shared_bot.token]
    (registered,) = commands.values()
    names = [c["command"] for c in registered]
    assert {"start", "plan", "settings", "privacy", "delete", "help"} <= set(names)
    assert all(c["description"] for c in registered)


def test_the_whole_intake_works_in_webhook_mode_with_the_secret_header(emulator, start_bot):
    bot = start_bot(mode="webhook")
    hook = emulator.state()["webhooks"][bot.token]
    assert hook["url"] == bot.webhook_url
    assert hook["secret_token"] == WEBHOOK_SECRET
    person = Person(emulator, diagnostics=bot.log_tail)
    reply = finish_intake(person)
    assert "Your first step: Stop chasing" in reply.text
    hook = emulator.state()["webhooks"][bot.token]
    assert hook["delivered"] == 10 and hook["last_status"] == 200  # one update per intake step
    assert hook["last_error_message"] is None
    forged = httpx.post(bot.webhook_url, json={"update_id": 1}, timeout=5, trust_env=False)
    assert forged.status_code == 403  # without the secret header the bot refuses it


def test_a_token_the_bot_api_does_not_know_stops_the_bot_with_one_clear_line(start_bot):
    bot = start_bot(token="999:not-a-known-token", wait=False)
    assert bot.wait_exit(30) == 2
    assert bot.log().strip().splitlines()[-1] == (
        "BOT_TOKEN: Telegram refused this token; check it with @BotFather."
    )


def test_a_message_sent_while_the_webhook_bot_is_down_is_answered_once_it_is_back(
    emulator, start_bot, tmp_path
):
    bot = start_bot(mode="webhook")
    person = Person(emulator, diagnostics=bot.log_tail)
    person.send("/start", expect="What should I call your ex?")
    person.send("Alex", expect="When did the breakup happen?")
    bot.stop()
    person.send("this week")  # Telegram keeps it and retries the webhook
    again = start_bot(mode="webhook", workdir=tmp_path)
    person.diagnostics = again.log_tail
    person.wait_for("When were you last in touch")
    assert emulator.state()["webhooks"][again.token]["url"] == again.webhook_url
