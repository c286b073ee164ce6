"""Screening free text for self-harm, violence and abuse language.

Pure and fast: no Telegram, no database, no network. The patterns live in
`risk_patterns.yaml` and are compiled once, at the first call, into `RiskPattern`s.

How a message is matched:

1. `normalise` folds the text: unicode quotes become ', accents, zero-width and
   control characters go, case is folded, leetspeak inside words is undone
   ("k1ll" -> "kill"), every run of a repeated letter becomes one letter
   ("diiiie" -> "die", "kill" -> "kil") and whitespace is collapsed.
2. Every regex from the YAML file gets the same letter folding, so authors write
   plain English ("kill", "better off") and it still matches "killll" or
   "beter of". An apostrophe in a pattern is optional, so "don't" also
   matches "dont".
3. A pattern matches when one of its regexes matches somewhere that none of its
   `unless` regexes overlaps ("want to die", unless "die alone").

`screen(text)` never raises: any input (empty, huge, emoji, RTL, control characters,
not even a string) gives a `ScreenResult`.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from content.loader import CONTENT_DIR, ContentError, read_yaml, require_text

log = logging.getLogger(__name__)

PATTERNS_FILE = "risk_patterns.yaml"

NONE = "none"
# Highest priority first: when several risks match, the first one listed here wins.
RISKS: tuple[str, ...] = ("self_harm", "violence", "abuse")

# Telegram messages are at most 4,096 characters; anything longer is screened up to here.
MAX_CHARS = 20_000

_ID_RE = re.compile(r"^[a-z][a-z_]*\.[a-z0-9][a-z0-9_]*$")
_FRAGMENT_RE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
_ENTRY_KEYS = frozenset({"id", "risk", "match", "unless", "note"})


# --- Result --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScreenResult:
    """What the screen found: the winning `risk` and every matching pattern id, in file order."""

    risk: str = NONE
    matched: tuple[str, ...] = ()

    @property
    def flagged(self) -> bool:
        return self.risk != NONE

    def to_dict(self) -> dict[str, Any]:
        return {"risk": self.risk, "matched": list(self.matched)}


CLEAR = ScreenResult()


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
# A word that mixes letters with leetspeak characters ("k1ll", "$uicide", "d13").
_LEET_WORD = re.compile(r"(?<![a-z0-9@$])(?=[a-z0-9@$]*[a-z])[a-z0-9@$]*[013457@$][a-z0-9@$]*")
# ...but not numbers with a unit or an ordinal ("20kms", "3am", "21st", "5x").
_NUMBER_WITH_UNIT = re.compile(
    r"^\d+(?:st|nd|rd|th|s|am|pm|k|m|x|h|hr|hrs|min|mins|yo|y|yr|yrs|kg|km|kms|lb|lbs|mg|ml|g|ft"
    r"|cm|mm|p|gb|mb|d|w|mo|ish)$"
)
_REPEATED_LETTER = re.compile(r"([^\W\d_])\1+")
_WHITESPACE = re.compile(r"\s+")


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
        s = _ASCII_CONTROL.sub(" ", s).lower()
    else:
        s = _strip_marks(unicodedata.normalize("NFKD", s.casefold()))
    s = _LEET_WORD.sub(_deleet, s)
    s = _REPEATED_LETTER.sub(r"\1", s)
    return _WHITESPACE.sub(" ", s).strip()


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


@dataclass(frozen=True, slots=True)
class RiskPattern:
    id: str
    risk: str
    regexes: tuple[Regex, ...]
    unless: tuple[Regex, ...] = ()

    def matches(self, text: str) -> bool:
        """Whether this pattern matches already-normalised `text`."""
        excluded: list[tuple[int, int]] | None = None
        for rx in self.regexes:
            for m in rx.finditer(text):
                if not self.unless:
                    return True
                if excluded is None:
                    excluded = [u.span() for ux in self.unless for u in ux.finditer(text)]
                if not any(_spans_overlap(m.span(), span) for span in excluded):
                    return True
        return False


def _as_list(file: str, entry: str, value: Any, field: str) -> list[str]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value:
        raise ContentError(file, entry, f"'{field}' must be a regex or a non-empty list of them")
    return [require_text(file, entry, v, field) for v in value]


def _expand(file: str, entry: str, src: str, fragments: Mapping[str, str]) -> str:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in fragments:
            raise ContentError(file, entry, f"unknown fragment {{{{{name}}}}} in {src!r}")
        return fragments[name]

    return _FRAGMENT_RE.sub(sub, src)


def _compile(file: str, entry: str, src: str, fragments: Mapping[str, str]) -> Regex:
    expanded = _expand(file, entry, src, fragments)
    try:
        re.compile(expanded)
    except re.error as exc:
        raise ContentError(file, entry, f"invalid regular expression {src!r}: {exc}") from None
    try:
        return Regex.build(prepare_regex(expanded))
    except re.error as exc:  # our rewrite broke a valid regex: still name the entry
        raise ContentError(file, entry, f"regex {src!r} cannot be prepared: {exc}") from None


def _load_fragments(file: str, raw: Any) -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise ContentError(file, "fragments", "must map fragment names to regex text")
    fragments: dict[str, str] = {}
    for name, value in raw.items():
        entry = f"fragments.{name}"
        if not isinstance(name, str) or not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ContentError(file, entry, "fragment names are lowercase words")
        text = require_text(file, entry, value, "fragment")
        if _FRAGMENT_RE.search(text):
            raise ContentError(file, entry, "fragments cannot use other fragments")
        try:
            re.compile(text)
        except re.error as exc:
            raise ContentError(file, entry, f"invalid regular expression: {exc}") from None
        fragments[name] = text
    return fragments


def parse_patterns(raw: Any, file: str = PATTERNS_FILE) -> tuple[RiskPattern, ...]:
    """Validate and compile the parsed YAML document (see `risk_patterns.yaml`)."""
    if not isinstance(raw, dict):
        raise ContentError(file, "-", "must be a mapping with a 'patterns' list")
    fragments = _load_fragments(file, raw.get("fragments"))
    entries = raw.get("patterns")
    if not isinstance(entries, list) or not entries:
        raise ContentError(file, "patterns", "must be a non-empty list of patterns")

    patterns: list[RiskPattern] = []
    seen: set[str] = set()
    for index, body in enumerate(entries):
        entry = f"patterns[{index}]"
        if not isinstance(body, dict):
            raise ContentError(file, entry, "each pattern must be a mapping")
        pid = require_text(file, entry, body.get("id"), "id")
        entry = pid
        if not _ID_RE.match(pid):
            raise ContentError(file, entry, "id must look like 'risk.short_name'")
        if pid in seen:
            raise ContentError(file, entry, "duplicate id")
        seen.add(pid)
        unknown_keys = set(body) - _ENTRY_KEYS
        if unknown_keys:
            raise ContentError(file, entry, f"unknown field(s): {', '.join(sorted(unknown_keys))}")
        risk = body.get("risk")
        if risk not in RISKS:
            raise ContentError(
                file, entry, f"unknown risk {risk!r} (use one of {', '.join(RISKS)})"
            )
        if not pid.startswith(f"{risk}."):
            raise ContentError(file, entry, f"id must start with its risk, '{risk}.'")
        regexes = tuple(
            _compile(file, entry, src, fragments)
            for src in _as_list(file, entry, body.get("match"), "match")
        )
        unless: tuple[Regex, ...] = ()
        if body.get("unless") is not None:
            unless = tuple(
                _compile(file, entry, src, fragments)
                for src in _as_list(file, entry, body.get("unless"), "unless")
            )
        patterns.append(RiskPattern(pid, risk, regexes, unless))
    return tuple(patterns)


def load_patterns(directory: Path = CONTENT_DIR) -> tuple[RiskPattern, ...]:
    """All patterns from `risk_patterns.yaml`, compiled once per directory."""
    return _load_patterns(Path(directory).resolve())


@cache
def _load_patterns(directory: Path) -> tuple[RiskPattern, ...]:
    return parse_patterns(read_yaml(PATTERNS_FILE, directory), PATTERNS_FILE)


# --- Screening -----------------------------------------------------------------------------------


def _decide(matched: list[RiskPattern]) -> ScreenResult:
    if not matched:
        return CLEAR
    risks = {p.risk for p in matched}
    risk = next(r for r in RISKS if r in risks)
    return ScreenResult(risk, tuple(p.id for p in matched))


def screen_normalised(text: str, patterns: tuple[RiskPattern, ...]) -> ScreenResult:
    """Screen text that is already `normalise`d, against the given patterns."""
    if not text:
        return CLEAR
    return _decide([p for p in patterns if p.matches(text)])


def screen(text: str, *, directory: Path = CONTENT_DIR) -> ScreenResult:
    """Screen one free-text message. Never raises.

    A broken patterns file is a start-up error (call `load_patterns()` at boot to surface
    it); if it still happens here it is logged and the message is treated as unflagged.
    """
    try:
        patterns = load_patterns(directory)
    except ContentError:
        log.exception("risk patterns could not be loaded; message not screened")
        return CLEAR
    try:
        return screen_normalised(normalise(text), patterns)
    except Exception:  # defensive: a screen must never take the conversation down
        log.exception("screening failed; retrying on the plain lower-cased text")
    try:
        plain = text.lower()[:MAX_CHARS] if isinstance(text, str) else ""
        return screen_normalised(plain, patterns)
    except Exception:
        log.exception("screening failed twice; message not screened")
        return CLEAR
