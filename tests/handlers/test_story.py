"""One consistent story: the intake's last-contact answer carries into the no-contact count."""

from __future__ import annotations

from datetime import date

from tests.handlers.driver import Person
from tests.handlers.test_intake import profile_of
from tests.handlers.test_progress import the_picture

TODAY = date(2026, 3, 2)  # the fake clock's first day


async def intake_with_last_contact(person: Person, *last_contact: str, breakup: str = "Months ago"):
    """The intake with the last-contact question answered by the given taps or typed words."""
    await person.send("/start")
    await person.send("Alex")
    await person.tap(breakup)
    for answer in last_contact:
        if answer in person.buttons():
            await person.tap(answer)
        else:
            await person.send(answer)
    await person.tap("They did")
    await person.tap("Done")
    await person.tap("No")
    await person.tap("To move on")
    await person.tap("London")
    return await person.tap("20:00")


async def test_the_intake_asks_when_they_were_last_in_touch_with_buttons_for_the_common_answers(
    person,
):
    await person.send("/start")
    await person.send("Alex")
    reply = await person.tap("A few weeks ago")
    assert "last in touch" in reply.text
    buttons = person.buttons()
    assert "Not since the breakup" in buttons and "About a week ago" in buttons


async def test_last_contact_five_weeks_ago_shows_about_35_days_of_no_contact_in_progress(person):
    await intake_with_last_contact(person, "5 weeks ago")
    assert (await profile_of(person)).no_contact_started_on == date(2026, 1, 26)
    _, caption = the_picture(await person.send("/progress"))
    assert "No contact: 35 days now" in caption


async def test_not_since_the_breakup_counts_from_the_breakup_day(person):
    await intake_with_last_contact(person, "Not since the breakup", breakup="A few weeks ago")
    profile = await profile_of(person)
    assert profile.no_contact_started_on == profile.breakup_on == date(2026, 2, 9)
    _, caption = the_picture(await person.send("/progress"))
    assert "No contact: 21 days now" in caption


async def test_a_typed_date_for_last_contact_is_read_and_a_future_one_is_questioned(person):
    await person.send("/start")
    await person.send("Alex")
    await person.tap("Months ago")
    reply = await person.send("3 March 2027")
    assert "hasn't come yet" in reply.text
    await person.send("14 February")
    assert (await profile_of(person)).no_contact_started_on == date(2026, 2, 14)
    assert (await profile_of(person)).intake_step == "who_ended"


async def test_a_breakup_today_is_not_asked_about_last_contact_and_counts_from_today(person):
    await person.send("/start")
    await person.send("Alex")
    reply = await person.tap("Today")
    assert "Who ended it?" in reply.text
    await person.tap("They did")
    await person.tap("Done")
    await person.tap("No")
    await person.tap("To move on")
    await person.tap("London")
    await person.tap("20:00")
    assert (await profile_of(person)).no_contact_started_on == TODAY


async def test_the_intake_summary_says_when_they_were_last_in_touch(person):
    reply = await intake_with_last_contact(person, "Not since the breakup")
    assert "Last in touch: Not since the breakup" in reply.text
