"""Understanding free text: what a message is about (intent) and, for feelings, which feeling.

Pure and fast: no Telegram, no database, no network. The cues live in `intents.yaml` as
weighted regular expressions, validated by pydantic and compiled once at the first call.

How a message is read:

1. The crisis screen runs first (`content.screen.screen`). Any self-harm or violence risk makes
   the intent "crisis"; danger or abuse makes it "danger". Nothing else matters then.
2. `fold` prepares the text: emoji become marker words (😭 -> " xcry "), quotes and apostrophes
   go ("don't" -> "dont"), case is folded, a letter repeated three or more times is kept twice
   ("soooo" -> "soo"), text-speak words are expanded ("u" -> "you", "txt" -> "text") and
   everything that is not a letter, a digit or "?" becomes a space.
3. Every cue whose regex matches adds its weight to its intent (or feeling topic). A cue does
   not count when one of the negation words stands just before its match ("I don't miss him").
   The cues are built from concepts rather than phrases: the ways of getting in touch in three
   forms ({{contact}}, {{contacting}}, {{contacted}}), the ex as subject or object, modality
   ("should I", "is it a mistake to"), wanting or nearly doing, the past tense. Each feeling topic
   also has plain word lists (`lexicon`, weight 1) that catch the words no cue foresaw.
4. Contact intents (slip, they_texted, urge, should_i_text), change_goal and progress win over a
   feeling when they reach `ACTION_THRESHOLD`: "I miss him so I texted him" is a slip. Between
   them the higher score wins, except the pairs in `OUTRANKS` ("she texted me, should I answer?"
   is about what she sent). Otherwise thanks or a greeting wins over a feeling no stronger than
   `WEAK_TOPIC` ("ty ❤️"), then the strongest feeling topic, else "other".
5. `expecting="feeling"` (the bot just asked how they feel) lets short mood words count, so
   "a bit better actually" is a good day there and "other" anywhere else.

`understand(text)` never raises: any input gives an `Understanding`.
"""

from __future__ import annotations

import dataclasses
import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from content.loader import CONTENT_DIR, ContentError, per_directory, read_yaml
from content.memo import remembered
from content.prefilter import Prefilter

log = logging.getLogger(__name__)

INTENTS_FILE = "intents.yaml"

INTENTS: tuple[str, ...] = (
    "crisis",
    "danger",
    "should_i_text",
    "they_texted",
    "urge",
    "slip",
    "feeling",
    "change_goal",
    "progress",
    "greeting",
    "thanks",
    "other",
)
TOPICS: tuple[str, ...] = (
    "missing_them",
    "sadness",
    "anger",
    "regret",
    "loneliness",
    "anxiety",
    "jealousy",
    "sleep_eating",
    "self_worth",
    "good_day",
)
# Intents that name something to do; when scored they outrank a feeling. Ties go to the
# earlier one: telling a slip matters more than the wish that came before it.
ACTION_INTENTS: tuple[str, ...] = (
    "slip",
    "they_texted",
    "urge",
    "should_i_text",
    "change_goal",
    "progress",
)
# When both of a pair reach the threshold, the first wins whatever the scores: a question about
# their message ("she texted me, should I answer?") is about what they sent, and wanting to
# text them while asking whether to ("I want to text him, should I?") is a question.
OUTRANKS: tuple[tuple[str, str], ...] = (
    ("they_texted", "should_i_text"),
    ("should_i_text", "urge"),
    # "can I see my streak" asks about their own count, not about seeing the ex
    ("progress", "should_i_text"),
)
SMALL_TALK: tuple[str, ...] = ("thanks", "greeting")
# When two topics score the same, the more specific one (earlier here) names the message.
TOPIC_ORDER: tuple[str, ...] = (
    "jealousy",
    "sleep_eating",
    "self_worth",
    "anger",
    "regret",
    "anxiety",
    "loneliness",
    "missing_them",
    "good_day",
    "sadness",
)
GOALS: tuple[str, ...] = ("move_on", "try_again")
SLIP_KINDS: tuple[str, ...] = ("text", "call", "met", "slept_together")
EXPECT_FEELING = "feeling"

