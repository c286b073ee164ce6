"""Reviewing a draft message to the ex: what in it works against them, and better versions.

Pure and deterministic: no Telegram, no database, no clock. The patterns, texts and rewrites live
in `review.yaml`, validated once at load (a bad regex, a missing source or an empty text is a
`ContentError` naming the file and the entry); the advice engine (`content/advice.py`) says where
the person is and whether texting is right at all.

    review(draft, situation) -> Review(findings, rewrites)

Findings come in this order, each reported once: where they are (no contact, and the verdict's
own lead reason when it says not to text), then the situation around the draft (a message still
unanswered, the late hour), then the draft itself (review.yaml, top to bottom). Rewrites are
offered only when the verdict's decision is one of the texting decisions.
"""

from __future__ import annotations

import re
import string
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from pathlib import Path
from typing import Any

from content.advice import (
    LATE_NIGHT_HOURS,
    NO_CONTACT_MAX_DAYS,
    NO_CONTACT_MIN_DAYS,
    RASH_REPAIR_LAST_DAY,
    REASONS_TO_TEXT,
    SUGGESTION_MAX_CHARS,
    TEXTING_DECISIONS,
    THEY_MESSAGED,
    Rulebook,
    Situation,
    Verdict,
    advise,
    load_rulebook,
)
from content.loader import (
    CONTENT_DIR,
    ContentError,
    Source,
    check_sources,
    load_sources,
    read_sections,
    require_text,
)
from content.vocab import DEFAULT_NO_CONTACT_DAYS

REVIEW_FILE = "review.yaml"
# Decisions that mean "not now": the verdict itself becomes a finding.
HOLDING_OFF = frozenset({"wait", "do_not_text", "get_support"})
# Reasons a draft can show by itself (review.yaml `reasons`); "reply" follows from the situation.
INFERABLE_REASONS = tuple(r for r in REASONS_TO_TEXT if r != "reply")
REWRITES_PER_REVIEW = 3
REWRITES_PER_GROUP = (2, 3)
# Only this much of a draft is read: a message longer than this is an essay whatever it says.
MAX_DRAFT_CHARS = 20_000

# The situation assumed when none is given: no contact is over, the person is calm, ready, and
# wants them back; nothing is pending and the hour is not known.
ASSUMED_SITUATION = Situation(
    days_since_breakup=NO_CONTACT_MAX_DAYS,
    goal="get_back",
    feeling="calm",
    abuse_or_repeated_cheating=False,
    readiness_checklist_done=True,
)

CHECKS = (
    "patterns",
    "phase",
    "length",
    "bare_opener",
    "grovelling",
    "unanswered",
    "late_night",
)
# Checks that look at the draft with regexes, and which of them need `patterns`.
_PATTERN_CHECKS = frozenset({"patterns", "bare_opener", "grovelling"})
_NEEDS_PATTERNS = frozenset({"patterns", "bare_opener"})
_ONCE = frozenset(CHECKS) - {"patterns"}
_KEYS: dict[str, frozenset[str]] = {
    "patterns": frozenset({"patterns", "unless", "unless_they_messaged"}),
    "phase": frozenset(),
    "length": frozenset({"max_words", "max_chars", "max_paragraphs"}),
    "bare_opener": frozenset({"patterns"}),
    "grovelling": frozenset({"apology", "times", "patterns"}),
    "unanswered": frozenset(),
    "late_night": frozenset(),
}
_COMMON_KEYS = frozenset({"rule", "check", "text", "sources", "from_rules"})
_SECTIONS = ("findings", "reasons", "rewrites")
_RULE_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_PHASE_FIELDS = frozenset({"days_left_text"})


# --- What a review holds -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    text: str
    sources: tuple[str, ...]
    # How it was found: a check of review.yaml, or "verdict" (the verdict's lead reason). Not
    # part of to_dict(); lets a caller that shows the verdict anyway leave out what it repeats.
    check: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"rule": self.rule, "text": self.text, "sources": list(self.sources)}


@dataclass(frozen=True, slots=True)
class Rewrite:
    text: str
    sources: tuple[str, ...]
    # Offered first when the draft is about the same thing (a handover, a bill, ...).
    prefer_when: re.Pattern[str] | None = None


