"""Reading and validating the coaching data files.

Everything here is pure: no Telegram, no database. A broken data file fails loudly at start-up
with a `ContentError` that names the file and the entry, so a typo never reaches a user.
"""

from __future__ import annotations

import html
import string
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

CONTENT_DIR = Path(__file__).resolve().parent

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
M = TypeVar("M", bound=BaseModel)
_T = TypeVar("_T")


class ContentError(ValueError):
    """A content file is malformed; the message names the file and the entry."""

    def __init__(self, file: str, entry: str, problem: str) -> None:
        self.file = file
        self.entry = entry
        self.problem = problem
        super().__init__(f"{file}: {entry}: {problem}")


def read_yaml(name: str, directory: Path = CONTENT_DIR) -> Any:
    """Parse one YAML file from the content directory, naming the file on any error. A key
    given twice in one mapping is an error too, naming the entry (plain YAML keeps the last
    one silently, so a second `unless:` would drop the first's lines)."""
    path = directory / name
    try:
        loader = yaml.SafeLoader(path.read_text(encoding="utf-8"))
        try:  # parsed once: the node tree is checked, then built into Python values
            root = loader.get_single_node()
            if root is not None:
                _no_key_twice(name, root, "")
            data = loader.construct_document(root) if root is not None else None
        finally:
            loader.dispose()  # type: ignore[no-untyped-call]
    except FileNotFoundError:
        raise ContentError(name, "-", "file is missing") from None
    except yaml.YAMLError as exc:
        raise ContentError(name, "-", f"is not valid YAML ({exc})") from None
    if data is None:
        raise ContentError(name, "-", "file is empty")
    return data


def per_directory(load: Callable[[Path], _T]) -> Callable[..., _T]:
    """`load(directory)` done once per directory, for loaders called on every message: looked
    up first by the path as given (resolving a path costs system calls), then by the resolved
    path, so two spellings of one folder share one load."""
    by_resolved = cache(load)

    @cache
    def by_given(directory: Path = CONTENT_DIR) -> _T:
        return by_resolved(Path(directory).resolve())

    return by_given


def _no_key_twice(name: str, node: yaml.Node, path: str) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            entry = f"{path}.{key.value}" if path else str(key.value)
            if key.value in seen:
                raise ContentError(name, entry, "is defined twice")
            seen.add(key.value)
            _no_key_twice(name, value, entry)
    elif isinstance(node, yaml.SequenceNode):
        for index, value in enumerate(node.value):
            _no_key_twice(name, value, f"{path}[{index}]")


def read_sections(name: str, directory: Path, sections: tuple[str, ...]) -> dict[str, Any]:
    """A YAML file that is a mapping of known top-level sections; anything else fails naming
    the file and the stray section."""
    raw = read_yaml(name, directory)
    if not isinstance(raw, dict):
        raise ContentError(name, "-", f"must be a mapping with {', '.join(sections)}")
    for section in raw:
        if section not in sections:
            raise ContentError(
                name, str(section), f"unknown section (allowed: {', '.join(sections)})"
            )
    return raw


def require_text(file: str, entry: str, value: Any, field: str = "text") -> str:
    """Return a stripped, non-empty string or fail naming the entry."""
    if not isinstance(value, str) or not value.strip():
        raise ContentError(file, entry, f"'{field}' must be a non-empty text")
    return value.strip()


# --- Sources -----------------------------------------------------------------------------------

OWN = "own"  # the pseudo-source that marks the coach's own default or rule


class Source(BaseModel):
    """One article (or `own`) as sources.yaml describes it."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    id: str
    title: NonEmpty
    short: NonEmpty
    kind: Literal["article", "own"]
    author: NonEmpty | None = None
    date: NonEmpty | None = None


def validate_entry(file: str, entry: str, model: type[M], data: Any, **context: Any) -> M:
    """Validate one YAML entry with a pydantic model; a failure names the file, the entry and
    the first bad field (as `ContentError`)."""
    try:
        return model.model_validate(data, context=context or None)
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        problem = err["msg"].removeprefix("Value error, ")
        raise ContentError(file, entry, f"{where}: {problem}" if where else problem) from None


@cache
def load_sources(directory: Path = CONTENT_DIR) -> Mapping[str, Source]:
    raw = read_yaml("sources.yaml", directory)
    if not isinstance(raw, dict):
        raise ContentError("sources.yaml", "-", "must map source ids to titles")
    out = {
        str(sid): validate_entry("sources.yaml", str(sid), Source, {"id": str(sid), **(body or {})})
        for sid, body in raw.items()
    }
    if OWN not in out or out[OWN].kind != "own":
        raise ContentError("sources.yaml", OWN, "must be present, with kind: own")
    return out


def articles(directory: Path = CONTENT_DIR) -> tuple[Source, ...]:
    """The articles (not `own`), in file order."""
    return tuple(s for s in load_sources(directory).values() if s.kind == "article")


class Cited(BaseModel):
    """Any rule, lesson, note side, prompt or template: it names at least one known source, and
    when one of them is `own`, its words say so (they mention "the coach"), so a person can tell
    the coach's own defaults from the articles'. Other fields are left to the entry's own loader.
    Validate with context {"known": <load_sources()>}."""

    model_config = ConfigDict(extra="allow")

    sources: Annotated[list[str], Field(min_length=1)]

    @field_validator("sources", mode="before")
    @classmethod
    def _one_id_is_a_list(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value

    @model_validator(mode="after")
    def _known_and_labelled(self, info: ValidationInfo) -> Cited:
        known = (info.context or {}).get("known") or load_sources()
        unknown = [s for s in self.sources if s not in known]
        if unknown:
            raise ValueError(f"unknown source id(s): {', '.join(map(str, unknown))}")
        if len(set(self.sources)) != len(self.sources):
            raise ValueError("names a source twice")
        if OWN in self.sources:
            extra = self.model_extra or {}
            words = " ".join(str(extra.get(k, "")) for k in OWN_LABEL_FIELDS)
            if words.strip() and "coach" not in words.lower():
                raise ValueError(
                    "cites 'own' but its words don't say it is the coach's own (and why)"
                )
        return self


# The fields that carry an entry's words, where an `own` entry must say it is the coach's own.
OWN_LABEL_FIELDS = ("text", "idea", "action", "follow_up", "goal")


def check_sources(
    file: str, entry: str, ids: Any, known: Mapping[str, Source] | None = None
) -> tuple[str, ...]:
    """Validate an entry's `sources` list: at least one id, every id known (`own` included)."""
    known = load_sources() if known is None else known
    if ids is None or ids == []:
        raise ContentError(
            file, entry, "names no source (add 'sources: [id, ...]', or [own] for the coach's own)"
        )
    cited = validate_entry(file, entry, Cited, {"sources": ids}, known=known)
    return tuple(cited.sources)