ACTION_THRESHOLD = 3
# Thanks or a greeting outranks a feeling this weak (a lone heart, one listed word).
WEAK_TOPIC = 1
# A message longer than this is an outpouring: it is answered as a whole.
LONG_CHARS = 600
# Telegram allows 4,096 characters; anything longer is read up to here.
MAX_CHARS = 8_000

CRISIS_RISKS = frozenset({"self_harm", "possible_self_harm", "violence"})
DANGER_RISKS = frozenset({"danger", "abuse"})


# --- Result --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Understanding:
    """What a message is about. `to_dict` is the public JSON: intent, topic, risk."""

    intent: str = "other"
    topic: str | None = None
    risk: str = "none"
    # change_goal only: "move_on" or "try_again" (None when the direction was not said).
    goal: str | None = None
    # slip only: "text", "call", "met" or "slept_together" (None when not said).
    slip_kind: str | None = None
    # Every feeling topic heard, strongest first (a long message often carries several).
    topics: tuple[str, ...] = ()
    # The message is an outpouring: answer it as a whole and offer to keep it in the journal.
    long: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"intent": self.intent, "topic": self.topic, "risk": self.risk}


# --- The data file, validated --------------------------------------------------------------------


class CueSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    re: str
    w: int = Field(default=3, ge=1, le=10)
    negatable: bool = True
    # The match must follow the ex as a subject ("he", "my ex", "kim"): see `SubjectSpec`.
    subject: bool = False
    kind: Literal["text", "call", "met", "slept_together"] | None = None
    goal: Literal["move_on", "try_again"] | None = None


class SubjectSpec(BaseModel):
    """Which word before a `subject` cue names the ex (see intents.yaml)."""

    model_config = ConfigDict(extra="forbid")

    pronouns: frozenset[str]
    after_not: frozenset[str]
    determiners: frozenset[str]
    not_subjects: frozenset[str]


class LexiconSpec(BaseModel):
    """Words and short phrases that name one concept; any of them present adds `w` once."""

    model_config = ConfigDict(extra="forbid")

    w: int = Field(default=1, ge=1, le=10)
    negatable: bool = True
    words: list[str] = Field(min_length=1)


