"""The screen's trained layer: a linear classifier over a message's words, letter groups and
meaning, giving the chance that it signals self-harm or danger from an ex.

Pure and local: no Telegram, no database, no network, nothing written to a log.

A message becomes three groups of numbers, each scaled to length 1:

* its words and pairs of neighbouring words (so word order counts: "kill myself" is not
  "myself kill"), weighted by how rare they are across the labelled sentences (tf-idf);
* groups of 2 to 5 letters inside each word, weighted the same way, which carry misspellings,
  text-speak and stretched or joined words ("sucidal", "kms", "unaliving");
* the mean and the largest values of its token vectors in the static embedding the semantic
  layer reads (content/semantic.py), which carry meaning across synonyms.

A multinomial logistic regression, fitted on the repository's labelled sentences, turns them
into three chances: safe, self-harm, danger. Scoring a message is a few dictionary lookups and
one small matrix product. The weights live in `screen_classifier.npz`, built by

    python -m content.classifier --build

(scikit-learn fits them: `pip install -e '.[build]'`; it is not needed to run the bot). The build
chooses the thresholds by cross-validation: each of `FOLDS` groups of whole labelled sets is
left out in turn and scored by a model fitted on the others. The threshold is the lowest chance
that keeps false alarms within `FALSE_ALARM_BUDGET` on the left-out safe sentences and everyday
messages that reach the classifier (the screen's other layers found nothing in them). Only the
looks named in `HELD_OUT` are never fitted on: they measure sentences nobody trained on.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import json
import logging
import math
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from content.loader import CONTENT_DIR, per_directory
from content.semantic import (
    CLASS_OF,
    DANGER,
    MAX_CHARS,
    SAFE,
    SELF_HARM,
    WORD_CACHE,
    SemanticUnavailable,
    data_lines,
    embed,
    everyday_texts,
    fold,
    load_encoder,
    token_vectors,
)

log = logging.getLogger(__name__)

MODEL_FILE = "screen_classifier.npz"
CLASSES = ("safe", "self_harm", "danger")
# Letter groups of these lengths, inside each word padded with a space on both sides.
CHAR_SIZES = (2, 3, 4, 5)
# A word, a word pair or a letter group is kept when it occurs in at least this many sentences.
MIN_SENTENCES = 2
# The embedding block's weight against the two text blocks (each of length 1).
EMBED_WEIGHT = 1.0
# The regression's inverse regularisation (10 measured best of 1, 3, 10 and 30, with the mean
# and largest values both better than the mean alone).
C = 10.0
# False alarms allowed per risk when thresholds are chosen: (share of left-out safe sentences,
# share of left-out everyday messages), counted among those the classifier is asked about (the
# screen's other layers found nothing in them and they say nothing of being safe): a sentence
# the patterns flag already is a false alarm whatever the classifier says. The bot's own
# budgets, inside the 3% target.
FALSE_ALARM_BUDGET = {"self_harm": (0.02, 0.005), "danger": (0.015, 0.004)}
RISK_INDEX = {"self_harm": SELF_HARM, "danger": DANGER}

# Every labelled set in tests/unit/fixtures is fitted on except these looks, which measure
# sentences nobody trained on.
HELD_OUT = ("look11",)
# The share of the risk sentences the patterns catch that a frame and the classifier may set
# aside together, out of fold (the bot's own budget: a few in a thousand).
SET_ASIDE_BUDGET = 0.0015
# Cross-validation folds: each leaves out a group of whole sets (so a set's sentences are never
# scored by a model that saw their neighbours in the same set).
FOLDS = 6

_WORD = re.compile(r"\b\w\w+\b")


# --- Features ------------------------------------------------------------------------------------


def words_of(folded: str) -> list[str]:
    words = _WORD.findall(folded)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


def letters_of(folded: str) -> list[str]:
    out: list[str] = []
    for word in folded.split():
        padded = f" {word} "
        for n in CHAR_SIZES:
            if len(padded) < n:
                break
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


def _block(
    grams: Iterable[str], vocabulary: dict[str, int], idf: np.ndarray
) -> tuple[np.ndarray, np.ndarray] | None:
    """(indices, values) of one tf-idf block, scaled to length 1; None when nothing is known."""
    counts: Counter[int | None] = Counter(map(vocabulary.get, grams))
    counts.pop(None, None)
    return _weighted(counts, idf)  # type: ignore[arg-type]


def _weighted(counts: Counter[int], idf: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    if not counts:
        return None
    index = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
    tf = np.fromiter(counts.values(), dtype=np.float32, count=len(counts))
    values = (1.0 + np.log(tf)) * idf[index]
    norm = float(np.sqrt(values @ values))
    return index, values / norm if norm > 0 else values


def meaning_of(text: str) -> np.ndarray:
    """The mean (length 1) and the largest value of each coordinate of the message's token
    vectors, side by side; zeros for a message without tokens."""
    vectors = token_vectors(text)
    if vectors is None:
        return np.zeros(2 * load_encoder().dimensions, dtype=np.float32)
    mean = embed(text)  # the semantic layer's encoding of the same message, computed once
    if mean is None:  # vectors that sum to nothing
        mean = np.zeros(vectors.shape[1], dtype=vectors.dtype)
    return np.concatenate([mean, vectors.max(axis=0)]).astype(np.float32)


# --- The model -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, eq=False)
class Model:
    words: dict[str, int]
    word_idf: np.ndarray
    letters: dict[str, int]
    letter_idf: np.ndarray
    weights: np.ndarray  # (words + letters + meaning, 3), float32
    bias: np.ndarray  # (3,)
    thresholds: dict[str, float]
    sources: str
    # A framed pattern finding is set aside when the chance of any risk is below this (0: never).
    set_aside: float = 0.0

    @property
    def _letters_at(self) -> int:
        return len(self.words)

    @property
    def _meaning_at(self) -> int:
        return len(self.words) + len(self.letters)

    def scored(self, text: str) -> tuple[bool, dict[str, float]]:
        """Whether the model reads the message (it holds a word the model knows), and the
        chance of each class (safe, self_harm, danger), summing to 1. A message without a
        known word (an initial, a number, emoji alone) gives it nothing to weigh but letter
        groups and the bias, so it is not judged: the patterns read emoji and shorthand."""
        folded = fold(text[:MAX_CHARS])
        logits = self.bias.astype(np.float64)
        words = _block(words_of(folded), self.words, self.word_idf)
        if words is not None:
            logits = logits + words[1] @ self.weights[words[0]]
        letters = _weighted(
            Counter(itertools.chain.from_iterable([_letter_ids(w, self) for w in folded.split()])),
            self.letter_idf,
        )
        if letters is not None:
            logits = logits + letters[1] @ self.weights[self._letters_at + letters[0]]
        logits = logits + (meaning_of(text) * EMBED_WEIGHT) @ self.weights[self._meaning_at :]
        exp = np.exp(logits - logits.max())
        p = exp / exp.sum()
        return words is not None, {name: float(p[i]) for i, name in enumerate(CLASSES)}

    def reads(self, text: str) -> bool:
        return self.scored(text)[0]

    def chances(self, text: str) -> dict[str, float]:
        return self.scored(text)[1]


@lru_cache(maxsize=WORD_CACHE)
def _letter_ids(word: str, model: Model) -> tuple[int, ...]:
    """The model's indices of one word's letter groups (as `letters_of` finds them); kept per
    word, as the semantic layer keeps its token ids (words only, never written anywhere)."""
    vocabulary = model.letters
    return tuple(i for g in letters_of(word) if (i := vocabulary.get(g)) is not None)


def load_model(directory: Path = CONTENT_DIR) -> Model:
    """The model from `screen_classifier.npz`, read once per directory; raises
    `SemanticUnavailable` when it (or the embedding it reads) cannot be read."""
    return _model(directory)


@per_directory
def _model(directory: Path) -> Model:
    try:
        with np.load(directory / MODEL_FILE, allow_pickle=False) as data:
            words = [str(w) for w in data["words"]]
            letters = [str(g) for g in data["letters"]]
            model = Model(
                words={w: i for i, w in enumerate(words)},
                word_idf=data["word_idf"].astype(np.float32),
                letters={g: i for i, g in enumerate(letters)},
                letter_idf=data["letter_idf"].astype(np.float32),
                weights=np.ascontiguousarray(data["weights"].astype(np.float32)),
                bias=data["bias"].astype(np.float64),
                thresholds={},
                sources="",
            )
            meta = json.loads(str(data["meta"]))
    except Exception as exc:
        raise SemanticUnavailable(f"{MODEL_FILE} cannot be read: {exc}") from None
    load_encoder()
    return dataclasses.replace(
        model,
        thresholds={r: float(meta["thresholds"][r]) for r in RISK_INDEX},
        sources=str(meta["sources"]),
        set_aside=float(meta.get("set_aside", 0.0)),
    )


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the layer found: the risk over its threshold (or None) and every chance."""

    risk: str | None
    chances: dict[str, float]