def source_names(ids: Iterable[str]) -> str:
    """'Five steps, Proven steps' — how a list of sources is shown to a person."""
    known = load_sources()
    return ", ".join(known[s].short for s in ids)


# --- Texts ---------------------------------------------------------------------------------------

_FORMATTER = string.Formatter()


def _placeholders(template: str) -> frozenset[str]:
    return frozenset(name for _, name, _, _ in _FORMATTER.parse(template) if name)


@dataclass(frozen=True, slots=True)
class Text:
    id: str
    template: str
    placeholders: frozenset[str]


class Texts:
    """Every user-facing sentence, by id. Rendering HTML-escapes the values put into it."""

    def __init__(self, entries: Mapping[str, Text], file: str = "texts.yaml") -> None:
        self._entries = dict(entries)
        self._file = file

    def __contains__(self, text_id: str) -> bool:
        return text_id in self._entries

    def ids(self) -> list[str]:
        return sorted(self._entries)

    def placeholders(self, text_id: str) -> frozenset[str]:
        return self._get(text_id).placeholders

    def _get(self, text_id: str) -> Text:
        try:
            return self._entries[text_id]
        except KeyError:
            raise ContentError(self._file, text_id, "no such text") from None

    def render(self, text_id: str, **values: Any) -> str:
        entry = self._get(text_id)
        missing = entry.placeholders - values.keys()
        if missing:
            raise ContentError(
                self._file, text_id, f"missing value(s): {', '.join(sorted(missing))}"
            )
        safe = {k: v if isinstance(v, Markup) else html.escape(str(v)) for k, v in values.items()}
        return entry.template.format(**safe)


class Markup(str):
    """A string that is already safe HTML (e.g. another rendered text); not escaped again."""


def load_texts(name: str = "texts.yaml", directory: Path = CONTENT_DIR) -> Texts:
    """texts.yaml plus every texts_<area>.yaml beside it; an id defined twice is an error."""
    entries: dict[str, Text] = {}
    files = [name, *sorted(p.name for p in directory.glob("texts_*.yaml"))]
    for file in files:
        _load_text_file(file, directory, entries)
    return Texts(entries, name)


def _load_text_file(name: str, directory: Path, entries: dict[str, Text]) -> None:
    raw = read_yaml(name, directory)
    if not isinstance(raw, dict):
        raise ContentError(name, "-", "must map text ids to texts")

    def walk(prefix: str, node: Mapping[str, Any]) -> None:
        for key, value in node.items():
            if not isinstance(key, str):
                # YAML reads bare yes/no/on/off keys as booleans: they must be quoted.
                raise ContentError(name, f"{prefix}{key}", "key must be text (quote it)")
            text_id = f"{prefix}{key}"
            if isinstance(value, dict):
                walk(f"{text_id}.", value)
                continue
            if text_id in entries:
                raise ContentError(name, text_id, "is defined twice")
            template = require_text(name, text_id, value)
            try:
                fields = _placeholders(template)
            except ValueError as exc:
                raise ContentError(name, text_id, f"bad placeholder ({exc})") from None
            entries[text_id] = Text(text_id, template, fields)

    walk("", raw)


def render_sources(texts: Texts) -> str:
    """The /sources message: the five articles by title (author and date where the article
    names them), how the "From:" line reads, and how the coach's own defaults are marked."""
    items = []
    for src in articles():
        details = ", ".join(d for d in (src.author, src.date) if d)
        byline = " " + texts.render("sources.byline", details=details) if details else ""
        items.append(
            texts.render("sources.item", title=src.title, byline=Markup(byline), short=src.short)
        )
    return "\n".join(
        [
            texts.render("sources.title"),
            texts.render("sources.intro"),
            "",
            *items,
            "",
            texts.render("sources.own"),
            texts.render("sources.differ"),
        ]
    )
