"""The terminal chat's clock and files: `python -m bot chat --date/--days-later/--files`."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.e2e.test_command_line import INTAKE, run_bot


def no_contact_days(out: str) -> int:
    """The day count /progress shows (the intake shares kids: limited contact)."""
    match = re.search(r"Limited contact: (\d+) days in a row", out)
    assert match, out
    return int(match.group(1))


def test_days_later_runs_the_bot_that_many_days_on_and_saves_the_chart_and_export(tmp_path):
    first = run_bot(tmp_path, "chat", stdin="\n".join(INTAKE) + "\n")
    assert first.returncode == 0, first.stderr
    later = run_bot(tmp_path, "chat", "--days-later", "40", stdin="/progress\n/export\n")
    assert later.returncode == 0, later.stderr
    assert no_contact_days(later.stdout) >= 40
    saved = re.findall(r"\(saved to (.+)\)", later.stdout)
    assert len(saved) == 2
    chart, export = (Path(p) for p in saved)
    assert chart.parent == (tmp_path / "coach_chat_files").resolve()
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert json.loads(export.read_text(encoding="utf-8"))


def test_a_date_runs_the_bot_on_that_day(tmp_path):
    first = run_bot(tmp_path, "chat", stdin="\n".join(INTAKE) + "\n")
    assert first.returncode == 0, first.stderr
    on = (datetime.now(UTC) + timedelta(days=20)).date().isoformat()
    later = run_bot(tmp_path, "chat", "--date", on, "--files", "out", stdin="/progress\n")
    assert later.returncode == 0, later.stderr
    assert 22 <= no_contact_days(later.stdout) <= 24  # 20 on, plus 3 since the breakup
    assert (tmp_path / "out").is_dir()


def test_a_date_that_cannot_be_read_is_refused_with_usage(tmp_path):
    result = run_bot(tmp_path, "chat", "--date", "next tuesday")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr


def test_forty_days_later_the_days_check_in_comes_first_and_the_step_has_moved_on(tmp_path):
    first = run_bot(tmp_path, "chat", stdin="\n".join(INTAKE) + "\n")
    assert first.returncode == 0, first.stderr
    later = run_bot(tmp_path, "chat", "--days-later", "40", stdin="/progress\n")
    assert later.returncode == 0, later.stderr
    before_typing = later.stdout.split("you> ")[0]
    assert "Daily check-in · limited contact, day" in before_typing
    step = re.search(r"Step: (.+) · day (\d+) of your plan", later.stdout)
    assert step, later.stdout
    assert step.group(1) != "Stop chasing"  # a three-day first step, long done
    assert "since you last looked" in later.stdout