def judge(text: str, directory: Path = CONTENT_DIR) -> Verdict:
    """The risk whose chance reaches its threshold (the likelier one when both do), or None
    (always None for a message without a word the model knows). Raises `SemanticUnavailable`
    when the files are missing."""
    model = load_model(directory)
    if not isinstance(text, str) or not text.strip():
        return Verdict(None, {"safe": 1.0, "self_harm": 0.0, "danger": 0.0})
    reads, scored = _scored(text, model)
    chances = dict(scored)
    if not reads:
        return Verdict(None, chances)
    over = [r for r in RISK_INDEX if chances[r] >= model.thresholds[r]]
    risk = max(over, key=lambda r: chances[r]) if over else None
    return Verdict(risk, chances)


def sets_aside(text: str, directory: Path = CONTENT_DIR) -> bool:
    """Whether the model reads the message as safe with near certainty: the chance of any risk
    below `Model.set_aside` (see the screen's frames). Raises `SemanticUnavailable` when the
    files are missing."""
    model = load_model(directory)
    if not isinstance(text, str) or not text.strip():
        return False
    reads, chances = _scored(text, model)
    return reads and chances["self_harm"] + chances["danger"] < model.set_aside


@lru_cache(maxsize=16)
def _scored(text: str, model: Model) -> tuple[bool, dict[str, float]]:
    return model.scored(text)


