"""Crisis, domestic-violence and youth helplines: which ones to show a person, and how.

Pure: no Telegram, no database. The data is `helplines.yaml`, validated by the pydantic
models below; a broken entry fails at load time with a `ContentError` naming the file and the
entry. Every number carries the public page it was confirmed from and the date it was checked.

    hs = helplines_for(profile.country, user.language_code, timezone=profile.timezone)
    text = format_crisis(hs)          # HTML-escaped, for parse_mode=HTML
    text = format_danger(hs)          # "If you are in immediate danger, call 999" + DV lines
    note = format_youth_note(hs)      # youth lines and a word about a trusted adult

The country is chosen from what the bot already knows, in this order: the person's own
setting, their IANA time zone (mapped to a country with the tz database's own `zone.tab`, which
ships with the `tzdata` package), the region in their Telegram language code ("en-GB"), and a
few languages spoken mostly in one country ("de"). Otherwise: the worldwide directory.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from datetime import date
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from content.loader import CONTENT_DIR, ContentError, read_yaml

HELPLINES_FILE = "helplines.yaml"

SOURCE_SETTING = "setting"
SOURCE_TIMEZONE = "timezone"
SOURCE_LANGUAGE = "language"
SOURCE_DEFAULT = "default"

# What people type in a country setting that isn't the ISO code.
_COUNTRY_ALIASES = {
    "uk": "gb",
    "great britain": "gb",
    "britain": "gb",
    "england": "gb",
    "scotland": "gb",
    "wales": "gb",
    "northern ireland": "gb",
    "usa": "us",
    "u.s.": "us",
    "u.s.a.": "us",
    "united states of america": "us",
    "america": "us",
    "republic of ireland": "ie",
    "eire": "ie",
    "deutschland": "de",
    "espana": "es",
    "españa": "es",
    "italia": "it",
    "bharat": "in",
}


# --- Data --------------------------------------------------------------------------------------

Text = Annotated[str, StringConstraints(strict=True, strip_whitespace=True, min_length=1)]
# Digits, spaces and dashes only; quoted in YAML, or "000" would read as 0.
Phone = Annotated[str, StringConstraints(strict=True, pattern=r"^\+?[0-9](?:[0-9 \-]*[0-9])?$")]
Https = Annotated[str, StringConstraints(strict=True, pattern=r"^https://\S+$")]
# Where a number was confirmed: a public page, http or https (some stored copies are http).
SourceUrl = Annotated[str, StringConstraints(strict=True, pattern=r"^https?://\S+$")]
CountryCode = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z]{2}$")]
LanguageCode = Annotated[str, StringConstraints(strict=True, pattern=r"^[a-z]{2,3}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Line(_Strict):
    """One helpline. `source` is the public page its number was confirmed from."""

    name: Text
    phones: tuple[Phone, ...] = Field(default=(), alias="phone")
    text: Text | None = None  # an SMS number, or "KEYWORD to NUMBER"
    web: Https | None = None
    email: Annotated[str, StringConstraints(pattern=r"^[^@\s]+@[^@\s]+$")] | None = None
    hours: Text | None = None
    note: Text | None = None
    source: SourceUrl
    checked: date

    @field_validator("phones", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str | int) else value

    @model_validator(mode="after")
    def _reachable(self) -> Line:
        if not (self.phones or self.text or self.web or self.email):
            raise ValueError("needs a way to reach it: phone, text, web or email")
        return self


class Emergency(_Strict):
    number: Annotated[str, StringConstraints(strict=True, pattern=r"^[0-9]{2,4}$")]
    source: SourceUrl
    checked: date


class Country(_Strict):
    name: Text
    emergency: Emergency
    crisis: Annotated[tuple[Line, ...], Field(min_length=1)]
    domestic_violence: tuple[Line, ...] = ()
    youth: tuple[Line, ...] = ()


class International(_Strict):
    name: Text
    lines: Annotated[tuple[Line, ...], Field(min_length=1)]


class Texts(_Strict):
    """The fixed phrases that frame the numbers."""

    emergency: Annotated[Text, StringConstraints(pattern=r"\{number\}")]
    emergency_local: Text
    crisis_title: Text
    violence_title: Text
    danger_title: Text
    directory_title: Text
    directory_title_local: Text
    youth_intro: Text
    youth_title: Text


class Helplines(_Strict):
    """Everything in `helplines.yaml`."""

    texts: Texts
    international: International
    countries: Annotated[dict[CountryCode, Country], Field(min_length=1)]
    languages: dict[LanguageCode, CountryCode] = {}

    @model_validator(mode="after")
    def _languages_point_at_countries(self) -> Helplines:
        for lang, code in self.languages.items():
            if code not in self.countries:
                raise ValueError(f"languages.{lang} maps to {code!r}, which is not in 'countries'")
        return self


class HelplineSet(BaseModel):
    """The helplines to show one person.

    `country` is the ISO code, or None for the worldwide fallback; `source` says how it was
    chosen: "setting", "timezone", "language" or "default". `international` (the worldwide
    directory) is always there and always shown last.
    """

    model_config = ConfigDict(frozen=True)

    country: str | None
    country_name: str
    emergency: str | None
    crisis: tuple[Line, ...] = ()
    domestic_violence: tuple[Line, ...] = ()
    international: tuple[Line, ...] = ()
    source: str = SOURCE_DEFAULT
    youth: tuple[Line, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Positional construction, in field order, as the earlier dataclass allowed.
        kwargs.update(zip(type(self).model_fields, args, strict=False))
        super().__init__(**kwargs)

    @property
    def abuse(self) -> tuple[Line, ...]:
        """The domestic-violence lines (the name earlier callers use)."""
        return self.domestic_violence

    @property
    def directory(self) -> tuple[Line, ...]:
        """The worldwide directory (the name earlier callers use)."""
        return self.international

    @property
    def lines(self) -> tuple[Line, ...]:
        """Every line, the worldwide directory last."""
        return self.crisis + self.domestic_violence + self.youth + self.international


# --- Loading and validation --------------------------------------------------------------------


def _entry(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part != "[key]":
            out += f".{part}" if out else str(part)
    return out or "-"


def parse_helplines(raw: Any, file: str = HELPLINES_FILE) -> Helplines:
    """Validate the parsed YAML document; the first problem is raised as a `ContentError`
    naming the file and the entry (e.g. "countries.gb.crisis[0].phone[0]")."""
    if not isinstance(raw, dict):
        raise ContentError(file, "-", "must be a mapping with 'international' and 'countries'")
    try:
        return Helplines.model_validate(raw)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        problem = first["msg"].removeprefix("Value error, ")
        raise ContentError(file, _entry(first["loc"]), problem) from None


@cache
def load_helplines(directory: Path = CONTENT_DIR) -> Helplines:
    """The validated helplines file, read once per directory."""
    return parse_helplines(read_yaml(HELPLINES_FILE, directory), HELPLINES_FILE)


# --- Time zone -> country ----------------------------------------------------------------------


def _tz_file(name: str) -> str:
    return resources.files("tzdata").joinpath("zoneinfo").joinpath(name).read_text("utf-8")


@cache
def _zone_countries() -> tuple[Mapping[str, str], Mapping[str, tuple[str, ...]], Mapping[str, str]]:
    """From the tz database that `tzdata` ships: zone -> its country (zone.tab), zone -> every
    country sharing its clocks since 1970 (zone1970.tab), and link name -> zone (tzdata.zi)."""
    primary: dict[str, str] = {}
    for row in _tz_file("zone.tab").splitlines():
        if row and not row.startswith("#"):
            code, _coords, zone, *_ = row.split("\t")
            primary[zone] = code.lower()
    shared: dict[str, tuple[str, ...]] = {}
    for row in _tz_file("zone1970.tab").splitlines():
        if row and not row.startswith("#"):
            codes, _coords, zone, *_ = row.split("\t")
            shared[zone] = tuple(c.lower() for c in codes.split(","))
    links: dict[str, str] = {}
    for row in _tz_file("tzdata.zi").splitlines():
        if row.startswith("L "):
            _l, target, link = row.split()
            links[link] = target
    return primary, shared, links


def countries_for_zone(zone: str | None) -> tuple[str, ...]:
    """The ISO codes a time zone points at, its own country first: "Europe/London" ->
    ("gb", "gg", "im", "je"); "Asia/Calcutta" (an old name) -> ("in",). Empty for "UTC",
    fixed offsets like "UTC+05:30", and anything unknown."""
    if not isinstance(zone, str) or not zone.strip():
        return ()
    primary, shared, links = _zone_countries()
    name = zone.strip()
    for _hop in range(3):  # a link names a zone, and (rarely) another link
        if name in primary or name in shared:
            break
        if name not in links:
            return ()
        name = links[name]
    own = primary.get(name)
    others = shared.get(name, ())
    if own is None:
        return others
    return (own, *(c for c in others if c != own))


# --- Choosing ----------------------------------------------------------------------------------


def _country_from_setting(value: str, data: Helplines) -> str | None:
    key = " ".join(value.strip().casefold().split())
    key = _COUNTRY_ALIASES.get(key, key)
    if key in data.countries:
        return key
    for code, country in data.countries.items():
        if country.name.casefold() == key:
            return code
    return None


def _language_parts(language_code: str) -> tuple[str | None, str | None]:
    """(base language, region) of a code like "en-GB", "es_419" or "de"."""
    parts = [p for p in re.split(r"[-_]", language_code.strip().casefold()) if p]
    if not parts:
        return None, None
    regions = [
        p for p in parts[1:] if (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit())
    ]
    return parts[0], (_COUNTRY_ALIASES.get(regions[0], regions[0]) if regions else None)


def _country_from_language(language_code: str, data: Helplines) -> str | None:
    base, region = _language_parts(language_code)
    # A region subtag ("GB" in "en-GB", "419" in "es-419") decides on its own: a Mexican
    # Spanish speaker must not be sent to Spain's numbers. Plain "en" names no country.
    if region is not None:
        return region if region in data.countries else None
    return data.languages.get(base) if base else None


def guess_country(
    country: str | None,
    language_code: str | None,
    data: Helplines | None = None,
    *,
    timezone: str | None = None,
) -> tuple[str | None, str]:
    """(ISO code or None, source). The person's own setting always wins, even when we have no
    lines for it; a time zone that names a country wins over the language. Either way a country
    we have no lines for gets the worldwide list, never another country's numbers."""
    data = load_helplines() if data is None else data
    if isinstance(country, str) and country.strip():
        code = _country_from_setting(country, data)
        return code, SOURCE_SETTING if code else SOURCE_DEFAULT
    language = language_code if isinstance(language_code, str) and language_code.strip() else None
    zone_countries = countries_for_zone(timezone)
    if zone_countries:
        # A zone shared by several countries (Europe/London is also Jersey's) is narrowed by
        # the language when the language names one of them.
        spoken = _country_from_language(language, data) if language else None
        code = spoken if spoken in zone_countries else zone_countries[0]
        return (code, SOURCE_TIMEZONE) if code in data.countries else (None, SOURCE_TIMEZONE)
    if language:
        code = _country_from_language(language, data)
        if code:
            return code, SOURCE_LANGUAGE
    return None, SOURCE_DEFAULT


