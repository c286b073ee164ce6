"""The safety plan: its six parts as content, and the service that keeps the person's words.
On SQLite and PostgreSQL; the clock is passed in. Exported and deleted with everything else."""

from __future__ import annotations

import json
import logging

import pytest

from bot.app import configure_logging
from bot.db.models import SafetyPlanPart
from bot.services.checkin import CheckinService
from bot.services.intake import IntakeService
from bot.services.privacy import PrivacyService
from bot.services.safety_plan import (
    EMPTY,
    TOO_LONG,
    PlanTextInvalid,
    SafetyPlanService,
    UnknownPart,
    clean_part_text,
)
from content import load_content
from content.loader import ContentError
from content.safety_plan import (
    MAX_PART_CHARS,
    SHORT_PART_CHARS,
    format_plan,
    format_prompt,
    load_safety_plan,
)

STANLEY_BROWN = (
    "warning_signs", "coping", "distractions", "helpers", "professionals", "safer_surroundings"
)  # fmt: skip


@pytest.fixture
def plans(migrated_db, clock):
    return SafetyPlanService(migrated_db, clock)


@pytest.fixture
def intake(migrated_db, clock):
    return IntakeService(migrated_db, load_content(), clock, "UTC",
                         CheckinService(migrated_db, clock, "UTC"))  # fmt: skip


async def register(intake, user_id=42):
    await intake.greet(user_id=user_id, chat_id=user_id, first_name="Ri", language_code="en")


# --- content ------------------------------------------------------------------------------------


def test_the_plan_has_stanley_and_browns_six_parts_in_their_order():
    book = load_safety_plan()
    assert book.ids == STANLEY_BROWN
    assert "Stanley" in book.origin and "Brown" in book.origin


def test_every_part_has_a_title_a_one_line_prompt_and_two_or_three_short_examples():
    for part in load_safety_plan().parts:
        assert part.title and "\n" not in part.prompt and len(part.prompt) <= 160
        assert 2 <= len(part.examples) <= 3
        assert all(len(example) <= 80 for example in part.examples)


def test_a_broken_plan_file_fails_naming_the_file_and_the_entry(tmp_path):
    (tmp_path / "safety_plan.yaml").write_text(
        "origin: x\nparts:\n  - id: only\n    title: T\n    prompt: P\n    examples: [a]\n"
    )
    with pytest.raises(ContentError, match=r"^safety_plan.yaml: parts"):
        load_safety_plan.__wrapped__(tmp_path)


def test_a_prompt_shows_the_title_the_prompt_and_the_examples():
    text = format_prompt("helpers")
    part = load_safety_plan().part("helpers")
    assert text.startswith(f"<b>{part.title}</b>")
    assert text.count("•") == len(part.examples)


def test_the_formatted_plan_follows_the_plans_order_and_escapes_the_persons_words():
    text = format_plan({"helpers": "Sam <3 & Jo", "warning_signs": "can't sleep"})
    assert text.index("warning signs") < text.index("ask for help")
    assert "Sam &lt;3 &amp; Jo" in text and "<3" not in text


def test_the_short_plan_cuts_each_part_to_one_line():
    text = format_plan({"coping": "walk\n" + "and breathe " * 40}, short=True)
    body = text.split(":</b> ", 1)[1]
    assert "\n" not in body and len(body) <= SHORT_PART_CHARS and body.endswith("…")
    assert format_plan({}) == ""


# --- the service --------------------------------------------------------------------------------


async def test_a_part_is_saved_in_the_persons_words_and_the_rest_are_missing(plans, intake):
    await register(intake)
    view = await plans.save(42, "helpers", "  Sam — call   any time \n\n Jo ")
    assert view is not None and view.parts == {"helpers": "Sam — call any time\nJo"}
    assert view.missing == tuple(p for p in STANLEY_BROWN if p != "helpers")
    assert view.next_part == "warning_signs" and view.started and not view.complete


async def test_saving_a_part_again_replaces_it(plans, intake, clock):
    await register(intake)
    await plans.save(42, "coping", "a walk")
    clock.advance(minutes=5)
    view = await plans.save(42, "coping", "a hot shower")
    assert view is not None and view.parts == {"coping": "a hot shower"}