def warm(directory: Path = CONTENT_DIR) -> bool:
    """Load the model now (at start-up, not at the first message). False, with a warning, when
    it cannot be read; the screen then goes on without it."""
    try:
        load_model(directory)
    except SemanticUnavailable as exc:
        log.warning("screen classifier unavailable: %s", exc)
        return False
    return True


def clear_caches(*, words: bool = False) -> None:
    """Forget the recent messages' chances (the bench measures without them), and with
    `words` the words' letter groups too."""
    _scored.cache_clear()
    if words:
        _letter_ids.cache_clear()


# --- Building ------------------------------------------------------------------------------------


def _set_name(path: Path) -> str:
    stem = path.stem.removeprefix("screen_risk").removeprefix("screen_safe")
    return stem.removeprefix("_") or "base"


def labelled_sets(fixtures: Path) -> dict[str, list[tuple[str, int]]]:
    """(sentence, class) by set name, for every risk and safe set except the held-out looks;
    violence sentences are left out (the layer screens for self-harm and danger)."""
    sets: dict[str, list[tuple[str, int]]] = {}
    for path in sorted(fixtures.glob("screen_risk*.tsv")):
        name = _set_name(path)
        if name in HELD_OUT:
            continue
        for line in data_lines(path):
            risk, _level, text = line.split("\t")
            if risk in CLASS_OF:
                sets.setdefault(name, []).append((text, CLASS_OF[risk]))
    for path in sorted(fixtures.glob("screen_safe*.txt")):
        name = _set_name(path)
        if name in HELD_OUT or name == "everyday":
            continue
        sets.setdefault(name, []).extend((line.strip(), SAFE) for line in data_lines(path))
    return sets


def _vocabulary(grams: Sequence[list[str]]) -> tuple[list[str], np.ndarray]:
    """Grams seen in at least MIN_SENTENCES sentences, and their smoothed idf."""
    seen = Counter(g for sentence in grams for g in set(sentence))
    kept = sorted(g for g, n in seen.items() if n >= MIN_SENTENCES)
    n = len(grams)
    idf = np.array([math.log((1 + n) / (1 + seen[g])) + 1 for g in kept], dtype=np.float32)
    return kept, idf


def _matrix(
    texts: Sequence[str],
    words: Sequence[str],
    word_idf: np.ndarray,
    letters: Sequence[str],
    letter_idf: np.ndarray,
) -> Any:
    """The sentences' features as one sparse matrix (scipy comes with the build extra)."""
    from scipy.sparse import csr_matrix, hstack  # only the build needs it

    rows_w, rows_l = [], []
    word_index = {w: i for i, w in enumerate(words)}
    letter_index = {g: i for i, g in enumerate(letters)}
    for text in texts:
        folded = fold(text[:MAX_CHARS])
        rows_w.append(_block(words_of(folded), word_index, word_idf))
        rows_l.append(_block(letters_of(folded), letter_index, letter_idf))

    def sparse(rows, width):
        data, indices, indptr = [], [], [0]
        for row in rows:
            if row is not None:
                indices.extend(row[0].tolist())
                data.extend(row[1].tolist())
            indptr.append(len(indices))
        return csr_matrix((data, indices, indptr), shape=(len(rows), width), dtype=np.float32)

    meaning = np.array([meaning_of(t) * EMBED_WEIGHT for t in texts], dtype=np.float32)
    return hstack(
        [sparse(rows_w, len(words)), sparse(rows_l, len(letters)), csr_matrix(meaning)]
    ).tocsr()


