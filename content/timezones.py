"""Time zones by button, by typed city or country, or by UTC offset."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta, timezone, tzinfo
from functools import cached_property, lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from content.loader import CONTENT_DIR, ContentError, read_yaml, require_text

FILE = "timezones.yaml"
_OFFSET = re.compile(r"^(?:utc|gmt)?\s*([+-])\s*(\d{1,2})(?::?(\d{2}))?$")


@dataclass(frozen=True, slots=True)
class ZoneButton:
    label: str
    zone: str


@lru_cache(maxsize=512)
def zone_info(name: str) -> tzinfo:
    """The tzinfo for a stored zone: an IANA name or a fixed offset written 'UTC+05:30'."""
    match = _OFFSET.match(name.lower())
    if match and name.upper().startswith("UTC") and name.upper() != "UTC":
        sign = -1 if match.group(1) == "-" else 1
        delta = timedelta(hours=int(match.group(2)), minutes=int(match.group(3) or 0))
        return timezone(sign * delta)
    return ZoneInfo(name)


class TimezoneCatalog:
    def __init__(self, buttons: tuple[ZoneButton, ...], aliases: Mapping[str, str]) -> None:
        self.buttons = buttons
        self.aliases = dict(aliases)

    @cached_property
    def _by_city(self) -> dict[str, str]:
        cities: dict[str, str] = {}
        for zone in sorted(available_timezones()):
            if "/" not in zone or zone.startswith(("Etc/", "SystemV/", "US/")):
                continue
            city = zone.rsplit("/", 1)[-1].replace("_", " ").lower()
            cities.setdefault(city, zone)
        return cities

    def resolve(self, typed: str) -> str | None:
        """A stored zone name for what someone typed, or None if it names no place we know."""
        text = " ".join(typed.strip().split())
        lowered = text.lower().rstrip(".")
        if lowered in {"utc", "gmt", "z"}:
            return "UTC"
        match = _OFFSET.match(lowered)
        if match:
            hours, minutes = int(match.group(2)), int(match.group(3) or 0)
            if hours > 14 or minutes not in (0, 15, 30, 45) or (hours == 14 and minutes):
                return None
            if hours == 0 and minutes == 0:
                return "UTC"
            return f"UTC{match.group(1)}{hours:02d}:{minutes:02d}"
        for button in self.buttons:
            if lowered == button.label.lower():
                return button.zone
        if lowered in self.aliases:
            return self.aliases[lowered]
        if lowered in self._by_city:
            return self._by_city[lowered]
        candidate = text.replace(" ", "_")
        for name in (candidate, candidate.title()):
            try:
                ZoneInfo(name)
            except (ZoneInfoNotFoundError, ValueError):
                continue
            if "/" in name:
                return name
        return None

    def label(self, zone: str) -> str:
        for button in self.buttons:
            if button.zone == zone:
                return button.label if button.label == zone else f"{button.label} ({zone})"
        return zone.replace("_", " ")


def load_timezones(directory: Path = CONTENT_DIR) -> TimezoneCatalog:
    raw = read_yaml(FILE, directory)
    buttons = []
    for index, item in enumerate(raw.get("buttons") or []):
        entry = f"buttons[{index}]"
        label = require_text(FILE, entry, item.get("label"), "label")
        zone = require_text(FILE, entry, item.get("zone"), "zone")
        _check_zone(entry, zone)
        buttons.append(ZoneButton(label, zone))
    if not buttons:
        raise ContentError(FILE, "buttons", "lists no time zones")
    aliases = {}
    for alias, zone in (raw.get("aliases") or {}).items():
        _check_zone(f"aliases.{alias}", str(zone))
        aliases[str(alias).lower()] = str(zone)
    return TimezoneCatalog(tuple(buttons), aliases)


def _check_zone(entry: str, zone: str) -> None:
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ContentError(FILE, entry, f"'{zone}' is not an IANA time zone") from None