async def test_all_six_parts_make_a_complete_plan_shown_in_order(plans, intake):
    await register(intake)
    for part in reversed(STANLEY_BROWN):
        await plans.save(42, part, f"my {part}")
    view = await plans.plan(42)
    assert view.complete and view.next_part is None
    assert list(view.parts) == list(STANLEY_BROWN)
    assert await plans.missing(42) == ()


@pytest.mark.parametrize(
    ("text", "reason"), [("", EMPTY), ("   \n\t ", EMPTY), ("x" * (MAX_PART_CHARS + 1), TOO_LONG)]
)
async def test_an_empty_or_too_long_part_is_refused_without_saving(plans, intake, text, reason):
    await register(intake)
    with pytest.raises(PlanTextInvalid) as refused:
        await plans.save(42, "coping", text)
    assert refused.value.reason == reason
    assert not (await plans.plan(42)).started


def test_a_refusal_never_carries_the_persons_words():
    with pytest.raises(PlanTextInvalid) as refused:
        clean_part_text("my secret words " * 100)
    assert "secret" not in str(refused.value)


async def test_an_unknown_part_is_refused(plans, intake):
    await register(intake)
    with pytest.raises(UnknownPart):
        await plans.save(42, "revenge", "no")
    with pytest.raises(UnknownPart):
        await plans.clear(42, "revenge")


async def test_an_unknown_person_saves_nothing(plans):
    assert await plans.save(7, "coping", "a walk") is None
    assert not (await plans.plan(7)).started


async def test_clearing_removes_one_part_or_the_whole_plan(plans, intake):
    await register(intake)
    await plans.save(42, "coping", "a walk")
    await plans.save(42, "helpers", "Sam")
    assert await plans.clear(42, "coping") is True
    assert list((await plans.plan(42)).parts) == ["helpers"]
    assert await plans.clear(42) is True
    assert await plans.clear(42) is False
    assert (await plans.plan(42)).missing == STANLEY_BROWN


async def test_one_persons_plan_is_theirs_alone(plans, intake):
    await register(intake, 42)
    await register(intake, 43)
    await plans.save(42, "coping", "a walk")
    assert not (await plans.plan(43)).started


async def test_the_crisis_view_is_short_and_empty_until_something_is_filled_in(plans, intake):
    await register(intake)
    assert (await plans.plan(42)).short_html == ""
    await plans.save(42, "helpers", "Sam\n" + "call me " * 45)
    view = await plans.plan(42)
    assert view.short_html.count("\n") == 0 and len(view.short_html) < 200
    assert len(view.html) > len(view.short_html)


async def test_the_persons_words_never_reach_a_log(plans, intake, caplog):
    await register(intake)
    # The bot's own loggers, at every level. (The aiosqlite driver logs SQL parameters at
    # DEBUG; the app keeps that logger above DEBUG.)
    caplog.set_level(logging.DEBUG, logger="bot")
    caplog.set_level(logging.DEBUG, logger="content")
    await plans.save(42, "warning_signs", "zebra-quiet-words")
    with pytest.raises(PlanTextInvalid):
        await plans.save(42, "coping", "zebra-quiet-words " * 50)
    await plans.plan(42)
    assert "zebra-quiet-words" not in caplog.text


async def test_the_plan_is_in_the_export_and_goes_with_deletion(plans, intake, migrated_db):
    await register(intake)
    await plans.save(42, "helpers", "Sam — call any time")
    privacy = PrivacyService(migrated_db)
    exported = json.loads(await privacy.export_json(42))
    rows = exported["tables"][SafetyPlanPart.__tablename__]
    assert [(r["part"], r["text"]) for r in rows] == [("helpers", "Sam — call any time")]
    await privacy.delete_everything(42)
    assert not (await plans.plan(42)).started


def test_the_database_driver_never_logs_statement_parameters_even_at_debug():
    try:
        configure_logging("DEBUG")
        assert not logging.getLogger("aiosqlite").isEnabledFor(logging.DEBUG)
    finally:
        configure_logging("WARNING")