def fit(texts: Sequence[str], labels: Sequence[int]) -> Model:
    from sklearn.linear_model import LogisticRegression  # only the build needs it

    folded = [fold(t[:MAX_CHARS]) for t in texts]
    words, word_idf = _vocabulary([words_of(f) for f in folded])
    letters, letter_idf = _vocabulary([letters_of(f) for f in folded])
    x = _matrix(texts, words, word_idf, letters, letter_idf)
    regression = LogisticRegression(C=C, max_iter=5000, class_weight="balanced")
    regression.fit(x, np.asarray(labels))
    order = list(regression.classes_)
    weights = np.stack([regression.coef_[order.index(c)] for c in (SAFE, SELF_HARM, DANGER)], 1)
    bias = np.array([regression.intercept_[order.index(c)] for c in (SAFE, SELF_HARM, DANGER)])
    return Model(
        words={w: i for i, w in enumerate(words)},
        word_idf=word_idf,
        letters={g: i for i, g in enumerate(letters)},
        letter_idf=letter_idf,
        weights=weights.astype(np.float32),
        bias=bias,
        thresholds={},
        sources="",
    )


def _threshold(safe: np.ndarray, everyday: np.ndarray, budget: tuple[float, float]) -> float:
    """The lowest chance that flags at most the budgeted shares of both safe samples."""
    return float(max(np.quantile(safe, 1 - budget[0]), np.quantile(everyday, 1 - budget[1])))


def sources_digest(sets: dict[str, list[tuple[str, int]]], everyday: Sequence[str]) -> str:
    h = hashlib.sha256()
    for name in sorted(sets):
        for text, label in sets[name]:
            h.update(f"{name}\t{label}\t{text}\n".encode())
    for text in everyday:
        h.update(f"everyday\t{SAFE}\t{text}\n".encode())
    return h.hexdigest()


def fold_groups(sets: dict[str, list[tuple[str, int]]], count: int) -> list[list[str]]:
    """The sets in `count` groups of about equal size (largest set first into the smallest
    group), so that a set is always left out whole."""
    groups: list[list[str]] = [[] for _ in range(min(count, len(sets)))]
    sizes = [0] * len(groups)
    for name in sorted(sets, key=lambda n: (-len(sets[n]), n)):
        smallest = sizes.index(min(sizes))
        groups[smallest].append(name)
        sizes[smallest] += len(sets[name])
    return groups


