"""How fast is the "Should I text them?" engine? Prints one JSON object.

    python bench/advice.py [--calls N] [--situations N] [--seed N]

The mix is realistic rather than uniform: most people are in the first weeks, most say how they
feel, a few share children, work or a home, a few are in crisis. `advice_per_s` times `advise()`
on already-parsed situations; `parse_and_advice_per_s` includes `parse_situation()` on the raw
JSON-like dicts, as a handler would call it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content.advice import (
    FEELINGS,
    REASONS_TO_TEXT,
    SHARED,
    THEY_MESSAGED,
    WHO_ENDED,
    advise,
    load_rulebook,
    parse_situation,
)


def _weighted(rng: random.Random, pairs: list[tuple[Any, float]]) -> Any:
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights)[0]


def realistic_situation(rng: random.Random) -> dict[str, Any]:
    """One situation as a handler would receive it: some fields left out, most filled in."""
    data: dict[str, Any] = {
        "days_since_breakup": _weighted(
            rng,
            [(0, 1), (rng.randint(1, 7), 3), (rng.randint(8, 45), 4), (rng.randint(46, 400), 2)],
        ),
        "goal": _weighted(rng, [("get_back", 5), ("move_on", 2), ("unsure", 3)]),
        "they_messaged": _weighted(rng, [("none", 12)] + [(m, 1) for m in THEY_MESSAGED[1:]]),
    }
    if rng.random() < 0.6:
        data["days_since_you_last_contacted"] = rng.choice([None, rng.randint(0, 60)])
    if rng.random() < 0.8:
        data["who_ended"] = rng.choice(WHO_ENDED)
    if rng.random() < 0.3:
        data["shared"] = rng.sample(SHARED, rng.randint(1, 2))
    if rng.random() < 0.8:
        data["abuse_or_repeated_cheating"] = rng.random() < 0.08
    if rng.random() < 0.85:
        data["reason_to_text"] = rng.choice(REASONS_TO_TEXT)
    if rng.random() < 0.9:
        data["feeling"] = _weighted(rng, [(f, 0.2 if f == "crisis" else 1) for f in FEELINGS])
    if rng.random() < 0.9:
        data["local_hour"] = rng.randrange(24)
    data["unanswered_messages_you_sent"] = _weighted(rng, [(0, 8), (1, 2), (3, 1)])
    data["readiness_checklist_done"] = rng.random() < 0.4
    data["they_are_dating"] = rng.random() < 0.15
    data["rash_fight_breakup"] = rng.random() < 0.15
    return data


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=200_000)
    parser.add_argument("--situations", type=int, default=5_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.calls, args.situations, args.seed), indent=2))


def measure(calls_wanted: int = 200_000, situation_count: int = 5_000, seed: int = 2024) -> dict:
    """Verdicts per second over a realistic mix of situations, parsing included or not."""
    start = time.perf_counter()
    rulebook = load_rulebook()
    load_s = time.perf_counter() - start

    rng = random.Random(seed)
    raw = [realistic_situation(rng) for _ in range(situation_count)]
    situations = [parse_situation(d) for d in raw]
    for s in situations:  # warm up
        advise(s, rulebook)

    n = len(situations)
    start = time.perf_counter()
    for i in range(calls_wanted):
        advise(situations[i % n], rulebook)
    advice_s = time.perf_counter() - start

    calls = max(1, calls_wanted // 4)
    start = time.perf_counter()
    for i in range(calls):
        advise(parse_situation(raw[i % n]), rulebook)
    parse_s = time.perf_counter() - start

    decisions: dict[str, int] = {}
    for s in situations:
        decision = advise(s, rulebook).decision
        decisions[decision] = decisions.get(decision, 0) + 1

    return {
        "advice_per_s": round(calls_wanted / advice_s),
        "parse_and_advice_per_s": round(calls / parse_s),
        "calls": calls_wanted,
        "distinct_situations": n,
        "rulebook_load_ms": round(load_s * 1000, 1),
        "decision_mix": dict(sorted(decisions.items())),
    }


if __name__ == "__main__":
    main()
