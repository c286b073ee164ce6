"""Which of many regexes could match a text, found in one pass.

The crisis screen runs hundreds of regexes over every message, and almost every message matches
none of them. Running each regex to find that out is most of the screen's cost. Instead, each
regex is read once (with Python's own regex parser) for sets of strings such that every match
contains one string of each set: for `\\b(?:took|swallowed)\\s+(?:all|every)\\s+pils\\b` they
are {"took", "swallowed"}, {"all", "every"} and {"pils"}, each a whole word. The three sets least
likely to occur by chance are kept. All of them go into one RE2 set (google-re2), which reports
in a single scan of the text which sets occur in it. Only the regexes that find every set they
need are run, by Python's regex engine, so the result is exactly what running every regex would
give: a regex that matches always contains its strings, so it is never skipped. A regex with no
such strings (all optional parts) is always run.

Word boundaries (a `\\b` in the regex, or a space beside a word) are looked for only in ASCII
text: RE2's `\\b` knows only ASCII letters, Python's every letter, so other text is scanned
without them (a candidate more, never a miss).

Pure: no Telegram, no database.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

import re2

log = logging.getLogger(__name__)

# A group of alternatives is spelled out into its strings up to this many; beyond that it is
# read as "something" and the strings on either side of it are kept apart.
MAX_STRINGS = 64
# A short class ("[sz]", "[a-c]") is spelled out; a longer range is "some letter".
MAX_RANGE = 8
# RE2's budget for the compiled set and its cache of scanning states. The cache fills as it is
# used, a few megabytes for the screen's patterns. Below about 20 MB the cache is emptied and
# rebuilt over and over, which makes a scan some thirty times slower.
MAX_MEMORY = 64 << 20

_REPEATS = (sre.MAX_REPEAT, sre.MIN_REPEAT, getattr(sre, "POSSESSIVE_REPEAT", sre.MAX_REPEAT))
_GROUPS = (sre.SUBPATTERN, getattr(sre, "ATOMIC_GROUP", sre.SUBPATTERN))
_ZERO_WIDTH = (sre.AT, sre.ASSERT, sre.ASSERT_NOT)

Strings = frozenset[str]

# Stands for a word boundary (\b) inside a string: "\bend" is "end" at the start of a word,
# far rarer than "end" anywhere. RE2's \b knows only ASCII letters, Python's every letter, so
# the boundaries are used only on ASCII text; otherwise they are dropped.
EDGE = "\ue000"


def _product(left: set[str], right: Iterable[str]) -> set[str] | None:
    out = {(a + b).replace(EDGE + EDGE, EDGE) for a in left for b in right}
    return out if len(out) <= MAX_STRINGS else None


def _group_body(op: Any, av: Any) -> Any:
    return av[3] if op is sre.SUBPATTERN else av


def _folds_case(op: Any, av: Any) -> bool:
    """A group that turns on ignoring case: its letters are not the text's letters."""
    return op is sre.SUBPATTERN and bool(av[1] & re.IGNORECASE)


def _spelled(op: Any, av: Any) -> set[str] | None:
    """Every string this one element can match, when they are few, else None."""
    if op is sre.LITERAL:
        return {chr(av)} if chr(av) != EDGE else None
    if op is sre.AT and av is sre.AT_BOUNDARY:
        return {EDGE}
    if op in _ZERO_WIDTH:
        return {""}
    if op is sre.IN:
        out: set[str] = set()
        for item, value in av:
            if item is sre.LITERAL and chr(value) != EDGE:
                out.add(chr(value))
            elif item is sre.RANGE and value[1] - value[0] < MAX_RANGE:
                out.update(chr(c) for c in range(value[0], value[1] + 1))
            else:  # a negation, a category (\w, \s) or a wide range
                return None
        return out
    if op in _GROUPS:
        return None if _folds_case(op, av) else _spelled_sequence(_group_body(op, av))
    if op is sre.BRANCH:
        out = set()
        for branch in av[1]:
            strings = _spelled_sequence(branch)
            if strings is None:
                return None
            out |= strings
        return out if len(out) <= MAX_STRINGS else None
    if op in _REPEATS:
        low, high, item = av
        if high is sre.MAXREPEAT or high > 2:
            return None
        each = _spelled_sequence(item)
        if each is None:
            return None
        out = {""} if low == 0 else set()
        current: set[str] | None = {""}
        for count in range(1, high + 1):
            current = _product(current, each)
            if current is None:
                return None
            if count >= low:
                out |= current
        return out if len(out) <= MAX_STRINGS else None
    return None


