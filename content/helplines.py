"""Crisis and abuse helplines: which ones to show a person, and how to show them.

Pure: no Telegram, no database. The data is `helplines.yaml`; a broken entry fails at
load time with a `ContentError` naming the file and the entry.

    hs = helplines_for(user.country, update.effective_user.language_code)
    text = format_helplines(hs, risk=result.risk)   # HTML-escaped, for parse_mode=HTML
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from content.loader import CONTENT_DIR, ContentError, read_yaml, require_text

HELPLINES_FILE = "helplines.yaml"

SOURCE_SETTING = "setting"
SOURCE_LANGUAGE = "language"
SOURCE_DEFAULT = "default"

_COUNTRY_CODE = re.compile(r"^[a-z]{2}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_PHONE = re.compile(r"^\+?[0-9](?:[0-9 \-]*[0-9])?$")
_EMERGENCY = re.compile(r"^[0-9]{2,4}$")
_LINE_KEYS = frozenset({"name", "phone", "text", "web", "email", "hours", "note", "verified"})

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


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    phones: tuple[str, ...] = ()
    text: str | None = None
    web: str | None = None
    email: str | None = None
    hours: str | None = None
    note: str | None = None
    verified: str | None = None


@dataclass(frozen=True, slots=True)
class Country:
    code: str
    name: str
    emergency: str
    crisis: tuple[Line, ...]
    abuse: tuple[Line, ...] = ()


@dataclass(frozen=True, slots=True)
class Helplines:
    """Everything in `helplines.yaml`."""

    countries: Mapping[str, Country]
    international_name: str
    international: tuple[Line, ...]
    languages: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class HelplineSet:
    """The helplines to show one person.

    `country` is the ISO code, or None for the worldwide fallback; `source` says how it was
    chosen: "setting", "language" or "default". `directory` (the worldwide directory) is
    always there and always shown last.
    """

    country: str | None
    country_name: str
    emergency: str | None
    crisis: tuple[Line, ...]
    abuse: tuple[Line, ...]
    directory: tuple[Line, ...]
    source: str = SOURCE_DEFAULT

    @property
    def lines(self) -> tuple[Line, ...]:
        """Every line, the worldwide directory last."""
        return self.crisis + self.abuse + self.directory


# --- Loading and validation --------------------------------------------------------------------


def _optional_text(file: str, entry: str, body: Mapping[str, Any], field: str) -> str | None:
    if body.get(field) is None:
        return None
    return require_text(file, entry, body[field], field)


def _parse_line(file: str, entry: str, body: Any) -> Line:
    if not isinstance(body, dict):
        raise ContentError(file, entry, "each line must be a mapping with at least a name")
    unknown = set(body) - _LINE_KEYS
    if unknown:
        raise ContentError(file, entry, f"unknown field(s): {', '.join(sorted(map(str, unknown)))}")
    name = require_text(file, entry, body.get("name"), "name")

    raw_phones = body.get("phone")
    if raw_phones is None:
        raw_phones = []
    elif not isinstance(raw_phones, list):
        raw_phones = [raw_phones]
    phones = tuple(require_text(file, entry, p, "phone") for p in raw_phones)
    for phone in phones:
        if not _PHONE.match(phone):
            raise ContentError(file, entry, f"phone {phone!r} must be digits, spaces or dashes")

    text = _optional_text(file, entry, body, "text")
    web = _optional_text(file, entry, body, "web")
    if web is not None and not web.startswith("https://"):
        raise ContentError(file, entry, f"web address {web!r} must start with https://")
    email = _optional_text(file, entry, body, "email")
    if email is not None and "@" not in email:
        raise ContentError(file, entry, f"email {email!r} is not an email address")
    if not (phones or text or web or email):
        raise ContentError(file, entry, "needs a way to reach it: phone, text, web or email")
    return Line(
        name=name,
        phones=phones,
        text=text,
        web=web,
        email=email,
        hours=_optional_text(file, entry, body, "hours"),
        note=_optional_text(file, entry, body, "note"),
        verified=_optional_text(file, entry, body, "verified"),
    )


def _parse_lines(file: str, entry: str, raw: Any, *, required: bool) -> tuple[Line, ...]:
    if raw is None:
        raw = []
    if not isinstance(raw, list):
        raise ContentError(file, entry, "must be a list of lines")
    if required and not raw:
        raise ContentError(file, entry, "must list at least one line")
    return tuple(_parse_line(file, f"{entry}[{i}]", body) for i, body in enumerate(raw))


def parse_helplines(raw: Any, file: str = HELPLINES_FILE) -> Helplines:
    """Validate the parsed YAML document (see `helplines.yaml`)."""
    if not isinstance(raw, dict):
        raise ContentError(file, "-", "must be a mapping with 'international' and 'countries'")

    intl = raw.get("international")
    if not isinstance(intl, dict):
        raise ContentError(file, "international", "must be a mapping with a name and lines")
    intl_name = require_text(file, "international", intl.get("name"), "name")
    international = _parse_lines(file, "international.lines", intl.get("lines"), required=True)

    raw_countries = raw.get("countries")
    if not isinstance(raw_countries, dict) or not raw_countries:
        raise ContentError(file, "countries", "must map ISO country codes to countries")
    countries: dict[str, Country] = {}
    for code, body in raw_countries.items():
        entry = f"countries.{code}"
        if not isinstance(code, str) or not _COUNTRY_CODE.match(code):
            raise ContentError(file, entry, "country keys are lowercase ISO codes, like 'gb'")
        if not isinstance(body, dict):
            raise ContentError(file, entry, "must be a mapping")
        emergency = require_text(file, entry, body.get("emergency"), "emergency")
        if not _EMERGENCY.match(emergency):
            raise ContentError(file, entry, f"emergency number {emergency!r} must be digits")
        countries[code] = Country(
            code=code,
            name=require_text(file, entry, body.get("name"), "name"),
            emergency=emergency,
            crisis=_parse_lines(file, f"{entry}.crisis", body.get("crisis"), required=True),
            abuse=_parse_lines(file, f"{entry}.abuse", body.get("abuse"), required=False),
        )

    raw_languages = raw.get("languages") or {}
    if not isinstance(raw_languages, dict):
        raise ContentError(file, "languages", "must map language codes to country codes")
    languages: dict[str, str] = {}
    for lang, code in raw_languages.items():
        entry = f"languages.{lang}"
        if not isinstance(lang, str) or not _LANGUAGE.match(lang):
            raise ContentError(file, entry, "language keys are lowercase codes, like 'de'")
        if code not in countries:
            raise ContentError(file, entry, f"maps to {code!r}, which is not in 'countries'")
        languages[lang] = code

    return Helplines(countries, intl_name, international, languages)


@cache
def load_helplines(directory: Path = CONTENT_DIR) -> Helplines:
    """The validated helplines file, read once per directory."""
    return parse_helplines(read_yaml(HELPLINES_FILE, directory), HELPLINES_FILE)


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


def _country_from_language(language_code: str, data: Helplines) -> str | None:
    parts = [p for p in re.split(r"[-_]", language_code.strip().casefold()) if p]
    if not parts:
        return None
    # A region subtag ("GB" in "en-GB", "419" in "es-419") decides on its own: a Mexican
    # Spanish speaker must not be sent to Spain's numbers.
    regions = [
        p for p in parts[1:] if (len(p) == 2 and p.isalpha()) or (len(p) == 3 and p.isdigit())
    ]
    if regions:
        region = _COUNTRY_ALIASES.get(regions[0], regions[0])
        return region if region in data.countries else None
    return data.languages.get(parts[0])


def guess_country(
    country: str | None, language_code: str | None, data: Helplines | None = None
) -> tuple[str | None, str]:
    """(ISO code or None, source). The person's own setting always wins, even when we have
    no lines for it: then they get the worldwide list, never another country's numbers."""
    data = load_helplines() if data is None else data
    if isinstance(country, str) and country.strip():
        code = _country_from_setting(country, data)
        return (code, SOURCE_SETTING) if code else (None, SOURCE_DEFAULT)
    if isinstance(language_code, str) and language_code.strip():
        code = _country_from_language(language_code, data)
        if code:
            return code, SOURCE_LANGUAGE
    return None, SOURCE_DEFAULT


