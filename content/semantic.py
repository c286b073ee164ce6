"""A local semantic layer for the crisis screen: nearest labelled sentences in a static embedding.

Pure and local: no Telegram, no database, no network, nothing written to a log. The encoder is
the static token embedding that the `wordllama` package ships inside its wheel
(`weights/l2_supercat_256.safetensors`, 32,000 tokens x 256 numbers, with its tokenizer file).
Its files are read straight from the installed package: the package itself is never imported,
because importing it configures the root logger and can reach the Hugging Face hub.

Encoding a message is a lookup and a mean: the text is folded lightly (`fold`), split into
tokens, the tokens' vectors are averaged and the mean scaled to length 1. No neural network runs,
so numpy is enough (onnxruntime would add a dependency and a model export for no speed-up).

The labelled sentences are the repository's development and tuning screen sets and everyday
breakup messages (the looks, `screen_*_lookN`, are left out: they measure sentences nobody tuned
on). Their vectors are stored in `semantic_prototypes.npz`, built by

    python -m content.semantic --build

which also chooses the thresholds by cross-validation: each pair of sets in turn is left out,
scored against the others, and the threshold is the lowest score that keeps false alarms on the
left-out safe sentences and everyday messages within `FALSE_ALARM_BUDGET`.

A message's score for a risk is the mean cosine similarity of its `K` nearest sentences of that
risk minus that of its `K` nearest safe sentences. The screen (content/screen.py) asks about
self-harm when the self-harm score reaches its threshold and gives danger's reply when the
danger score reaches its (stricter) threshold, and only when its patterns found nothing.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import re
import sys
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from content.loader import CONTENT_DIR, per_directory

log = logging.getLogger(__name__)

MODEL_PACKAGE = "wordllama"
WEIGHTS_FILE = "weights/l2_supercat_256.safetensors"
WEIGHTS_KEY = "embedding.weight"
TOKENIZER_FILE = "tokenizers/l2_supercat_tokenizer_config.json"
DATA_FILE = "semantic_prototypes.npz"

# The model was trained so that its leading coordinates carry the most (a "matryoshka"
# embedding): the first DIMENSIONS of 256 are used.
DIMENSIONS = 128
# Classes of the labelled sentences.
SAFE, SELF_HARM, DANGER = 0, 1, 2
CLASS_OF = {"self_harm": SELF_HARM, "possible_self_harm": SELF_HARM, "danger": DANGER}
# abuse is screened with danger's reply, so its sentences are danger's neighbours too.
CLASS_OF["abuse"] = DANGER
RISK_CLASSES = {"self_harm": SELF_HARM, "danger": DANGER}
# How many nearest sentences of a class are averaged (3 measured best of 1, 3 and 5).
K = 3
# False alarms allowed per risk when thresholds are chosen: (share of left-out safe sentences,
# share of left-out everyday messages). The bot's own budgets, inside the 3% target: asking
# is gentle, so self-harm gets more room than danger, whose reply stops the coaching.
FALSE_ALARM_BUDGET = {"self_harm": (0.02, 0.005), "danger": (0.01, 0.003)}
# Longer messages are read up to here (the screen's cue stage uses the same bound).
MAX_CHARS = 2_000
# The store keeps each coordinate as a signed byte: unit vectors scaled by this.
QUANT = 127.0

# The sets the layer learns from, in tests/unit/fixtures: the development and tuning sets, never
# a look (screen_*_lookN), which measure sentences nobody tuned on.
TRAINING_RISK_SETS = (
    "screen_risk.tsv",
    "screen_risk_heldout.tsv",
    "screen_risk_heldout2.tsv",
    "screen_risk_fresh.tsv",
    "screen_risk_fresh2.tsv",
    "screen_risk_probe3.tsv",
    "screen_risk_train5.tsv",
    "screen_risk_train6.tsv",
    "screen_risk_train7.tsv",
)
TRAINING_SAFE_SETS = (
    "screen_safe.txt",
    "screen_safe_heldout.txt",
    "screen_safe_heldout2.txt",
    "screen_safe_fresh.txt",
    "screen_safe_fresh2.txt",
    "screen_safe_probe3.txt",
    "screen_safe_train5.txt",
    "screen_safe_train6.txt",
    "screen_safe_train7.txt",
)
EVERYDAY_SET = "screen_safe_everyday.txt"


class SemanticUnavailable(Exception):
    """The model files or the prototype store cannot be read."""


# --- Encoding ------------------------------------------------------------------------------------

_QUOTES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'", "\u00b4": "'"})
_STRETCHED = re.compile(r"([^\W\d_])\1{2,}")
_SPACE = re.compile(r"[\s\x00-\x1f\x7f-\x9f]+")


@lru_cache(maxsize=16)
def fold(text: str) -> str:
    """Case, quotes, accents and stretched letters folded ("soooo" -> "so"), spaces collapsed.
    Both layers fold the same message: the last few are kept in memory, never written anywhere.

    Lighter than the patterns' folding: a doubled letter stays ("kill", "sleeping"), since the
    tokenizer knows words as they are spelled."""
    s = text[:MAX_CHARS]
    if s.isascii():
        s = s.lower().replace("`", "'")
    else:
        s = unicodedata.normalize("NFKC", s).casefold().translate(_QUOTES)
        s = "".join(ch for ch in s if unicodedata.category(ch) not in ("Cf", "Cs"))
    s = _STRETCHED.sub(r"\1", s)
    return _SPACE.sub(" ", s).strip()


# Words whose token ids are kept (the same words come back message after message; words only,
# in memory, never written anywhere). The tokenizer prefixes every word with "▁" and none of its
# tokens holds a "▁" after its first letter, except runs of them that only a run of spaces
# makes (which `fold` never leaves): so a message's ids are its words' ids, one after another.
WORD_CACHE = 20_000


@lru_cache(maxsize=WORD_CACHE)
def _word_ids(tokenizer: Any, word: str) -> tuple[int, ...]:
    return tuple(tokenizer.encode(word, add_special_tokens=False).ids)


def _package_dir() -> Path:
    spec = importlib.util.find_spec(MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise SemanticUnavailable(f"the {MODEL_PACKAGE} package is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True, slots=True)
class Encoder:
    """Token vectors and the tokenizer that splits text into their ids."""

    tokenizer: Any
    table: np.ndarray  # (vocabulary, dimensions), float32

    @property
    def dimensions(self) -> int:
        return int(self.table.shape[1])

    def ids(self, text: str) -> list[int]:
        folded = fold(text)
        if "<" in folded:  # the tokenizer's own markers ("<s>") are read across words
            return self.whole_ids(folded)
        out: list[int] = []
        for word in folded.split(" "):
            out.extend(_word_ids(self.tokenizer, word))
        return out

    def whole_ids(self, folded: str) -> list[int]:
        """The ids of folded text tokenized in one piece (what `ids` gives, word by word)."""
        return self.tokenizer.encode(folded, add_special_tokens=False).ids

    def encode(self, text: str) -> np.ndarray | None:
        """The unit-length mean of the message's token vectors; None for a message without
        tokens."""
        ids = self.ids(text)
        return unit_mean(self.table[ids]) if ids else None


@cache
def load_encoder() -> Encoder:
    """The encoder from the installed package's own files; raises `SemanticUnavailable`."""
    try:
        from safetensors.numpy import load_file
        from tokenizers import Tokenizer

        root = _package_dir()
        table = load_file(str(root / WEIGHTS_FILE))[WEIGHTS_KEY][:, :DIMENSIONS]
        table = table.astype(np.float32)
        tokenizer = Tokenizer.from_file(str(root / TOKENIZER_FILE))
    except SemanticUnavailable:
        raise
    except Exception as exc:  # a missing file, a broken wheel, a missing dependency
        raise SemanticUnavailable(f"the {MODEL_PACKAGE} files cannot be read: {exc}") from None
    return Encoder(tokenizer, np.ascontiguousarray(table))


