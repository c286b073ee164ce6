"""How fast is the draft review? Prints one JSON object.

    python bench/review.py [--calls N] [--seed N]

Drafts are a mix of the short messages people paste in the middle of an urge (a line or two,
often with a plea, an apology or an emoji) and a few long ones; about half come with a situation.
`reviews_per_s` times `review()` on them; `long_review_ms` is the median time of one review of a
10,000-character draft (the longest the bot takes).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from content.advice import Situation
from content.review import load_review_book, review

PIECES = (
    "hey",
    "I miss you so much",
    "Please come back, I'll do anything",
    "After everything I did for you?",
    "Are you seeing someone?",
    "I'm sorry I snapped at you on Friday. That wasn't fair of me.",
    "Sorry, I'm so sorry, it's all my fault",
    "Can we swap the handover to Sunday? The kids have a party.",
    "Saw a dog just like Biscuit today and thought of you. Hope you're well!",
    "You never listened to me and you know it",
    "I went on a date last night",
    "😊",
    "Why won't you answer me",
)


def realistic_draft(rng: random.Random) -> str:
    if rng.random() < 0.05:
        return " ".join(rng.choice(PIECES) for _ in range(rng.randint(20, 60)))
    return " ".join(rng.choice(PIECES) for _ in range(rng.randint(1, 3)))


def realistic_situation(rng: random.Random) -> Situation | None:
    if rng.random() < 0.5:
        return None
    return Situation(
        days_since_breakup=rng.randint(0, 90),
        feeling=rng.choice([None, "calm", "sad", "anxious", "angry"]),
        local_hour=rng.randrange(24),
        unanswered_messages_you_sent=rng.choice([0, 0, 0, 1]),
        shared=rng.choice([[], [], ["kids"]]),
    )


def measure(calls: int = 20_000, seed: int = 2024) -> dict[str, object]:
    start = time.perf_counter()
    load_review_book()
    load_ms = (time.perf_counter() - start) * 1000
    rng = random.Random(seed)
    cases = [(realistic_draft(rng), realistic_situation(rng)) for _ in range(1_000)]
    for draft, situation in cases:  # warm up (the advice engine caches its plans)
        review(draft, situation)
    start = time.perf_counter()
    for i in range(calls):
        draft, situation = cases[i % len(cases)]
        review(draft, situation)
    elapsed = time.perf_counter() - start
    long_draft = ("I miss you, please come back to me. 😢 " * 300)[:10_000]
    times = []
    for _ in range(15):
        start = time.perf_counter()
        review(long_draft)
        times.append((time.perf_counter() - start) * 1000)
    clean = sum(review(d, s).clean for d, s in cases)
    return {
        "reviews_per_s": round(calls / elapsed),
        "long_review_ms": round(statistics.median(times), 3),
        "calls": calls,
        "clean_share": round(clean / len(cases), 3),
        "review_load_ms": round(load_ms, 1),
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--calls", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.calls, args.seed), indent=2))


if __name__ == "__main__":
    main()