@dataclass(frozen=True, slots=True)
class Review:
    findings: tuple[Finding, ...]
    rewrites: tuple[Rewrite, ...]
    verdict: Verdict  # the advice engine's verdict the review rests on
    situation: Situation  # the situation it was made for (with the draft's reason, if inferred)

    @property
    def clean(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "findings": [f.to_dict() for f in self.findings],
            "rewrites": [r.text for r in self.rewrites],
        }


# --- The validated data --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Check:
    rule: str
    check: str
    text: str
    sources: tuple[str, ...]
    patterns: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    unless_they_messaged: frozenset[str] = frozenset()
    max_words: int = 0
    max_chars: int = 0
    max_paragraphs: int = 0
    apology: re.Pattern[str] | None = None
    times: int = 0

    def finding(self, **values: Any) -> Finding:
        text = self.text.format(**values) if values else self.text
        return Finding(self.rule, text, self.sources, self.check)


@dataclass(frozen=True, slots=True)
class ReviewBook:
    checks: tuple[_Check, ...]
    reasons: tuple[tuple[str, re.Pattern[str]], ...]
    rewrites: Mapping[str, tuple[Rewrite, ...]]
    rulebook: Rulebook
    group_of: Mapping[str, str]  # an advice suggestion's text -> its group


# --- Reviewing ---------------------------------------------------------------------------------


def normalise(draft: str) -> str:
    """Lower case, compatibility forms folded (fancy letters become plain ones), curly quotes
    straight, whitespace collapsed: what the patterns are written against."""
    text = unicodedata.normalize("NFKC", draft).lower()
    text = text.translate(_QUOTES)
    return " ".join(text.split())


_QUOTES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "`": "'", "“": '"', "”": '"'})
_NOT_WORDY = re.compile(r"[^\w' ]+")


def _as_text(draft: object) -> str:
    if draft is None:
        return ""
    text = draft if isinstance(draft, str) else str(draft)
    # A lone surrogate (half of an emoji, cut in two) can't be encoded anywhere: drop it.
    text = text.encode("utf-8", "replace").decode("utf-8")
    return text[:MAX_DRAFT_CHARS]


def infer_reason(draft: str, book: ReviewBook | None = None) -> str | None:
    """What the draft is about, as one of the advice engine's reasons to text (None: unclear)."""
    book = book or load_review_book()
    text = normalise(_as_text(draft))
    for reason, pattern in book.reasons:
        if pattern.search(text):
            return reason
    return None


def review(
    draft: str,
    situation: Situation | None = None,
    *,
    verdict: Verdict | None = None,
    no_contact_days: int = DEFAULT_NO_CONTACT_DAYS,
    book: ReviewBook | None = None,
) -> Review:
    """Review a draft message to the ex for the person's situation. Never raises on any draft
    (empty, very long, emoji only): a draft that says nothing is reported as such.

    Without a situation, no contact is assumed to be over and the person calm and ready (see
    `ASSUMED_SITUATION`): the review is then about the words alone. When the situation doesn't
    say why they want to write (and the ex did not write first), the reason is read from the
    draft (`infer_reason`), so a practical message gets practical advice. `verdict` is the advice
    engine's verdict for the situation, when the caller already has it (the bot, which also
    knows the chosen no-contact length); otherwise it is worked out here.
    """
    book = book or load_review_book()
    text = _as_text(draft)
    normal = normalise(text)
    if situation is None:
        situation = ASSUMED_SITUATION
    if situation.reason_to_text is None and situation.they_messaged == "none":
        reason = next((r for r, p in book.reasons if p.search(normal)), None)
        if reason is not None:
            situation = replace(situation, reason_to_text=reason)
    days = min(max(int(no_contact_days), NO_CONTACT_MIN_DAYS), NO_CONTACT_MAX_DAYS)
    if verdict is None:
        verdict = advise(situation, book.rulebook, days)

    found: dict[str, Finding] = {}

    def add(finding: Finding) -> None:
        found.setdefault(finding.rule, finding)

    holding = verdict.decision in HOLDING_OFF
    for check in book.checks:
        if check.check == "phase":
            if holding and verdict.days_left is not None and _in_no_contact(situation, days):
                add(check.finding(days_left_text=_days_text(verdict.days_left)))
            # The verdict's own lead reason, when it says not now (late night, anger, ...).
            if holding and verdict.reasons:
                lead = verdict.reasons[0]
                add(Finding(lead.rule, lead.text, lead.sources, "verdict"))
        elif _found(check, text, normal, situation):
            add(check.finding())

    rewrites: tuple[Rewrite, ...] = ()
    if verdict.decision in TEXTING_DECISIONS and verdict.suggested_messages:
        group = book.group_of.get(verdict.suggested_messages[0])
        pool = book.rewrites.get(group or "", ())
        fitting = [r for r in pool if r.prefer_when is not None and r.prefer_when.search(normal)]
        rest = [r for r in pool if r not in fitting]
        rewrites = tuple(fitting + rest)[:REWRITES_PER_REVIEW]
    return Review(tuple(found.values()), rewrites, verdict, situation)