class IntentBook(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: SubjectSpec
    substitutions: dict[str, str] = Field(default_factory=dict)
    emoji: dict[str, str] = Field(default_factory=dict)
    negations: str
    fragments: dict[str, str] = Field(default_factory=dict)
    intents: dict[str, list[CueSpec]]
    topics: dict[str, list[CueSpec]]
    # Per feeling topic, plain word lists (see `LexiconSpec`): they catch the words a cue did not
    # foresee, so a message that names a feeling is heard as one rather than as "other".
    lexicon: dict[str, list[LexiconSpec]] = Field(default_factory=dict)
    feeling_general: list[CueSpec]
    mood_words: dict[str, list[CueSpec]]
    asks_if_bot: list[CueSpec]

    @field_validator("intents")
    @classmethod
    def _known_intents(cls, value: dict[str, list[CueSpec]]) -> dict[str, list[CueSpec]]:
        scored = set(ACTION_INTENTS) | set(SMALL_TALK)
        unknown = set(value) - scored
        if unknown:
            raise ValueError(f"unknown intent(s): {', '.join(sorted(unknown))}")
        missing = scored - set(value)
        if missing:
            raise ValueError(f"no cues for: {', '.join(sorted(missing))}")
        return value

    @field_validator("topics", "mood_words", "lexicon")
    @classmethod
    def _known_topics(cls, value: dict[str, list[CueSpec]]) -> dict[str, list[CueSpec]]:
        unknown = set(value) - set(TOPICS)
        if unknown:
            raise ValueError(f"unknown topic(s): {', '.join(sorted(unknown))}")
        return value


@dataclass(frozen=True, slots=True)
class Cue:
    compiled: re.Pattern[str]
    weight: int
    negatable: bool
    kind: str | None = None
    goal: str | None = None
    # A pre-check run first (see `_quick`): when it finds nothing, neither would `compiled`.
    quick: re.Pattern[str] | None = None
    subject: bool = False


@dataclass(frozen=True, slots=True)
class Book:
    subject: SubjectSpec
    substitutions: Mapping[str, str]
    emoji: Mapping[str, str]
    emoji_re: re.Pattern[str] | None
    negation: re.Pattern[str]
    intents: Mapping[str, tuple[Cue, ...]]
    topics: Mapping[str, tuple[Cue, ...]]
    feeling_general: tuple[Cue, ...]
    mood_words: Mapping[str, tuple[Cue, ...]]
    asks_if_bot: tuple[Cue, ...]
    sub_re: re.Pattern[str] | None = field(default=None)
    # Which cues could match a text (content.prefilter), by position in `all_cues`; None: all.
    prefilter: Prefilter | None = None
    positions: Mapping[int, int] = field(default_factory=dict)  # id(cue) -> position

    def all_cues(self) -> list[Cue]:
        groups = [*self.intents.values(), *self.topics.values(), *self.mood_words.values()]
        return [c for cues in (*groups, self.feeling_general, self.asks_if_bot) for c in cues]

    def indexed(self) -> Book:
        """This book with its prefilter built."""
        cues = self.all_cues()
        prefilter = Prefilter.of_regexes([c.compiled.pattern for c in cues])
        positions = {id(c): i for i, c in enumerate(cues)}
        return dataclasses.replace(self, prefilter=prefilter, positions=positions)

    def may_match(self, text: str) -> frozenset[int] | None:
        """Positions of the cues that could match `text` (None: any could)."""
        return _candidates(self.prefilter, text) if self.prefilter is not None else None


@lru_cache(maxsize=16)
def _candidates(prefilter: Prefilter, text: str) -> frozenset[int]:
    """A message is scored against many groups of cues: its scan is done once (the last few
    messages are kept in memory, never written anywhere)."""
    return frozenset(prefilter.candidates(text))


_FRAGMENT_RE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")


def _compile(entry: str, src: str, fragments: Mapping[str, str]) -> re.Pattern[str]:
    def sub(m: re.Match[str]) -> str:
        name = m.group(1)
        if name not in fragments:
            raise ContentError(INTENTS_FILE, entry, f"unknown fragment {{{{{name}}}}} in {src!r}")
        return fragments[name]

    expanded = _FRAGMENT_RE.sub(sub, src)
    try:
        return re.compile(expanded)
    except re.error as exc:
        raise ContentError(INTENTS_FILE, entry, f"invalid regex {src!r}: {exc}") from None


def _quick(entry: str, spec: CueSpec, fragments: Mapping[str, str]) -> re.Pattern[str] | None:
    """A cheaper twin of a cue's regex that matches wherever the cue could.

    A leading `\\b` stops Python's regex engine from jumping straight to the places where the
    first word could start, which makes a search several times slower; the twin drops it.
    """
    src = _FRAGMENT_RE.sub(lambda m: fragments.get(m.group(1), ""), spec.re)
    plain_start = src[2:3] not in ("?", "*", "+", "{", "(") or src.startswith("\\b(?:")
    if src.startswith("\\b") and plain_start:
        return re.compile(src[2:])
    return None


def _cues(entry: str, specs: list[CueSpec], fragments: Mapping[str, str]) -> tuple[Cue, ...]:
    return tuple(
        Cue(
            _compile(f"{entry}[{i}]", s.re, fragments),
            s.w,
            s.negatable,
            s.kind,
            s.goal,
            _quick(f"{entry}[{i}]", s, fragments),
            s.subject,
        )
        for i, s in enumerate(specs)
    )


def _lexicon(entry: str, lists: list[LexiconSpec]) -> tuple[Cue, ...]:
    """One cue per word list: the words, folded like the text, as one alternation."""
    cues = []
    for i, spec in enumerate(lists):
        words = sorted({" ".join(w.lower().split()) for w in spec.words}, key=len, reverse=True)
        src = r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b"
        cues.append(Cue(_compile(f"{entry}[{i}]", src, {}), spec.w, spec.negatable))
    return tuple(cues)


def parse_book(raw: Any) -> Book:
    """Validate and compile the parsed `intents.yaml`."""
    try:
        spec = IntentBook.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "-"
        raise ContentError(INTENTS_FILE, where, first["msg"]) from None
    for name, text in spec.fragments.items():
        if _FRAGMENT_RE.search(text):
            raise ContentError(INTENTS_FILE, f"fragments.{name}", "fragments cannot nest")
    frags = spec.fragments
    for intent, specs in spec.intents.items():
        for i, s in enumerate(specs):
            if s.kind and intent != "slip":
                raise ContentError(INTENTS_FILE, f"intents.{intent}[{i}]", "kind is for slip")
            if s.goal and intent != "change_goal":
                raise ContentError(INTENTS_FILE, f"intents.{intent}[{i}]", "goal: change_goal")
    emoji_re = None
    if spec.emoji:
        keys = sorted(spec.emoji, key=len, reverse=True)
        emoji_re = re.compile("|".join(re.escape(k) for k in keys))
    sub_re = None
    if spec.substitutions:
        words = sorted(spec.substitutions, key=len, reverse=True)
        sub_re = re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + r")\b")
    topics = {k: _cues(f"topics.{k}", v, frags) for k, v in spec.topics.items()}
    for topic, lists in spec.lexicon.items():
        topics[topic] = topics.get(topic, ()) + _lexicon(f"lexicon.{topic}", lists)
    return Book(
        subject=spec.subject,
        substitutions=spec.substitutions,
        emoji=spec.emoji,
        emoji_re=emoji_re,
        negation=_compile("negations", spec.negations, frags),
        intents={k: _cues(f"intents.{k}", v, frags) for k, v in spec.intents.items()},
        topics=topics,
        feeling_general=_cues("feeling_general", spec.feeling_general, frags),
        mood_words={k: _cues(f"mood_words.{k}", v, frags) for k, v in spec.mood_words.items()},
        asks_if_bot=_cues("asks_if_bot", spec.asks_if_bot, frags),
        sub_re=sub_re,
    ).indexed()