@lru_cache(maxsize=16)
def token_vectors(text: str) -> np.ndarray | None:
    """The message's token vectors, one row per token (None without tokens): tokenized once
    per message for both semantic layers (a few recent messages are kept in memory, never
    written anywhere)."""
    ids = load_encoder().ids(text)
    return load_encoder().table[ids] if ids else None


@lru_cache(maxsize=16)
def embed(text: str) -> np.ndarray | None:
    """One encoding per message: the screen and anything else reading the same message share
    it; the unit-length mean of `token_vectors`."""
    vectors = token_vectors(text)
    return unit_mean(vectors) if vectors is not None else None


def unit_mean(vectors: np.ndarray) -> np.ndarray | None:
    """The mean of token vectors scaled to length 1 (None when they sum to nothing)."""
    vector = np.add.reduce(vectors, axis=0)
    norm = float(np.sqrt(vector @ vector))
    return vector / norm if norm > 0 else None


# --- The labelled sentences ----------------------------------------------------------------------


# Similarities are computed in blocks of this many rows: OpenBLAS spreads a bigger
# matrix-vector product over every core, which costs about ten times more CPU than it saves
# in time on a busy two-core server; a block this size stays on one thread.
BLOCK_ROWS = 512


@dataclass(frozen=True, slots=True, eq=False)
class Prototypes:
    """The labelled sentences' vectors (grouped by class) and the thresholds chosen for them."""

    vectors: np.ndarray  # (n, dimensions), float32, unit length, sorted by label
    labels: np.ndarray  # (n,), int8: SAFE, SELF_HARM or DANGER, ascending
    thresholds: dict[str, float]
    sources: str  # a digest of the sentences the store was built from
    spans: dict[int, tuple[int, int]]  # class -> (first row, end row)
    blocks: tuple[np.ndarray, ...]

    @classmethod
    def of(
        cls,
        vectors: np.ndarray,
        labels: np.ndarray,
        thresholds: dict[str, float] | None = None,
        sources: str = "",
    ) -> Prototypes:
        order = np.argsort(labels, kind="stable")
        vectors = np.ascontiguousarray(vectors[order], dtype=np.float32)
        labels = np.ascontiguousarray(labels[order])
        spans = {
            int(c): (int(np.searchsorted(labels, c)), int(np.searchsorted(labels, c, "right")))
            for c in (SAFE, SELF_HARM, DANGER)
        }
        blocks = tuple(
            np.ascontiguousarray(vectors[i : i + BLOCK_ROWS])
            for i in range(0, len(vectors), BLOCK_ROWS)
        )
        return cls(vectors, labels, dict(thresholds or {}), sources, spans, blocks)

    def similarities(self, vector: np.ndarray) -> np.ndarray:
        out = np.empty(len(self.vectors), dtype=np.float32)
        start = 0
        for block in self.blocks:
            np.dot(block, vector, out=out[start : start + len(block)])
            start += len(block)
        return out

    def scores(self, vector: np.ndarray) -> dict[str, float]:
        """Per risk: mean similarity of the K nearest sentences of that risk minus that of the
        K nearest safe ones."""
        return self._margins(self.similarities(vector.astype(np.float32, copy=False)))

    def score_many(self, vectors: np.ndarray) -> list[dict[str, float]]:
        return [self._margins(row) for row in vectors @ self.vectors.T]

    def _margins(self, sims: np.ndarray) -> dict[str, float]:
        safe = _top_mean(sims[slice(*self.spans[SAFE])])
        return {
            risk: _top_mean(sims[slice(*self.spans[c])]) - safe for risk, c in RISK_CLASSES.items()
        }


