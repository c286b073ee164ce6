"""How many messages per second the crisis/abuse screen handles.

    python bench/screen.py            # prints {"screen_per_s": ...}

Uses the test fixtures (flagged and unflagged sentences) plus longer everyday messages,
so the mix looks like real traffic: mostly ordinary text, some short, a few long.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from content.screen import load_patterns, screen  # noqa: E402

FIXTURES = ROOT / "tests" / "unit" / "fixtures"
LONG = (
    "I keep going back and forth about whether to message him. We had such a good summer and "
    "then it just stopped, and my friends say I should give it time, but every night I check "
    "his stories and it makes it worse. Today I went for a run and felt a bit better though."
)


def _messages() -> list[str]:
    out: list[str] = []
    for name in ("screen_positive.txt", "screen_negative.txt"):
        for line in (FIXTURES / name).read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if line and not line.startswith("#"):
                out.append(line.split("|", 1)[-1].strip())
    return out + [LONG] * (len(out) // 2)


def main(seconds: float = 2.0) -> None:
    load_patterns()
    messages = _messages()
    done = 0
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for text in messages:
            screen(text)
        done += len(messages)
    elapsed = time.perf_counter() - started
    print(json.dumps({"screen_per_s": round(done / elapsed)}))


if __name__ == "__main__":
    main()
