"""Daily check-ins through the real Application and the real tick, with a controllable clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bot.db.models import Checkin, ContactEvent, Profile, Urge, User
from tests.handlers.driver import Person
from tests.handlers.test_intake import finish_intake, profile_of


async def tick(person: Person):
    return await person.app.bot_data["scheduler"].tick(person.app.bot)


def checkin_messages(person: Person) -> list[dict]:
    return [m for m in person.transport.bot_messages(person.user.id)
            if m.get("text", "").startswith(("Daily check-in", "A hard day"))]  # fmt: skip


async def set_up(person: Person, clock, *, zone: str = "London", hour: str = "20:00", shared=()):
    await person.send("/start")
    for answer in ("Alex", "this week", "today", "they did"):
        await person.send(answer)
    for item in shared:
        await person.tap(item)
    await person.tap("Done")
    await person.tap("No")
    await person.tap("To get them back")
    await person.send(zone)
    await person.send(hour)


async def answer_checkin(person: Person, contact: str, mood: str = "3", urge: str = "None",
                         topic: str | None = None):  # fmt: skip
    message = checkin_messages(person)[-1]
    replies = [await person.tap(contact, message)]
    if topic:
        replies.append(await person.tap(topic, message))
    replies.append(await person.tap(mood, message))
    replies.append(await person.tap(urge, message))
    return replies


async def count(person: Person, model) -> int:
    async with person.db.sessions() as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_the_check_in_arrives_at_the_chosen_hour_in_the_persons_own_time_zone(person, clock):
    await set_up(person, clock, zone="Tokyo", hour="8")  # 08:00 in Tokyo is 23:00 UTC
    clock.set(datetime(2026, 3, 2, 22, 59, tzinfo=UTC))
    assert (await tick(person)).sent == 0
    clock.set(datetime(2026, 3, 2, 23, 0, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    assert "Did you contact Alex today?" in checkin_messages(person)[-1]["text"]
    async with person.db.sessions() as session:
        row = (await session.scalars(select(Checkin).where(Checkin.status != "skipped"))).one()
    assert row.local_date == date(2026, 3, 3)  # already tomorrow in Tokyo
    assert (await tick(person)).sent == 0  # once a day
    assert (await profile_of(person)).next_checkin_at == datetime(2026, 3, 3, 23, tzinfo=UTC)


async def test_check_ins_follow_daylight_saving_changes(person, clock):
    await set_up(person, clock, zone="London", hour="8")
    clock.set(datetime(2026, 3, 28, 7, 59, tzinfo=UTC))  # the day before the clocks go forward
    assert (await tick(person)).sent <= 1  # the missed days are skipped, not piled up
    clock.set(datetime(2026, 3, 28, 8, 0, tzinfo=UTC))
    assert (await tick(person)).sent == 1  # 08:00 GMT
    assert (await profile_of(person)).next_checkin_at == datetime(2026, 3, 29, 7, tzinfo=UTC)
    clock.set(datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    assert (await tick(person)).sent == 1  # 08:00 BST is 07:00 UTC


async def test_a_check_in_is_one_message_answered_by_taps_and_edited_in_place(person, clock):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    await tick(person)
    sent_before = len(person.transport.calls_to("sendMessage"))
    replies = await answer_checkin(person, "No", "4", "Some")
    assert all(r.count("editMessageText") == 1 for r in replies)
    assert len(person.transport.calls_to("sendMessage")) - sent_before <= 1  # a milestone at most
    final = replies[-1].edits[-1]
    assert "Contact: No" in final and "Mood: 4/5" in final and "Urge: Some" in final
    assert "day 1 of 30" in final and "Urges resisted: 1" in final
    async with person.db.sessions() as session:
        row = (await session.scalars(select(Checkin).where(Checkin.status != "skipped"))).one()
    assert (row.contact, row.mood, row.urge, row.answered_at) == ("none", 4, "some", clock.now())


async def test_contact_you_started_restarts_the_count_kindly_and_keeps_the_totals(person, clock):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 12, 20, tzinfo=UTC))  # ten days in
    await tick(person)
    replies = await answer_checkin(person, "I did", topic="Something else", urge="Strong")
    final = replies[-1].edits[-1]
    assert "doesn't undo what you've already done" in final
    assert "10 days behind you still count" in final
    profile = await profile_of(person)
    assert profile.no_contact_started_on == date(2026, 3, 12)
    assert (profile.slips, profile.no_contact_banked_days) == (1, 10)
    async with person.db.sessions() as session:
        event = (await session.scalars(select(ContactEvent))).one()
        urge = (await session.scalars(select(Urge))).one()
    assert (event.initiated_by, event.breaks_no_contact) == ("me", True)
    assert urge.outcome == "sent"


async def test_them_getting_in_touch_does_not_break_no_contact(person, clock):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 5, 20, tzinfo=UTC))
    await tick(person)
    replies = await answer_checkin(person, "They contacted me")
    assert "doesn't break your no contact" in replies[0].edits[-1]
    profile = await profile_of(person)
    assert profile.slips == 0 and profile.no_contact_started_on == date(2026, 3, 2)
    async with person.db.sessions() as session:
        event = (await session.scalars(select(ContactEvent))).one()
    assert (event.initiated_by, event.breaks_no_contact) == ("them", False)


async def test_replying_only_about_an_emergency_or_shared_logistics_keeps_the_streak(person, clock):
    await set_up(person, clock, shared=("Kids",))
    for day, topic in ((5, "Only an emergency"), (6, "Only practical things")):
        clock.set(datetime(2026, 3, day, 20, tzinfo=UTC))
        await tick(person)
        await answer_checkin(person, "I did", topic=topic)
    profile = await profile_of(person)
    assert profile.slips == 0 and profile.no_contact_started_on == date(2026, 3, 2)
    assert await count(person, ContactEvent) == 2


async def test_milestones_get_a_message_of_their_own_once(person, clock):
    await set_up(person, clock)
    seen = []
    for day in range(3, 12):
        clock.set(datetime(2026, 3, day, 20, tzinfo=UTC))
        await tick(person)
        replies = await answer_checkin(person, "No")
        seen += [t for r in replies for t in r.sent]
    assert [t.split(".")[0] for t in seen] == ["Day one done", "Three days",
                                               "A full week of no contact"]  # fmt: skip


async def test_the_end_of_the_chosen_period_is_marked_with_the_readiness_checklist(person, clock):
    await set_up(person, clock)
    await person.send("/settings")
    await person.tap("Days of distance")
    await person.tap("21 days")
    async with person.db.transaction() as session:
        profile = await session.get(Profile, person.user.id)
        profile.last_milestone_day = 14
    clock.set(datetime(2026, 3, 23, 20, tzinfo=UTC))
    await tick(person)
    replies = await answer_checkin(person, "No")
    assert "You've completed 21 days of no contact" in replies[-1].text
    assert "readiness checklist" in replies[-1].text


async def test_pausing_stops_check_ins_until_the_pause_ends_and_resume_brings_them_back(
    person, clock
):
    await set_up(person, clock)
    reply = await person.send("pause for 3 days")
    assert "paused until" in reply.text
    for day in (2, 3, 4):
        clock.set(datetime(2026, 3, day, 20, 30, tzinfo=UTC))
        assert (await tick(person)).sent == 0
    clock.set(datetime(2026, 3, 5, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    await person.send("stop")
    clock.set(datetime(2026, 3, 6, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 0
    assert (await profile_of(person)).next_checkin_at is None
    reply = await person.send("resume")
    assert "back on" in reply.text
    clock.set(datetime(2026, 3, 7, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1


async def test_settings_buttons_pause_and_set_quiet_hours(person, clock):
    await set_up(person, clock, hour="23")
    await person.send("/settings")
    await person.tap("Quiet hours")
    await person.tap("22:00–07:00")
    assert (await profile_of(person)).next_checkin_at == datetime(2026, 3, 3, 7, tzinfo=UTC)
    await person.send("/settings")
    await person.tap("Pause check-ins")
    reply = await person.tap("7 days")
    assert "paused until" in reply.text
    reply = await person.send("/settings")
    assert "Check-ins: paused until" in reply.text
    await person.tap("Resume check-ins")
    assert (await profile_of(person)).checkins_paused_until is None


async def test_a_restart_between_claim_and_send_neither_duplicates_nor_loses_it(person, clock):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    claimed = await person.app.services.checkins.claim_due(clock.now())  # then the process dies
    assert len(claimed) == 1
    await person.restart()
    assert (await tick(person)).sent == 0  # the claim is still leased
    clock.advance(minutes=3)
    assert (await tick(person)).sent == 1
    clock.advance(minutes=3)
    assert (await tick(person)).sent == 0
    assert len(checkin_messages(person)) == 1


async def test_overlapping_ticks_send_once(person, clock):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 20, 0, 30, tzinfo=UTC))
    reports = await asyncio.gather(tick(person), tick(person), tick(person))
    assert sum(r.sent for r in reports) == 1
    async with person.db.sessions() as session:
        statuses = (await session.scalars(select(Checkin.status))).all()
    assert sorted(statuses) == ["sent", "skipped"]  # yesterday's, missed before the test began


async def test_a_check_in_missed_by_a_little_is_sent_late_once_and_older_ones_are_skipped(
    person, clock
):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 22, tzinfo=UTC))  # down for two hours
    assert (await tick(person)).sent == 1
    clock.set(datetime(2026, 3, 6, 9, tzinfo=UTC))  # down for days
    assert (await tick(person)).sent == 0
    assert (await profile_of(person)).next_checkin_at == datetime(2026, 3, 6, 20, tzinfo=UTC)
    clock.set(datetime(2026, 3, 6, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    assert len(checkin_messages(person)) == 2


async def test_telegram_asking_to_slow_down_is_retried(person, clock):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    person.transport.inject_error("sendMessage", 429, "Too Many Requests: retry after 1",
                                  retry_after=1)  # fmt: skip
    assert (await tick(person)).sent == 1
    errors = [c for c in person.transport.calls_to("sendMessage") if not c.ok]
    assert len(errors) == 1 and len(checkin_messages(person)) == 1


async def test_someone_who_blocked_the_bot_gets_nothing_more_until_they_come_back(person, clock):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    person.transport.inject_error("sendMessage", 403, "Forbidden: bot was blocked by the user")
    report = await tick(person)
    assert (report.sent, report.blocked) == (0, 1)
    async with person.db.sessions() as session:
        assert (await session.get(User, person.user.id)).is_active is False
    clock.set(datetime(2026, 3, 4, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 0
    await person.send("/start")  # they unblocked and came back
    async with person.db.sessions() as session:
        assert (await session.get(User, person.user.id)).is_active is True
    clock.set(datetime(2026, 3, 5, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1


async def test_a_typed_answer_works_too(person, clock):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    await tick(person)
    await person.send("no")
    await person.send("2")
    reply = await person.send("strong")
    assert "Urges resisted: 1" in reply.text
    async with person.db.sessions() as session:
        row = (await session.scalars(select(Checkin).where(Checkin.status != "skipped"))).one()
    assert (row.contact, row.mood, row.urge) == ("none", 2, "strong")


async def test_a_risky_day_gets_an_extra_check_in_that_morning(person, clock):
    await set_up(person, clock)
    async with person.db.transaction() as session:
        from bot.db.models import RiskyDay

        session.add(RiskyDay(user_id=person.user.id, month=3, day=4, label="anniversary"))
    await person.app.services.checkins.reschedule_user(person.user.id)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    clock.set(datetime(2026, 3, 4, 9, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    assert "A hard day" in checkin_messages(person)[-1]["text"]
    clock.set(datetime(2026, 3, 4, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1


async def test_a_forged_check_in_button_for_someone_elses_check_in_changes_nothing(person, clock):
    await set_up(person, clock)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    await tick(person)
    message = checkin_messages(person)[-1]
    reply = await person.tap_data("checkin:contact:999999.me", message)
    assert "closed" in reply.text
    reply = await person.tap_data("checkin:mood:1.9", message)
    async with person.db.sessions() as session:
        row = (await session.scalars(select(Checkin).where(Checkin.status != "skipped"))).one()
    assert (row.contact, row.mood) == (None, None)
    _ = finish_intake, timedelta


async def test_hard_dates_are_named_in_settings_and_get_a_morning_check_in(person, clock):
    await set_up(person, clock)
    await person.send("/settings")
    reply = await person.tap("Hard dates")
    assert "You haven't added any yet" in reply.text
    await person.tap("Add a date")
    reply = await person.send("sometime soon")
    assert "couldn't find a day and a month" in reply.text
    reply = await person.send("4 March — our anniversary")
    assert "Saved: 4 Mar — our anniversary" in reply.text
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    clock.set(datetime(2026, 3, 4, 9, tzinfo=UTC))
    assert (await tick(person)).sent == 1
    assert "A hard day" in checkin_messages(person)[-1]["text"]
    await person.send("/settings")
    reply = await person.tap("Hard dates")
    assert "4 Mar — our anniversary" in reply.text
    reply = await person.tap("Remove 4 Mar")
    assert "You haven't added any yet" in reply.text
    clock.set(datetime(2026, 3, 4, 20, tzinfo=UTC))
    await tick(person)
    clock.set(datetime(2027, 3, 4, 9, tzinfo=UTC))
    assert (await profile_of(person)).next_checkin_at.hour == 20


async def test_once_they_have_reached_out_on_purpose_contact_is_no_longer_a_slip(person, clock):
    await set_up(person, clock)
    async with person.db.transaction() as session:
        profile = await session.get(Profile, person.user.id)
        profile.phase = "rebuild"
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    await tick(person)
    assert "no contact, day" not in checkin_messages(person)[-1]["text"]
    replies = await answer_checkin(person, "I did", topic="Something else")
    assert "there's no count to keep" in replies[-1].edits[-1]
    assert "starts again" not in replies[-1].text
    profile = await profile_of(person)
    assert profile.slips == 0 and profile.no_contact_started_on == date(2026, 3, 2)