def load_book(directory: Path = CONTENT_DIR) -> Book:
    """The compiled `intents.yaml`, once per directory."""
    return _load_book(directory)


@per_directory
def _load_book(directory: Path) -> Book:
    return parse_book(read_yaml(INTENTS_FILE, directory))


# --- Folding the text ----------------------------------------------------------------------------

_QUOTES = str.maketrans({"\u2018": "", "\u2019": "", "'": "", "`": "", "\u02bc": ""})
_REPEATS = re.compile(r"([a-z])\1{2,}")
_NON_WORD = re.compile(r"[^a-z0-9?\s]+")
_SPACES = re.compile(r"\s+")


def fold(text: str, book: Book) -> str:
    """The form cues are matched in (see the module docstring)."""
    s = text[:MAX_CHARS]
    if book.emoji_re is not None and not s.isascii():
        s = book.emoji_re.sub(lambda m: f" {book.emoji[m.group(0)]} ", s)
    s = s.translate(_QUOTES).lower()
    s = _REPEATS.sub(r"\1\1", s)
    s = _NON_WORD.sub(" ", s)
    s = _SPACES.sub(" ", s).strip()
    if book.sub_re is not None:
        s = book.sub_re.sub(lambda m: book.substitutions[m.group(0)], s)
    return f" {s} "


# --- Scoring ------------------------------------------------------------------------------------


def _subject_end(text: str, start: int, rule: SubjectSpec) -> int:
    """Where the ex, as the subject of the words at `start`, begins; -1 when it is not there.

    "my ex texted", "he texted", "kim texted" name the ex; "my cat knocked", "did he text",
    "i texted" do not.
    """
    words = text[max(0, start - 40) : start].split()
    if not words:
        return -1
    word = words[-1]
    before = words[-2] if len(words) > 1 else ""
    if word == "ex" and before in ("my", "the"):
        return start - len("my ex ") if before == "my" else start - len("the ex ")
    if before in rule.after_not:
        return -1
    if word in rule.pronouns:
        return start - len(word) - 1
    if word in rule.not_subjects or before in rule.determiners or not word.isalpha():
        return -1
    return start - len(word) - 1


