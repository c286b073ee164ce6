"""/progress through the real Application: a real PNG with a summary, for no data, one check-in
and a year of them — on SQLite and PostgreSQL."""

from __future__ import annotations

import struct
from datetime import UTC, date, datetime, timedelta

from bot.db.models import Checkin, ContactEvent, Profile
from tests.handlers.driver import Person, Reply
from tests.handlers.test_checkins import answer_checkin, tick
from tests.handlers.test_intake import finish_intake

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 300_000
MAX_WIDTH, MAX_HEIGHT = 1600, 1000


def the_picture(reply: Reply) -> tuple[bytes, str]:
    (call,) = [c for c in reply.calls if c.method == "sendPhoto"]
    assert call.ok
    return call.files["photo"], call.result.get("caption", "")


def assert_sensible_png(png: bytes) -> None:
    assert png[:8] == PNG_SIGNATURE
    assert png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert 0 < width <= MAX_WIDTH and 0 < height <= MAX_HEIGHT
    assert len(png) < MAX_BYTES


async def test_progress_right_after_setting_up_is_a_real_picture_with_a_summary(person):
    await finish_intake(person)
    reply = await person.send("/progress")
    png, caption = the_picture(reply)
    assert_sensible_png(png)
    assert "Your progress" in caption
    assert "Step: Stop chasing · day 1 of your plan" in caption
    assert "No contact: 0 days now, 0 in all" in caption
    assert "Urges resisted: 0" in caption and "Check-ins with a mood: 0" in caption


async def test_progress_after_one_check_in_charts_that_one_mood(person, clock):
    await finish_intake(person)
    clock.set(datetime(2026, 3, 3, 20, tzinfo=UTC))
    await tick(person)
    await answer_checkin(person, "No", "4", "Some")
    reply = await person.send("/progress")
    png, caption = the_picture(reply)
    assert_sensible_png(png)
    assert "day 2 of your plan" in caption
    assert "No contact: 1 days now, 1 in all" in caption
    assert "Urges resisted: 1" in caption and "Check-ins with a mood: 1" in caption


async def a_year_of_check_ins(person: Person, today: date) -> None:
    """365 answered check-ins, three slips, and a plan that began a year ago."""
    start = today - timedelta(days=364)
    slips = (start + timedelta(days=40), start + timedelta(days=150), start + timedelta(days=300))
    async with person.db.transaction() as session:
        profile = await session.get(Profile, person.user.id)
        profile.intake_completed_at = datetime.combine(start, datetime.min.time(), UTC)
        profile.phase_started_on = start
        profile.no_contact_started_on = slips[-1]
        profile.no_contact_banked_days = 40 + 110 + 150
        profile.slips = len(slips)
        for n in range(365):
            day = start + timedelta(days=n)
            moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=20)
            session.add(Checkin(user_id=person.user.id, local_date=day, kind="daily",
                                status="sent", claimed_at=moment, sent_at=moment,
                                contact="none", mood=1 + (n * 7) % 5, urge="none",
                                answered_at=moment))  # fmt: skip
        for day in slips:
            moment = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=12)
            session.add(ContactEvent(user_id=person.user.id, at=moment, local_date=day,
                                     initiated_by="me", topic="other",
                                     breaks_no_contact=True))  # fmt: skip


async def test_progress_after_a_year_stays_a_sensible_size(person, clock):
    await finish_intake(person)
    await a_year_of_check_ins(person, date(2026, 3, 2))
    reply = await person.send("/progress")
    png, caption = the_picture(reply)
    assert_sensible_png(png)
    assert "day 365 of your plan" in caption
    assert "Check-ins with a mood: 365" in caption
    assert "Restarts: 3" in caption


async def test_the_progress_button_in_the_menu_sends_the_picture(person):
    await finish_intake(person)
    await person.send("/help")
    reply = await person.tap("Progress")
    png, caption = the_picture(reply)
    assert_sensible_png(png)
    assert "Your progress" in caption
    assert reply.count("answerCallbackQuery") == 1