def _spelled_sequence(items: Sequence[tuple[Any, Any]]) -> set[str] | None:
    out: set[str] | None = {""}
    for op, av in items:
        strings = _spelled(op, av)
        if strings is None:
            return None
        out = _product(out, strings)
        if out is None:
            return None
    return out


def _letters(string: str) -> int:
    return len(string) - string.count(EDGE)


def _shortest(strings: Iterable[str]) -> int:
    """How rare the set's commonest string is: its length, a word boundary counting as a letter
    (0 when some string has no letter at all)."""
    return min((len(s) if _letters(s) else 0 for s in strings), default=0)


def _rank(strings: set[str] | Strings) -> tuple[int, int]:
    return (_shortest(strings), -len(strings))


def _best(sets: Sequence[set[str]]) -> set[str] | None:
    """The set of strings least likely to occur by chance: the longest shortest string."""
    return max(sets, key=_rank) if sets else None


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


_NOT_WORD_CLASSES = (sre.CATEGORY_SPACE, sre.CATEGORY_NOT_WORD)


def _gap(op: Any, av: Any) -> bool:
    """An element that matches one character or more, none of them a letter, digit or "_"
    (\\s+, [ ,.]): a word that ends just before it, or starts just after it, has a boundary
    there."""
    if op is sre.CATEGORY:
        return av in _NOT_WORD_CLASSES
    if op is sre.IN:
        return bool(av) and all(
            (item is sre.CATEGORY and value in _NOT_WORD_CLASSES)
            or (item is sre.LITERAL and not _is_word(chr(value)))
            for item, value in av
        )
    if op in _REPEATS:
        low, _high, item = av
        return low >= 1 and len(item) == 1 and _gap(*item[0])
    return False


def _required(items: Sequence[tuple[Any, Any]]) -> list[set[str]]:
    """Sets of strings such that every match of the sequence contains one string of each."""
    found: list[set[str]] = []
    run: set[str] = {""}
    after_gap = False

    def close(before_gap: bool = False) -> None:
        if run != {""}:
            if before_gap:  # the boundary where a word meets the gap
                found.append({s + EDGE if s and _is_word(s[-1]) else s for s in run})
            else:
                found.append(set(run))

    for op, av in items:
        strings = _spelled(op, av)
        if strings is not None and after_gap and run == {""}:
            strings = {EDGE + s if s and _is_word(s[0]) else s for s in strings}
        after_gap = False
        if strings is not None:
            longer = _product(run, strings)
            if longer is not None:
                run = longer
                continue
            close()
            run = strings
            continue
        after_gap = _gap(op, av)
        close(before_gap=after_gap)
        run = {""}
        if op in _GROUPS and not _folds_case(op, av):
            found.extend(_required(_group_body(op, av)))
        elif op is sre.BRANCH:
            parts = [_best(_required(branch)) for branch in av[1]]
            if all(parts):
                union = set().union(*parts)  # type: ignore[arg-type]
                if len(union) <= MAX_STRINGS:
                    found.append(union)
        elif op in _REPEATS and av[0] >= 1:
            found.extend(_required(av[2]))
    close()
    return [s for s in found if _shortest(s) > 0 and len(s) <= MAX_STRINGS]


