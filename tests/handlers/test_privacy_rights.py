"""/privacy, /export and /delete over every table, through the real Application."""

from __future__ import annotations

import json
from datetime import date, timedelta

from sqlalchemy import select

from bot.db.models import (
    Answer,
    Base,
    BreathingExercise,
    Checkin,
    ContactEvent,
    JournalEntry,
    Profile,
    ReplyLedger,
    RiskSignal,
    RiskyDay,
    SafetyPlanPart,
    SafetyState,
    UpdateWrite,
    Urge,
    User,
)
from bot.services.privacy import ownership, personal_tables
from tests.handlers.driver import Person
from tests.handlers.test_intake import finish_intake

OTHER = 2002


async def fill_every_table(person: Person, user_id: int) -> None:
    """At least one row in every table for `user_id`, including a held draft still waiting
    for its follow-up (pending work)."""
    now = person.clock.now()
    today = date(2026, 3, 2)
    async with person.db.transaction() as session:
        if await session.get(User, user_id) is None:
            session.add(User(id=user_id, chat_id=user_id, first_name="Other", created_at=now,
                             last_seen_at=now))  # fmt: skip
            await session.flush()
            session.add(Profile(user_id=user_id, ex_name="Pat", updated_at=now))
        session.add_all(
            [
                Checkin(user_id=user_id, local_date=today, kind="daily", status="sent",
                        claimed_at=now, sent_at=now, contact="them", mood=2, urge="strong"),
                ContactEvent(user_id=user_id, at=now, local_date=today, initiated_by="them",
                             topic="other", breaks_no_contact=False),
                JournalEntry(user_id=user_id, created_at=now, local_date=today,
                             text="A private journal line"),
                Urge(user_id=user_id, at=now, local_hour=22, strength="strong", source="draft",
                     outcome="pending", draft="I miss you", follow_up_at=now + timedelta(hours=1)),
                RiskyDay(user_id=user_id, month=6, day=14, label="Their birthday"),
                Answer(user_id=user_id, form="readiness", item="calm", value="yes",
                       answered_at=now),
                SafetyState(user_id=user_id, is_minor=False, danger_reported_at=now,
                            updated_at=now),
                RiskSignal(user_id=user_id, at=now, risk="danger", level="act",
                           matched=["danger.threat"], categories=["threat"], flags=[]),
                SafetyPlanPart(user_id=user_id, part="helpers", text="Sam, any time",
                               updated_at=now),
                BreathingExercise(user_id=user_id, chat_id=user_id, step=1, due_at=now,
                                  started_at=now),
                # An update being handled: its reply so far and its first write (bot/once.py).
                ReplyLedger(update_id=10**12 + user_id, seq=0, user_id=user_id,
                            method="sendMessage", status=200, answer='{"ok": true}'),
                UpdateWrite(update_id=10**12 + user_id, seq=0, user_id=user_id),
            ]
        )  # fmt: skip


async def rows_about(person: Person, user_id: int) -> dict[str, int]:
    """How many rows mention the person, table by table: by column value, not by our own
    ownership rules, so the test does not just repeat the code it checks."""
    found: dict[str, int] = {}
    async with person.db.sessions() as session:
        for table in Base.metadata.sorted_tables:
            rows = (await session.execute(select(table))).all()
            about = [
                r
                for r in rows
                if user_id in tuple(r)
                or any(isinstance(v, str) and str(user_id) in v for v in tuple(r))
            ]
            found[table.name] = len(about)
    return found


def exported(person: Person) -> dict:
    call = person.transport.calls_to("sendDocument")[-1]
    assert call.ok
    return json.loads(call.files["document"].decode("utf-8"))


async def test_privacy_says_what_is_stored_including_check_ins_journal_urges_and_safety(person):
    reply = await person.send("/privacy")
    for part in ("check-ins", "urges", "journal", "hard days", "checklists", "safety",
                 "/export", "/delete", "Who sees it"):  # fmt: skip
        assert part in reply.text, part


async def test_export_sends_a_json_file_with_everything_stored_about_the_person(person):
    await finish_intake(person)
    await fill_every_table(person, person.user.id)
    await fill_every_table(person, OTHER)
    await person.send("/settings")
    await person.tap("Hard dates")
    await person.tap("Add a date")  # a typed answer is now awaited
    reply = await person.send("/export")
    assert reply.count("sendDocument") == 1
    call = person.transport.calls_to("sendDocument")[-1]
    assert "Everything I store about you" in call.result["caption"]
    assert call.files["document"]
    data = exported(person)
    tables = data["tables"]
    assert set(tables) == {t.name for t in Base.metadata.sorted_tables}
    assert all(tables[name] for name in tables), "every table has their rows"
    assert tables["users"][0]["first_name"] == "Sam"
    assert tables["profiles"][0]["ex_name"] == "Alex"
    assert tables["profiles"][0]["goal"] == "get_back"
    assert tables["journal_entries"][0]["text"] == "A private journal line"
    assert tables["urges"][0]["draft"] == "I miss you"
    assert tables["risky_days"][0]["label"] == "Their birthday"
    assert tables["users"][0]["awaiting"] == "settings.hard_date"
    # Nothing about anyone else.
    assert "Pat" not in json.dumps(data)
    assert all(
        row.get("user_id", person.user.id) == person.user.id
        for rows in tables.values()
        for row in rows
    )


async def test_export_for_someone_with_nothing_stored_says_so(person):
    reply = await person.send("/export")
    assert reply.count("sendDocument") == 0
    assert "nothing to export" in reply.text


async def test_delete_leaves_no_row_with_their_id_in_any_table_and_keeps_everyone_else(person):
    await finish_intake(person)
    await fill_every_table(person, person.user.id)
    await fill_every_table(person, OTHER)
    await person.send("/start")
    before = await rows_about(person, person.user.id)
    assert all(before.values()), before  # the test covers every table
    others_before = await rows_about(person, OTHER)

    await person.send("/delete")
    reply = await person.tap("Yes, delete everything")
    assert "everything about you is gone" in reply.text

    assert await rows_about(person, person.user.id) == {name: 0 for name in before}
    assert await rows_about(person, OTHER) == others_before
    async with person.db.sessions() as session:  # the held draft's follow-up is gone too
        pending = await session.scalars(select(Urge).where(Urge.follow_up_at.is_not(None)))
        assert [u.user_id for u in pending] == [OTHER]


async def test_a_double_tap_on_yes_delete_is_harmless(person):
    await finish_intake(person)
    await person.send("/delete")
    question = person.last_keyboard_message()
    yes = question["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await person.tap_data(yes, question)
    reply = await person.tap_data(yes, question)  # the second tap of a double tap
    assert "Something went wrong" not in reply.text
    assert all(v == 0 for v in (await rows_about(person, person.user.id)).values())


def test_every_table_in_the_schema_is_covered_by_export_and_delete():
    # A new table must either hold a user_id or be looked at here: otherwise /export and
    # /delete would silently miss it.
    assert [t.name for t in personal_tables()] == [t.name for t in Base.metadata.sorted_tables]
    for table in Base.metadata.sorted_tables:
        assert ownership(table, 1) is not None, table.name
