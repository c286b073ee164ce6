"""One story in /shouldi: an answer already given today is named and can be changed, « Back
works at every question, notes where the articles differ come once per topic, and a shared
life hears limited contact."""

from __future__ import annotations

from tests.handlers.test_advice_flow import walk
from tests.handlers.test_intake import finish_intake


async def test_shouldi_says_which_answer_from_today_it_uses_and_offers_to_change_it(person):
    await finish_intake(person)
    await walk(person, "No", "I miss them", "Sad", "No")
    await person.tap("They texted me")
    await person.tap("Practical stuff")  # they wrote today, about practical things
    reply = await person.send("/shouldi")
    assert "I'm going by what you told me today: Alex sent practical stuff" in reply.text
    first = reply.calls[0].result
    await person.tap("Change that answer", first)
    assert "Any message from Alex lately?" in person.last_keyboard_message()["text"]
    reply = await person.tap("No")
    assert "What's making you want to text Alex?" in reply.text


async def test_back_at_each_question_asks_the_one_before_and_from_the_first_opens_the_menu(person):
    await finish_intake(person)
    await person.send("/shouldi")
    await person.tap("No")
    reply = await person.tap("I miss them")
    assert "How are you feeling" in reply.text
    reply = await person.tap("« Back")
    assert "What's making you want to text Alex?" in reply.text
    reply = await person.tap("« Back")
    assert "Any message from Alex lately?" in reply.text
    reply = await person.tap("« Back")
    assert "What would you like to do?" in reply.text


async def test_a_note_where_the_articles_differ_is_offered_once_per_topic(person):
    await finish_intake(person)
    await walk(person, "No", "I miss them", "Sad", "No")
    reply = await person.tap("Where the articles differ")
    assert "How long and how strict no contact should be" in reply.text
    await walk(person, "No", "I miss them", "Sad", "No")
    assert "Where the articles differ" not in person.buttons()


async def test_why_shows_every_reason_and_the_first_message_fits_a_phone(person):
    await finish_intake(person)
    reply, _ = await walk(person, "No", "I miss them", "Angry")
    assert len(reply.text) <= 700
    shown = reply.text.count("• ")
    reply = await person.tap("Why?")
    (expanded,) = reply.edits  # the verdict grows in place: nothing is said twice in a row
    assert "And the other reasons" in expanded
    assert expanded.count("• ") > shown
    assert "Why?" not in person.buttons()


async def test_a_co_parent_hears_limited_contact_never_days_of_no_contact(person):
    await finish_intake(person, shared=("Kids",))
    reply, _ = await walk(person, "No", "I miss them", "Sad", "No")
    assert "limited contact" in reply.text or "what you share" in reply.text
    assert "days to go" not in reply.text and "still to go" not in reply.text


async def test_a_typed_question_about_the_school_pickup_gets_a_pickup_reply(person):
    await finish_intake(person, shared=("Kids",))
    reply = await person.send("should I text him about the school pickup tomorrow?")
    assert "About the school pickup" in reply.text
    assert "from school" in reply.text  # a message that fits what was asked
    assert "What's making you want to text" not in reply.text  # the reason is known
