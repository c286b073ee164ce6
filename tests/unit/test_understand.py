"""Understanding free text: intents, feeling topics, and the answers to feelings.

The labelled sets, and what each measured the first time the engine saw it:

- understand_train.tsv (990) and understand_holdout.tsv (330): the engine's own sets.
- understand_fresh.tsv (233): written in new voices (teen, older adult, non-native English,
  terse, rambling, text-speak, emoji, names, questions without "?") before the cues were read.
  First look: 86.7% (202/233; 84.7% on the 196 messages that are not also in train or
  held-out). The engine was then rebuilt around concepts (word lists per feeling, contact verbs
  in three forms, modality, nearly-doing, dropped subjects, plan changes, progress questions).
- understand_fresh2.tsv (178): written after that, before measuring. First look: 94.4%
  (168/178; 93.3% on the 150 not in the other sets). It passed, so it was left untuned: it
  keeps measuring how the engine does on messages it was not fitted to.

Now: train 98.9%, held-out 97.6%, fresh 98.3%, fresh2 94.9% (general changes made after its
first look moved it by one message; none was made for it). Every set must stay at or above
90%. Some misses are the crisis screen's, not this engine's: a message the screen flags is
crisis or danger whatever else it says, so its false alarms ("proud of myself") count as misses.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

import content.screen
from content.loader import CONTENT_DIR, ContentError, load_sources, load_texts
from content.understand import (
    CONTACT_BUTTONS,
    FEELING_BUTTONS,
    INTENTS,
    TOPICS,
    Understanding,
    asks_if_bot,
    breathing_steps,
    feeling_reply,
    load_answers,
    load_book,
    outpouring_reply,
    understand,
)

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def labelled(name: str) -> list[tuple[str, str | None, str]]:
    rows = []
    for line in (FIXTURES / f"understand_{name}.tsv").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        intent, topic, message = line.split("\t")
        rows.append((intent, None if topic == "-" else topic, message))
    return rows


def accuracy(rows: list[tuple[str, str | None, str]]) -> tuple[float, list[str]]:
    wrong = []
    for intent, topic, message in rows:
        got = understand(message)
        if (got.intent, got.topic) != (intent, topic):
            wrong.append(f"{intent}/{topic} -> {got.intent}/{got.topic}: {message[:80]}")
    return 1 - len(wrong) / len(rows), wrong


# --- The labelled sets ---------------------------------------------------------------------------


def test_the_labelled_sets_hold_at_least_450_messages_with_a_third_held_out():
    train, holdout = labelled("train"), labelled("holdout")
    assert len(train) + len(holdout) >= 450
    assert len(holdout) >= (len(train) + len(holdout)) // 4
    assert not {m for *_, m in train} & {m for *_, m in holdout}


def test_the_labels_use_exactly_the_public_names_and_cover_every_intent_and_topic():
    rows = labelled("train") + labelled("holdout")
    intents = Counter(intent for intent, _, _ in rows)
    topics = Counter(topic for _, topic, _ in rows if topic)
    assert set(intents) == set(INTENTS)
    assert set(topics) == set(TOPICS)
    assert all(topic is None for intent, topic, _ in rows if intent != "feeling")
    assert all(topic is not None for intent, topic, _ in rows if intent == "feeling")
    assert min(topics.values()) >= 15


@pytest.mark.parametrize("name", ["train", "holdout", "fresh", "fresh2"])
def test_at_least_90_percent_of_each_labelled_set_is_sorted_right(name):
    score, wrong = accuracy(labelled(name))
    assert score >= 0.90, f"{score:.1%} on {name}:\n" + "\n".join(wrong)


# --- The messages from the issue -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "intent", "topic"),
    [
        ("I miss him so much, I keep looking at our photos", "feeling", "missing_them"),
        ("😭😭😭💔", "feeling", "sadness"),
        ("I broke up with her and I regret it. Should I tell her I was wrong?", "should_i_text",
         None),
        ("I haven't slept in three days and I can't eat", "feeling", "sleep_eating"),
        ("I changed my mind, I want to try again with Kim", "change_goal", None),
    ],
)  # fmt: skip
def test_the_messages_the_issue_names_are_understood(message, intent, topic):
    got = understand(message)
    assert (got.intent, got.topic) == (intent, topic)


def test_a_bare_mood_is_a_feeling_only_right_after_the_bot_asked_how_they_feel():
    assert understand("a bit better actually").intent == "other"
    answer = understand("a bit better actually", expecting="feeling")
    assert (answer.intent, answer.topic) == ("feeling", "good_day")
    assert understand("worse tbh", expecting="feeling").topic == "sadness"


def test_expecting_a_feeling_does_not_hide_a_slip_or_a_crisis():
    assert understand("i texted him last night", expecting="feeling").intent == "slip"
    assert understand("i want to kill myself", expecting="feeling").intent == "crisis"


# --- Tense, subject and negation -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("message", "intent"),
    [
        ("should I text him", "should_i_text"),
        ("I want to text him so bad", "urge"),
        ("I texted him", "slip"),
        ("he texted me", "they_texted"),
        ("Kim texted me out of nowhere", "they_texted"),
        ("my ex liked my story", "they_texted"),
        ("I liked his story", "slip"),
        ("i drunk texted him", "slip"),
        ("she keeps viewing my stories", "they_texted"),
    ],
)
def test_who_did_it_and_when_decide_between_asking_wanting_doing_and_receiving(message, intent):
    assert understand(message).intent == intent


@pytest.mark.parametrize(
    "message",
    ["my cat knocked over my plant", "my mum called me", "did he text me?", "my boss texted me"],
)
def test_someone_other_than_the_ex_getting_in_touch_is_not_the_ex(message):
    assert understand(message).intent != "they_texted"


def test_a_negated_feeling_is_not_that_feeling():
    assert understand("i miss him").topic == "missing_them"
    assert understand("i dont miss him at all").topic != "missing_them"
    assert understand("i dont feel good").topic == "sadness"


def test_a_contact_that_did_not_happen_is_not_a_contact():
    assert understand("he texted me").intent == "they_texted"
    assert understand("he hasnt texted me in weeks").intent != "they_texted"
    assert understand("i havent texted him in 10 days").intent != "slip"


def test_change_goal_carries_the_direction():
    assert understand("I changed my mind, I want to try again with Kim").goal == "try_again"
    assert understand("i want to move on").goal == "move_on"
    assert understand("i dont want him back anymore").goal == "move_on"
    assert understand("i miss him").goal is None


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("I caved and texted him", "text"),
        ("i called her last night", "call"),
        ("we met up for coffee", "met"),
        ("we slept together", "slept_together"),
        ("i broke no contact", None),
    ],
)
def test_a_slip_carries_its_kind_when_it_is_said(message, kind):
    got = understand(message)
    assert got.intent == "slip" and got.slip_kind == kind


# --- Concepts rather than phrases ---------------------------------------------------------------


@pytest.mark.parametrize("verb", ["text", "message", "dm", "call", "ring", "facetime", "snap",
                                  "email", "reply to", "reach out to", "unblock"])  # fmt: skip
def test_every_way_of_getting_in_touch_counts_for_asking_wanting_and_doing(verb):
    past = {"text": "texted", "message": "messaged", "dm": "dmed", "call": "called",
            "ring": "rang", "facetime": "facetimed", "snap": "snapped", "email": "emailed",
            "reply to": "replied to", "reach out to": "reached out to",
            "unblock": "unblocked"}[verb]  # fmt: skip
    assert understand(f"is it a mistake to {verb} her").intent == "should_i_text"
    assert understand(f"i really want to {verb} her tonight").intent == "urge"
    assert understand(f"i {past} her last night").intent == "slip"


@pytest.mark.parametrize(
    "message",
    ["feel like calling her rn", "so close to texting him", "trying so hard not to text him",
     "his number is open on my phone", "my thumb is over the send button",
     "cant stop wanting to dm her"],
)  # fmt: skip
def test_nearly_doing_it_or_fighting_it_is_an_urge(message):
    assert understand(message).intent == "urge"


def test_a_worry_about_seeing_them_is_not_an_urge_or_a_question_about_seeing_them():
    assert understand("im worried about seeing her at work").intent == "feeling"
    assert understand("I'm dreading the weekend, what if I see him").intent == "feeling"
    assert understand("what happens if i text him").intent == "should_i_text"


def test_a_slip_told_without_the_i_is_still_a_slip():
    assert understand("drunk dialed mateo at 2am").intent == "slip"
    assert understand("caved and messaged her").intent == "slip"
    assert understand("accidentally called her").intent == "slip"
    assert understand("Emily texted me").intent == "they_texted"


def test_a_question_about_their_message_is_about_what_they_sent():
    assert understand("she texted me, should i answer?").intent == "they_texted"
    assert understand("i want to text him, should i?").intent == "should_i_text"
    assert understand("I want to tell him how I feel, should I").intent == "should_i_text"


def test_counting_days_since_the_last_contact_is_a_progress_question_not_a_slip():
    assert understand("how many days has it been since i texted him").intent == "progress"


@pytest.mark.parametrize(
    ("message", "goal"),
    [("we're going to give it another shot", "try_again"),
     ("i want to work on our relationship again", "try_again"),
     ("I've decided to move forward without her", "move_on")],
)  # fmt: skip
def test_a_plan_change_said_in_other_words_carries_its_direction(message, goal):
    got = understand(message)
    assert (got.intent, got.goal) == ("change_goal", goal)


@pytest.mark.parametrize(
    "message",
    ["whats my no contact streak", "Which step am I at in the plan", "day count please",
     "can i see my streak"],
)  # fmt: skip
def test_asking_for_ones_own_count_or_step_is_a_progress_question(message):
    assert understand(message).intent == "progress"


@pytest.mark.parametrize(
    ("message", "topic"),
    [("i'm so unhappy", "sadness"), ("feeling frustrated with everything he did", "anger"),
     ("so nostalgic tonight", "missing_them"), ("my stomach is all tense", "anxiety"),
     ("i feel invisible to everyone", "loneliness")],
)  # fmt: skip
def test_a_feeling_word_no_cue_foresaw_is_still_a_feeling_and_not_other(message, topic):
    got = understand(message)
    assert (got.intent, got.topic) == ("feeling", topic)


@pytest.mark.parametrize(
    ("message", "topic"),
    [("i hate how he treated me", "anger"), ("i hate how i look", "self_worth"),
     ("i hate what i did to her", "regret")],
)  # fmt: skip
def test_who_the_hate_is_aimed_at_decides_between_anger_self_worth_and_regret(message, topic):
    assert understand(message).topic == topic


def test_writing_a_message_and_deleting_it_is_an_urge():
    assert understand("i typed it out and deleted it three times").intent == "urge"


def test_a_lone_heart_after_thanks_is_thanks_but_a_named_feeling_is_a_feeling():
    assert understand("ty ❤️").intent == "thanks"
    assert understand("thanks, i still miss him so much").intent == "feeling"


# --- Risk from the screen -----------------------------------------------------------------------


class FakeScreen:
    def __init__(self, risk: str) -> None:
        self.risk = risk
        self.flagged = risk != "none"


@pytest.mark.parametrize(
    ("risk", "intent"),
    [("self_harm", "crisis"), ("possible_self_harm", "crisis"), ("violence", "crisis"),
     ("danger", "danger"), ("abuse", "danger")],
)  # fmt: skip
def test_a_risk_from_the_screen_decides_the_intent_before_anything_else(monkeypatch, risk, intent):
    monkeypatch.setattr(content.screen, "screen", lambda text: FakeScreen(risk))
    got = understand("I miss him so much")
    assert (got.intent, got.topic, got.risk) == (intent, None, risk)


def test_the_real_screen_is_used():
    assert understand("i want to kill myself").to_dict() == {
        "intent": "crisis", "topic": None, "risk": "self_harm"}  # fmt: skip
    assert understand("he hit me").intent == "danger"
    assert understand("i miss him").risk == "none"


# --- Robustness ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [None, 42, "", "   ", "\x00\x1b[31m", "🙂" * 5000, "I miss her " * 3000, "\u202eevil", "?!?!"],
)
def test_any_input_gives_an_answer_and_never_raises(text):
    got = understand(text)
    assert got.intent in INTENTS
    assert got.topic is None or got.topic in TOPICS
    assert set(got.to_dict()) == {"intent", "topic", "risk"}


def test_a_broken_intents_file_fails_loudly_naming_the_entry(tmp_path):
    for name in ("intents.yaml",):
        shutil.copy(CONTENT_DIR / name, tmp_path / name)
    data = yaml.safe_load((tmp_path / "intents.yaml").read_text(encoding="utf-8"))
    data["intents"]["urge"][0]["re"] = "(unclosed"
    (tmp_path / "intents.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ContentError, match=r"intents\.urge\[0\]"):
        load_book(tmp_path)
    data["intents"]["urge"][0] = {"re": "x", "w": 99}
    (tmp_path / "intents.yaml").write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ContentError, match=r"intents\.urge\.0\.w"):
        load_book(tmp_path)


# --- Are you a bot? ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["are you a real person?", "am i talking to a bot", "r u human", "is this a bot lol",
     "Are you an AI?", "who am i talking to"],
)  # fmt: skip
def test_asking_whether_the_coach_is_a_person_is_recognised(text):
    assert asks_if_bot(text)


@pytest.mark.parametrize(
    "text",
    ["i miss him", "he is a real jerk", "are you sure i shouldnt text him", "", None,
     "my friend is a real person to talk to"],
)  # fmt: skip
def test_other_messages_are_not_taken_for_asking_about_the_bot(text):
    assert not asks_if_bot(text)


# --- Answering a feeling -------------------------------------------------------------------------


@pytest.mark.parametrize("topic", TOPICS)
def test_every_topic_gets_a_short_reflection_a_sourced_action_and_fitting_buttons(topic):
    texts, sources = load_texts(), load_sources()
    reply = feeling_reply(topic)
    assert reply.topic == topic
    assert len(texts.render(reply.reflection_id)) <= 200
    assert texts.render(reply.action_id)
    assert reply.sources and all(s in sources for s in reply.sources)
    assert reply.buttons and set(reply.buttons) <= set(FEELING_BUTTONS)
    assert all(f"listen.buttons.{b}" in texts for b in reply.buttons)


def test_the_seed_varies_the_reflection_so_it_does_not_repeat_every_time():
    ids = {feeling_reply("missing_them", seed).reflection_id for seed in range(6)}
    assert len(ids) >= 2


def test_when_contact_is_not_advised_no_button_leads_towards_texting_them():
    assert set(feeling_reply("missing_them").buttons) & CONTACT_BUTTONS
    for topic in TOPICS:
        assert not set(feeling_reply(topic, offer_contact=False).buttons) & CONTACT_BUTTONS


def test_worry_and_sleeplessness_offer_the_breathing_exercise_first():
    assert feeling_reply("anxiety").buttons[0] == "breathe"
    assert feeling_reply("sleep_eating").buttons[0] == "breathe"


def test_an_unknown_topic_is_answered_as_sadness():
    assert feeling_reply(None).topic == "sadness"
    assert feeling_reply("boredom").topic == "sadness"


def test_a_long_outpouring_is_answered_as_a_whole_with_an_offer_to_keep_it():
    message = (
        "It's been five weeks and I still can't sleep properly, I'm up at 4am most nights. "
        "I miss him so much, I keep looking at our photos. And then I saw he has a new "
        "girlfriend and I felt sick, so jealous. I'm angry at myself for checking. "
    ) * 3
    got = understand(message)
    assert got.intent == "feeling" and got.long
    assert len(got.topics) >= 3
    answer = outpouring_reply(got)
    assert answer.reply.topic == got.topics[0]
    assert 1 <= len(answer.also_heard) <= 2
    texts = load_texts()
    assert all(t in texts for t in (answer.ack_id, answer.save_offer_id, *answer.also_heard))
    assert answer.save_buttons == ("save_journal", "not_now")


def test_a_short_message_is_not_an_outpouring():
    assert not understand("i miss him").long


def test_breathe_with_me_is_about_a_minute_of_short_messages_marked_as_the_bots_own():
    steps = breathing_steps()
    texts = load_texts()
    assert 3 <= len(steps) <= 10
    assert steps[0].at_seconds == 0 and 50 <= steps[-1].at_seconds <= 70
    assert all(len(texts.render(s.text_id)) <= 200 for s in steps)
    assert yaml.safe_load((CONTENT_DIR / "breathing.yaml").read_text(encoding="utf-8"))["own"]


def test_the_answer_files_are_validated_at_load():
    answers = load_answers()
    assert set(answers.topics) == set(TOPICS)


def test_understanding_defaults_to_other_with_no_risk():
    assert Understanding().to_dict() == {"intent": "other", "topic": None, "risk": "none"}
