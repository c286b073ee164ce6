"""Issue 8's flows, as a person drives them over HTTP: the real `python -m bot` process against
the Bot API emulator (telegram-test-api with our work-arounds). The daily check-in is made due
by moving its pointer in the bot's own SQLite file; the shared bot ticks every TICK_S seconds.

The person sets their check-in hour about twelve hours from now, so the regular check-in never
arrives in the middle of a test."""

from __future__ import annotations

import contextlib
import json
import re
import sqlite3
import struct
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.harness import (
    CITY_ZONES,
    TICK_S,
    WAIT_S,
    BotProcess,
    Person,
    Reply,
    daytime_city,
    intake_until_the_hour,
    wait_until,
)

pytestmark = pytest.mark.e2e

# How SQLAlchemy's DateTime stores a moment on SQLite: naive text, here always UTC.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S.%f"
SQLITE_DATETIME_SHAPE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLEA = "I miss you so much and I still love you. Please come back, I'll do anything"


# --- the bot's database, read and nudged from outside the process ------------------------------


@contextlib.contextmanager
def database(bot: BotProcess) -> Iterator[sqlite3.Connection]:
    """The bot's SQLite file; what is written is committed when the block ends."""
    with contextlib.closing(sqlite3.connect(bot.database, timeout=5)) as connection, connection:
        yield connection


def next_checkin_at(bot: BotProcess, person: Person) -> str | None:
    with database(bot) as db:
        row = db.execute(
            "SELECT next_checkin_at FROM profiles WHERE user_id = ?", (person.user_id,)
        ).fetchone()
    assert row is not None, "the person has no profile"
    return row[0]


def make_check_in_due(bot: BotProcess, person: Person) -> str:
    """Point the person's next check-in at a second ago, stored as the bot itself stores it;
    the value written."""
    stored = next_checkin_at(bot, person)
    assert stored and SQLITE_DATETIME_SHAPE.match(stored), stored  # the format we write too
    due = (datetime.now(UTC) - timedelta(seconds=1)).strftime(SQLITE_DATETIME)
    with database(bot) as db:
        db.execute(
            "UPDATE profiles SET next_checkin_at = ? WHERE user_id = ?", (due, person.user_id)
        )
    return due


def stored_moment(value: str) -> datetime:
    return datetime.strptime(value, SQLITE_DATETIME).replace(tzinfo=UTC)


def checkin_rows(bot: BotProcess, person: Person) -> list[dict[str, Any]]:
    with database(bot) as db:
        db.row_factory = sqlite3.Row
        rows = db.execute(
            "SELECT * FROM checkins WHERE user_id = ? ORDER BY id", (person.user_id,)
        ).fetchall()
    return [dict(r) for r in rows]


