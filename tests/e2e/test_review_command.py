"""`python -m bot review`: one draft on stdin, one JSON review out, as a newcomer runs it."""

from __future__ import annotations

import json

import pytest

from tests.e2e.test_command_line import run_bot


def test_review_prints_one_json_review_for_a_draft(tmp_path):
    result = run_bot(tmp_path, "review", stdin="I miss you so much, please come back\n")
    assert result.returncode == 0, result.stderr
    (line,) = result.stdout.splitlines()
    review = json.loads(line)
    assert list(review) == ["clean", "findings", "rewrites"]
    assert review["clean"] is False
    rules = [f["rule"] for f in review["findings"]]
    assert "keep-affection-in-reserve" in rules and "no-begging-or-pity" in rules
    assert all(set(f) == {"rule", "text", "sources"} and f["sources"] for f in review["findings"])
    # Without a situation: no contact is over and they are calm, so better versions are offered.
    assert 2 <= len(review["rewrites"]) <= 3
    assert all(isinstance(r, str) and r for r in review["rewrites"])


def test_a_clean_draft_is_reported_clean(tmp_path):
    draft = "Saw a dog just like Biscuit in the park today and thought of you. Hope you're well."
    result = run_bot(tmp_path, "review", stdin=draft)
    assert result.returncode == 0, result.stderr
    review = json.loads(result.stdout)
    assert review["clean"] is True and review["findings"] == []


def test_a_situation_file_puts_the_draft_in_its_phase(tmp_path):
    (tmp_path / "situation.json").write_text('{"days_since_breakup": 3, "local_hour": 23}')
    result = run_bot(tmp_path, "review", "--situation", "situation.json", stdin="hey")
    assert result.returncode == 0, result.stderr
    review = json.loads(result.stdout)
    rules = [f["rule"] for f in review["findings"]]
    assert rules[:2] == ["no-contact-period", "not-late-at-night"]
    assert "27 days" in review["findings"][0]["text"]
    assert "no-empty-openers" in rules
    assert review["rewrites"] == []  # the verdict says not to text


@pytest.mark.parametrize(
    "draft", ["", "😊" * 10_000, "word " * 2_000 + "\n\n\n" + "🙂", "\u202e\x00"]
)
def test_any_draft_gives_a_review_and_exit_0(tmp_path, draft):
    result = run_bot(tmp_path, "review", stdin=draft)
    assert result.returncode == 0, result.stderr
    assert set(json.loads(result.stdout)) == {"clean", "findings", "rewrites"}


@pytest.mark.parametrize(
    ("contents", "first_word"),
    [("{oops", "--situation:"), ('{"feeling": "grumpy"}', "feeling:"), ("[1, 2]", "-:"),
     ('{"days_since_breakup": -1}', "days_since_breakup:"), ('{"colour": 1}', "colour:"),
     (None, "--situation:")],
)  # fmt: skip
def test_a_bad_situation_file_or_field_gives_one_line_and_exit_2(tmp_path, contents, first_word):
    if contents is not None:
        (tmp_path / "situation.json").write_text(contents)
    result = run_bot(tmp_path, "review", "--situation", "situation.json", stdin="hey")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(first_word)
    assert "Traceback" not in result.stderr


def test_review_is_listed_in_the_help(tmp_path):
    result = run_bot(tmp_path, "--help")
    assert result.returncode == 0 and "review" in result.stdout