def _top_mean(sims: np.ndarray) -> float:
    if len(sims) <= K:
        return float(sims.mean()) if len(sims) else 0.0
    return float(np.partition(sims, len(sims) - K)[-K:].sum()) / K


def load_prototypes(directory: Path = CONTENT_DIR) -> Prototypes:
    """The store from `semantic_prototypes.npz`, read once per directory."""
    return _prototypes(directory)


@per_directory
def _prototypes(directory: Path) -> Prototypes:
    path = directory / DATA_FILE
    try:
        with np.load(path, allow_pickle=False) as data:
            vectors = data["vectors"].astype(np.float32) / QUANT
            labels = data["labels"].astype(np.int8)
            meta = json.loads(str(data["meta"]))
    except Exception as exc:
        raise SemanticUnavailable(f"{DATA_FILE} cannot be read: {exc}") from None
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    vectors = vectors / np.maximum(norms, 1e-9)
    thresholds = {risk: float(meta["thresholds"][risk]) for risk in RISK_CLASSES}
    return Prototypes.of(vectors, labels, thresholds, str(meta["sources"]))


# --- Judging a message ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the layer found: the risk over its threshold (or None) and every score."""

    risk: str | None
    scores: dict[str, float]


def judge(
    text: str,
    directory: Path = CONTENT_DIR,
    risks: tuple[str, ...] = ("danger", "self_harm"),
) -> Judgement:
    """Scores for one message, and the first of `risks` whose threshold it reaches (danger
    first by default: its threshold is the stricter one). Raises `SemanticUnavailable` when the
    files are missing."""
    prototypes = load_prototypes(directory)
    if not isinstance(text, str) or not text.strip():
        return Judgement(None, {risk: 0.0 for risk in RISK_CLASSES})
    scores = dict(_scores(text, prototypes))
    for risk in risks:
        if scores[risk] >= prototypes.thresholds[risk]:
            return Judgement(risk, scores)
    return Judgement(None, scores)