def _found(check: _Check, text: str, normal: str, situation: Situation) -> bool:
    match check.check:
        case "patterns":
            if situation.they_messaged in check.unless_they_messaged:
                return False
            assert check.patterns is not None
            if not check.patterns.search(normal):
                return False
            return check.unless is None or not check.unless.search(normal)
        case "length":
            return (
                len(text.strip()) > check.max_chars
                or _words(text) > check.max_words
                or _paragraphs(text) > check.max_paragraphs
            )
        case "bare_opener":
            assert check.patterns is not None
            core = " ".join(_NOT_WORDY.sub(" ", normal).split()).strip("' ")
            if not any(ch.isalnum() for ch in core):
                return True  # empty, or emoji and punctuation only
            return check.patterns.fullmatch(core) is not None
        case "grovelling":
            assert check.apology is not None
            count = sum(
                1 for _, _ in zip(range(check.times), check.apology.finditer(normal), strict=False)
            )
            if count >= check.times:
                return True
            return check.patterns is not None and check.patterns.search(normal) is not None
        case "unanswered":
            return situation.unanswered_messages_you_sent >= 1
        case "late_night":
            return situation.local_hour is not None and situation.local_hour in LATE_NIGHT_HOURS
    return False  # pragma: no cover - validated at load


_WORD = re.compile(r"\w+")


def _words(text: str) -> int:
    return sum(1 for _ in _WORD.finditer(text))


def _paragraphs(text: str) -> int:
    """Blocks of non-blank lines, separated by blank lines."""
    count, inside = 0, False
    for line in text.splitlines():
        if line.strip():
            if not inside:
                count += 1
            inside = True
        else:
            inside = False
    return count


def _in_no_contact(s: Situation, no_contact_days: int) -> bool:
    """The advice engine's timeline: the first week, or fewer days of no contact than chosen
    (counted from the breakup, or from your last contact when that came later)."""
    since = s.days_since_breakup
    last = s.days_since_you_last_contacted
    counted = since if last is None or last > since else last
    return since <= RASH_REPAIR_LAST_DAY or counted < no_contact_days


def _days_text(days: int) -> str:
    return f"{days} day" if days == 1 else f"{days} days"


# --- Loading and validating ----------------------------------------------------------------------


def _compile(entry: str, field: str, raw: Any, *, single: bool = False) -> re.Pattern[str]:
    """A list of regexes (or one) compiled into one alternation; fail naming the bad one."""
    items = [raw] if single else raw
    if not isinstance(items, list) or not items:
        raise ContentError(REVIEW_FILE, entry, f"'{field}' must be a non-empty list of regexes")
    parts = []
    for j, item in enumerate(items):
        where = field if single else f"{field}[{j}]"
        if not isinstance(item, str) or not item.strip():
            raise ContentError(
                REVIEW_FILE,
                entry,
                f"'{where}' must be a non-empty regex (quote it in YAML if it has ': ')",
            )
        try:
            compiled = re.compile(item)
        except re.error as exc:
            raise ContentError(
                REVIEW_FILE, entry, f"'{where}' is not a valid regex ({exc}): {item}"
            ) from None
        if compiled.search(""):
            raise ContentError(REVIEW_FILE, entry, f"'{where}' matches an empty draft: {item}")
        parts.append(f"(?:{item})")
    return re.compile("|".join(parts))


