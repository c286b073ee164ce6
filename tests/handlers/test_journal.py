"""/journal through the real Application: writing over several messages, saving, listing and
reading back — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select

from bot.db.models import Answer, JournalEntry, User
from handlers.longtext import MAX_MESSAGE
from tests.handlers.driver import Person
from tests.handlers.test_intake import finish_intake


def squash(text: str) -> str:
    return "".join(text.split())


def long_part(name: str, words: int = 600) -> str:
    """About 4,000 characters: as long as Telegram lets one message be, near enough."""
    body = " ".join(f"{name}{i}" for i in range(words))
    return f"{name.upper()} BEGINS {body} {name.upper()} ENDS"[:4000]


async def entries(person: Person) -> list[JournalEntry]:
    async with person.db.sessions() as session:
        return list((await session.scalars(select(JournalEntry).order_by(JournalEntry.id))).all())


def controls(person: Person) -> list[dict]:
    """The bot's messages that still carry Save / Cancel."""
    return [m for m in person.transport.bot_messages(person.user.id)
            if "Save" in str(m.get("reply_markup", ""))]  # fmt: skip


async def conversation_state(person: Person) -> str | None:
    """What the bot awaits from the person, as stored."""
    async with person.db.sessions() as session:
        return await session.scalar(select(User.awaiting).where(User.id == person.user.id))


async def test_a_long_entry_sent_in_several_messages_is_stored_whole_and_listed(person):
    await finish_intake(person)
    reply = await person.send("/journal")
    assert "Nothing here yet" in reply.text
    reply = await person.tap("Just write")
    assert "in as many messages as you need" in reply.text
    assert await conversation_state(person) == "journal.entry"
    parts = [long_part("alpha"), long_part("beta"), long_part("gamma")]
    for part in parts:
        reply = await person.send(part)
        assert "characters so far" in reply.text
        assert len(controls(person)) == 1  # one Save / Cancel in the chat at a time
    assert f"{sum(map(len, parts)) + 2:,} characters so far" in reply.text
    assert await entries(person) != [] and (await entries(person))[0].text == "\n".join(parts)

    reply = await person.tap("Save")
    assert "Saved to your journal — 2 Mar" in reply.text
    (entry,) = await entries(person)
    assert entry.text == "\n".join(parts)  # whole: nothing cut, in order
    assert (entry.local_date, entry.phase, entry.prompt_id) == (date(2026, 3, 2), "stop_chasing",
                                                                None)  # fmt: skip
    assert await conversation_state(person) is None

    reply = await person.send("/journal")
    assert "• 2 Mar — ALPHA BEGINS alpha0 alpha1 alpha2 alpha3…" in reply.text
    assert any(label.startswith("📖 2 Mar · ALPHA BEGINS") for label in person.buttons())


