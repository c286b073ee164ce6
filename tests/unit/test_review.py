"""The draft review: each finding with drafts that should and should not trigger it, the phase
and the situation, better versions, robustness, and validation of review.yaml."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest
import yaml

from content.advice import Situation, load_rulebook
from content.loader import CONTENT_DIR, ContentError, load_sources
from content.review import (
    ASSUMED_SITUATION,
    build_review_book,
    infer_reason,
    load_review_book,
    review,
)

NO_CONTACT = Situation(days_since_breakup=3)  # day 3 of 30
PRACTICAL = "Can we swap the handover to Sunday? The kids have a party on Saturday."
LIGHT = "Hey! Saw a dog just like Biscuit in the park today and thought of you. Hope you're well."


def rules_of(draft: str, situation: Situation | None = None) -> list[str]:
    return [f["rule"] for f in review(draft, situation).to_dict()["findings"]]


# --- each finding: drafts that trigger it ... -----------------------------------------------------

TRIGGERS = [
    ("no-empty-openers", "hey"),
    ("no-empty-openers", "Hey!!"),
    ("no-empty-openers", "hi Alex"),
    ("no-empty-openers", "heyyy 😊"),
    ("no-empty-openers", "😊"),
    ("no-empty-openers", "❤️❤️"),
    ("no-empty-openers", "you up?"),
    ("no-empty-openers", "wyd"),
    ("no-empty-openers", "ｈｅｙ"),  # full-width letters are still a "hey"
    ("no-empty-openers", ""),
    ("no-essays", " ".join(["word"] * 70)),
    ("no-essays", "First thought.\n\nSecond thought.\n\nThird thought."),
    ("no-essays", "a" * 500),
    ("keep-affection-in-reserve", "I miss you"),
    ("keep-affection-in-reserve", "I still love you, you know that"),
    ("keep-affection-in-reserve", "I can’t stop thinking about you"),
    ("keep-affection-in-reserve", "Honestly I need you"),
    ("keep-affection-in-reserve", "night babe ❤️"),
    ("ask-later-not-first", "Can we get back together?"),
    ("ask-later-not-first", "Please give us another chance"),
    ("ask-later-not-first", "Just take me back"),
    ("ask-later-not-first", "I want us back"),
    ("leave-the-relationship-out", "Why did you leave me?"),
    ("leave-the-relationship-out", "I keep thinking about our relationship"),
    ("leave-the-relationship-out", "We were so good together"),
    ("leave-the-relationship-out", "What went wrong with us?"),
    ("no-begging-or-pity", "Please, please come back to me"),
    ("no-begging-or-pity", "I'm begging you"),
    ("no-begging-or-pity", "I can't live without you"),
    ("no-begging-or-pity", "Why won't you answer me?"),
    ("no-begging-or-pity", "I promise I'll change"),
    ("no-guilt-trips", "After everything I did for you, this is how you treat me?"),
    ("no-guilt-trips", "You owe me an explanation"),
    ("no-guilt-trips", "I hope you're happy now"),
    ("no-guilt-trips", "How could you do this to me?"),
    ("no-cold-or-nasty", "This is all your fault"),
    ("no-cold-or-nasty", "You never listened to me"),
    ("no-cold-or-nasty", "You're such a liar"),
    ("no-cold-or-nasty", "I hate you"),
    ("no-cold-or-nasty", "Have a nice life."),
    ("no-jealousy-games", "I've been seeing someone new"),
    ("no-jealousy-games", "I went on a date last night, it was fun"),
    ("no-jealousy-games", "My new boyfriend says hi"),
    ("no-jealousy-games", "Guys keep asking me out lately"),
    ("dont-pry-into-their-love-life", "Are you seeing someone?"),
    ("dont-pry-into-their-love-life", "Who is she?"),
    ("dont-pry-into-their-love-life", "Is he your new boyfriend?"),
    ("dont-pry-into-their-love-life", "Have you met someone?"),
    ("dont-over-apologise", "I'm sorry, I'm so sorry"),
    ("dont-over-apologise", "Sorry. Sorry for everything."),
    ("dont-over-apologise", "I don't deserve you"),
    ("dont-over-apologise", "It's all my fault, I ruin everything"),
    ("own-it-without-excuses", "I'm sorry I shouted, but you were being impossible"),
    ("own-it-without-excuses", "Sorry if you felt hurt"),
    ("own-it-without-excuses", "Sorry you feel that way"),
]


@pytest.mark.parametrize(("rule", "draft"), TRIGGERS)
def test_a_draft_that_does_this_is_told_so(rule, draft):
    assert rule in rules_of(draft)


# --- ... and drafts that don't --------------------------------------------------------------------

LEAVES_ALONE = [
    ("no-empty-openers", LIGHT),
    ("no-empty-openers", "Hi! I finally ran my first 10k today."),
    ("no-essays", "Hi!\n\nHope your week's going well."),
    ("no-essays", " ".join(["word"] * 55)),
    ("keep-affection-in-reserve", "I miss our old café, they changed the whole menu!"),
    ("keep-affection-in-reserve", "I'd love you to have the book back, shall I post it?"),
    (
        "keep-affection-in-reserve",
        "Quick heads-up, the baby has a fever, I'm taking her to the GP.",
    ),
    ("ask-later-not-first", "I'll try again later to reach the plumber."),
    ("ask-later-not-first", "When you come back from Spain, could you grab the post?"),
    ("leave-the-relationship-out", "The relationship between the teams at work is much better."),
    ("no-begging-or-pity", "Please let me know if Saturday works for the handover."),
    ("no-guilt-trips", "Thanks for everything you did for me this year."),
    ("no-cold-or-nasty", "You always made me laugh, and I'm grateful for that."),
    ("no-cold-or-nasty", "You never need to worry about the dog, I've got him."),
    ("no-jealousy-games", "I saw our old friends last night, they say hi."),
    ("no-jealousy-games", "Remember our first date at that tiny ramen place? It closed!"),
    ("dont-pry-into-their-love-life", "Are you seeing the match tonight?"),
    ("dont-over-apologise", "I'm sorry I shouted at you on Friday. That wasn't fair of me."),
    ("dont-over-apologise", "So sorry to hear about your dad. Sorry I couldn't be at the funeral."),
    ("own-it-without-excuses", "I'm sorry I shouted at you. I was wrong, and I own that."),
]


@pytest.mark.parametrize(("rule", "draft"), LEAVES_ALONE)
def test_a_draft_that_does_not_do_this_is_not_told_so(rule, draft):
    assert rule not in rules_of(draft)


def test_there_are_at_least_forty_drafts_and_every_finding_is_tried_both_ways():
    drafts = {d for _, d in TRIGGERS} | {d for _, d in LEAVES_ALONE}
    assert len(drafts) >= 40
    draft_rules = {c.rule for c in load_review_book().checks if c.check not in ("phase",
                   "unanswered", "late_night")}  # fmt: skip
    assert {r for r, _ in TRIGGERS} == draft_rules
    assert {r for r, _ in LEAVES_ALONE} == draft_rules


# --- clean drafts, and the shape of a review ------------------------------------------------------


@pytest.mark.parametrize(
    "draft",
    [LIGHT, "I finally read the book you recommended. You were right about the ending!",
     "I'm sorry I snapped at you last week. That wasn't fair of me."],
)  # fmt: skip
def test_a_clean_draft_is_told_it_is_clean(draft):
    result = review(draft).to_dict()
    assert result["clean"] is True and result["findings"] == []


def test_a_review_is_exactly_clean_findings_and_rewrites():
    result = review("I miss you", NO_CONTACT).to_dict()
    assert list(result) == ["clean", "findings", "rewrites"]
    assert result["clean"] is False
    for finding in result["findings"]:
        assert list(finding) == ["rule", "text", "sources"]
        assert finding["text"] and finding["sources"]
        assert set(finding["sources"]) <= set(load_sources())
    assert all(isinstance(r, str) for r in result["rewrites"])


def test_each_finding_is_reported_once():
    rules = rules_of("I miss you. I miss you. I miss you so much. Miss you.")
    assert len(rules) == len(set(rules))


def test_findings_that_are_advice_rules_use_the_rules_own_id_and_words():
    rules = load_rulebook().rules
    result = review("I miss you. Are you seeing someone? I hate you.")
    for finding in result.findings:
        if finding.rule in rules:
            assert finding.text == rules[finding.rule].text
            assert finding.sources == rules[finding.rule].sources


# --- where they are, and the situation around the draft ------------------------------------------


def test_during_no_contact_the_phase_and_days_left_are_a_finding_and_nothing_is_rewritten():
    result = review(LIGHT, NO_CONTACT).to_dict()
    phase = result["findings"][0]
    assert phase["rule"] == "no-contact-period"
    assert "27 days still to go" in phase["text"]
    assert result["clean"] is False and result["rewrites"] == []


def test_one_day_left_is_said_in_the_singular():
    one_left = Situation(days_since_breakup=29)
    assert "with 1 day still to go" in review(LIGHT, one_left).findings[0].text


def test_after_no_contact_the_phase_is_not_a_finding():
    done = Situation(days_since_breakup=40, feeling="calm", goal="get_back",
                     readiness_checklist_done=True, abuse_or_repeated_cheating=False)  # fmt: skip
    result = review(LIGHT, done)
    assert result.clean and result.rewrites


def test_a_verdict_that_says_not_now_for_another_reason_is_a_finding_too():
    angry = Situation(days_since_breakup=40, feeling="angry")
    assert "not-while-angry-or-desperate" in rules_of(LIGHT, angry)


@pytest.mark.parametrize(("hour", "late"), [(23, True), (2, True), (14, False), (None, False)])
def test_a_late_night_draft_is_told_to_wait_for_daylight(hour, late):
    situation = Situation(days_since_breakup=40, local_hour=hour)
    assert ("not-late-at-night" in rules_of(LIGHT, situation)) is late


@pytest.mark.parametrize(("unanswered", "found"), [(1, True), (3, True), (0, False)])
def test_a_second_message_while_the_last_is_unanswered_is_held_back(unanswered, found):
    situation = Situation(days_since_breakup=40, unanswered_messages_you_sent=unanswered)
    assert ("never-two-in-a-row" in rules_of(LIGHT, situation)) is found


def test_relationship_talk_is_fine_when_they_raised_the_relationship():
    they_asked = Situation(days_since_breakup=40, they_messaged="relationship", feeling="calm")
    draft = "I've thought about what went wrong with us too. Can we try again?"
    assert "leave-the-relationship-out" in rules_of(draft)
    assert "leave-the-relationship-out" not in rules_of(draft, they_asked)
    assert "ask-later-not-first" not in rules_of(draft, they_asked)


# --- better versions --------------------------------------------------------------------------


def test_without_a_situation_no_contact_is_taken_as_over_and_first_messages_are_offered():
    result = review("hey")
    assert result.situation == ASSUMED_SITUATION
    assert result.verdict.decision == "reach_out"
    assert 2 <= len(result.rewrites) <= 3
    assert result.rewrites == load_review_book().rewrites["first_message"][:3]


def test_a_practical_message_during_no_contact_gets_practical_versions_and_no_phase_finding():
    shares_kids = Situation(days_since_breakup=3, shared=["kids"])
    result = review(PRACTICAL, shares_kids)
    assert result.verdict.decision == "logistics_only"
    assert result.clean
    assert result.rewrites == load_review_book().rewrites["logistics"][:3]


@pytest.mark.parametrize(
    ("draft", "first"),
    [("Can I collect my stuff on Sunday?", "pick up the rest of my things"),
     ("The rent is due, can you send your half?", "bill came in"),
     ("Can I pick up the kids at 5 on Friday?", "works for the handover")],
)  # fmt: skip
def test_the_better_version_about_the_same_thing_comes_first(draft, first):
    shares_kids = Situation(days_since_breakup=3, shared=["kids"])
    assert first in review(draft, shares_kids).rewrites[0].text


def test_a_reply_to_a_friendly_message_gets_warm_brief_versions():
    friendly = Situation(days_since_breakup=10, they_messaged="casual", feeling="calm")
    result = review("omg hiii I miss you so much!!", friendly)
    assert result.rewrites == load_review_book().rewrites["casual_reply"][:3]
    assert "keep-affection-in-reserve" in [f.rule for f in result.findings]


def test_when_the_verdict_says_not_to_text_there_are_no_rewrites():
    for situation in (
        NO_CONTACT,
        Situation(days_since_breakup=40, feeling="desperate"),
        Situation(days_since_breakup=40, abuse_or_repeated_cheating=True),
    ):
        assert review(LIGHT, situation).rewrites == ()  # fmt: skip


def test_every_better_version_is_short_has_sources_and_reads_clean_itself():
    book = load_review_book()
    for group, rewrites in book.rewrites.items():
        assert 2 <= len(rewrites) <= 3, group
        for rewrite in rewrites:
            assert len(rewrite.text) <= 200 and rewrite.sources
            found = [f.rule for f in review(rewrite.text).findings]
            assert found == [], (rewrite.text, found)


def test_better_versions_are_new_texts_not_the_advice_engines_suggestions():
    suggested = {s.text for items in load_rulebook().suggestions.values() for s in items}
    for rewrites in load_review_book().rewrites.values():
        assert not {r.text for r in rewrites} & suggested


# --- what the draft is about ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("draft", "reason"),
    [(PRACTICAL, "logistics"), ("Can I pick up my stuff on Sunday?", "logistics"),
     ("Our son is in hospital, call me", "emergency"),
     ("Can we get back together?", "ask_to_get_back"),
     ("I'm sorry about Friday", "apologise"), ("I miss you", "miss_them"),
     ("I miss you, and the kids miss you too", "miss_them"), (LIGHT, None), ("", None)],
)  # fmt: skip
def test_what_a_draft_is_about_is_read_from_its_words(draft, reason):
    assert infer_reason(draft) == reason


def test_a_reason_the_situation_gives_is_not_second_guessed():
    situation = Situation(days_since_breakup=40, reason_to_text="closure")
    assert review(PRACTICAL, situation).situation.reason_to_text == "closure"


# --- never raises ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "draft",
    ["", " ", "\n\n\n", "\x00", "😊" * 10_000, "a" * 10_000, "word " * 5_000, "\n" * 10_000,
     "sorry " * 3_000, "please " * 3_000, "\ud83d broken emoji", "مرحبا، كيف حالك؟",
     "e\u0301\u0301\u0301" * 500, "\u202eevil\u202c", None, 12345],
)  # fmt: skip
def test_any_input_is_reviewed_without_an_error(draft):
    result = review(draft).to_dict()  # type: ignore[arg-type]
    assert isinstance(result["clean"], bool)
    assert isinstance(result["findings"], list) and isinstance(result["rewrites"], list)


def test_a_ten_thousand_character_draft_is_reviewed_quickly():
    draft = ("I miss you so much, please come back to me. " * 250)[:10_000]
    start = time.perf_counter()
    result = review(draft, NO_CONTACT)
    assert time.perf_counter() - start < 0.5
    assert "no-essays" in [f.rule for f in result.findings]


# --- validation of review.yaml -------------------------------------------------------------------


@pytest.fixture
def content_copy(tmp_path: Path) -> Path:
    for f in CONTENT_DIR.glob("*.yaml"):
        shutil.copy(f, tmp_path / f.name)
    return tmp_path


def edit_review(directory: Path, change) -> None:
    path = directory / "review.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")


def finding(data: dict, rule: str) -> dict:
    return next(f for f in data["findings"] if f["rule"] == rule)


def test_the_shipped_review_data_loads():
    book = build_review_book()
    assert book.checks and book.reasons and book.rewrites


@pytest.mark.parametrize(
    ("change", "entry", "problem"),
    [
        (lambda d: finding(d, "no-guilt-trips")["patterns"].append("(unclosed"),
         "no-guilt-trips", "not a valid regex"),
        (lambda d: finding(d, "no-guilt-trips").pop("sources"), "no-guilt-trips",
         "names no source"),
        (lambda d: finding(d, "no-guilt-trips").update(text="  "), "no-guilt-trips",
         "'text' must be a non-empty text"),
        (lambda d: finding(d, "no-guilt-trips").update(sources=["a-blog"]), "no-guilt-trips",
         "unknown source id"),
        (lambda d: finding(d, "no-guilt-trips")["patterns"].append(""), "no-guilt-trips",
         "non-empty regex"),
        (lambda d: finding(d, "no-guilt-trips")["patterns"].append("x*"), "no-guilt-trips",
         "matches an empty draft"),
        (lambda d: finding(d, "no-guilt-trips").update(check="vibes"), "no-guilt-trips",
         "'check' must be one of"),
        (lambda d: finding(d, "no-guilt-trips").update(text="After {what}"), "no-guilt-trips",
         "unknown placeholder"),
        (lambda d: d["findings"].append({"rule": "made-up", "check": "patterns", "from_rules": True,
                                         "patterns": ["x"]}), "made-up", "rules.yaml has no rule"),
        (lambda d: d["findings"].append({"rule": "no-guilt-trips", "check": "phase", "text": "t",
                                         "sources": ["ten-steps"]}), "no-guilt-trips", "duplicate"),
        (lambda d: finding(d, "dont-over-apologise").update(apology="(sorry"),
         "dont-over-apologise", "not a valid regex"),
        (lambda d: d["rewrites"].pop("logistics"), "rewrites.logistics", "needs 2 to 3 rewrites"),
        (lambda d: d["rewrites"]["logistics"][0].pop("sources"), "rewrites.logistics[0]",
         "names no source"),
        (lambda d: d["rewrites"].update(small_talk=[]), "rewrites.small_talk", "never leads"),
        (lambda d: d["reasons"].update(revenge=["x"]), "reasons.revenge", "not a reason to text"),
        (lambda d: d["rewrites"]["logistics"][0].update(prefer_when=["(bill"]),
         "rewrites.logistics[0]", "not a valid regex"),
        (lambda d: d["reasons"]["logistics"].append("[z-a]"), "reasons.logistics",
         "not a valid regex"),
    ],
)  # fmt: skip
def test_a_broken_review_file_fails_naming_the_file_and_the_entry(
    content_copy, change, entry, problem
):
    edit_review(content_copy, change)
    with pytest.raises(ContentError) as caught:
        build_review_book(content_copy)
    assert caught.value.file == "review.yaml"
    assert caught.value.entry == entry
    assert problem in caught.value.problem


def test_a_pattern_yaml_reads_as_a_mapping_is_caught_with_a_hint(content_copy):
    path = content_copy / "review.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("      - \\bi hate myself\\b\n", "      - (?: oops)\n"), "utf-8")
    with pytest.raises(ContentError, match="quote it in YAML"):
        build_review_book(content_copy)