def _hits(cue: Cue, text: str, book: Book) -> bool:
    if cue.quick is not None and cue.quick.search(text) is None:
        return False
    for m in cue.compiled.finditer(text):
        start = m.start()
        if cue.subject:
            start = _subject_end(text, start, book.subject)
            if start < 0:
                continue
        if not cue.negatable:
            return True
        if book.negation.search(text[max(0, start - 24) : start]) is None:
            return True
    return False


def _score(cues: tuple[Cue, ...], text: str, book: Book) -> tuple[int, list[Cue]]:
    total = 0
    matched: list[Cue] = []
    may = book.may_match(text)
    positions = book.positions
    for cue in cues:
        if may is not None and positions[id(cue)] not in may:
            continue
        if _hits(cue, text, book):
            total += cue.weight
            matched.append(cue)
    return total, matched


def _topic_scores(groups: Mapping[str, tuple[Cue, ...]], text: str, book: Book) -> dict[str, int]:
    scores: dict[str, int] = {}
    for topic, cues in groups.items():
        total, _ = _score(cues, text, book)
        if total:
            scores[topic] = total
    return scores


def _ranked(scores: Mapping[str, int]) -> tuple[str, ...]:
    return tuple(sorted(scores, key=lambda t: (-scores[t], TOPIC_ORDER.index(t))))


def _risk_of(text: str) -> str:
    from content.screen import screen

    try:
        result = screen(text)
    except Exception:  # the screen never raises; this guards a rewrite in progress
        log.exception("screen failed inside understand")
        return "none"
    return str(getattr(result, "risk", "none") or "none")


def understand(
    text: Any, *, expecting: str | None = None, directory: Path = CONTENT_DIR
) -> Understanding:
    """Sort one free-text message into an intent (and a feeling topic). Never raises. Within
    one update (content.memo) the same message is sorted once."""
    if not isinstance(text, str):
        text = ""
    return remembered(
        ("understand", text, expecting, directory),
        lambda: _understand_once(text, expecting, directory),
    )


def _understand_once(text: str, expecting: str | None, directory: Path) -> Understanding:
    risk = _risk_of(text)
    if risk in CRISIS_RISKS:
        return Understanding("crisis", None, risk)
    if risk in DANGER_RISKS:
        return Understanding("danger", None, risk)
    try:
        book = load_book(directory)
    except ContentError:
        log.exception("intents could not be loaded; message not understood")
        return Understanding(risk=risk)
    try:
        return _understand(text, expecting, risk, book)
    except Exception:  # defensive: understanding must never take the conversation down
        log.exception("understanding failed")
        return Understanding(risk=risk)


def _understand(text: str, expecting: str | None, risk: str, book: Book) -> Understanding:
    folded = fold(text, book)
    long = len(text.strip()) > LONG_CHARS
    topic_scores = _topic_scores(book.topics, folded, book)
    general, _ = _score(book.feeling_general, folded, book)
    if expecting == EXPECT_FEELING and not topic_scores:
        topic_scores = _topic_scores(book.mood_words, folded, book)
    topics = _ranked(topic_scores)

    scored: dict[str, tuple[int, list[Cue]]] = {}
    for intent in ACTION_INTENTS:
        score, cues = _score(book.intents[intent], folded, book)
        if score >= ACTION_THRESHOLD:
            scored[intent] = (score, cues)
    for winner, loser in OUTRANKS:
        if winner in scored:
            scored.pop(loser, None)
    best, best_score, best_cues = None, 0, []
    for intent in ACTION_INTENTS:  # ties go to the earlier intent
        if intent in scored and scored[intent][0] > best_score:
            best, (best_score, best_cues) = intent, scored[intent]
    if best is not None:
        goal = next((c.goal for c in best_cues if c.goal), None)
        kind = next((c.kind for c in best_cues if c.kind), None)
        return Understanding(best, None, risk, goal, kind, topics, long)
    weak = not topics or topic_scores[topics[0]] <= WEAK_TOPIC
    if weak and not long:
        for intent in SMALL_TALK:
            score, _ = _score(book.intents[intent], folded, book)
            if score:
                return Understanding(intent, None, risk, long=long)
    if topics:
        return Understanding("feeling", topics[0], risk, topics=topics, long=long)
    if general:
        return Understanding("feeling", "sadness", risk, topics=("sadness",), long=long)
    return Understanding("other", None, risk, long=long)