def rows_about(bot: BotProcess, user_id: int) -> dict[str, int]:
    """How many rows of each table are about the person, by column (users.id, chat_id, every
    user_id, and the conversation keys), not by the bot's own ownership rules."""
    found: dict[str, int] = {}
    with database(bot) as db:
        tables = [t for (t,) in db.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        for table in tables:
            if table.startswith("sqlite_") or table == "alembic_version":
                continue
            cursor = db.execute(f'SELECT * FROM "{table}"')
            columns = [c[0] for c in cursor.description]
            count = 0
            for row in cursor:
                values = dict(zip(columns, row, strict=True))
                ids = [values.get("user_id"), values.get("chat_id")]
                if table == "users":
                    ids.append(values["id"])
                if "key" in values:
                    ids += json.loads(values["key"])
                count += user_id in ids
            found[table] = count
    return found


# --- the person's side ------------------------------------------------------------------------


def finish_intake(person: Person) -> Reply:
    """The whole intake in a time zone where it is daytime (so /shouldi never meets the
    late-night rule), with the check-in hour typed about twelve hours from now there, so the
    regular check-in stays out of the test."""
    city = daytime_city()
    intake_until_the_hour(person, city)
    hour = (datetime.now(ZoneInfo(CITY_ZONES[city])).hour + 12) % 24
    return person.send(f"{hour:02d}:00", expect="Send /plan any time")


def is_checkin(message: dict[str, Any]) -> bool:
    return message.get("text", "").startswith("Daily check-in")


def buttons_of(message: dict[str, Any]) -> list[str]:
    rows = (message.get("reply_markup") or {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def the_message(person: Person, message_id: int) -> dict[str, Any]:
    return next(m for m in person.messages() if m["message_id"] == message_id)


def receive_check_in(person: Person, bot: BotProcess) -> dict[str, Any]:
    """Make the person's check-in due and wait for it to arrive; the message."""
    since = person.emulator.seq()
    make_check_in_due(bot, person)
    reply = person.wait_until(
        lambda r: any(is_checkin(m) for m in r.messages), "the daily check-in", since=since
    )
    (checkin,) = [m for m in reply.messages if is_checkin(m)]
    return checkin


def answer_check_in(
    person: Person,
    checkin: dict[str, Any],
    contact: str = "No",
    mood: str = "4",
    urge: str = "Some",
) -> list[Reply]:
    return [
        person.tap(contact, message=checkin, expect="How are you feeling today?"),
        person.tap(mood, message=the_message(person, checkin["message_id"]), expect="urge"),
        person.tap(
            urge,
            message=the_message(person, checkin["message_id"]),
            expect="Thanks for checking in",
        ),
    ]


def checked_in(person: Person, bot: BotProcess) -> None:
    """Intake done and today's check-in answered: No contact, mood 4, some urge."""
    finish_intake(person)
    answer_check_in(person, receive_check_in(person, bot))


# --- the daily check-in -------------------------------------------------------------------------


def test_a_due_check_in_arrives_once_and_is_answered_by_taps_that_edit_it_into_the_summary(
    person, shared_bot
):
    finish_intake(person)
    start = person.emulator.seq()
    checkin = receive_check_in(person, shared_bot)
    assert "Did you contact Alex today?" in checkin["text"]
    assert buttons_of(checkin) == ["No", "I did", "They contacted me"]
    assert {"type": "bold", "offset": 0, "length": len("Daily check-in")} in checkin["entities"]

    replies = answer_check_in(person, checkin, "No", "4", "Some")
    for reply in replies:  # each tap changed the one message, and stopped its spinner
        assert reply.count("editMessageText") == 1
        assert {e["message_id"] for e in reply.events if e["type"] == "edit"} == {
            checkin["message_id"]
        }
        assert reply.count("answerCallbackQuery") == 1
    assert "How strong was the urge to reach out?" in replies[1].edits[-1]
    final = the_message(person, checkin["message_id"])
    for line in ("Contact: No", "Mood: 4/5", "Urge: Some", "Thanks for checking in."):
        assert line in final["text"]
    assert "of 30" in final["text"] and "Urges resisted: 1" in final["text"]
    assert "reply_markup" not in final  # answered: no buttons left

    (row,) = checkin_rows(shared_bot, person)
    assert (row["status"], row["message_id"]) == ("sent", checkin["message_id"])
    assert (row["contact"], row["mood"], row["urge"]) == ("none", 4, "some")
    pointer = next_checkin_at(shared_bot, person)
    assert pointer and stored_moment(pointer) > datetime.now(UTC)  # moved on to the next one

    # Even if the pointer comes due again the same day, the tick claims nothing new.
    due = make_check_in_due(shared_bot, person)
    wait_until(lambda: next_checkin_at(shared_bot, person) != due, WAIT_S, "the next tick")
    time.sleep(3 * TICK_S)  # a few more ticks: a second check-in would be sent by now
    sent = [e for e in person.events(start) if e["type"] == "message"]
    assert [m["message"]["message_id"] for m in sent if is_checkin(m["message"])] == [
        checkin["message_id"]
    ]
    assert len(checkin_rows(shared_bot, person)) == 1


# --- "Should I text them?" and the draft review -----------------------------------------------


def test_should_i_text_them_asks_one_tap_questions_and_gives_a_verdict_with_its_sources(person):
    finish_intake(person)
    reply = person.send("/shouldi", expect="Any message from Alex lately?")
    assert "Let's think it through together" in reply.text
    assert "Yes — just being friendly" in person.buttons()
    person.tap("No", expect="What's making you want to text Alex?")
    person.tap("I miss them", expect="How are you feeling right now?")
    person.tap("Sad", expect="Have you sent Alex messages that are still unanswered?")
    # No contact counts from the breakup earlier this week ("not since the breakup").
    verdict = person.tap("No", expect="days of no contact still to go.")
    assert re.search(r"Not yet — you have 2[3-9] days of no contact still to go\.", verdict.text)
    assert "Unanswered messages: No" in verdict.edits  # the question became its answer
    (message,) = [m for m in verdict.messages if "Not yet" in m["text"]]
    assert "Where the articles differ" in person.buttons()  # shown on request, not every time
    assert "— Proven steps" in message["text"]
    sources = [
        message["text"][e["offset"] : e["offset"] + e["length"]]
        for e in message["entities"]
        if e["type"] == "italic"
    ]
    assert any("Proven steps" in names for names in sources)  # the sources' names, in italics
    assert "I still want to" in person.buttons()


def test_a_pasted_draft_that_begs_and_talks_about_the_relationship_gets_its_findings(person):
    finish_intake(person)
    reply = person.send("/urge", expect="How strong is it right now?")
    assert "That pull is real" in reply.text
    assert person.buttons() == ["Some pull", "A strong pull"]
    reply = person.tap("A strong pull", expect="Paste or type the message here")
    assert "The pull right now: A strong pull" in reply.edits
    assert "Alex won't see it" in reply.text
    reply = person.send(PLEA, expect="Want me to hold it?")
    (review,) = [t for t in reply.sent if t.startswith("What I notice in your draft")]
    assert review.count("• ") == 1  # the most important finding first
    (message,) = [m for m in person.messages() if m.get("text", "").startswith("What I notice")]
    more = person.tap("more", message=message, expect="pity")
    findings = [line for line in (review + "\n" + more.text).splitlines() if line.startswith("• ")]
    assert any("don't plead, bargain or lean on their pity" in f for f in findings)  # begging
    assert any("Asking them back isn't a first-message conversation" in f for f in findings)
    assert any("Missing them is natural" in f for f in findings)  # declarations of love
    assert all(" — " in f for f in findings)  # each with its sources
    assert re.search(
        r"Send it now\? Not yet — you have 2[3-9] days of no contact still to go\.", review
    )
    assert person.buttons() == ["Ask me again in 20 minutes", "I'll let it go"]


# --- progress, export and delete ----------------------------------------------------------------


def test_progress_sends_a_real_png_chart_with_a_summary_of_the_check_ins(person, shared_bot):
    checked_in(person, shared_bot)
    reply = person.send("/progress", expect="Your progress")
    assert reply.count("sendPhoto") == 1
    (photo,) = reply.photos
    (sent,) = [m for m in reply.messages if "photo" in m]
    caption = sent["caption"]
    assert "Step: No contact" in caption  # no contact since the breakup earlier this week
    assert "Urges resisted: 1" in caption and "Check-ins with a mood: 1" in caption
    png = person.emulator.file(photo[-1]["file_id"])
    assert len(png) == photo[-1]["file_size"]
    assert png[:8] == PNG_SIGNATURE and png[12:16] == b"IHDR"
    width, height = struct.unpack(">II", png[16:24])
    assert 200 <= width <= 1600 and 150 <= height <= 1000
    assert 2_000 < len(png) < 300_000


def test_export_sends_a_json_document_with_the_persons_profile_and_check_in(person, shared_bot):
    checked_in(person, shared_bot)
    reply = person.send("/export", expect="Everything I store about you")
    (document,) = reply.documents
    assert document["file_name"].endswith(".json")
    assert document["mime_type"] == "application/json"
    raw = person.emulator.file(document["file_id"])
    assert len(raw) == document["file_size"]
    data = json.loads(raw.decode("utf-8"))
    tables = data["tables"]
    (user,) = tables["users"]
    assert (user["id"], user["first_name"]) == (person.user_id, "Sam")
    (profile,) = tables["profiles"]
    assert (profile["user_id"], profile["ex_name"], profile["goal"]) == (
        person.user_id,
        "Alex",
        "get_back",
    )
    assert profile["timezone"] in CITY_ZONES.values()
    (checkin,) = tables["checkins"]
    assert (checkin["contact"], checkin["mood"], checkin["urge"]) == ("none", 4, "some")
    assert checkin["status"] == "sent"
    # Only this person: every row with a user_id is theirs.
    assert all(
        row.get("user_id", person.user_id) == person.user_id
        for rows in tables.values()
        for row in rows
    )


def test_after_delete_the_bots_database_holds_no_row_about_the_person_and_export_has_nothing(
    person, shared_bot
):
    checked_in(person, shared_bot)
    before = rows_about(shared_bot, person.user_id)
    assert before["users"] == before["profiles"] == before["checkins"] == 1, before
    person.send("/delete", expect="can't be undone")
    person.tap("Yes, delete everything", expect="everything about you is gone")
    # The update is finished just after its last reply: then its ledger rows go too.
    gone = dict.fromkeys(before, 0)
    wait_until(
        lambda: rows_about(shared_bot, person.user_id) == gone,
        5,
        "no row about the person once the /delete tap is handled",
        shared_bot.log_tail,
    )
    reply = person.send("/export", expect="nothing to export")
    assert reply.count("sendDocument") == 0