def helplines_for(
    country: str | None = None,
    language: str | None = None,
    *,
    timezone: str | None = None,
    directory: Path = CONTENT_DIR,
) -> HelplineSet:
    """The helplines for a person: their country setting if they chose one, else the country
    of their time zone, else one read from their Telegram language code, else the worldwide
    directory."""
    data = load_helplines(directory)
    code, source = guess_country(country, language, data, timezone=timezone)
    if code is None:
        return HelplineSet(
            country=None,
            country_name=data.international.name,
            emergency=None,
            international=data.international.lines,
            source=source,
        )
    found = data.countries[code]
    return HelplineSet(
        country=code,
        country_name=found.name,
        emergency=found.emergency.number,
        crisis=found.crisis,
        domestic_violence=found.domestic_violence,
        international=data.international.lines,
        source=source,
        youth=found.youth,
    )


# --- Showing -----------------------------------------------------------------------------------
# Short texts for a phone screen, HTML-escaped for parse_mode=HTML (they contain no tags). The
# phrases that frame the numbers are in helplines.yaml (`texts`); the messages around them live
# in texts_safety.yaml.


def _escape(value: str) -> str:
    # Telegram's HTML mode needs only &, < and > escaped; there are no attributes here.
    return html.escape(value, quote=False)


def _web_label(url: str) -> str:
    label = url.removeprefix("https://").removeprefix("www.")
    return label.rstrip("/")