@lru_cache(maxsize=16)
def _scores(text: str, prototypes: Prototypes) -> tuple[tuple[str, float], ...]:
    """A message is often screened twice (by the handler and by the understanding step):
    the second time costs nothing."""
    vector = embed(text)
    if vector is None:
        return tuple((risk, 0.0) for risk in RISK_CLASSES)
    return tuple(prototypes.scores(vector).items())


def warm(directory: Path = CONTENT_DIR) -> bool:
    """Load the encoder and the store now (at start-up: reading the model takes a second or
    two, which the first message should not wait for). False, with a warning, when they cannot
    be read; the screen then goes on with the patterns alone."""
    try:
        load_encoder()
        load_prototypes(directory)
    except SemanticUnavailable as exc:
        log.warning("semantic layer unavailable: %s", exc)
        return False
    return True


def clear_caches(*, words: bool = False) -> None:
    """Forget the recent messages' encodings and scores (the bench measures without them), and
    with `words` the words' token ids too."""
    if words:
        _word_ids.cache_clear()
    fold.cache_clear()
    token_vectors.cache_clear()
    embed.cache_clear()
    _scores.cache_clear()


# --- Building the store --------------------------------------------------------------------------


def data_lines(path: Path) -> Iterable[str]:
    """The lines of a labelled set that hold a sentence (no blank lines, no comments)."""
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            yield line


def everyday_texts(fixtures: Path) -> list[str]:
    """The everyday breakup messages, as the screen's bench reads them: the snapshot file plus
    every non-crisis sentence of the understanding sets."""
    texts = [line.strip() for line in data_lines(fixtures / EVERYDAY_SET)]
    for path in sorted(fixtures.glob("understand_*.tsv")):
        for line in data_lines(path):
            parts = line.split("\t")
            if len(parts) >= 3 and parts[0] not in ("crisis", "danger"):
                texts.append(parts[-1].strip())
    return list(dict.fromkeys(texts))


def training_groups(fixtures: Path) -> list[list[tuple[str, int]]]:
    """(sentence, class) for each pair of risk and safe sets, in file order; violence
    sentences are left out (the layer does not screen for violence)."""
    groups = []
    for risk_set, safe_set in zip(TRAINING_RISK_SETS, TRAINING_SAFE_SETS, strict=True):
        rows = []
        for line in data_lines(fixtures / risk_set):
            risk, _level, text = line.split("\t")
            if risk in CLASS_OF:
                rows.append((text, CLASS_OF[risk]))
        rows += [(line.strip(), SAFE) for line in data_lines(fixtures / safe_set)]
        groups.append(rows)
    return groups


def sources_digest(groups: Sequence[Sequence[tuple[str, int]]], everyday: Sequence[str]) -> str:
    h = hashlib.sha256()
    for group in groups:
        for text, label in group:
            h.update(f"{label}\t{text}\n".encode())
    for text in everyday:
        h.update(f"{SAFE}\t{text}\n".encode())
    return h.hexdigest()


def _threshold(safe: np.ndarray, everyday: np.ndarray, budget: tuple[float, float]) -> float:
    """The lowest score that flags at most the budgeted shares of both safe samples."""
    return float(max(np.quantile(safe, 1 - budget[0]), np.quantile(everyday, 1 - budget[1])))


