"""Screening free text for risk: suicide and self-harm, danger from an ex, violence, abuse.

Pure and fast: no Telegram, no database, no network. The data lives in `risk_patterns.yaml`
(validated by the pydantic models below, compiled once at the first call).

Categories follow the Columbia Suicide Severity Rating Scale for self-harm (wish to be dead,
suicidal thoughts, method, intent, plan, preparatory acts, hopelessness, burden, self-injury)
plus danger from the ex (threats, "if I can't have you nobody can", stalking, break-ins,
weapons, fear), violence the person might commit, and abuse they disclose. Each category has a
risk and a default level; a pattern may lower or raise its own level:

* ``act``  - a clear signal: crisis (or danger) care at once;
* ``ask``  - an ambiguous signal: the bot asks directly "Are you thinking about ending your life?";
* ``none`` - nothing found.

A few categories are not risks but flags on the result: ``health`` (not sleeping or eating for
days, drinking or using to cope), ``minor`` (the person says they are under 18), ``leverage``
(a draft that threatens self-harm to pressure the ex; also a self-harm signal for the writer)
and ``safe`` ("I'm safe", "I'd never hurt myself"). A category may ``cancel`` other risks: a
match of it removes any match of those risks that it overlaps ("I'm *not suicidal*").

How a message is matched:

1. `normalise` folds the text: unicode quotes become ', accents, zero-width and
   control characters go, case is folded, leetspeak inside words is undone
   ("k1ll" -> "kill"), a letter masked by asterisks is read as "i" ("k*ll" -> "kill"),
   every run of a repeated letter becomes one letter
   ("diiiie" -> "die", "kill" -> "kil") and whitespace is collapsed.
   Letters spelled out one by one ("d i e") are joined ("die").
   Chat shorthand from `risk_shorthand.yaml` is then spelled out ("tn" -> "tonight",
   "w/o" -> "without", "no1" -> "no one") by `expand`.
2. Every regex from the YAML file gets the same letter folding, so authors write
   plain English ("kill", "better off") and it still matches "killll" or
   "beter of". An apostrophe in a pattern is optional, so "don't" also
   matches "dont".
3. A pattern may name a cheap `needs` regex: when that finds nothing, the pattern's other
   regexes are not run at all (a speed-up only; it must hold whenever any of them matches).
   The plain words of a gate are looked for with `in`, which is much faster (see `Gate`).
4. A pattern matches when one of its regexes matches somewhere that none of its
   `unless` regexes (nor a cancelling category) overlaps ("want to die", unless "die alone").

5. When no self-harm pattern matched, a second stage weighs cues (`risk_cues.yaml`): each
   concept group (death, ending, means, preparation, research, burden, finality, pain, time)
   counts once, guards (jokes, games, work, the breakup as the thing that ends) subtract, and
   a first-person message whose groups add up to the threshold goes to "ask", never "act".

6. When neither stage found a risk (and the person did not say they are safe), the semantic
   layer (content/semantic.py) compares the message with labelled sentences in a static
   embedding: near enough to self-harm sentences, it is asked about ("ask"); near enough to
   danger sentences (a stricter threshold), it gets danger's reply ("act"). If the model files
   are missing the screen goes on with the patterns alone.

`combine(current, recent)` then looks at the person's last half hour: signals from several
messages add up and escalate an "ask" to "act"; one message's level is its own; a later
"I'm safe" clears what came before it.

`screen(text)` never raises: any input (empty, huge, emoji, RTL, control characters,
not even a string) gives a `ScreenResult`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from content.loader import CONTENT_DIR, ContentError, per_directory, read_yaml
from content.memo import remembered
from content.prefilter import Needs, Prefilter, required_strings

log = logging.getLogger(__name__)

PATTERNS_FILE = "risk_patterns.yaml"
CUES_FILE = "risk_cues.yaml"
SHORTHAND_FILE = "risk_shorthand.yaml"

NONE = "none"
ACT = "act"
ASK = "ask"
# The ambiguous level of self-harm is reported as its own risk.
POSSIBLE_SELF_HARM = "possible_self_harm"
# Highest priority first: when several risks match at the same level, the first one wins.
RISKS: tuple[str, ...] = ("self_harm", "danger", "violence", "abuse")
LEVELS: tuple[str, ...] = (ACT, ASK)
FLAGS: tuple[str, ...] = ("health", "minor", "leverage", "safe")
SELF_HARM_RISKS = frozenset({"self_harm", POSSIBLE_SELF_HARM})
# Risks that mean the ex is not safe to be close to: reconnecting is never suggested again.
UNSAFE_EX_RISKS = frozenset({"abuse", "danger"})

# Telegram messages are at most 4,096 characters; anything longer is screened up to here.
MAX_CHARS = 20_000

_FRAGMENT_RE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


# --- Result --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """What the screen found.

    `risk` is the winning risk ("none", "self_harm", "possible_self_harm", "danger",
    "violence", "abuse"), `level` how to respond ("none", "ask", "act"), `matched` every
    matching risk pattern id in file order, `categories` their categories (in the same order,
    without repeats). The flags are not risks: `health`, `minor`, `leverage`, `safe`.
    """

    risk: str = NONE
    matched: tuple[str, ...] = ()
    level: str = NONE
    categories: tuple[str, ...] = ()
    health: bool = False
    minor: bool = False
    leverage: bool = False
    safe: bool = False
    # Every risk the patterns matched sits in a sentence told in a frame (the past, someone
    # else's life, the person's work, a story, a word, a denial): the classifier may set it aside.
    framed: bool = False

    @property
    def flagged(self) -> bool:
        return self.risk != NONE

    @property
    def self_harm(self) -> bool:
        return self.risk in SELF_HARM_RISKS

    def to_dict(self) -> dict[str, Any]:
        return {"risk": self.risk, "matched": list(self.matched), "level": self.level}


CLEAR = ScreenResult()
# What a caller records when the person says they are safe with a button ("No, I'm safe").
SAFE = ScreenResult(safe=True)


# --- Normalisation -------------------------------------------------------------------------------

_QUOTES = str.maketrans(
    {
        "\u2018": "'",  # left single quote
        "\u2019": "'",  # right single quote / typographic apostrophe
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",  # prime
        "\u02bc": "'",  # modifier letter apostrophe
        "\u02b9": "'",
        "\u0060": "'",  # backtick
        "\u00b4": "'",  # acute accent used as an apostrophe
        "\uff07": "'",  # fullwidth apostrophe
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
    }
)
_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s"}
)
_LEET_CHARS = "013457@$"
# A word that mixes letters with leetspeak characters ("k1ll", "$uicide", "d13").
_LEET_WORD = re.compile(r"(?<![a-z0-9@$])(?=[a-z0-9@$]*[a-z])[a-z0-9@$]*[013457@$][a-z0-9@$]*")
# ...but not numbers with a unit or an ordinal ("20kms", "3am", "21st", "5x").
_NUMBER_WITH_UNIT = re.compile(
    r"^\d+(?:st|nd|rd|th|s|am|pm|k|m|x|h|hr|hrs|min|mins|yo|y|yr|yrs|kg|km|kms|lb|lbs|mg|ml|g|ft"
    r"|cm|mm|p|gb|mb|d|w|mo|ish)$"
)
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1+")
# A letter masked with asterisks inside a word ("k*ll", "su*cide", "d*e") is read as an "i",
# the letter people most often hide in these words.
_MASKED_LETTER = re.compile(r"(?<=[a-z])\*+(?=[a-z])")
# Letters spelled out one at a time ("d i e", "k.m.s") are joined back into a word.
_SPACED_LETTERS = re.compile(r"(?<![^\s])(?:[a-z][ .]){2,}[a-z](?![^\s.,!?])")


def _deleet(match: re.Match[str]) -> str:
    word = match.group(0)
    if _NUMBER_WITH_UNIT.match(word):
        return word
    return word.translate(_LEET)


def _strip_marks(text: str) -> str:
    """Drop accents, zero-width/format characters and surrogates; turn control characters
    into spaces. `text` is already NFKD-decomposed."""
    out = []
    for ch in text:
        if ch.isascii():
            out.append(" " if ch < " " or ch == "\x7f" else ch)
            continue
        cat = unicodedata.category(ch)
        if cat in ("Mn", "Me", "Cf", "Cs"):
            continue
        out.append(" " if cat == "Cc" else ch)
    return "".join(out)


def normalise(text: Any) -> str:
    """The form every message is matched in. See the module docstring."""
    if not isinstance(text, str) or not text:
        return ""
    s = text[:MAX_CHARS].translate(_QUOTES)
    if s.isascii():
        s = (s if s.isprintable() else _ASCII_CONTROL.sub(" ", s)).lower()
    else:
        s = _strip_marks(unicodedata.normalize("NFKD", s.casefold()))
    if any(ch in s for ch in _LEET_CHARS):  # most messages have none: skip the scan
        s = _LEET_WORD.sub(_deleet, s)
    if "*" in s:
        s = _MASKED_LETTER.sub("i", s)
    s = _SPACED_LETTERS.sub(lambda m: m.group(0).replace(" ", "").replace(".", ""), s)
    s = _REPEATED_LETTER.sub(r"\1", s)
    return " ".join(s.split())  # str.split's whitespace is the regex's \s


# --- Preparing the authors' regexes --------------------------------------------------------------

_QUANTIFIER_START = frozenset("?*+{")
_QUANTIFIER_BRACES = re.compile(r"\{\d*(?:,\d*)?\}")


def _copy_class(src: str, i: int) -> int:
    """Index just past the character class that starts at src[i] == '['."""
    j = i + 1
    if j < len(src) and src[j] == "^":
        j += 1
    if j < len(src) and src[j] == "]":
        j += 1
    while j < len(src) and src[j] != "]":
        j += 2 if src[j] == "\\" else 1
    return min(j + 1, len(src))


def _group_prefix_end(src: str, i: int) -> int:
    """Index just past the '(?...' prefix of an extension group starting at src[i] == '('."""
    rest = src[i + 2 :]
    if rest.startswith(("<=", "<!")):
        return i + 4
    if rest[:1] in (":", "=", "!", ">"):
        return i + 3
    if rest.startswith(("P<", "P=", "#")) or rest[:1] == "<":
        closer = ">" if rest.startswith(("P<", "<")) else ")"
        end = src.find(closer, i)
        return len(src) if end < 0 else end + 1
    j = i + 2  # inline flags: (?i) or (?i:
    while j < len(src) and (src[j].isalpha() or src[j] == "-"):
        j += 1
    return min(j + 1, len(src))


def prepare_regex(src: str) -> str:
    """Rewrite an author's regex so it matches `normalise`d text.

    Accents are stripped, literal letters are lower-cased, a doubled literal letter is folded
    to one ("kill" -> "kil", as the text is), and a literal apostrophe becomes optional
    ("don't" -> "don'?t").
    Escapes, character classes, group prefixes and {m,n} quantifiers are left alone.
    """
    src = "".join(
        ch for ch in unicodedata.normalize("NFKD", src) if unicodedata.category(ch) != "Mn"
    )
    out: list[str] = []
    last_letter: str | None = None
    i, n = 0, len(src)
    while i < n:
        ch = src[i]
        nxt = src[i + 1] if i + 1 < n else ""
        if ch == "\\":
            out.append(src[i : i + 2])
            i += 2
            last_letter = None
            continue
        if ch == "[":
            end = _copy_class(src, i)
        elif ch == "(" and nxt == "?":
            end = _group_prefix_end(src, i)
        elif ch == "{" and (m := _QUANTIFIER_BRACES.match(src, i)):
            end = m.end()
        elif ch == "'":
            out.append("'" if nxt in _QUANTIFIER_START else "'?")
            i += 1
            last_letter = None
            continue
        elif ch.isalpha():
            if ch.lower() == last_letter and nxt not in _QUANTIFIER_START:
                i += 1  # second of a doubled letter: the text has only one
                continue
            out.append(ch.lower())  # the text is case-folded, so no IGNORECASE (10x slower)
            last_letter = ch.lower()
            i += 1
            continue
        else:
            end = i + 1
        out.append(src[i:end])
        i = end
        last_letter = None
    return "".join(out)


# --- Patterns ------------------------------------------------------------------------------------


def _spans_overlap(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


_NO_MATCHES: tuple[re.Match[str], ...] = ()


@dataclass(frozen=True, slots=True)
class Regex:
    """A compiled pattern regex, with a fast pre-check.

    A leading `\\b` stops Python's regex engine from jumping straight to the places where
    the first word could start, which makes a search about ten times slower. So each regex
    that starts with `\\b` also gets a `quick` twin without it: anything the real regex
    matches, the twin matches too, so when the twin finds nothing (almost always) the real
    regex is not run at all.
    """

    compiled: re.Pattern[str]
    quick: re.Pattern[str] | None = None

    @classmethod
    def build(cls, prepared: str) -> Regex:
        compiled = re.compile(prepared)
        quick = None
        if prepared.startswith("\\b") and prepared[2:3] not in _QUANTIFIER_START:
            quick = re.compile(prepared[2:])
        return cls(compiled, quick)

    def finditer(self, text: str) -> Iterable[re.Match[str]]:
        if self.quick is not None and self.quick.search(text) is None:
            return _NO_MATCHES
        return self.compiled.finditer(text)


_GATE_LITERAL = re.compile(r"[^\\.^$*+?{}\[\]()|]+")


def _top_level_alternatives(src: str) -> list[str] | None:
    """The alternatives of a regex that is one non-capturing group "(?:a|b|c)", or None."""
    if not (src.startswith("(?:") and src.endswith(")")):
        return None
    inner, parts, depth, start, i = src[3:-1], [], 0, 0, 0
    while i < len(inner):
        ch = inner[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "[":
            i = _copy_class(inner, i)
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:  # the first group closes before the end: not one group
                return None
        elif ch == "|" and depth == 0:
            parts.append(inner[start:i])
            start = i + 1
        i += 1
    parts.append(inner[start:])
    return parts


@dataclass(frozen=True, slots=True)
class Gate:
    """A pattern's `needs` regex, checked fast.

    A gate is most often a list of words ("(?:pill|tablet|rope)"). Python's regex engine tries
    every word at every position of the text, which costs milliseconds on a long message;
    looking for each plain word with `in` costs microseconds. So the plain words of a gate that
    is one group of alternatives are looked for with `in`, and only its other alternatives
    ("\\bod\\b") with the regex. `search` finds something exactly when the whole regex would.
    """

    pattern: str
    words: tuple[str, ...] = ()
    rest: re.Pattern[str] | None = None

    @classmethod
    def build(cls, prepared: str) -> Gate:
        parts = _top_level_alternatives(prepared)
        if parts is None or any(not p for p in parts):
            return cls(prepared, (), re.compile(prepared))
        words = tuple(p for p in parts if _GATE_LITERAL.fullmatch(p))
        others = [p for p in parts if not _GATE_LITERAL.fullmatch(p)]
        rest = re.compile("(?:" + "|".join(others) + ")") if others else None
        return cls(prepared, words, rest)

    def search(self, text: str) -> object | None:
        """Something truthy when the gate's regex finds a match in `text`, else None."""
        for word in self.words:
            if word in text:
                return word
        return self.rest.search(text) if self.rest is not None else None


