"""The real `python -m bot` process, as a newcomer runs it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INTAKE = ["/start", "Alex", "2", "1", "2", "kids", "2", "1", "Toronto", "7pm"]


def run_bot(cwd: Path, *args: str, stdin: str = "", env: dict[str, str] | None = None):
    ours = {"BOT_TOKEN", "DATABASE_URL", "MODE", "WEBHOOK_URL", "WEBHOOK_SECRET", "PORT"}
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    clean["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env={**clean, **(env or {})},
        timeout=120,
        check=False,
    )


def test_without_a_token_the_bot_says_so_and_points_to_the_terminal_chat(tmp_path):
    result = run_bot(tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "BOT_TOKEN: not set. Get one from @BotFather, or try the bot without one: "
        "python -m bot chat"
    ]


def test_bad_settings_give_one_line_each_and_no_traceback(tmp_path):
    result = run_bot(tmp_path, env={"MODE": "webhook", "PORT": "0"})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[0].startswith("PORT:")


def test_the_whole_intake_can_be_completed_in_the_terminal_chat(tmp_path):
    result = run_bot(tmp_path, "chat", stdin="\n".join(INTAKE) + "\n")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "not a therapist" in out
    assert "[1] I did   [2] They did" in out
    assert "coach (edited)> Who ended it: They did" in out
    assert "Your first step: Stop chasing" in out
    assert "Then: Limited contact" in out
    assert "<b>" not in out
    assert (tmp_path / "breakup_coach.sqlite3").exists()


def test_stopping_the_chat_mid_intake_and_starting_again_resumes_the_intake(tmp_path):
    first = run_bot(tmp_path, "chat", stdin="/start\nAlex\n2\n1\n")
    assert first.returncode == 0, first.stderr
    assert first.stdout.rstrip().endswith("[4] « Back")  # waiting at "Who ended it?"
    second = run_bot(tmp_path, "chat", stdin="they did\n")
    assert second.returncode == 0, second.stderr
    assert "Is there anything you share" in second.stdout
    third = run_bot(tmp_path, "chat", stdin="/start\n1\n")
    assert "partway through" in third.stdout
    assert third.stdout.count("Is there anything you share") == 1


def test_migrate_brings_a_new_database_up_to_date(tmp_path):
    result = run_bot(tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "database is up to date"


def test_the_console_script_is_installed_and_runs_the_same_command_line(tmp_path):
    script = shutil.which("breakup-coach", path=str(Path(sys.executable).parent))
    if script is None:
        pytest.fail("the breakup-coach console script is not installed (pip install -e .)")
    result = subprocess.run(
        [script, "--help"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert result.returncode == 0
    assert "chat" in result.stdout and "migrate" in result.stdout


def test_advise_prints_one_json_verdict_for_a_situation(tmp_path):
    result = run_bot(tmp_path, "advise", stdin='{"days_since_breakup": 3}')
    assert result.returncode == 0, result.stderr
    verdict = json.loads(result.stdout)
    assert set(verdict) == {"decision", "days_left", "headline", "reasons", "sources_differ",
                            "suggested_messages"}  # fmt: skip
    assert verdict["decision"] == "wait" and verdict["days_left"] == 27


@pytest.mark.parametrize(
    ("stdin", "first_word"),
    [("{oops", "input:"), ('{"feeling": "grumpy"}', "feeling:"), ("[1, 2]", "-:"),
     ('{"days_since_breakup": -1}', "days_since_breakup:"),
     ('{"favourite_colour": 1}', "favourite_colour:")],
)  # fmt: skip
def test_advise_names_the_bad_field_on_one_line_and_exits_2(tmp_path, stdin, first_word):
    result = run_bot(tmp_path, "advise", stdin=stdin)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(first_word)
    assert "Traceback" not in result.stderr


def test_screen_prints_one_json_line_per_message(tmp_path):
    messages = "I want to kill myself\nthis breakup is killing me\nhe hit me\n\n"
    result = run_bot(tmp_path, "screen", stdin=messages)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [line["risk"] for line in lines] == ["self_harm", "none", "abuse", "none"]
    assert lines[0]["matched"] and lines[1]["matched"] == []
