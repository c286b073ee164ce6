"""`python -m bot understand`, run as a real process: one message per line in, one JSON line out."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run_understand(cwd: Path, stdin: bytes, *args: str) -> subprocess.CompletedProcess[bytes]:
    ours = {"BOT_TOKEN", "DATABASE_URL", "MODE", "WEBHOOK_URL", "WEBHOOK_SECRET", "PORT"}
    env = {k: v for k, v in os.environ.items() if k not in ours}
    env["PYTHONPATH"] = str(ROOT)
    return subprocess.run(
        [sys.executable, "-m", "bot", "understand", *args],
        input=stdin,
        capture_output=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def lines_of(result: subprocess.CompletedProcess[bytes]) -> list[dict]:
    assert result.returncode == 0, result.stderr.decode()
    return [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]


def test_each_line_gets_one_json_object_with_exactly_intent_topic_and_risk(tmp_path):
    messages = [
        "I miss him so much, I keep looking at our photos",
        "😭😭😭💔",
        "I broke up with her and I regret it. Should I tell her I was wrong?",
        "I haven't slept in three days and I can't eat",
        "I changed my mind, I want to try again with Kim",
        "I caved and texted him",
        "he texted me out of nowhere",
        "what day am i on",
        "hi",
        "thank you",
        "what's the weather like",
    ]
    out = lines_of(run_understand(tmp_path, ("\n".join(messages) + "\n").encode()))
    assert all(set(line) == {"intent", "topic", "risk"} for line in out)
    assert [(line["intent"], line["topic"]) for line in out] == [
        ("feeling", "missing_them"),
        ("feeling", "sadness"),
        ("should_i_text", None),
        ("feeling", "sleep_eating"),
        ("change_goal", None),
        ("slip", None),
        ("they_texted", None),
        ("progress", None),
        ("greeting", None),
        ("thanks", None),
        ("other", None),
    ]
    assert {line["risk"] for line in out} == {"none"}


def test_a_crisis_message_is_a_crisis_with_the_screens_risk(tmp_path):
    out = lines_of(run_understand(tmp_path, b"i want to kill myself\n"))
    assert out == [{"intent": "crisis", "topic": None, "risk": "self_harm"}]


def test_expecting_a_feeling_reads_a_bare_mood_as_a_feeling(tmp_path):
    message = b"a bit better actually\n"
    plain = lines_of(run_understand(tmp_path, message))
    answer = lines_of(run_understand(tmp_path, message, "--expecting", "feeling"))
    assert plain == [{"intent": "other", "topic": None, "risk": "none"}]
    assert answer == [{"intent": "feeling", "topic": "good_day", "risk": "none"}]


def test_bad_bytes_blank_lines_and_a_huge_line_never_give_a_traceback(tmp_path):
    stdin = b"\xff\xfe\x00 broken\n\n" + b"I miss her " * 3000 + b"\n\r\n\x1b[31m\n"
    result = run_understand(tmp_path, stdin)
    assert b"Traceback" not in result.stderr
    out = lines_of(result)
    assert len(out) == 5
    assert out[2]["intent"] == "feeling" and out[2]["topic"] == "missing_them"