def describe_line(line: Line) -> str:
    """'Samaritans: call 116 123, email jo@samaritans.org (24/7, free)' - HTML-escaped."""
    ways: list[str] = []
    if line.phones:
        calls = " or ".join(line.phones)
        if line.text is not None and line.text in line.phones:
            ways.append(f"call or text {calls}")
        else:
            ways.append(f"call {calls}")
    if line.text is not None and line.text not in line.phones:
        ways.append(f"text {line.text}")
    if line.email:
        ways.append(f"email {line.email}")
    if line.web and not (line.phones or line.text):  # keep it short: the web only when needed
        ways.append(_web_label(line.web))
    out = f"{_escape(line.name)}: {_escape(', '.join(ways))}"
    extra = "; ".join(x for x in (line.hours, line.note) if x)
    if extra:
        out += f" ({_escape(extra)})"
    return out


def _bullets(lines: tuple[Line, ...]) -> list[str]:
    return [f"• {describe_line(line)}" for line in lines]


def _texts() -> Texts:
    return load_helplines().texts


def _emergency_line(hs: HelplineSet) -> str:
    if hs.emergency:
        return _escape(_texts().emergency.replace("{number}", hs.emergency))
    return _escape(_texts().emergency_local)


def _directory(hs: HelplineSet) -> list[str]:
    texts = _texts()
    title = texts.directory_title if hs.country else texts.directory_title_local
    return ["", _escape(title), *_bullets(hs.international)]


