"""When things happen for a person: check-in times in their own zone, across DST changes.

Pure functions over plain values; the clock's `now` is always passed in.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from content.timezones import zone_info

RISKY_DAY_HOUR = 9
CATCH_UP = timedelta(hours=3)  # a check-in missed by less than this is still sent, once


@dataclass(frozen=True, slots=True)
class Due:
    at: datetime  # UTC
    local_date: date
    kind: str  # daily | risky_day


def local_moment(day: date, hour: int, zone: str) -> datetime:
    """`hour`:00 on `day` in `zone`, as UTC. A wall time skipped by a DST jump is read with the
    offset from before the jump, so it lands just after the jump; a repeated one takes its first
    occurrence."""
    return datetime.combine(day, time(hour), tzinfo=zone_info(zone)).astimezone(UTC)


def in_quiet_hours(hour: int, quiet_start: int | None, quiet_end: int | None) -> bool:
    if quiet_start is None or quiet_end is None or quiet_start == quiet_end:
        return False
    if quiet_start < quiet_end:
        return quiet_start <= hour < quiet_end
    return hour >= quiet_start or hour < quiet_end


def effective_hour(hour: int, quiet_start: int | None, quiet_end: int | None) -> int:
    """A check-in that would fall in quiet hours waits until they end."""
    return quiet_end if in_quiet_hours(hour, quiet_start, quiet_end) else hour  # type: ignore[return-value]


def next_due(
    *,
    after: datetime,
    zone: str,
    checkin_hour: int,
    quiet_start: int | None = None,
    quiet_end: int | None = None,
    risky_days: Collection[tuple[int, int]] = (),
    paused_until: datetime | None = None,
) -> Due:
    """The first check-in strictly after `after` (and not before `paused_until`)."""
    start = max(after, paused_until) if paused_until else after
    local_start = start.astimezone(zone_info(zone)).date()
    daily_hour = effective_hour(checkin_hour, quiet_start, quiet_end)
    risky_hour = effective_hour(RISKY_DAY_HOUR, quiet_start, quiet_end)
    for offset in range(0, 3):
        day = local_start + timedelta(days=offset)
        candidates = [Due(local_moment(day, daily_hour, zone), day, "daily")]
        if (day.month, day.day) in risky_days and risky_hour != daily_hour:
            candidates.append(Due(local_moment(day, risky_hour, zone), day, "risky_day"))
        for due in sorted(candidates, key=lambda d: d.at):
            if due.at > after and (paused_until is None or due.at >= paused_until):
                return due
    raise AssertionError("no check-in found within three days")  # pragma: no cover


def due_at(
    moment: datetime,
    *,
    zone: str,
    checkin_hour: int,
    quiet_start: int | None = None,
    quiet_end: int | None = None,
    risky_days: Collection[tuple[int, int]] = (),
) -> Due:
    """Which check-in a stored pointer `moment` stands for (its local date and kind)."""
    day = moment.astimezone(zone_info(zone)).date()
    risky_hour = effective_hour(RISKY_DAY_HOUR, quiet_start, quiet_end)
    daily_hour = effective_hour(checkin_hour, quiet_start, quiet_end)
    if (
        (day.month, day.day) in risky_days
        and risky_hour != daily_hour
        and moment == local_moment(day, risky_hour, zone)
    ):
        return Due(moment, day, "risky_day")
    return Due(moment, day, "daily")


def local_date_of(moment: datetime, zone: str) -> date:
    return moment.astimezone(zone_info(zone)).date()


def local_hour_of(moment: datetime, zone: str) -> int:
    return moment.astimezone(zone_info(zone)).hour
