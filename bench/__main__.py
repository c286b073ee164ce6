"""The benchmark suite: `python -m bench` (or `python bench/run.py`).

Runs every benchmark in one process, in one run, and prints one JSON object with the figures
(plus a readable table on stderr). Ratios compare against a baseline measured in the same run.
Figures, never pass/fail: the targets are printed beside them.
"""

from __future__ import annotations

import asyncio
import json
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import advice, e2e_roundtrip, mixed, scheduler, screen, send_burst, understand, updates

TARGETS = {
    "update_cost_ratio": ("<=", 2.0),
    "checkin_tap_cpu_ms": ("<=", 1.0),
    "checkin_tap_cpu_ms_postgres": ("<=", 1.0),
    "tap_floor_ms": ("", None),
    "tap_vs_floor": ("<=", 2.0),
    "tap_vs_floor_postgres": ("<=", 2.0),
    "mixed_updates_per_s": (">=", 500),
    "mixed_updates_per_s_postgres": (">=", 500),
    "checkin_send_cpu_ms": ("<=", 1.0),
    "due_select_ms_sqlite": ("<", 100),
    "due_select_ms_postgres": ("<", 100),
    "startup_ratio_100k": ("<=", 1.2),
    "advice_per_s": (">=", 10_000),
    "screen_cpu_ms": ("<=", 2.0),
    "screen_per_s": (">=", 2_000),
    "understand_cpu_ms": ("<=", 2.0),
    "understand_per_s": ("", None),
    "bytes_per_user": ("<", 2048),
    "e2e_roundtrip_ms": ("", None),
    "interactive_p95_ms_under_burst": ("<=", 1000),
}


def machine() -> str:
    cores = len(__import__("os").sched_getaffinity(0))
    return f"{platform.machine()}, {cores} cores, Python {platform.python_version()}"


def main() -> int:
    started = time.perf_counter()
    figures: dict[str, object] = {}
    figures.update(asyncio.run(scheduler.measure()))
    figures.update(asyncio.run(updates.measure()))
    figures.update(asyncio.run(mixed.measure()))
    figures["advice_per_s"] = advice.measure(calls_wanted=100_000)["advice_per_s"]
    figures.update(screen.measure())
    figures.update(understand.measure())
    try:
        figures["e2e_roundtrip_ms"] = e2e_roundtrip.measure(rounds=20)
    except e2e_roundtrip.HarnessError as exc:
        figures["e2e_roundtrip_ms"] = None
        print(f"e2e_roundtrip_ms not measured: {exc}", file=sys.stderr)
    try:
        figures.update(send_burst.measure())
    except send_burst.HarnessError as exc:
        figures["interactive_p95_ms_under_burst"] = None
        print(f"interactive_p95_ms_under_burst not measured: {exc}", file=sys.stderr)
    figures["machine"] = machine()
    figures["seconds"] = round(time.perf_counter() - started, 1)

    width = max(map(len, TARGETS))
    print(f"{'figure'.ljust(width)}  {'value':>12}  target", file=sys.stderr)
    for key, (op, target) in TARGETS.items():
        value = figures.get(key)
        mark = ""
        if isinstance(value, int | float) and target is not None:
            ok = {"<=": value <= target, "<": value < target, ">=": value >= target}[op]
            mark = "ok" if ok else "MISSED"
        goal = f"{op} {target}" if target is not None else "(reported)"
        print(f"{key.ljust(width)}  {value!s:>12}  {goal} {mark}", file=sys.stderr)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