def _positive_int(entry: str, raw: Mapping[str, Any], field: str, minimum: int = 1) -> int:
    value = raw.get(field)
    if type(value) is not int or value < minimum:
        raise ContentError(REVIEW_FILE, entry, f"'{field}' must be a whole number ≥ {minimum}")
    return value


def _load_check(
    i: int, raw: Any, known: Mapping[str, Source], rulebook: Rulebook, seen: set[str]
) -> _Check:
    fallback = f"findings[{i}]"
    entry = raw.get("rule") if isinstance(raw, dict) and isinstance(raw.get("rule"), str) else None
    entry = entry or fallback
    if not isinstance(raw, dict):
        raise ContentError(REVIEW_FILE, entry, "must be a mapping with rule, check, text, ...")
    rule = require_text(REVIEW_FILE, entry, raw.get("rule"), "rule")
    if not _RULE_ID.match(rule):
        raise ContentError(REVIEW_FILE, entry, "'rule' must be a kebab-case id")
    if rule in seen:
        raise ContentError(REVIEW_FILE, rule, "duplicate rule")
    seen.add(rule)
    check = raw.get("check")
    if check not in CHECKS:
        raise ContentError(REVIEW_FILE, rule, f"'check' must be one of {', '.join(CHECKS)}")
    unknown = sorted(map(str, set(raw) - _COMMON_KEYS - _KEYS[check]))
    if unknown:
        allowed = ", ".join(sorted(_COMMON_KEYS | _KEYS[check]))
        raise ContentError(
            REVIEW_FILE, rule, f"unknown key(s) {', '.join(unknown)} for check {check} "
            f"(allowed: {allowed})"
        )  # fmt: skip

    if raw.get("from_rules") is True:
        if "text" in raw or "sources" in raw:
            raise ContentError(
                REVIEW_FILE, rule, "takes text and sources from rules.yaml (from_rules): "
                "leave 'text' and 'sources' out"
            )  # fmt: skip
        source_rule = rulebook.rules.get(rule)
        if source_rule is None:
            raise ContentError(REVIEW_FILE, rule, "from_rules: rules.yaml has no rule by this id")
        text, sources = source_rule.text, source_rule.sources
    elif "from_rules" in raw and raw["from_rules"] is not False:
        raise ContentError(REVIEW_FILE, rule, "'from_rules' must be true or false")
    else:
        text = require_text(REVIEW_FILE, rule, raw.get("text"))
        sources = check_sources(REVIEW_FILE, rule, raw.get("sources"), known)
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(text) if name is not None}
    except ValueError as exc:
        raise ContentError(REVIEW_FILE, rule, f"bad placeholder ({exc})") from None
    allowed_fields = _PHASE_FIELDS if check == "phase" else frozenset()
    if fields - allowed_fields:
        raise ContentError(
            REVIEW_FILE,
            rule,
            f"unknown placeholder(s) {', '.join(sorted(fields - allowed_fields))} "
            f"(allowed: {', '.join(sorted(allowed_fields)) or 'none'})",
        )

    values: dict[str, Any] = {}
    if check in _PATTERN_CHECKS and (check in _NEEDS_PATTERNS or "patterns" in raw):
        values["patterns"] = _compile(rule, "patterns", raw.get("patterns"))
    if check == "patterns":
        if "unless" in raw:
            values["unless"] = _compile(rule, "unless", raw.get("unless"))
        they = raw.get("unless_they_messaged", [])
        if not isinstance(they, list) or any(t not in THEY_MESSAGED for t in they):
            raise ContentError(
                REVIEW_FILE,
                rule,
                f"'unless_they_messaged' must list some of {', '.join(THEY_MESSAGED)}",
            )
        values["unless_they_messaged"] = frozenset(they)
    elif check == "length":
        for field in ("max_words", "max_chars", "max_paragraphs"):
            values[field] = _positive_int(rule, raw, field)
    elif check == "grovelling":
        values["apology"] = _compile(rule, "apology", raw.get("apology"), single=True)
        values["times"] = _positive_int(rule, raw, "times", minimum=2)
    return _Check(rule, check, text, sources, **values)