def build(fixtures: Path) -> tuple[np.ndarray, np.ndarray, dict[str, Any], dict[str, Any]]:
    """Vectors, labels and metadata (thresholds, digest) for the store, plus the
    cross-validation figures the thresholds were chosen from."""
    encoder = load_encoder()
    groups = training_groups(fixtures)
    everyday = everyday_texts(fixtures)

    def encode_all(texts: Iterable[str]) -> np.ndarray:
        out = []
        for text in texts:
            vector = encoder.encode(text)
            out.append(vector if vector is not None else np.zeros(encoder.dimensions))
        return np.array(out, dtype=np.float32)

    group_x = [encode_all(t for t, _ in g) for g in groups]
    group_y = [np.array([c for _, c in g], dtype=np.int8) for g in groups]
    every_x = encode_all(everyday)
    # Round-trip through the stored precision, so the thresholds fit what is loaded.
    group_x = [_dequantise(_quantise(x)) for x in group_x]
    every_x = _dequantise(_quantise(every_x))
    every_folds = np.array_split(np.arange(len(everyday)), len(groups))

    # Cross-validation: each pair of sets (and a share of the everyday messages) left out in turn.
    held_scores: list[dict[str, float]] = []
    held_labels: list[int] = []
    every_scores: list[dict[str, float]] = []
    for i in range(len(groups)):
        keep_every = np.concatenate([f for j, f in enumerate(every_folds) if j != i])
        fold_protos = Prototypes.of(
            np.concatenate([x for j, x in enumerate(group_x) if j != i] + [every_x[keep_every]]),
            np.concatenate(
                [y for j, y in enumerate(group_y) if j != i]
                + [np.zeros(len(keep_every), dtype=np.int8)]
            ),
        )
        held_scores += fold_protos.score_many(group_x[i])
        held_labels += list(group_y[i])
        every_scores += fold_protos.score_many(every_x[every_folds[i]])
    labels = np.array(held_labels)
    thresholds: dict[str, float] = {}
    figures: dict[str, Any] = {}
    for risk, c in RISK_CLASSES.items():
        scores = np.array([s[risk] for s in held_scores])
        every = np.array([s[risk] for s in every_scores])
        thresholds[risk] = round(
            _threshold(scores[labels == SAFE], every, FALSE_ALARM_BUDGET[risk]), 4
        )
        hit = scores >= thresholds[risk]
        figures[risk] = {
            "threshold": thresholds[risk],
            "recall_alone": round(float(hit[labels == c].mean()), 3),
            "safe_alarms": round(float(hit[labels == SAFE].mean()), 4),
            "everyday_alarms": round(float((every >= thresholds[risk]).mean()), 4),
        }
    vectors = np.concatenate([*group_x, every_x])
    all_labels = np.concatenate([*group_y, np.zeros(len(everyday), dtype=np.int8)])
    meta = {
        "model": f"{MODEL_PACKAGE}:{WEIGHTS_FILE}",
        "k": K,
        "thresholds": thresholds,
        "sources": sources_digest(groups, everyday),
    }
    return _quantise(vectors), all_labels, meta, figures


def _quantise(vectors: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(vectors * QUANT), -127, 127).astype(np.int8)


def _dequantise(stored: np.ndarray) -> np.ndarray:
    vectors = stored.astype(np.float32) / QUANT
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-9)


def write_store(path: Path, vectors: np.ndarray, labels: np.ndarray, meta: dict[str, Any]) -> None:
    np.savez_compressed(path, vectors=vectors, labels=labels, meta=np.array(json.dumps(meta)))


def main(argv: Sequence[str]) -> int:
    if "--build" not in argv:
        print("usage: python -m content.semantic --build", file=sys.stderr)
        return 2
    fixtures = Path(__file__).resolve().parents[1] / "tests" / "unit" / "fixtures"
    vectors, labels, meta, figures = build(fixtures)
    write_store(CONTENT_DIR / DATA_FILE, vectors, labels, meta)
    print(json.dumps({"sentences": len(labels), "cross_validation": figures}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