def asks_if_bot(text: Any, *, directory: Path = CONTENT_DIR) -> bool:
    """Whether the person asks if they are talking to a person or a bot."""
    if not isinstance(text, str) or not text.strip():
        return False
    try:
        book = load_book(directory)
        folded = fold(text, book)
        return _score(book.asks_if_bot, folded, book)[0] > 0
    except Exception:
        log.exception("asks_if_bot failed")
        return False


# --- Answering a feeling -------------------------------------------------------------------------

ANSWERS_FILE = "intents_answers.yaml"
BREATHING_FILE = "breathing.yaml"
# Buttons a feeling reply may offer (texts under listen.buttons).
FEELING_BUTTONS: tuple[str, ...] = ("journal", "should_i_text", "urge", "breathe")
# Buttons that lead towards contacting the ex; left out when contact is not advised.
CONTACT_BUTTONS = frozenset({"should_i_text", "urge"})
SAVE_BUTTONS: tuple[str, ...] = ("save_journal", "not_now")
MAX_REFLECTION_CHARS = 200


class TopicAnswerSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reflections: list[str] = Field(min_length=2, max_length=3)
    action: str
    sources: list[str] = Field(min_length=1)
    buttons: list[Literal["journal", "should_i_text", "urge", "breathe"]] = Field(min_length=1)


class AnswersSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    topics: dict[str, TopicAnswerSpec]

    @field_validator("topics")
    @classmethod
    def _every_topic(cls, value: dict[str, TopicAnswerSpec]) -> dict[str, TopicAnswerSpec]:
        if set(value) != set(TOPICS):
            wrong = sorted(set(value) ^ set(TOPICS))
            raise ValueError(f"must answer exactly the topics; check {', '.join(wrong)}")
        return value


class BreathStepSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str
    at: int = Field(ge=0)


class BreathingSpec(BaseModel):
    """The exercise is the bot's own (`own: true` says so; no article describes it)."""

    model_config = ConfigDict(extra="forbid")

    own: Literal[True]
    seconds: int = Field(ge=30, le=120)
    steps: list[BreathStepSpec] = Field(min_length=3)

    @field_validator("steps")
    @classmethod
    def _in_order(cls, value: list[BreathStepSpec]) -> list[BreathStepSpec]:
        times = [s.at for s in value]
        if times != sorted(set(times)) or times[0] != 0:
            raise ValueError("steps start at 0 and go strictly forward in time")
        return value


@dataclass(frozen=True, slots=True)
class FeelingReply:
    """How to answer a feeling: text ids to render, the action's sources, and button ids."""

    topic: str
    reflection_id: str
    action_id: str
    sources: tuple[str, ...]
    buttons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class OutpouringReply:
    """A long message answered as a whole: thanks for it, the strongest feeling answered, the
    other feelings named, and an offer (never a silent save) to keep it in the journal."""

    ack_id: str
    reply: FeelingReply
    also_heard: tuple[str, ...]  # text ids of topic names, e.g. listen.topic_names.anger
    save_offer_id: str
    save_buttons: tuple[str, ...] = SAVE_BUTTONS


@dataclass(frozen=True, slots=True)
class BreathStep:
    text_id: str
    at_seconds: int


@dataclass(frozen=True, slots=True)
class Answers:
    topics: Mapping[str, TopicAnswerSpec]
    breathing: tuple[BreathStep, ...]


def _validation_error(file: str, exc: ValidationError) -> ContentError:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "-"
    return ContentError(file, where, first["msg"])


