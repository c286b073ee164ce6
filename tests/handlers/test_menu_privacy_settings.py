"""Help, privacy, deletion, settings, stale buttons and errors, through the real Application."""

from __future__ import annotations

import logging

from sqlalchemy import func, select, text

from bot.db.models import Base, Profile
from tests.handlers.test_intake import finish_intake, profile_of


async def test_commands_are_registered_with_telegram_at_start(person):
    calls = person.transport.calls_to("setMyCommands")
    assert len(calls) == 1
    names = [c["command"] for c in person.transport.commands]
    assert {"start", "help", "settings", "privacy"} <= set(names)
    assert all(c["description"] for c in person.transport.commands)


async def test_help_lists_what_the_bot_can_do_and_where_to_find_urgent_help(person):
    reply = await person.send("/help")
    registered = person.transport.commands
    assert len(registered) >= 10
    for command in registered:  # everything registered with Telegram, and nothing else
        assert f"/{command['command']} — {command['description']}" in reply.text
    assert reply.text.count("\n/") == len(registered)
    assert "not a therapist" in reply.text
    assert "988" in reply.text and "116 123" in reply.text


async def test_privacy_says_what_is_stored_who_sees_it_and_how_to_remove_it(person):
    reply = await person.send("/privacy")
    for part in ("What I store", "Why", "Who sees it", "How long", "/delete"):
        assert part in reply.text


async def test_delete_asks_first_and_keeping_the_data_changes_nothing(person):
    await finish_intake(person)
    reply = await person.send("/delete")
    assert "can't be undone" in reply.text
    reply = await person.tap("No, keep it")
    assert reply.edits == ["Okay, nothing was deleted."]
    assert (await profile_of(person)).ex_name == "Alex"


async def test_delete_after_confirmation_leaves_no_row_about_the_person_in_any_table(person):
    await finish_intake(person)
    await person.send("/start")  # leaves a conversation row behind, mid-choice
    await person.send("/delete")
    reply = await person.tap("Yes, delete everything")
    assert "everything about you is gone" in reply.text
    async with person.db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            about_them = [
                r
                for r in rows
                if person.user.id in tuple(r) or any(str(person.user.id) in str(v) for v in r)
            ]
            assert about_them == [], table.name
        count = await session.scalar(select(func.count()).select_from(Profile))
        assert count == 0


async def test_after_deleting_mid_intake_a_late_answer_is_met_kindly(person):
    await person.send("/start")
    await person.send("/delete")
    await person.tap("Yes, delete everything")
    reply = await person.send("Alex")
    assert "Something went wrong" not in reply.text
    assert "Let's set things up first" in reply.text
    reply = await person.tap("Let's begin")
    assert "Hi Sam" in reply.text


async def test_settings_show_the_current_values_and_change_the_time_zone(person):
    await finish_intake(person)
    reply = await person.send("/settings")
    assert "Time zone: London (Europe/London)" in reply.text
    assert "Daily check-in: 20:00" in reply.text
    await person.tap("Change time zone")
    reply = await person.send("Tokyo")
    assert "Saved. Your time zone: Asia/Tokyo" in reply.text
    assert (await profile_of(person)).timezone == "Asia/Tokyo"
    reply = await person.send("hello")
    assert "Saved" not in reply.text  # the single-question edit is over


async def test_settings_change_the_check_in_time_by_tap(person):
    await finish_intake(person)
    await person.send("/settings")
    await person.tap("Change check-in time")
    reply = await person.tap("8:00")
    assert "Saved. Daily check-in: 08:00" in reply.text
    assert (await profile_of(person)).checkin_hour == 8


async def test_settings_before_setup_offer_to_begin_with_one_tap(person):
    reply = await person.send("/settings")
    assert "Let's set things up first" in reply.text
    reply = await person.tap("Let's begin")
    assert "What should I call your ex?" in reply.text


async def test_a_button_from_an_old_message_is_answered_kindly_and_removed(person):
    await finish_intake(person)
    await person.send("/start")
    old = person.last_keyboard_message()
    await person.tap("Carry on")
    reply = await person.tap_data("intake:who_ended:me", old)
    answers = [c for c in reply.calls if c.method == "answerCallbackQuery"]
    assert "earlier message" in answers[0].params["text"]
    assert (await profile_of(person)).who_ended.value == "them"


async def test_forged_callback_data_does_nothing_harmful(person):
    await finish_intake(person)
    await person.send("/help")
    menu = person.last_keyboard_message()
    for data in ("intake:who_ended:nobody", "privacy:delete:maybe", "x" * 64, "a:b:c:d"):
        reply = await person.tap_data(data, menu)
        assert "Something went wrong" not in reply.text
    assert (await profile_of(person)).ex_name == "Alex"


async def test_a_message_the_bot_does_not_expect_gets_the_menu(person):
    await finish_intake(person)
    reply = await person.send("what now?")
    assert "I'm listening" in reply.text  # a warm word, never "not sure what to do"
    assert "My plan" in person.buttons()


async def test_an_internal_error_gets_a_kind_apology_and_logs_no_message_text(
    person, monkeypatch, caplog
):
    async def broken(*args, **kwargs):
        raise RuntimeError("database on fire")

    await person.send("/start")
    monkeypatch.setattr(person.app.services.intake, "answer", broken)
    with caplog.at_level(logging.ERROR):
        reply = await person.send("my secret ex name")
    assert reply.sent == [
        "Sorry — something went wrong on my side. Whatever you'd already told me is saved. "
        "Please try again in a moment."
    ]
    assert "database on fire" not in reply.text
    assert "my secret ex name" not in caplog.text
    assert "RuntimeError" in caplog.text


async def test_the_database_runs_in_utc_on_both_backends(person, clock):
    await person.send("/start")
    async with person.db.sessions() as session:
        stored = (await session.execute(text("select created_at from users"))).scalar_one()
    assert str(clock.now().year) in str(stored)