def _load_reasons(raw: Any) -> tuple[tuple[str, re.Pattern[str]], ...]:
    if not isinstance(raw, dict) or not raw:
        raise ContentError(REVIEW_FILE, "reasons", "must map reasons to lists of regexes")
    out = []
    for reason, patterns in raw.items():
        if reason not in INFERABLE_REASONS:
            raise ContentError(
                REVIEW_FILE,
                f"reasons.{reason}",
                f"not a reason to text (allowed: {', '.join(INFERABLE_REASONS)})",
            )
        out.append((reason, _compile(f"reasons.{reason}", "patterns", patterns)))
    return tuple(out)


def _load_rewrites(
    raw: Any, known: Mapping[str, Source], rulebook: Rulebook
) -> dict[str, tuple[Rewrite, ...]]:
    if not isinstance(raw, dict):
        raise ContentError(REVIEW_FILE, "rewrites", "must map suggestion groups to rewrites")
    # The group each texting step of the advice engine suggests from first.
    needed = list(
        dict.fromkeys(step.suggestions[0] for step in rulebook.ladder if step.suggestions)
    )
    for group in raw:
        if group not in needed:
            raise ContentError(
                REVIEW_FILE,
                f"rewrites.{group}",
                f"the advice engine never leads with this group (it uses: {', '.join(needed)})",
            )
    low, high = REWRITES_PER_GROUP
    out: dict[str, tuple[Rewrite, ...]] = {}
    for group in needed:
        items = raw.get(group)
        entry = f"rewrites.{group}"
        if not isinstance(items, list) or not low <= len(items) <= high:
            raise ContentError(REVIEW_FILE, entry, f"needs {low} to {high} rewrites")
        rewrites = []
        for j, body in enumerate(items):
            where = f"{entry}[{j}]"
            if not isinstance(body, dict) or set(body) - {"text", "sources", "prefer_when"}:
                raise ContentError(
                    REVIEW_FILE, where, "must be a mapping with text, sources (and prefer_when)"
                )
            text = require_text(REVIEW_FILE, where, body.get("text"))
            if len(text) > SUGGESTION_MAX_CHARS:
                raise ContentError(
                    REVIEW_FILE, where, f"is {len(text)} characters; keep it under "
                    f"{SUGGESTION_MAX_CHARS}"
                )  # fmt: skip
            sources = check_sources(REVIEW_FILE, where, body.get("sources"), known)
            prefer = None
            if "prefer_when" in body:
                prefer = _compile(where, "prefer_when", body["prefer_when"])
            rewrites.append(Rewrite(text, sources, prefer))
        out[group] = tuple(rewrites)
    return out


def build_review_book(directory: Path | str = CONTENT_DIR) -> ReviewBook:
    """Read and fully validate review.yaml (uncached), against rules.yaml and the sources."""
    directory = Path(directory)
    known = load_sources(directory)
    rulebook = load_rulebook(directory)
    raw = read_sections(REVIEW_FILE, directory, tuple(_SECTIONS))
    findings = raw.get("findings")
    if not isinstance(findings, list) or not findings:
        raise ContentError(REVIEW_FILE, "findings", "must be a non-empty list of findings")
    seen: set[str] = set()
    checks = tuple(_load_check(i, body, known, rulebook, seen) for i, body in enumerate(findings))
    kinds = [c.check for c in checks]
    for kind in _ONCE:
        if kinds.count(kind) > 1:
            raise ContentError(REVIEW_FILE, "findings", f"check {kind} is used more than once")
    group_of = {s.text: group for group, items in rulebook.suggestions.items() for s in items}
    return ReviewBook(
        checks=checks,
        reasons=_load_reasons(raw.get("reasons")),
        rewrites=_load_rewrites(raw.get("rewrites"), known, rulebook),
        rulebook=rulebook,
        group_of=group_of,
    )


@cache
def load_review_book(directory: Path | str = CONTENT_DIR) -> ReviewBook:
    """The review data from `directory`, validated once and cached."""
    return build_review_book(directory)