def helplines_for(
    country: str | None, language_code: str | None, *, directory: Path = CONTENT_DIR
) -> HelplineSet:
    """The helplines for a person: their country setting if we know it, else a country
    guessed from their Telegram language code, else the worldwide directory."""
    data = load_helplines(directory)
    code, source = guess_country(country, language_code, data)
    if code is None:
        return HelplineSet(
            country=None,
            country_name=data.international_name,
            emergency=None,
            crisis=(),
            abuse=(),
            directory=data.international,
            source=source,
        )
    found = data.countries[code]
    return HelplineSet(
        country=code,
        country_name=found.name,
        emergency=found.emergency,
        crisis=found.crisis,
        abuse=found.abuse,
        directory=data.international,
        source=source,
    )


# --- Showing -----------------------------------------------------------------------------------


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


def format_helplines(hs: HelplineSet, *, risk: str | None = None) -> str:
    """A short list for a phone screen. Every value is HTML-escaped, so the result can be
    sent with parse_mode=HTML (it contains no tags). With risk="abuse" the abuse lines come
    before the crisis lines; the worldwide directory is always last."""
    out: list[str] = []
    if hs.emergency:
        out.append(f"If you are in danger right now, call {_escape(hs.emergency)}.")
    else:
        out.append("If you are in danger right now, call your local emergency number.")

    crisis = ("Someone to talk to:", hs.crisis)
    abuse = ("If someone is hurting, scaring or controlling you:", hs.abuse)
    sections = [abuse, crisis] if risk == "abuse" else [crisis, abuse]
    for title, lines in sections:
        if lines:
            out.append("")
            out.append(title)
            out.extend(f"• {describe_line(line)}" for line in lines)

    out.append("")
    out.append("Anywhere in the world:" if hs.country else "Free helplines where you are:")
    out.extend(f"• {describe_line(line)}" for line in hs.directory)
    return "\n".join(out)