@dataclass(frozen=True, slots=True)
class RiskPattern:
    """One compiled pattern. `risk`/`level` are None for flag-only categories."""

    id: str
    category: str
    risk: str | None
    level: str | None
    flag: str | None
    regexes: tuple[Regex, ...]
    unless: tuple[Regex, ...] = ()
    cancels: frozenset[str] = field(default_factory=frozenset)
    frame: bool = False
    needs: Gate | None = None
    # What each of the regexes needs in a text (content.prefilter); the patterns' prefilter
    # skips the pattern when none of its regexes can match.
    anchors: tuple[Needs, ...] = ()

    def spans(self, text: str) -> list[tuple[int, int]]:
        """Every span where this pattern matches already-normalised `text`."""
        out: list[tuple[int, int]] = []
        if self.needs is not None and self.needs.search(text) is None:
            return out
        excluded: list[tuple[int, int]] | None = None
        for rx in self.regexes:
            for m in rx.finditer(text):
                if self.unless:
                    if excluded is None:
                        excluded = [u.span() for ux in self.unless for u in ux.finditer(text)]
                    if any(_spans_overlap(m.span(), span) for span in excluded):
                        continue
                out.append(m.span())
        return out

    def open_spans(
        self, text: str, cancelled: Sequence[tuple[int, int]] = ()
    ) -> list[tuple[int, int]]:
        """The spans where this pattern matches that no cancelling span overlaps."""
        return [s for s in self.spans(text) if not any(_spans_overlap(s, c) for c in cancelled)]