def parse_answers(raw_answers: Any, raw_breathing: Any, texts: Any, sources: Any) -> Answers:
    """Validate both files against the texts (every id exists, reflections are short) and the
    sources (every id known)."""
    try:
        answers = AnswersSpec.model_validate(raw_answers)
    except ValidationError as exc:
        raise _validation_error(ANSWERS_FILE, exc) from None
    try:
        breathing = BreathingSpec.model_validate(raw_breathing)
    except ValidationError as exc:
        raise _validation_error(BREATHING_FILE, exc) from None
    for topic, spec in answers.topics.items():
        entry = f"topics.{topic}"
        for text_id in (*spec.reflections, spec.action):
            if text_id not in texts:
                raise ContentError(ANSWERS_FILE, entry, f"no text {text_id!r}")
        for text_id in spec.reflections:
            if len(texts.render(text_id)) > MAX_REFLECTION_CHARS:
                raise ContentError(ANSWERS_FILE, entry, f"{text_id} is over 200 characters")
        unknown = [s for s in spec.sources if s not in sources]
        if unknown:
            raise ContentError(ANSWERS_FILE, entry, f"unknown source(s): {', '.join(unknown)}")
        for button in spec.buttons:
            if f"listen.buttons.{button}" not in texts:
                raise ContentError(ANSWERS_FILE, entry, f"no label for button {button!r}")
    for i, step in enumerate(breathing.steps):
        if step.text not in texts:
            raise ContentError(BREATHING_FILE, f"steps[{i}]", f"no text {step.text!r}")
    if breathing.steps[-1].at > breathing.seconds:
        raise ContentError(BREATHING_FILE, "steps", "the last step is after the exercise ends")
    steps = tuple(BreathStep(s.text, s.at) for s in breathing.steps)
    return Answers(answers.topics, steps)


def load_answers(directory: Path = CONTENT_DIR) -> Answers:
    """intents_answers.yaml and breathing.yaml, validated once per directory."""
    return _load_answers(directory)


@per_directory
def _load_answers(directory: Path) -> Answers:
    from content.loader import load_sources, load_texts

    return parse_answers(
        read_yaml(ANSWERS_FILE, directory),
        read_yaml(BREATHING_FILE, directory),
        load_texts(directory=directory),
        load_sources(directory),
    )


def feeling_reply(topic: str | None, seed: int = 0, *, offer_contact: bool = True) -> FeelingReply:
    """The answer to a feeling: one reflection (picked by `seed`, e.g. the message id, so a
    person does not get the same one twice in a row), one small thing to do with its sources,
    and the buttons that fit. `offer_contact=False` (abuse or danger known, or contact not
    advised) leaves out the buttons about texting them. An unknown topic answers as sadness."""
    answers = load_answers()
    spec = answers.topics.get(topic or "", answers.topics["sadness"])
    name = topic if topic in answers.topics else "sadness"
    buttons = tuple(b for b in spec.buttons if offer_contact or b not in CONTACT_BUTTONS)
    return FeelingReply(
        topic=name,
        reflection_id=spec.reflections[seed % len(spec.reflections)],
        action_id=spec.action,
        sources=tuple(spec.sources),
        buttons=buttons,
    )


def outpouring_reply(
    understood: Understanding, seed: int = 0, *, offer_contact: bool = True
) -> OutpouringReply:
    """Answer a long message as a whole: the strongest feeling gets the full answer, up to two
    others are named, and the person is asked whether to keep the text in their journal."""
    topics = understood.topics or ((understood.topic,) if understood.topic else ("sadness",))
    reply = feeling_reply(topics[0], seed, offer_contact=offer_contact)
    also = tuple(f"listen.topic_names.{t}" for t in topics[1:3])
    return OutpouringReply(
        ack_id="listen.long.ack",
        reply=reply,
        also_heard=also,
        save_offer_id="listen.long.save_offer",
    )


# A mood told in words, on the check-in's 1-5 scale. The bot's own reading, not the articles':
# people asked for a number who answer in words mostly say which way the day leans, so a good
# day ("a bit better actually") is kept as 4 and any hard feeling as 2; the check-in shows the
# number it kept, and the next check-in asks again.
GOOD_MOOD = 4
HARD_MOOD = 2


def typed_mood(text: Any) -> int | None:
    """The mood a typed answer to "how are you feeling?" gives, or None when it says none."""
    heard = understand(text, expecting=EXPECT_FEELING)
    if heard.intent != "feeling" or heard.long:
        return None
    return GOOD_MOOD if heard.topic == "good_day" else HARD_MOOD


def breathing_steps() -> tuple[BreathStep, ...]:
    """The 'Breathe with me' messages and when to send each (seconds from the tap)."""
    return load_answers().breathing
