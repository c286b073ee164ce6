"""How long does a person wait for the bot's answer, over real HTTP? Prints one JSON object.

    python bench/e2e_roundtrip.py [--rounds N] [--mode polling|webhook]

Starts the Bot API emulator (telegram-test-api with our work-arounds; install it with
`npm ci --prefix tests/e2e/emulator`) and the real `python -m bot` process on a fresh SQLite
database, exactly as the e2e tests do (tests/e2e/harness.py). Each round the person sends /help
and the clock stops when the emulator has the bot's answer; `e2e_roundtrip_ms` is the median.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.e2e.harness import HarnessError, Person, emulator_problem, running_bot

MESSAGE, ANSWER = "/help", "What I can do"
WARM_UP = 3


def measure(rounds: int = 20, mode: str = "polling") -> float:
    """Median milliseconds from a person's message to the bot's answer, over real HTTP."""
    problem = emulator_problem()
    if problem:
        raise HarnessError(problem)
    with (
        tempfile.TemporaryDirectory(prefix="e2e-roundtrip-") as workdir,
        running_bot(Path(workdir), mode=mode) as (emulator, bot),
    ):
        person = Person(emulator, poll_s=0.001, diagnostics=bot.log_tail)
        times = []
        for i in range(WARM_UP + rounds):
            start = time.perf_counter()
            person.send(MESSAGE, expect=ANSWER)
            if i >= WARM_UP:
                times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=20, help="measured round trips (20)")
    parser.add_argument("--mode", choices=["polling", "webhook"], default="polling")
    args = parser.parse_args(argv)
    try:
        median = measure(args.rounds, args.mode)
    except HarnessError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(json.dumps({"e2e_roundtrip_ms": median}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