def required_strings(pattern: str, most: int = 3) -> tuple[Strings, ...]:
    """Sets of strings such that every match of the regex `pattern` contains one string of
    each set: at most `most` of them, the least likely first. Empty when none is known."""
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, RecursionError):
        return ()
    if parsed.state.flags & re.IGNORECASE:
        return ()
    found = _required(parsed)
    ranked = sorted(found, key=_rank, reverse=True)
    unique = list(dict.fromkeys(frozenset(s) for s in ranked))
    return tuple(unique[:most])


# What a regex needs in a text: one string of each set (empty: nothing is known).
Needs = tuple[Strings, ...]


def pattern_of(strings: Strings, edges: bool) -> str:
    """The RE2 regex for one set of strings, with or without its word boundaries."""

    def one(string: str) -> str:
        parts = [re.escape(part) for part in string.split(EDGE)]
        return ("\\b" if edges else "").join(parts)

    return "(?:" + "|".join(sorted({one(s) for s in strings})) + ")"


def _compiled(numbers: dict[Strings, int], edges: bool) -> Any:
    """An RE2 set: entry 0 matches every text, then one entry per set of strings, in the order
    of their numbers. None (with a warning) when RE2 cannot compile it."""
    options = re2.Options()
    options.max_mem = MAX_MEMORY
    options.log_errors = False  # failures are handled here; RE2 would print to stderr
    compiled = re2.Set.SearchSet(options)
    try:
        compiled.Add("")
        for strings in numbers:
            compiled.Add(pattern_of(strings, edges))
        compiled.Compile()
    except re2.error:
        log.warning("prefilter could not be compiled; every regex will be run")
        return None
    return compiled


class Prefilter:
    """Which of several items could match a text, found with one RE2 scan.

    Each item is a list of alternatives (an item's regexes); an alternative is what it
    `Needs`. An item is a candidate when, for one of its alternatives, one string of every
    set occurs in the text. An item with no alternatives, or with one that needs nothing, is
    always a candidate. `candidates(text)` gives the positions of the candidate items.
    """

    def __init__(self, items: Sequence[Sequence[Needs]]) -> None:
        self.size = len(items)
        self.always = frozenset(
            i for i, alts in enumerate(items) if not alts or any(not needs for needs in alts)
        )
        # For each entry of the RE2 set: the (item, other entries needed) it leads. Entry 0
        # matches every text: RE2 reports a scan that ran out of memory as "no match", so a
        # scan without entry 0 among its hits is known to have failed.
        self._leads: list[list[tuple[int, frozenset[int]]]] = [[]]
        self._set: Any = None
        self._plain: Any = None
        numbers: dict[Strings, int] = {}
        for position, alternatives in enumerate(items):
            if position in self.always:
                continue
            for needs in alternatives:
                ids = []
                for strings in needs:
                    if strings not in numbers:
                        numbers[strings] = len(self._leads)
                        self._leads.append([])
                    ids.append(numbers[strings])
                self._leads[ids[0]].append((position, frozenset(ids[1:])))
        if not numbers:
            return
        # One set reads word boundaries (for ASCII text), the other drops them.
        self._set = _compiled(numbers, edges=True)
        self._plain = _compiled(numbers, edges=False) if self._set is not None else None

    @classmethod
    def of_regexes(cls, patterns: Sequence[str]) -> Prefilter:
        """One item per regex (given as its pattern string), by position."""
        return cls([(required_strings(pattern),) for pattern in patterns])

    def candidates(self, text: str) -> set[int]:
        scan = self._set if text.isascii() else self._plain
        if scan is None:
            return set(range(self.size))
        try:
            hits = scan.Match(text)
        except (UnicodeError, re2.error):  # text RE2 cannot take (a lone surrogate)
            hits = None
        if not hits:  # the scan failed (see entry 0): every item is a candidate
            log.warning("prefilter scan failed; every regex is run for this message")
            return set(range(self.size))
        found = set(self.always)
        present = set(hits)
        leads = self._leads
        for k in hits:
            for position, others in leads[k]:
                if position not in found and present.issuperset(others):
                    found.add(position)
        return found