def cross_validate(
    sets: dict[str, list[tuple[str, int]]], everyday: Sequence[str]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Out-of-fold chances: each group of sets (and a share of the everyday messages) scored by
    a model fitted on the rest. Returns the chances and labels of the sets, in the order of
    their sorted names, and the everyday chances."""
    groups = fold_groups(sets, FOLDS)
    shares = np.array_split(np.arange(len(everyday)), len(groups))
    chances: dict[str, list[list[float]]] = {}
    every = np.zeros((len(everyday), 3))
    for i, group in enumerate(groups):
        keep = np.concatenate([f for j, f in enumerate(shares) if j != i])
        rest = [n for n in sorted(sets) if n not in group]
        texts = [t for n in rest for t, _ in sets[n]] + [everyday[k] for k in keep]
        labels = [c for n in rest for _, c in sets[n]] + [SAFE] * len(keep)
        model = fit(texts, labels)
        for name in group:
            chances[name] = [list(model.chances(t).values()) for t, _ in sets[name]]
        for k in shares[i]:
            every[k] = list(model.chances(everyday[k]).values())
        print(f"  fold {i + 1}/{len(groups)}: {', '.join(group)}", file=sys.stderr)
    names = sorted(sets)
    held = np.array([row for n in names for row in chances[n]])
    held_labels = np.array([c for n in names for _, c in sets[n]])
    return held, held_labels, every


def reaches_classifier(text: str) -> bool:
    """Whether the screen would ask the classifier about this message: its other layers found
    no risk in it and it says nothing of being safe."""
    from content.screen import screen  # the screen imports this module when it runs

    result = screen(text, use_classifier=False)
    return not result.flagged and not result.safe


def set_aside_bar(
    texts: Sequence[str], held: np.ndarray, labels: np.ndarray
) -> tuple[float, dict[str, Any]]:
    """The chance of risk below which a framed pattern finding is set aside: the highest bar
    that, out of fold, sets aside at most `SET_ASIDE_BUDGET` of the risk sentences the patterns
    catch (the lowest such chances stay above it)."""
    from content.screen import may_set_aside, screen  # the screen imports this module

    risky: list[float] = []
    safe: list[float] = []
    caught = 0
    for text, chances, label in zip(texts, held, labels, strict=True):
        result = screen(text, use_semantic=False)
        if not result.flagged:
            continue
        caught += int(label != SAFE)
        if may_set_aside(result, text):
            risk = float(chances[SELF_HARM] + chances[DANGER])
            (safe if int(label) == SAFE else risky).append(risk)
    allowed = int(SET_ASIDE_BUDGET * caught)
    lowest = sorted(risky)
    bar = lowest[allowed] if allowed < len(lowest) else 1.0
    bar = round(bar - 1e-6, 6) if bar < 1.0 else bar
    figures = {
        "bar": bar,
        "risk_caught_by_patterns": caught,
        "risk_set_aside": sum(c < bar for c in risky),
        "safe_flagged_by_patterns_framed": len(safe),
        "safe_set_aside": sum(c < bar for c in safe),
    }
    return bar, figures


def build(fixtures: Path) -> tuple[Model, dict[str, Any]]:
    sets = labelled_sets(fixtures)
    everyday = everyday_texts(fixtures)
    held, labels, every = cross_validate(sets, everyday)
    asked = np.array([reaches_classifier(t) for n in sorted(sets) for t, _ in sets[n]])
    asked_every = np.array([reaches_classifier(t) for t in everyday])
    safe_asked = (labels == SAFE) & asked
    thresholds: dict[str, float] = {}
    figures: dict[str, Any] = {}
    for risk, c in RISK_INDEX.items():
        thresholds[risk] = round(
            _threshold(held[safe_asked, c], every[asked_every, c], FALSE_ALARM_BUDGET[risk]), 4
        )
        hit = held[:, c] >= thresholds[risk]
        figures[risk] = {
            "threshold": thresholds[risk],
            "recall_alone": round(float(hit[labels == c].mean()), 3),
            "recall_asked": round(float(hit[(labels == c) & asked].mean()), 3),
            "safe_alarms_asked": round(float(hit[safe_asked].mean()), 4),
            "safe_asked": int(safe_asked.sum()),
            "everyday_alarms": round(float((every[asked_every, c] >= thresholds[risk]).mean()), 4),
        }
    names_texts = [t for n in sorted(sets) for t, _ in sets[n]]
    set_aside, figures["set_aside"] = set_aside_bar(names_texts, held, labels)
    texts = names_texts + list(everyday)
    all_labels = [c for n in sorted(sets) for _, c in sets[n]] + [SAFE] * len(everyday)
    model = fit(texts, all_labels)
    meta = {"thresholds": thresholds, "set_aside": set_aside,
            "sources": sources_digest(sets, everyday), "sets": sorted(sets),
            "held_out": list(HELD_OUT)}  # fmt: skip
    model = dataclasses.replace(
        model, thresholds=thresholds, set_aside=set_aside, sources=meta["sources"]
    )
    order = [(n, t) for n in sorted(sets) for t, _ in sets[n]]
    report = {"sentences": len(texts), "meta": meta, "cross_validation": figures}
    return model, report | {"out_of_fold": (order, held, labels, asked)}


def write_model(path: Path, model: Model, meta: dict[str, Any]) -> None:
    np.savez_compressed(
        path,
        words=np.array(sorted(model.words, key=model.words.__getitem__)),
        word_idf=model.word_idf.astype(np.float16),
        letters=np.array(sorted(model.letters, key=model.letters.__getitem__)),
        letter_idf=model.letter_idf.astype(np.float16),
        weights=model.weights.astype(np.float16),
        bias=model.bias,
        meta=np.array(json.dumps(meta)),
    )


def main(argv: Sequence[str]) -> int:
    if "--build" not in argv:
        print("usage: python -m content.classifier --build [--out-of-fold FILE.npz]",
              file=sys.stderr)  # fmt: skip
        return 2
    fixtures = Path(__file__).resolve().parents[1] / "tests" / "unit" / "fixtures"
    model, report = build(fixtures)
    write_model(CONTENT_DIR / MODEL_FILE, model, report["meta"])
    order, held, labels, asked = report.pop("out_of_fold")
    if "--out-of-fold" in argv:  # the cross-validation's chances, for studying the layers
        path = Path(argv[argv.index("--out-of-fold") + 1])
        np.savez_compressed(path, sets=np.array([n for n, _ in order]),
                            texts=np.array([t for _, t in order]), chances=held,
                            labels=labels, asked=asked)  # fmt: skip
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