def format_helplines(hs: HelplineSet, *, risk: str | None = None, youth_first: bool = False) -> str:
    """The full list: emergency number, crisis lines, domestic-violence lines, the worldwide
    directory last. After a disclosure of abuse or danger (risk "abuse" or "danger") the
    domestic-violence lines come first. For someone under 18 (`youth_first`), a trusted adult
    and the youth lines come before all the others."""
    texts = _texts()
    out = [_emergency_line(hs)]
    if youth_first:
        out.extend(["", _escape(texts.youth_intro)])
        if hs.youth:
            out.extend([_escape(texts.youth_title), *_bullets(hs.youth)])
    crisis = (_escape(texts.crisis_title), hs.crisis)
    abuse = (_escape(texts.violence_title), hs.domestic_violence)
    sections = [abuse, crisis] if risk in ("abuse", "danger") else [crisis, abuse]
    for title, lines in sections:
        if lines:
            out.extend(["", title, *_bullets(lines)])
    return "\n".join(out + _directory(hs))


def format_crisis(hs: HelplineSet) -> str:
    """For a crisis reply: the crisis lines, the emergency number, the worldwide directory."""
    out = _bullets(hs.crisis)
    out.append(_emergency_line(hs))
    if not hs.crisis:
        out.extend(_directory(hs)[1:])
    else:
        out.extend(_directory(hs))
    return "\n".join(out)


def format_danger(hs: HelplineSet) -> str:
    """For a person in danger from their ex: the emergency number first, then the
    domestic-violence lines (or the worldwide directory where we have none)."""
    out = [_emergency_line(hs)]
    if hs.domestic_violence:
        out.extend(["", _escape(_texts().danger_title)])
        out.extend(_bullets(hs.domestic_violence))
    else:
        out.extend(_directory(hs))
    return "\n".join(out)


def format_youth_note(hs: HelplineSet) -> str:
    """For someone under 18: the youth lines where we have them, and a trusted adult."""
    texts = _texts()
    out = [_escape(texts.youth_intro)]
    if hs.youth:
        out.append(_escape(texts.youth_title))
        out.extend(_bullets(hs.youth))
    else:
        out.extend(_directory(hs)[1:])
    return "\n".join(out)


def format_to_share(hs: HelplineSet) -> str:
    """Crisis lines a person can pass on to someone else in danger (their ex): the country's
    crisis lines, or the worldwide directory where we have none."""
    return "\n".join(_bullets(hs.crisis or hs.international))
