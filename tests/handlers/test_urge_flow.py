""" "I want to text them": the urge, the draft review, the held draft and its follow-up, driven
through the real Application and the real scheduler tick (FakeClock, restarts) on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bot.db.models import ContactEvent, Profile, Urge, User
from bot.services.listening import wants_to_text
from bot.services.urge import DRAFT_KEEP, UrgeService
from tests.handlers.driver import Person, Reply
from tests.handlers.test_intake import finish_intake, profile_of

PLEA = "I miss you so much. Please come back, I'll do anything"
PRACTICAL = "Can we swap the handover to Sunday? The kids have a party on Saturday."


async def tick(person: Person):
    return await person.app.bot_data["scheduler"].tick(person.app.bot)


def html(reply: Reply) -> list[str]:
    """The texts as sent, with their HTML."""
    return [c.params["text"] for c in reply.calls if c.method == "sendMessage" and c.ok]


def follow_ups(person: Person) -> list[dict]:
    return [m for m in person.transport.bot_messages(person.user.id)
            if "Still want to send it?" in m.get("text", "")]  # fmt: skip


async def urges(person: Person) -> list[Urge]:
    async with person.db.sessions() as session:
        return list((await session.scalars(select(Urge).order_by(Urge.id))).all())


async def paste(person: Person, draft: str, strength: str = "A strong pull") -> Reply:
    await person.send("/urge")
    await person.tap(strength)
    return await person.send(draft)


async def held_and_due(person: Person, clock, draft: str = PLEA) -> dict:
    """Paste a draft, hold it, let 20 minutes pass and tick: the follow-up message."""
    await paste(person, draft)
    await person.tap("Ask me again in 20 minutes")
    clock.advance(minutes=20)
    assert (await tick(person)).follow_ups == 1
    return follow_ups(person)[-1]


# --- ways in -----------------------------------------------------------------------------------


async def test_the_main_menu_offers_i_want_to_text_them_which_asks_how_strong_the_pull_is(person):
    await finish_intake(person)
    await person.send("/help")
    assert "I want to text them" in person.buttons()
    reply = await person.tap("I want to text them")
    assert "How strong is it right now?" in reply.text
    assert person.buttons() == ["Some pull", "A strong pull"]


async def test_the_urge_command_is_registered_with_telegram_and_starts_the_same_flow(person):
    described = {c["command"]: c["description"] for c in person.transport.commands}
    assert described["urge"]
    await finish_intake(person)
    reply = await person.send("/urge")
    assert "That pull is real" in reply.text


@pytest.mark.parametrize(
    "typed",
    ["I'm about to text her", "I want to text him so bad", "i really wanna message Alex",
     "I'm so close to calling my ex", "The urge to text him is unbearable"],
)  # fmt: skip
async def test_typed_words_about_wanting_to_text_them_start_the_urge_flow(person, typed):
    await finish_intake(person)
    reply = await person.send(typed)
    assert "How strong is it right now?" in reply.text
    assert "Let's think it through together" not in reply.text


async def test_asking_whether_to_text_them_still_starts_should_i_text_them(person):
    await finish_intake(person)
    reply = await person.send("should I text him?")
    assert "Let's think it through together" in reply.text


@pytest.mark.parametrize(
    "typed",
    ["I want to text you", "I texted him", "hello", "I want to call my mum", "he texted me"],
)
def test_other_words_are_not_taken_for_an_urge(typed):
    assert not wants_to_text(typed, "Alex")


async def test_before_the_intake_the_urge_flow_offers_to_set_up_first(person):
    reply = await person.send("/urge")
    assert "Let's set things up first" in reply.text
    assert person.buttons() == ["Let's begin"]


# --- the review ----------------------------------------------------------------------------------


async def test_a_pasted_draft_is_reviewed_with_sources_and_the_verdict_and_kept_only_here(
    person, clock
):
    await finish_intake(person)
    reply = await paste(person, PLEA)
    text = reply.text
    assert "What I notice in your draft" in text
    (review,) = [c.result for c in reply.calls if "What I notice" in c.params.get("text", "")]
    assert review["text"].count("• ") == 1  # the most important finding first
    more = await person.tap("more", review)  # "…and 2 more things." opens the rest
    text += "\n" + more.text
    assert "30 days" not in text.split("Send it now?")[0]  # where they are: said once, below
    assert "Missing them is natural" in text and "— Five steps, Proven steps" in text
    assert "However much it hurts, don't plead" in text
    assert "Send it now? Not yet — you have 30 days of no contact still to go." in text
    assert not any(t.startswith("<code>") for t in html(reply))  # no better versions now
    assert person.buttons() == ["Ask me again in 20 minutes", "I'll let it go"]
    (urge,) = await urges(person)
    assert (urge.strength, urge.source, urge.outcome) == ("strong", "draft", "pending")
    assert (urge.at, urge.local_hour, urge.follow_up_at) == (clock.now(), 9, None)
    assert urge.draft == PLEA  # only so that it can be held
    chats = {c.params["chat_id"] for c in person.transport.calls_to("sendMessage")}
    assert chats == {person.user.id}  # nothing went anywhere else


async def test_the_strength_tap_is_shown_in_place_and_the_draft_is_asked_for(person):
    await finish_intake(person)
    await person.send("/urge")
    reply = await person.tap("Some pull")
    assert "The pull right now: Some pull" in reply.edits
    assert "Paste or type the message here, instead of sending it" in reply.text
    assert "Alex won't see it" in reply.text
    (urge,) = await urges(person)
    assert (urge.strength, urge.outcome, urge.draft) == ("some", "pending", None)


async def test_a_restart_between_the_strength_and_the_draft_loses_nothing(person):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("Some pull")
    await person.restart()
    reply = await person.send(PLEA)
    assert "What I notice in your draft" in reply.text
    assert [u.draft for u in await urges(person)] == [PLEA]


async def test_a_draft_pasted_for_review_wins_over_an_old_write_it_here_instead(person):
    await finish_intake(person)
    await person.send("/shouldi")
    for label in ("No", "I miss them", "Sad", "No", "I still want to", "Write it here instead"):
        await person.tap(label)
    reply = await paste(person, PLEA)  # they never wrote it there, and came here instead
    assert "What I notice in your draft" in reply.text


async def test_a_practical_draft_gets_better_versions_each_one_tap_to_copy(person):
    await finish_intake(person, shared=("Kids",))
    reply = await paste(person, PRACTICAL)
    assert "Your draft reads kindly and clearly" in reply.text
    assert "Keep it to the practical matter" in reply.text
    versions = [t for t in html(reply) if t.startswith("<code>")]
    assert 2 <= len(versions) <= 3
    assert all("</code>\n<i>" in v for v in versions)  # each names its sources
    assert "Saturday at 10 still works for the handover" in versions[0]


async def test_a_draft_sent_long_after_the_urge_is_not_taken_for_one(person, clock):
    await finish_intake(person)
    await person.send("/urge")
    await person.tap("Some pull")
    clock.advance(hours=2)
    reply = await person.send("hello there, how are things")
    assert "What I notice" not in reply.text and "reads kindly" not in reply.text
    assert (await urges(person))[0].draft is None


# --- holding it, and the follow-up ----------------------------------------------------------------


async def test_a_held_draft_is_asked_about_after_20_minutes_across_restarts_and_only_once(
    person, clock
):
    await finish_intake(person)
    await paste(person, PLEA)
    reply = await person.tap("Ask me again in 20 minutes")
    assert "Nothing was sent. I'll ask you again at 09:20." in reply.text
    (urge,) = await urges(person)
    assert urge.follow_up_at == clock.now() + timedelta(minutes=20)

    clock.advance(minutes=19)
    assert (await tick(person)).follow_ups == 0
    await person.restart()
    clock.advance(minutes=1)
    assert (await tick(person)).follow_ups == 1
    assert (await tick(person)).follow_ups == 0
    await person.restart()
    clock.advance(minutes=5)
    assert (await tick(person)).follow_ups == 0

    (message,) = follow_ups(person)
    assert "It's been 20 minutes." in message["text"] and PLEA in message["text"]
    assert person.buttons() == ["No, I'm glad I waited", "Yes, I sent it", "Not yet"]
    (urge,) = await urges(person)
    assert (urge.follow_up_at, urge.outcome) == (None, "pending")


async def test_overlapping_ticks_send_a_follow_up_once(person, clock):
    await finish_intake(person)
    await paste(person, PLEA)
    await person.tap("Ask me again in 20 minutes")
    clock.advance(minutes=21)
    reports = await asyncio.gather(tick(person), tick(person), tick(person))
    assert sum(r.follow_ups for r in reports) == 1
    assert len(follow_ups(person)) == 1


async def test_no_im_glad_i_waited_counts_an_urge_resisted_and_forgets_the_draft(person, clock):
    await finish_intake(person)
    message = await held_and_due(person, clock)
    reply = await person.tap("No, I'm glad I waited", message)
    assert "Still want to send it? No, I'm glad I waited" in reply.edits
    assert PLEA not in reply.edits[-1]  # the quoted draft is gone from the chat too
    assert "That's a real win" in reply.text and "so far: 1." in reply.text
    (urge,) = await urges(person)
    assert (urge.outcome, urge.draft, urge.follow_up_at) == ("resisted", None, None)
    async with person.db.sessions() as session:
        profile = await session.get(Profile, person.user.id)
        streak = await person.app.services.checkins.streak(session, profile, clock.now().date())
    assert streak.urges_resisted == 1


async def test_yes_i_sent_it_about_something_else_restarts_no_contact_and_keeps_the_days(
    person, clock
):
    await finish_intake(person)
    clock.advance(days=5)
    message = await held_and_due(person, clock)
    reply = await person.tap("Yes, I sent it", message)
    assert "Was it only about an emergency?" in reply.text  # they share nothing
    assert person.buttons() == ["An emergency", "Something else"]
    reply = await person.tap("Something else")
    assert "What it was about: Something else" in reply.edits
    assert "starts again from today, and the 5 days behind you still count" in reply.text
    profile = await profile_of(person)
    assert (profile.slips, profile.no_contact_banked_days) == (1, 5)
    async with person.db.sessions() as session:
        event = (await session.scalars(select(ContactEvent))).one()
    assert (event.initiated_by, event.topic, event.breaks_no_contact) == ("me", "other", True)
    (urge,) = await urges(person)
    assert (urge.outcome, urge.draft) == ("sent", None)


async def test_yes_i_sent_it_about_practical_things_they_share_keeps_the_streak(person, clock):
    await finish_intake(person, shared=("Kids",))
    message = await held_and_due(person, clock, PRACTICAL)
    await person.tap("Yes, I sent it", message)
    assert person.buttons() == ["An emergency", "Practical stuff we share", "Something else"]
    reply = await person.tap("Practical stuff we share")
    assert "doesn't break your count" in reply.text
    profile = await profile_of(person)
    assert profile.slips == 0
    async with person.db.sessions() as session:
        event = (await session.scalars(select(ContactEvent))).one()
    assert (event.topic, event.breaks_no_contact) == ("logistics", False)


async def test_not_yet_keeps_the_draft_and_offers_another_20_minutes(person, clock):
    await finish_intake(person)
    message = await held_and_due(person, clock)
    reply = await person.tap("Not yet", message)
    assert "Shall I ask you again in 20 minutes?" in reply.text
    (urge,) = await urges(person)
    assert (urge.outcome, urge.draft) == ("not_yet", PLEA)
    await person.tap("Ask me again in 20 minutes")
    clock.advance(minutes=20)
    assert (await tick(person)).follow_ups == 1
    await person.tap("No, I'm glad I waited", follow_ups(person)[-1])
    (urge,) = await urges(person)
    assert (urge.outcome, urge.draft) == ("resisted", None)


async def test_letting_it_go_right_after_the_review_counts_as_resisted(person):
    await finish_intake(person)
    await paste(person, PLEA)
    reply = await person.tap("I'll let it go")
    assert "That's a real win" in reply.text
    (urge,) = await urges(person)
    assert (urge.outcome, urge.draft) == ("resisted", None)


async def test_a_double_tap_resolves_an_urge_once(person, clock):
    await finish_intake(person)
    message = await held_and_due(person, clock)
    data = message["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
    await person.tap_data(data, message)
    reply = await person.tap_data(data, message)
    assert "That's a real win" not in reply.text
    assert "Something went wrong" not in reply.text
    assert [u.outcome for u in await urges(person)] == ["resisted"]


async def test_a_button_for_someone_elses_urge_changes_nothing(person, clock):
    await finish_intake(person)
    async with person.db.transaction() as session:
        session.add(User(id=4242, chat_id=4242, created_at=clock.now(), last_seen_at=clock.now()))
        await session.flush()
        theirs = Urge(user_id=4242, at=clock.now(), local_hour=9, strength="some",
                      source="draft", outcome="pending", draft="not yours")  # fmt: skip
        session.add(theirs)
    message = await held_and_due(person, clock)
    for action in ("waited", "notyet", "hold", "letgo"):
        reply = await person.tap_data(f"urge:{action}:{theirs.id}", message)
        assert "That's a real win" not in reply.text
    await person.tap_data(f"urge:topic:{theirs.id}.other", message)
    async with person.db.sessions() as session:
        other = await session.get(Urge, theirs.id)
        assert (other.outcome, other.draft, other.follow_up_at) == ("pending", "not yours", None)
        assert (await session.scalars(select(ContactEvent))).all() == []


# --- what the tick also takes care of ----------------------------------------------------------


async def test_a_draft_nobody_is_waiting_on_is_forgotten(person, clock):
    await finish_intake(person)
    await paste(person, PLEA)
    assert (await urges(person))[0].draft == PLEA
    clock.advance(seconds=DRAFT_KEEP.total_seconds() + 60)
    await tick(person)
    (urge,) = await urges(person)
    assert (urge.draft, urge.outcome) == (None, "pending")


async def test_a_follow_up_to_someone_who_blocked_the_bot_is_dropped_with_its_draft(person, clock):
    await finish_intake(person)
    await paste(person, PLEA)
    await person.tap("Ask me again in 20 minutes")
    clock.advance(minutes=20)
    person.transport.inject_error("sendMessage", 403, "Forbidden: bot was blocked by the user")
    report = await tick(person)
    assert (report.follow_ups, report.blocked) == (0, 1)
    async with person.db.sessions() as session:
        assert (await session.get(User, person.user.id)).is_active is False
    (urge,) = await urges(person)
    assert (urge.draft, urge.follow_up_at) == (None, None)
    clock.advance(minutes=5)
    assert (await tick(person)).follow_ups == 0


async def test_telegram_being_unreachable_delays_the_follow_up_instead_of_losing_it(person, clock):
    await finish_intake(person)
    await paste(person, PLEA)
    await person.tap("Ask me again in 20 minutes")
    clock.advance(minutes=20)
    person.transport.inject_error("sendMessage", 502, "Bad Gateway")
    report = await tick(person)
    assert (report.follow_ups, report.retry_later) == (0, 1)
    clock.advance(minutes=1)
    assert (await tick(person)).follow_ups == 1
    assert len(follow_ups(person)) == 1


async def test_no_follow_up_is_sent_while_a_safety_hold_is_on(person, clock):
    await finish_intake(person)
    await paste(person, PLEA)
    await person.tap("Ask me again in 20 minutes")
    async with person.db.transaction() as session:
        (await session.get(Profile, person.user.id)).safety_hold = True
    clock.advance(minutes=20)
    assert (await tick(person)).follow_ups == 0
    (urge,) = await urges(person)
    assert (urge.draft, urge.follow_up_at) == (None, None)


# --- patterns ----------------------------------------------------------------------------------


async def test_urges_that_peak_at_one_hour_suggest_moving_the_check_in_there_once(person, clock):
    await finish_intake(person)  # check-in at 20:00, London
    async with person.db.transaction() as session:
        for days_ago, hour in ((4, 23), (3, 22), (2, 23), (1, 0)):
            at = (clock.now() - timedelta(days=days_ago)).replace(hour=hour)
            session.add(Urge(user_id=person.user.id, at=at, local_hour=hour, strength="strong",
                             source="draft", outcome="resisted"))  # fmt: skip
    clock.set(datetime(2026, 3, 2, 23, 5, tzinfo=UTC))
    await paste(person, PLEA)
    reply = await person.tap("I'll let it go")
    assert "5 of your 5 urges came around 23:00" in reply.text
    assert "Your daily check-in could move there" in reply.text
    reply = await person.tap("Move my check-in to 23:00")
    assert "your daily check-in now comes at 23:00" in reply.text
    profile = await profile_of(person)
    assert profile.checkin_hour == 23
    assert profile.next_checkin_at == datetime(2026, 3, 3, 23, tzinfo=UTC)

    clock.advance(minutes=30)
    await paste(person, PLEA)
    reply = await person.tap("I'll let it go")
    assert "I've noticed something" not in reply.text  # the check-in is already there


async def test_the_pattern_is_offered_once_and_keeping_the_check_in_is_fine(person, clock):
    await finish_intake(person)
    async with person.db.transaction() as session:
        for days_ago in range(1, 5):
            session.add(Urge(user_id=person.user.id, at=clock.now() - timedelta(days=days_ago),
                             local_hour=13, strength="some", source="button",
                             outcome="resisted"))  # fmt: skip
    clock.set(datetime(2026, 3, 2, 13, 0, tzinfo=UTC))
    await paste(person, PRACTICAL)
    reply = await person.tap("I'll let it go")
    assert "came around 13:00" in reply.text
    reply = await person.tap("Keep it as it is")
    assert "your check-in stays where it is" in reply.text
    assert (await profile_of(person)).checkin_hour == 20
    await paste(person, PRACTICAL)
    reply = await person.tap("I'll let it go")
    assert "I've noticed something" not in reply.text


def test_the_peak_hour_is_where_most_urges_cluster_across_midnight():
    peak = UrgeService.peak_hour
    assert peak([23, 23, 0, 22, 9]).hour == 23
    assert peak([23, 0, 1, 0, 12]).hour == 0
    assert peak([1, 2, 3, 4]) is None  # too few to say
    assert peak([1, 5, 9, 13, 17, 21]) is None  # no cluster


async def test_urges_logged_by_check_in_answers_do_not_make_a_pattern(person, clock):
    # Their hour is when the check-in was answered, not when the urge came.
    await finish_intake(person)
    async with person.db.transaction() as session:
        for days_ago in range(1, 6):
            session.add(Urge(user_id=person.user.id, at=clock.now() - timedelta(days=days_ago),
                             local_hour=9, strength="some", source="checkin",
                             outcome="resisted"))  # fmt: skip
    await paste(person, PRACTICAL)
    reply = await person.tap("I'll let it go")
    assert "That's a real win" in reply.text
    assert "I've noticed something" not in reply.text
