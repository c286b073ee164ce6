"""One read of a person per update: the features a message passes through share the person's
row (bot/db/queries.py `person`), and any write makes the next read fresh."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import event

from bot.db import queries as q
from bot.db import remembering
from bot.services import membership
from bot.services.checkin import CheckinService
from bot.services.conversation import ConversationService, Expected
from bot.services.intake import IntakeService
from bot.services.safety import SIGNAL_WINDOW, SafetyService
from content import load_content
from content.screen import ScreenResult


@pytest.fixture
def reads(db):
    """The statements the database runs, as they start."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_rest):
        seen.append(" ".join(statement.split())[:40])

    event.listen(db.engine.sync_engine, "before_cursor_execute", note)
    yield seen
    event.remove(db.engine.sync_engine, "before_cursor_execute", note)


@pytest.fixture
def services(db, clock):
    checkins = CheckinService(db, clock, "UTC")
    intake = IntakeService(db, load_content(), clock, "UTC", checkins)
    return checkins, intake, ConversationService(db, clock)


async def test_the_features_of_one_update_share_one_read_of_the_person(db, services, reads):
    checkins, intake, conversation = services
    await intake.greet(user_id=42, chat_id=42, first_name="Sam", language_code="en")
    reads.clear()
    with remembering():
        assert await membership.back(db, checkins, 42) is False
        assert await conversation.expected(42) is None
        assert await intake.is_set_up(42) is False
        assert (await q.person(db, 42)).language_code == "en"
    assert len(reads) == 1


async def test_a_write_in_the_update_makes_the_next_read_fresh(db, services, reads):
    _checkins, intake, conversation = services
    await intake.greet(user_id=42, chat_id=42, first_name="Sam", language_code="en")
    with remembering():
        assert await conversation.expected(42) is None
        await conversation.expect(42, "journal.entry")
        assert await conversation.expected(42) == Expected("journal.entry")


async def test_outside_an_update_every_read_goes_to_the_database(db, services, reads):
    _checkins, intake, conversation = services
    await intake.greet(user_id=42, chat_id=42, first_name="Sam", language_code="en")
    reads.clear()
    await conversation.expected(42)
    await conversation.expected(42)
    assert len(reads) == 2


async def test_someone_never_met_reads_as_no_one_and_is_remembered_until_they_are_written(
    db, services, reads
):
    _checkins, intake, conversation = services
    with remembering():
        assert await q.person(db, 7) is None
        assert await conversation.expected(7) is None
        await intake.greet(user_id=7, chat_id=7, first_name="Jo", language_code="de")
        assert (await q.person(db, 7)).language_code == "de"


async def test_whether_reconnecting_is_off_is_read_with_the_person_and_a_new_danger_counts_at_once(
    db, services, clock, reads
):
    _checkins, intake, _conversation = services
    safety = SafetyService(db, clock, "UTC")
    await intake.greet(user_id=42, chat_id=42, first_name="Sam", language_code="en")
    reads.clear()
    with remembering():
        assert await safety.view(42) is not None
        assert await safety.reconnection_blocked(42) is False
        assert len(reads) == 1
        await safety.record_signal(42, ScreenResult(risk="danger", matched=("x",), level="act"))
        assert await safety.reconnection_blocked(42) is True


async def test_an_old_danger_signal_no_longer_blocks_reconnecting_on_its_own(db, services, clock):
    _checkins, intake, _conversation = services
    safety = SafetyService(db, clock, "UTC")
    await intake.greet(user_id=42, chat_id=42, first_name="Sam", language_code="en")
    await safety.record_signal(42, ScreenResult(risk="danger", matched=("x",), level="act"))
    assert await safety.reconnection_blocked(42) is True
    clock.set(clock.now() + SIGNAL_WINDOW + timedelta(minutes=1))
    assert await safety.reconnection_blocked(42) is False
