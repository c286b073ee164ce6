"""CPU cost of reading one free-text message: the crisis screen plus understanding together
(`understand` runs the screen first, so one call measures both).

    python bench/understand.py        # prints {"understand_cpu_ms": ..., "understand_per_s": ...}

The messages are the labelled sets in tests/unit/fixtures/understand_*.tsv: short and long,
emoji, typos and a few outpourings, as people write them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from content.screen import load_patterns  # noqa: E402
from content.understand import load_book, understand  # noqa: E402

FIXTURES = ROOT / "tests" / "unit" / "fixtures"


def _messages() -> list[str]:
    out: list[str] = []
    for path in sorted(FIXTURES.glob("understand_*.tsv")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip() and not line.startswith("#"):
                out.append(line.split("\t", 2)[-1])
    return out


def measure(seconds: float = 2.0) -> dict[str, float]:
    load_patterns()
    load_book()
    messages = _messages()
    for text in messages:  # warm up: compile, caches
        understand(text)
    done = 0
    cpu_started = time.process_time()
    started = time.perf_counter()
    while time.perf_counter() - started < seconds:
        for text in messages:
            understand(text)
        done += len(messages)
    cpu = time.process_time() - cpu_started
    wall = time.perf_counter() - started
    return {
        "understand_cpu_ms": round(cpu * 1000 / done, 3),
        "understand_per_s": round(done / wall),
    }


if __name__ == "__main__":
    print(json.dumps(measure()))
