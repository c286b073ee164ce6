"""What the crisis screen costs, and how well it does on the labelled sentence sets.

    python bench/screen.py             # {"screen_cpu_ms": ..., "screen_per_s": ...}
    python bench/screen.py --figures   # recall and false alarms per set and category (SAFETY.md)
    python bench/screen.py --figures --patterns-only   # the same without the semantic layer

Cost: the mix looks like real traffic: the labelled risk and safe sentences, and one longer
everyday message for every two of them. `screen_cpu_ms` is process CPU time per message on one
thread (mean), `screen_per_s` is messages screened per second of wall time. Both include the
semantic layers (content/semantic.py and content/classifier.py), loaded before the clock starts.

Quality: `measure_sets()` reads tests/unit/fixtures/screen_*.{tsv,txt}. A risk sentence is
caught when the screen flags it with a risk of its family: self_harm and possible_self_harm
are one family; danger must be danger; abuse counts as caught as abuse or danger (the danger
reply covers abuse too); violence must be violence. A safe sentence flagged at any level is a
false alarm.
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from content import classifier  # noqa: E402
from content.screen import load_patterns, screen  # noqa: E402
from content.semantic import (  # noqa: E402
    TRAINING_RISK_SETS,
    TRAINING_SAFE_SETS,
    clear_caches,
    load_encoder,
    load_prototypes,
)

FIXTURES = ROOT / "tests" / "unit" / "fixtures"
# The sets measured: every set the semantic layer learns from (the looks and the tuning pairs are
# apart).
RISK_SETS = TRAINING_RISK_SETS
SAFE_SETS = TRAINING_SAFE_SETS
# The fourth look: held out from the tuning of the patterns and the semantic layer alike, so its
# figures are measured, reported and floored in the tests, never tuned on.
LOOK4_RISK = "screen_risk_look4.tsv"
LOOK4_SAFE = "screen_safe_look4.txt"
# The fifth look: written blind (before reading the patterns or any other set) and measured
# before and after the next round of patterns; held out in the same way.
LOOK5_RISK = "screen_risk_look5.tsv"
LOOK5_SAFE = "screen_safe_look5.txt"
# The sixth look: written blind after both rounds of patterns and measured once on them.
LOOK6_RISK = "screen_risk_look6.tsv"
LOOK6_SAFE = "screen_safe_look6.txt"
# The seventh look: written blind before the third round of patterns, measured before and after.
LOOK7_RISK = "screen_risk_look7.tsv"
LOOK7_SAFE = "screen_safe_look7.txt"
LOOK8_RISK = "screen_risk_look8.tsv"
LOOK8_SAFE = "screen_safe_look8.txt"
# The ninth look: written blind while the classifier was built. The eighth to tenth looks were
# held out of the first two classifiers and are among the sets the classifier fits since the
# eleventh look was written.
LOOK9_RISK = "screen_risk_look9.tsv"
LOOK9_SAFE = "screen_safe_look9.txt"
# The tenth look: written blind by someone who read nothing of the repository, after the first
# classifier was built.
LOOK10_RISK = "screen_risk_look10.tsv"
LOOK10_SAFE = "screen_safe_look10.txt"
# The eleventh look: written blind by someone who read nothing of the repository, before the
# third classifier and the frames; held out of everything (content.classifier.HELD_OUT).
LOOK11_RISK = "screen_risk_look11.tsv"
LOOK11_SAFE = "screen_safe_look11.txt"
# Training pairs written without reading any look: self-harm said indirectly in many voices,
# danger, abuse and the person's own violence told as events, and the frames false alarms come
# in (a recovered past, a denial, work, a story, someone else's life, a word) with their risky
# twins.
TRAIN16_RISK = "screen_risk_train16.tsv"
TRAIN16_SAFE = "screen_safe_train16.txt"
TRAIN17_RISK = "screen_risk_train17.tsv"
TRAIN17_SAFE = "screen_safe_train17.txt"
TRAIN18_RISK = "screen_risk_train18.tsv"
TRAIN18_SAFE = "screen_safe_train18.txt"
# A tuning pair written by category for that round of patterns (apart from the layer's store).
TRAIN5_RISK = "screen_risk_train5.tsv"
TRAIN5_SAFE = "screen_safe_train5.txt"
# A second tuning pair, written for the categories weakest on unseen sentences (named methods,
# break-ins, possessive threats, stalking, fear, plans, indirect wishes), apart in the same way.
TRAIN6_RISK = "screen_risk_train6.tsv"
TRAIN6_SAFE = "screen_safe_train6.txt"
# A third tuning pair, for what a blind measurement said was still missed (the person's own
# violence, danger told as events, possession said sideways, plans as a time or a place, car
# methods) and for the false alarms (denials, the past, words, idioms, plots, dismissed regret).
TRAIN7_RISK = "screen_risk_train7.tsv"
TRAIN7_SAFE = "screen_safe_train7.txt"
# Everyday breakup talk: a snapshot of every non-crisis message of the understanding sets, plus
# those sets themselves when they are in the repository (labels other than crisis and danger).
EVERYDAY_SET = "screen_safe_everyday.txt"
UNDERSTAND_SETS = "understand_*.tsv"
NOT_EVERYDAY = frozenset({"crisis", "danger"})
SELF_HARM = frozenset({"self_harm", "possible_self_harm"})
LONG = (
    "I keep going back and forth about whether to message him. We had such a good summer and "
    "then it just stopped, and my friends say I should give it time, but every night I check "
    "his stories and it makes it worse. Today I went for a run and felt a bit better though."
)


# --- The labelled sets ---------------------------------------------------------------------------


def _lines(path: Path) -> Iterable[str]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield line


def risk_sentences(name: str) -> list[tuple[str, str, str]]:
    """(expected risk, expected level, sentence) from one TSV set."""
    out = []
    for line in _lines(FIXTURES / name):
        risk, level, text = line.split("\t")
        out.append((risk, level, text))
    return out


def safe_sentences(name: str) -> list[str]:
    return [line.strip() for line in _lines(FIXTURES / name)]


def everyday_sentences() -> list[str]:
    """Everyday breakup messages that must not be acted on (and rarely asked about)."""
    texts = safe_sentences(EVERYDAY_SET)
    for path in sorted(FIXTURES.glob(UNDERSTAND_SETS)):
        for line in _lines(path):
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0] not in NOT_EVERYDAY:
                texts.append(parts[-1].strip())
    return list(dict.fromkeys(texts))


def measure_everyday(*, use_semantic: bool = True) -> dict[str, object]:
    """How many everyday messages are flagged at all, and how many at level act."""
    texts = everyday_sentences()
    results = [(text, screen(text, use_semantic=use_semantic)) for text in texts]
    flagged = [text for text, r in results if r.flagged]
    acted = [text for text, r in results if r.level == "act"]
    return {
        "n": len(texts),
        "flagged": len(flagged),
        "flagged_pct": round(100 * len(flagged) / len(texts), 1) if texts else 0.0,
        "act": len(acted),
        "flagged_texts": flagged,
        "act_texts": acted,
    }


def family(risk: str) -> str:
    return "self_harm" if risk in SELF_HARM else risk


def caught(expected: str, got: str) -> bool:
    if expected in SELF_HARM:
        return got in SELF_HARM
    if expected == "abuse":
        return got in ("abuse", "danger")
    return got == expected


@dataclass
class SetFigures:
    """Recall per family, level agreement, and false alarms, for some sets."""

    recall: dict[str, tuple[int, int]] = field(default_factory=dict)  # family -> (caught, n)
    by_category: dict[str, tuple[int, int]] = field(default_factory=dict)
    level_agree: tuple[int, int] = (0, 0)
    false_alarms: tuple[int, int] = (0, 0)
    missed: list[str] = field(default_factory=list)
    alarms: list[str] = field(default_factory=list)

    @staticmethod
    def pct(pair: tuple[int, int]) -> float:
        return round(100 * pair[0] / pair[1], 1) if pair[1] else 0.0

    def as_dict(self) -> dict[str, object]:
        return {
            "recall_pct": {k: self.pct(v) for k, v in sorted(self.recall.items())},
            "recall_counts": {k: list(v) for k, v in sorted(self.recall.items())},
            "level_agree_pct": self.pct(self.level_agree),
            "false_alarm_pct": self.pct(self.false_alarms),
            "false_alarm_counts": list(self.false_alarms),
        }


def _add(table: dict[str, tuple[int, int]], key: str, hit: bool) -> None:
    got, n = table.get(key, (0, 0))
    table[key] = (got + hit, n + 1)


def measure_sets(
    risk_sets: Iterable[str], safe_sets: Iterable[str], *, use_semantic: bool = True
) -> SetFigures:
    figures = SetFigures()
    agree = total = 0
    for name in risk_sets:
        for expected, level, text in risk_sentences(name):
            result = screen(text, use_semantic=use_semantic)
            hit = caught(expected, result.risk)
            _add(figures.recall, family(expected), hit)
            total += 1
            agree += hit and result.level == level
            for category in result.categories or ("(none)",):
                _add(figures.by_category, category, hit)
            if not hit:
                figures.missed.append(text)
    figures.level_agree = (agree, total)
    alarms = n = 0
    for name in safe_sets:
        for text in safe_sentences(name):
            n += 1
            if screen(text, use_semantic=use_semantic).flagged:
                alarms += 1
                figures.alarms.append(text)
    figures.false_alarms = (alarms, n)
    return figures


def category_counts(risk_sets: Iterable[str], *, use_semantic: bool = True) -> dict[str, int]:
    """How many risk sentences the screen puts in each category (a sentence may have several)."""
    counts: dict[str, int] = {}
    for name in risk_sets:
        for _, _, text in risk_sentences(name):
            for category in screen(text, use_semantic=use_semantic).categories:
                counts[category] = counts.get(category, 0) + 1
    return dict(sorted(counts.items()))


# --- Cost ----------------------------------------------------------------------------------------


def _traffic() -> list[str]:
    risky = [text for name in RISK_SETS for _, _, text in risk_sentences(name)]
    safe = [text for name in SAFE_SETS for text in safe_sentences(name)]
    mix = risky + safe
    return mix + [LONG] * (len(mix) // 2)


def measure(seconds: float = 2.0) -> dict[str, float]:
    """CPU milliseconds per message (one thread) and messages per second."""
    load_patterns()
    load_encoder()
    load_prototypes()
    classifier.load_model()
    messages = _traffic()
    for text in messages:  # warm up
        screen(text)
    done = 0
    wall = time.perf_counter()
    cpu = time.process_time()
    while time.perf_counter() - wall < seconds:
        # Words come back from message to message, but each pass starts with none known.
        classifier.clear_caches(words=True)
        clear_caches(words=True)
        for text in messages:
            # Every message is new to the semantic layer, as in real traffic (the mix repeats).
            clear_caches()
            classifier.clear_caches()
            screen(text)
        done += len(messages)
    cpu_s = time.process_time() - cpu
    wall_s = time.perf_counter() - wall
    return {
        "screen_cpu_ms": round(1000 * cpu_s / done, 4),
        "screen_per_s": round(done / wall_s),
    }


def main(argv: list[str]) -> None:
    if "--figures" in argv:
        semantic = "--patterns-only" not in argv

        def sets(risk: Iterable[str], safe: Iterable[str]) -> dict[str, object]:
            return measure_sets(risk, safe, use_semantic=semantic).as_dict()

        everyday = measure_everyday(use_semantic=semantic)
        report = {
            "semantic_layer": semantic,
            "development": sets(RISK_SETS[:1], SAFE_SETS[:1]),
            "held_out_1": sets(RISK_SETS[1:2], SAFE_SETS[1:2]),
            "held_out_2": sets(RISK_SETS[2:3], SAFE_SETS[2:3]),
            "fresh": sets(RISK_SETS[3:4], SAFE_SETS[3:4]),
            "fresh_2": sets(RISK_SETS[4:5], SAFE_SETS[4:5]),
            "probe_3": sets(RISK_SETS[5:6], SAFE_SETS[5:6]),
            "all": sets(RISK_SETS, SAFE_SETS),
            "look_4": sets([LOOK4_RISK], [LOOK4_SAFE]),
            "train_5": sets([TRAIN5_RISK], [TRAIN5_SAFE]),
            "train_6": sets([TRAIN6_RISK], [TRAIN6_SAFE]),
            "train_7": sets([TRAIN7_RISK], [TRAIN7_SAFE]),
            "look_5": sets([LOOK5_RISK], [LOOK5_SAFE]),
            "look_6": sets([LOOK6_RISK], [LOOK6_SAFE]),
            "look_7": sets([LOOK7_RISK], [LOOK7_SAFE]),
            "look_8": sets([LOOK8_RISK], [LOOK8_SAFE]),
            "look_9": sets([LOOK9_RISK], [LOOK9_SAFE]),
            "look_10": sets([LOOK10_RISK], [LOOK10_SAFE]),
            "look_11": sets([LOOK11_RISK], [LOOK11_SAFE]),
            "train_16": sets([TRAIN16_RISK], [TRAIN16_SAFE]),
            "train_17": sets([TRAIN17_RISK], [TRAIN17_SAFE]),
            "train_18": sets([TRAIN18_RISK], [TRAIN18_SAFE]),
            "everyday": {k: v for k, v in everyday.items() if not k.endswith("_texts")},
            "categories": category_counts(RISK_SETS, use_semantic=semantic),
        }
        print(json.dumps(report, indent=2))
        return
    print(json.dumps(measure()))


if __name__ == "__main__":
    main(sys.argv[1:])