# --- The data file, validated -------------------------------------------------------------------

Level = Literal["act", "ask"]
Risk = Literal["self_harm", "danger", "violence", "abuse"]
Flag = Literal["health", "minor", "leverage", "safe"]
_NAME = r"^[a-z][a-z0-9_]*$"


class CategorySpec(BaseModel):
    """A category: the risk it signals and its default level, and/or a flag it sets."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    risk: Risk | None = None
    level: Level | None = None
    flag: Flag | None = None
    cancels: tuple[Risk, ...] = ()
    frame: bool = False
    note: str | None = None

    @model_validator(mode="after")
    def _risk_has_a_level(self) -> CategorySpec:
        if (self.risk is None) != (self.level is None):
            raise ValueError("a category with a risk needs a level, and a level needs a risk")
        if self.risk is None and self.flag is None and not self.cancels and not self.frame:
            raise ValueError("a category needs a risk, a flag, something it cancels or a frame")
        if self.frame and (self.risk or self.flag or self.cancels):
            raise ValueError("a frame category only marks frames")
        return self


class PatternSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z][a-z_]*\.[a-z0-9][a-z0-9_]*$")
    category: str
    level: Level | None = None
    match: tuple[str, ...] = Field(min_length=1)
    unless: tuple[str, ...] = ()
    needs: str | None = None
    note: str | None = None

    @field_validator("match", "unless", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @field_validator("match", "unless")
    @classmethod
    def _non_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not v.strip() for v in value):
            raise ValueError("a regex cannot be blank")
        return value


def _expand(src: str, fragments: dict[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in fragments:
            raise ValueError(f"unknown fragment {{{{{name}}}}} in {src!r}")
        return fragments[name]

    return _FRAGMENT_RE.sub(sub, src)


def _compile(src: str, fragments: dict[str, str]) -> Regex:
    expanded = _expand(src, fragments)
    try:
        re.compile(expanded)
    except re.error as exc:
        raise ValueError(f"invalid regular expression {src!r}: {exc}") from None
    try:
        return Regex.build(prepare_regex(expanded))
    except re.error as exc:  # our rewrite broke a valid regex: still name the entry
        raise ValueError(f"regex {src!r} cannot be prepared: {exc}") from None


class RiskFile(BaseModel):
    """The whole of `risk_patterns.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fragments: dict[str, str] = {}
    categories: dict[str, CategorySpec] = Field(min_length=1)
    patterns: tuple[PatternSpec, ...] = Field(min_length=1)

    @field_validator("fragments")
    @classmethod
    def _fragments_are_plain_regexes(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if not re.fullmatch(_NAME, name):
                raise ValueError(f"fragment name {name!r} must be a lowercase word")
            if _FRAGMENT_RE.search(text):
                raise ValueError(f"fragment {name!r} cannot use other fragments")
            try:
                re.compile(text)
            except re.error as exc:
                raise ValueError(f"fragment {name!r} is not a valid regex: {exc}") from None
        return value

    @field_validator("categories")
    @classmethod
    def _category_names(cls, value: dict[str, CategorySpec]) -> dict[str, CategorySpec]:
        for name in value:
            if not re.fullmatch(_NAME, name):
                raise ValueError(f"category name {name!r} must be a lowercase word")
        return value


def _entry_name(raw: Any, loc: tuple[int | str, ...]) -> str:
    """A readable name for where a validation error is: the pattern id when there is one."""
    if len(loc) >= 2 and loc[0] == "patterns" and isinstance(loc[1], int):
        try:
            pid = raw["patterns"][loc[1]].get("id")
        except (KeyError, IndexError, TypeError, AttributeError):
            pid = None
        rest = ".".join(str(p) for p in loc[2:])
        name = pid if isinstance(pid, str) else f"patterns[{loc[1]}]"
        return f"{name}.{rest}" if rest else name
    return ".".join(str(p) for p in loc) or "-"


def parse_patterns(raw: Any, file: str = PATTERNS_FILE) -> tuple[RiskPattern, ...]:
    """Validate and compile the parsed YAML document (see `risk_patterns.yaml`).

    Any problem raises a `ContentError` naming the file and the entry (the pattern id)."""
    try:
        data = RiskFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ContentError(file, _entry_name(raw, tuple(first["loc"])), first["msg"]) from None

    patterns: list[RiskPattern] = []
    seen: set[str] = set()
    for spec in data.patterns:
        category = data.categories.get(spec.category)
        if category is None:
            raise ContentError(
                file, spec.id, f"unknown category {spec.category!r} (add it under categories)"
            )
        if spec.id in seen:
            raise ContentError(file, spec.id, "duplicate id")
        seen.add(spec.id)
        if spec.level is not None and category.risk is None:
            raise ContentError(file, spec.id, "a level only makes sense for a risk category")
        try:
            regexes = tuple(_compile(src, data.fragments) for src in spec.match)
            unless = tuple(_compile(src, data.fragments) for src in spec.unless)
            needs = None
            if spec.needs:
                needs = Gate.build(_compile(spec.needs, data.fragments).compiled.pattern)
        except ValueError as exc:
            raise ContentError(file, spec.id, str(exc)) from None
        patterns.append(
            RiskPattern(
                anchors=_anchors(regexes),
                id=spec.id,
                category=spec.category,
                risk=category.risk,
                level=spec.level or category.level,
                flag=category.flag,
                regexes=regexes,
                unless=unless,
                cancels=frozenset(category.cancels),
                frame=category.frame,
                needs=needs,
            )
        )
    return tuple(patterns)


def _anchors(regexes: Iterable[Regex]) -> tuple[Needs, ...]:
    """What each regex needs in a text: one string of each of its sets."""
    return tuple(required_strings(rx.compiled.pattern) for rx in regexes)


class PatternIndex:
    """The patterns of one file, with the prefilter that says which could match a text."""

    def __init__(self, patterns: tuple[RiskPattern, ...]) -> None:
        self.patterns = patterns
        self.prefilter = Prefilter([p.anchors for p in patterns])

    def candidates(self, text: str) -> list[RiskPattern]:
        """The patterns that could match `text`, in file order (the others cannot)."""
        patterns = self.patterns
        return [patterns[i] for i in sorted(self.prefilter.candidates(text))]


# One index per tuple of patterns, kept with the tuple so an id is never reused.
_INDEXES: dict[int, tuple[tuple[RiskPattern, ...], PatternIndex]] = {}


def pattern_index(patterns: tuple[RiskPattern, ...]) -> PatternIndex:
    kept = _INDEXES.get(id(patterns))
    if kept is not None and kept[0] is patterns:
        return kept[1]
    index = PatternIndex(patterns)
    if len(_INDEXES) >= 32:
        _INDEXES.clear()
    _INDEXES[id(patterns)] = (patterns, index)
    return index


def load_patterns(directory: Path = CONTENT_DIR) -> tuple[RiskPattern, ...]:
    """All patterns from `risk_patterns.yaml`, compiled once per directory."""
    return _patterns(directory)


@per_directory
def _patterns(directory: Path) -> tuple[RiskPattern, ...]:
    patterns = parse_patterns(read_yaml(PATTERNS_FILE, directory), PATTERNS_FILE)
    pattern_index(patterns)  # compiled with the patterns, not at the first message
    return patterns


# --- The second stage: weighted cues -------------------------------------------------------------

# The id and category a result from the cue stage carries.
CUE_ID = "cues.self_harm"
CUE_CATEGORY = "indirect"
# Concepts spread over a very long message say little about one thought, and weighing them
# costs time on every word: the cue stage reads messages up to this length (the bot's own
# default, about four times a long chat message); the patterns still read every message whole.
CUE_MAX_CHARS = 2_000


class CueGroupSpec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    weight: float
    words: tuple[str, ...] = Field(min_length=1)

    @field_validator("words")
    @classmethod
    def _non_blank(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not w.strip() for w in value):
            raise ValueError("a cue word cannot be blank")
        return value


class CueFile(BaseModel):
    """The whole of `risk_cues.yaml`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ask_at: float = Field(gt=0)
    min_groups: int = Field(ge=1)
    first_person: tuple[str, ...] = Field(min_length=1)
    groups: dict[str, CueGroupSpec] = Field(min_length=1)
    guards: dict[str, CueGroupSpec] = {}

    @model_validator(mode="after")
    def _signs(self) -> CueFile:
        for name, group in self.groups.items():
            if group.weight <= 0:
                raise ValueError(f"group {name!r} must have a positive weight")
        for name, guard in self.guards.items():
            if guard.weight >= 0:
                raise ValueError(f"guard {name!r} must have a negative weight")
        return self


def _word_regex(words: Iterable[str]) -> re.Pattern[str]:
    """One regex for whole words or phrases, folded like the text; "word*" takes any ending."""
    alternatives = []
    for word in sorted(words, key=len, reverse=True):
        stem = word.strip().lower()
        tail = r"\w*" if stem.endswith("*") else ""
        alternatives.append(re.escape(stem.rstrip("*")).replace("\\ ", " ") + tail)
    return re.compile(prepare_regex(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)"))


@dataclass(frozen=True, slots=True)
class CueScorer:
    """Weighs concept groups in a normalised message (see `risk_cues.yaml`)."""

    ask_at: float
    min_groups: int
    first_person: re.Pattern[str]
    groups: tuple[tuple[str, float, re.Pattern[str]], ...]
    guards: tuple[tuple[str, float, re.Pattern[str]], ...]
    # Which groups (then guards, numbered after them) could be in a text (content.prefilter).
    prefilter: Prefilter | None = None

    @classmethod
    def of(
        cls,
        ask_at: float,
        min_groups: int,
        first_person: re.Pattern[str],
        groups: tuple[tuple[str, float, re.Pattern[str]], ...],
        guards: tuple[tuple[str, float, re.Pattern[str]], ...],
    ) -> CueScorer:
        prefilter = Prefilter.of_regexes([rx.pattern for _name, _weight, rx in groups + guards])
        return cls(ask_at, min_groups, first_person, groups, guards, prefilter)

    def score(self, text: str) -> tuple[float, tuple[str, ...]]:
        """The summed weight and the names of the concept groups found (guards included)."""
        may = (
            self.prefilter.candidates(text)
            if self.prefilter is not None
            else range(len(self.groups) + len(self.guards))
        )
        total = 0.0
        found: list[str] = []
        for i, (name, weight, rx) in enumerate(self.groups):
            if i in may and rx.search(text):
                total += weight
                found.append(name)
        if not found:
            return 0.0, ()
        for i, (_name, weight, rx) in enumerate(self.guards, start=len(self.groups)):
            if i in may and rx.search(text):
                total += weight
        return total, tuple(found)

    def asks(self, text: str) -> bool:
        """True when the message should be asked about: enough weight from enough groups,
        and the writer speaking of themselves."""
        total, found = self.score(text)
        return (
            len(found) >= self.min_groups
            and total >= self.ask_at
            and self.first_person.search(text) is not None
        )


def parse_cues(raw: Any, file: str = CUES_FILE) -> CueScorer:
    try:
        data = CueFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "-"
        raise ContentError(file, where, first["msg"]) from None
    try:
        return CueScorer.of(
            ask_at=data.ask_at,
            min_groups=data.min_groups,
            first_person=_word_regex(data.first_person),
            groups=tuple((n, g.weight, _word_regex(g.words)) for n, g in data.groups.items()),
            guards=tuple((n, g.weight, _word_regex(g.words)) for n, g in data.guards.items()),
        )
    except re.error as exc:
        raise ContentError(file, "-", f"a cue word cannot be compiled: {exc}") from None


def load_cues(directory: Path = CONTENT_DIR) -> CueScorer:
    """The cue stage from `risk_cues.yaml`, compiled once per directory."""
    return _cues(directory)


@per_directory
def _cues(directory: Path) -> CueScorer:
    return parse_cues(read_yaml(CUES_FILE, directory), CUES_FILE)


# --- Chat shorthand ------------------------------------------------------------------------------


class ShorthandFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shorthand: dict[str, str] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Shorthand:
    """Whole-word replacements applied to normalised text."""

    table: dict[str, str]
    words: re.Pattern[str]

    def expand(self, text: str) -> str:
        return self.words.sub(lambda m: self.table[m.group(0)], text)


def parse_shorthand(raw: Any, file: str = SHORTHAND_FILE) -> Shorthand:
    try:
        data = ShorthandFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise ContentError(
            file, ".".join(str(p) for p in first["loc"]) or "-", first["msg"]
        ) from None
    table: dict[str, str] = {}
    for key, value in data.shorthand.items():
        folded_key, folded_value = normalise(str(key)), normalise(value)
        if not folded_key or not folded_value:
            raise ContentError(file, str(key), "shorthand and its meaning cannot be blank")
        table[folded_key] = folded_value
    alternatives = "|".join(re.escape(k) for k in sorted(table, key=len, reverse=True))
    return Shorthand(table, re.compile(r"(?<![\w'/])(?:" + alternatives + r")(?![\w'/])"))


def load_shorthand(directory: Path = CONTENT_DIR) -> Shorthand:
    """The shorthand table from `risk_shorthand.yaml`, compiled once per directory."""
    return _shorthand(directory)


@per_directory
def _shorthand(directory: Path) -> Shorthand:
    return parse_shorthand(read_yaml(SHORTHAND_FILE, directory), SHORTHAND_FILE)


def expand(text: str, directory: Path = CONTENT_DIR) -> str:
    """Normalised text with chat shorthand spelled out; unchanged if the table cannot load."""
    try:
        return load_shorthand(directory).expand(text)
    except ContentError:
        log.exception("risk shorthand could not be loaded; screening the text as written")
        return text


# --- Screening -----------------------------------------------------------------------------------


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _decide(matched: list[RiskPattern], flags: set[str]) -> ScreenResult:
    risky = [p for p in matched if p.risk is not None]
    if not risky:
        if not flags:
            return CLEAR
        return ScreenResult(
            categories=_unique(p.category for p in matched if p.risk is not None),
            **{f: True for f in flags},
        )
    level = ACT if any(p.level == ACT for p in risky) else ASK
    risks = {p.risk for p in risky if p.level == level}
    risk = next(r for r in RISKS if r in risks)
    if risk == "self_harm" and level == ASK:
        risk = POSSIBLE_SELF_HARM
    # A message that names a risk is not also a statement of safety.
    flags.discard("safe")
    return ScreenResult(
        risk=risk,
        matched=tuple(p.id for p in risky),
        level=level,
        categories=_unique(p.category for p in risky),
        **{f: True for f in flags},
    )


# Where a sentence ends, for frames: a full stop, a question or exclamation mark, a semicolon, a
# line break, or "but" (which turns "I used to …, but now …" into two).
_SENTENCE_END = re.compile(r"[.!?;\n]|\bbut\b")


def _sentence_around(text: str, span: tuple[int, int]) -> tuple[int, int]:
    start = 0
    for end in _SENTENCE_END.finditer(text, 0, span[0]):
        start = end.end()
    after = _SENTENCE_END.search(text, span[1])
    return start, after.start() if after else len(text)


def _all_framed(text: str, risky: Sequence[tuple[int, int]], frames: Sequence[RiskPattern]) -> bool:
    """Whether every risk span the patterns matched shares its sentence with a frame."""
    framing = [span for p in frames for span in p.spans(text)]
    if not framing or not risky:
        return False
    for span in risky:
        start, end = _sentence_around(text, span)
        if not any(start <= f[0] and f[1] <= end for f in framing):
            return False
    return True


def screen_normalised(
    text: str, patterns: tuple[RiskPattern, ...], cues: CueScorer | None = None
) -> ScreenResult:
    """Screen text that is already `normalise`d, against the given patterns, then (when no
    risk matched and the person did not say they are safe) against the cue stage."""
    if not text:
        return CLEAR
    cancelling: dict[str, list[tuple[int, int]]] = {}
    flags: set[str] = set()
    candidates = pattern_index(patterns).candidates(text)
    frames = [p for p in candidates if p.frame]
    for p in candidates:
        if p.risk is None and p.cancels:
            spans = p.spans(text)
            if spans:
                for risk in p.cancels:
                    cancelling.setdefault(risk, []).extend(spans)
                if p.flag:
                    flags.add(p.flag)
    matched: list[RiskPattern] = []
    risky: list[tuple[int, int]] = []  # where the risks matched, for the frames
    for p in candidates:
        if (p.risk is None and p.cancels) or p.frame:
            continue
        spans = p.open_spans(text, cancelling.get(p.risk, ()) if p.risk else ())
        if spans:
            matched.append(p)
            if p.risk is not None:
                risky.extend(spans)
            if p.flag:
                flags.add(p.flag)
    result = _decide(matched, flags)
    if result.flagged and frames and _all_framed(text, risky, frames):
        result = dataclasses.replace(result, framed=True)
    if (
        cues is not None
        and len(text) <= CUE_MAX_CHARS
        and not result.flagged
        and not result.safe
        and cues.asks(text)
    ):
        return dataclasses.replace(
            result,
            risk=POSSIBLE_SELF_HARM,
            matched=(CUE_ID,),
            level=ASK,
            categories=(CUE_CATEGORY,),
        )
    return result


# The ids and category a result from the semantic layers carries: the nearest labelled
# sentences (content/semantic.py) and the trained classifier (content/classifier.py).
SEMANTIC_IDS = {"self_harm": "semantic.self_harm", "danger": "semantic.danger"}
CLASSIFIER_IDS = {"self_harm": "classifier.self_harm", "danger": "classifier.danger"}
# What the layers may raise on their own, always at the asking level (self-harm first when both
# reach their thresholds): self-harm, to the direct question, and danger from the ex, to the
# question "are you afraid of what they might do?". Neither costs much when it is wrong.
# Danger's own reply switches reconnection off for good, so a layer only ever asks; the answer
# decides.
SEMANTIC_RAISES = ("self_harm", "danger")
# The risk a semantic finding is reported as.
_SEMANTIC_RISK = {"self_harm": POSSIBLE_SELF_HARM, "danger": "danger"}
SEMANTIC_CATEGORY = "semantic"


@cache
def _warn_semantic_unavailable(directory: Path) -> None:
    """Said once per content directory, not for every message."""
    log.warning("semantic layer unavailable; screening with the patterns only")


def semantic_stage(
    result: ScreenResult, text: Any, directory: Path = CONTENT_DIR, use_classifier: bool = True
) -> ScreenResult:
    """The pattern result, or, when it found no risk and no statement of safety, what the
    semantic layers find, at the asking level: the nearest labelled sentences first, then
    (unless `use_classifier` is False) the trained classifier."""
    if not isinstance(text, str):
        return result
    if result.flagged:
        return _set_aside(result, text, directory) if use_classifier else result
    if result.safe:
        return result
    # numpy and the model files only when a message needs them
    from content import classifier, semantic

    try:
        found, ids = semantic.judge(text, directory, SEMANTIC_RAISES).risk, SEMANTIC_IDS
        if found is None and use_classifier:
            found, ids = classifier.judge(text, directory).risk, CLASSIFIER_IDS
    except semantic.SemanticUnavailable:
        _warn_semantic_unavailable(directory)
        return result
    if found is None:
        return result
    return dataclasses.replace(
        result,
        risk=_SEMANTIC_RISK[found],
        matched=(ids[found],),
        level=ASK,
        categories=(SEMANTIC_CATEGORY,),
    )


# The risks a frame and the classifier may set aside together. Violence is not among them (the
# classifier does not read it), nor someone else's self-harm told by the person.
SET_ASIDE_RISKS = frozenset({"self_harm", POSSIBLE_SELF_HARM, "danger", "abuse"})
# Nor in a long message: it can bury one risky sentence among many ordinary ones, and the
# classifier reads the message whole (the bot's own limit, in characters).
SET_ASIDE_MAX_CHARS = 200


def may_set_aside(result: ScreenResult, text: str) -> bool:
    """Whether a pattern finding is one the classifier may set aside (see `_set_aside`)."""
    return (
        result.framed
        and result.risk in SET_ASIDE_RISKS
        and not result.leverage
        and "reported_self_harm" not in result.categories
        and len(text) <= SET_ASIDE_MAX_CHARS
    )


def _set_aside(result: ScreenResult, text: str, directory: Path) -> ScreenResult:
    """A framed pattern finding that the classifier reads as safe with near certainty is set
    aside: a school nurse's talk about self-harm, "I self-harmed at 15, years clean now", a
    film's plot. Both must agree; a risk in any sentence without a frame is never set aside,
    and the classifier's bar (`Model.set_aside`) is chosen by the build so that almost no risk
    sentence the patterns catch is lost."""
    if not may_set_aside(result, text):
        return result
    from content import classifier, semantic

    try:
        if not classifier.sets_aside(text, directory):
            return result
    except semantic.SemanticUnavailable:
        return result
    return ScreenResult(
        health=result.health, minor=result.minor, leverage=result.leverage, safe=result.safe
    )


def screen(
    text: str,
    *,
    directory: Path = CONTENT_DIR,
    use_semantic: bool = True,
    use_classifier: bool = True,
) -> ScreenResult:
    """Screen one free-text message. Never raises.

    A broken patterns file is a start-up error (call `load_patterns()` at boot to surface
    it); if it still happens here it is logged and the message is treated as unflagged.
    `use_semantic=False` gives the patterns' decision alone (for measuring the layers apart);
    `use_classifier=False` leaves out the classifier only, for text that is no longer a message
    as someone wrote it (the classifier reads whole messages).
    Within one update (content.memo) the same text is screened once.
    """
    if not isinstance(text, str):
        return _screen(text, directory, use_semantic, use_classifier)
    return remembered(
        ("screen", text, directory, use_semantic, use_classifier),
        lambda: _screen(text, directory, use_semantic, use_classifier),
    )


# A command on its own ("/help", "/plan@CoachBot") carries no words of the person's to screen.
_BARE_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{1,64})?\s*")


def _screen(text: str, directory: Path, use_semantic: bool, use_classifier: bool) -> ScreenResult:
    if isinstance(text, str) and _BARE_COMMAND.fullmatch(text):
        return CLEAR
    try:
        patterns = load_patterns(directory)
    except ContentError:
        log.exception("risk patterns could not be loaded; message not screened")
        return CLEAR
    try:
        cues: CueScorer | None = load_cues(directory)
    except ContentError:
        log.exception("risk cues could not be loaded; screening with the patterns only")
        cues = None
    try:
        result = screen_normalised(expand(normalise(text), directory), patterns, cues)
        if not use_semantic:
            return result
        return semantic_stage(result, text, directory, use_classifier)
    except Exception:  # defensive: a screen must never take the conversation down
        log.error("screening failed; retrying on the plain lower-cased text")
    try:
        plain = text.lower()[:MAX_CHARS] if isinstance(text, str) else ""
        return screen_normalised(plain, patterns)
    except Exception:
        log.error("screening failed twice; message not screened")
        return CLEAR


# --- Context: the person's last messages ---------------------------------------------------------

# How far back the caller should look when it collects `recent` (the caller stores the results).
CONTEXT_WINDOW_MINUTES = 30
# Self-harm signals from several messages that, seen together in the window, make a clear
# signal (the bot's own rule: two ambiguous signals in half an hour, or three different
# self-harm categories over two messages or more, are no longer ambiguous; a clinician would
# not wait for a third). One message's own categories never add up on their own: its level is
# its patterns' decision.
ASK_SIGNALS_TO_ACT = 2
CATEGORIES_TO_ACT = 3
ADDED_UP = "context.added_up"


def combine(current: ScreenResult, recent: Sequence[ScreenResult]) -> ScreenResult:
    """The current message's result, seen with the person's earlier results.

    `recent` holds this person's `ScreenResult`s from the last `CONTEXT_WINDOW_MINUTES`,
    oldest first (the caller stores and passes them; a button answer "No, I'm safe" is passed
    as `SAFE`). Pure: nothing is stored here.

    * A clear signal ("act") or a message with no self-harm signal is returned as it is.
    * Anything up to and including the person's last "I'm safe" is set aside: a signal
      followed by a clear "I'm safe" does not add up with what comes after.
    * An ambiguous self-harm signal ("ask") becomes "act" when an earlier message in the
      window adds to it: counting the current one, the window holds a clear self-harm signal,
      or `ASK_SIGNALS_TO_ACT` ambiguous ones, or `CATEGORIES_TO_ACT` different self-harm
      categories (hopelessness + burden + a farewell) from two messages or more. The current
      message alone never escalates, however many categories it matched. The escalated
      result lists every category seen and adds `ADDED_UP` to `matched`.
    * A possible danger ("ask") after an "I'm safe" in the window is set aside: the person
      was asked and answered; a clear danger is never set aside.
    """
    if current.level == ASK and current.risk == "danger":
        if any(r.safe and not r.flagged for r in recent):
            return dataclasses.replace(current, risk=NONE, level=NONE, matched=(), categories=())
        return current
    if current.level != ASK or current.risk != POSSIBLE_SELF_HARM:
        return current
    window: list[ScreenResult] = []
    for result in recent:
        if result.safe and not result.flagged:
            window.clear()
        elif result.self_harm:
            window.append(result)
    if not window:
        return current
    window.append(current)
    asks = sum(r.level == ASK for r in window)
    acts = sum(r.level == ACT for r in window)
    categories = _unique(c for r in window for c in r.categories)
    if acts == 0 and asks < ASK_SIGNALS_TO_ACT and len(categories) < CATEGORIES_TO_ACT:
        return current
    return ScreenResult(
        risk="self_harm",
        matched=(*current.matched, ADDED_UP),
        level=ACT,
        categories=categories,
        health=current.health,
        minor=current.minor,
        leverage=current.leverage,
    )