async def test_a_saved_entry_is_read_back_in_full_across_several_messages(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    parts = [long_part("alpha"), long_part("beta"), long_part("gamma")]
    for part in parts:
        await person.send(part)
    await person.tap("Save")
    await person.send("/journal")
    reply = await person.tap("📖 2 Mar")
    assert len(reply.sent) >= 3
    assert all(len(text) <= MAX_MESSAGE for text in reply.sent)
    assert reply.sent[0].startswith("2 Mar · Stop chasing")
    assert squash("\n".join(parts)) in squash("".join(reply.sent))


async def test_writing_answers_todays_prompt_and_asks_its_follow_up(person, clock):
    await finish_intake(person)
    reply = await person.send("/journal")
    assert "What are you feeling right now?" in reply.text
    assert "From: Give them the breakup, Proven steps" in reply.text
    clock.advance(days=1)  # prompts take turns, one a day
    reply = await person.send("/journal")
    assert "Write the message you want to send them here instead" in reply.text
    reply = await person.tap("Write about this")
    assert "Write the message you want to send them here instead" in reply.text
    reply = await person.send("I miss you and I'm sorry for everything.")
    assert "Read it again tomorrow. What were you really hoping it would do?" in reply.text
    reply = await person.send("That you'd come back.")
    assert "Read it again tomorrow" not in reply.text
    await person.tap("Save")
    (entry,) = await entries(person)
    assert entry.prompt_id == "unsent-message"
    assert entry.text == "I miss you and I'm sorry for everything.\nThat you'd come back."
    await person.send("/journal")
    reply = await person.tap("📖")
    assert "Write the message you want to send them here instead" in reply.text


async def test_cancel_lets_the_entry_go_and_nothing_is_kept(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    await person.send("Some thoughts about the weekend, not for saving.")
    reply = await person.tap("Cancel")
    assert reply.edits == ["Okay — I've let that one go. Nothing was saved."]
    assert await entries(person) == []
    async with person.db.sessions() as session:
        marker = await session.scalar(select(func.count()).select_from(Answer))
    assert marker == 0
    reply = await person.send("And this is not for the journal")
    assert "characters so far" not in reply.text


async def test_the_entry_being_written_survives_a_restart(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    await person.send("Before the restart.")
    await person.restart()
    reply = await person.send("After the restart.")
    assert "38 characters so far" in reply.text
    await person.tap("Save")
    (entry,) = await entries(person)
    assert entry.text == "Before the restart.\nAfter the restart."


async def test_commands_still_work_while_writing_and_the_entry_waits(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    await person.send("First thought.")
    reply = await person.send("/today")
    assert "Today · Stop chasing" in reply.text
    reply = await person.send("Second thought.")
    assert "30 characters so far" in reply.text
    reply = await person.send("/journal")
    assert "You have an entry in progress (30 characters)" in reply.text
    assert person.buttons()[:3] == ["Keep writing", "Save", "Cancel"]
    await person.tap("Save")
    (entry,) = await entries(person)
    assert entry.text == "First thought.\nSecond thought."


async def test_saving_before_writing_anything_says_so_kindly(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    reply = await person.tap("Save")
    assert "nothing to save yet" in reply.text
    reply = await person.send("Now something.")
    assert "14 characters so far" in reply.text
    await person.tap("Save")
    assert [e.text for e in await entries(person)] == ["Now something."]


async def test_pictures_and_voice_notes_cannot_go_in_the_journal(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    for kind in ("photo", "voice"):
        reply = await person.send_media(kind)
        assert "I can only keep words in your journal" in reply.text
    reply = await person.send("Words, then.")
    assert "12 characters so far" in reply.text


async def test_what_you_write_is_shown_as_written_never_as_formatting(person):
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    await person.send("<b>not bold</b> & <i>not italic</i>")
    await person.tap("Save")
    await person.send("/journal")
    assert any("<b>not bold</b>" in label for label in person.buttons())
    reply = await person.tap("📖")
    assert "<b>not bold</b> & <i>not italic</i>" in reply.text


async def test_an_entry_over_the_size_of_one_entry_is_refused_not_cut(person, monkeypatch):
    monkeypatch.setattr("bot.services.program.MAX_ENTRY_CHARS", 50)
    await finish_intake(person)
    await person.send("/journal")
    await person.tap("Just write")
    await person.send("x" * 40)
    reply = await person.send("y" * 20)
    assert "as much as one entry can hold (40 characters so far)" in reply.text
    await person.tap("Save")
    assert [e.text for e in await entries(person)] == ["x" * 40]


async def test_the_list_shows_the_newest_entries_and_how_many_there_are(person, clock):
    await finish_intake(person)
    for n in range(7):
        await person.send("/journal")
        await person.tap("Just write")
        await person.send(f"Entry number {n}")
        await person.tap("Save")
        clock.advance(days=1)
    reply = await person.send("/journal")
    assert "Showing your 5 newest of 7 entries" in reply.text
    assert "Entry number 6" in reply.text and "Entry number 1" not in reply.text
    reads = [b for b in person.buttons() if b.startswith("📖")]
    assert reads[0] == "📖 8 Mar · Entry number 6" and len(reads) == 5


async def test_someone_elses_entry_cannot_be_read(person, clock):
    await finish_intake(person)
    async with person.db.transaction() as session:
        session.add(User(id=2002, chat_id=2002, created_at=clock.now(), last_seen_at=clock.now()))
        await session.flush()
        other = JournalEntry(user_id=2002, created_at=clock.now(), local_date=date(2026, 3, 2),
                             phase="heal", prompt_id=None, text="Private words")  # fmt: skip
        session.add(other)
        await session.flush()
        other_id = other.id
    await person.send("/help")
    for data in (f"journal:read:{other_id}", "journal:read:999999", "journal:read:abc",
                 "journal:nothing:"):  # fmt: skip
        reply = await person.tap_data(data)
        assert "Private words" not in reply.text
        assert "Something went wrong" not in reply.text
        clock.set(datetime(2026, 3, 2, 9, tzinfo=UTC) + timedelta(minutes=1))
