"""The progress chart: a pure function from plain data to PNG bytes, and the stretches and
milestones it marks. No database, no Telegram, no files."""

from __future__ import annotations

import struct
from datetime import date, timedelta

import pytest

from bot.services.progress import (
    ChartData,
    ChartLabels,
    render_chart,
    stretches_and_milestones,
)

LABELS = ChartLabels(
    title="Your mood over time",
    mood_axis="Mood (1 = awful, 5 = good)",
    mood="Mood",
    no_contact="No contact",
    slip="You reached out",
    milestone="Milestone (days)",
    empty="No check-ins yet",
)
TODAY = date(2026, 3, 2)


def size_of(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


def chart(days: int, slips: tuple[int, ...] = ()) -> ChartData:
    start = TODAY - timedelta(days=max(days - 1, 0))
    slip_days = tuple(start + timedelta(days=n) for n in slips)
    stretches, milestones = stretches_and_milestones(start, TODAY, slip_days, 30)
    moods = tuple((start + timedelta(days=n), float(1 + n % 5)) for n in range(days))
    return ChartData(start, TODAY, moods, stretches, slip_days, milestones)


@pytest.mark.parametrize("days", [0, 1, 365])
def test_the_chart_is_a_png_of_a_sensible_size_for_any_amount_of_data(days):
    png = render_chart(chart(days, slips=(40, 150, 300) if days > 300 else ()), LABELS)
    width, height = size_of(png)
    assert (width, height) == (1200, 600)
    assert len(png) < 300_000


def test_a_year_of_data_with_many_slips_and_milestones_still_draws(tmp_path):
    data = chart(365, slips=tuple(range(5, 365, 9)))
    png = render_chart(data, LABELS)
    assert size_of(png) == (1200, 600) and len(png) < 300_000
    assert list(tmp_path.iterdir()) == []  # drawn in memory, nothing written


def test_stretches_split_at_each_slip_and_run_to_today():
    start = date(2026, 1, 1)
    slips = (date(2026, 1, 11), date(2026, 1, 20))
    stretches, milestones = stretches_and_milestones(start, date(2026, 2, 1), slips, 21)
    assert stretches == (
        (date(2026, 1, 1), date(2026, 1, 10)),
        (date(2026, 1, 11), date(2026, 1, 19)),
        (date(2026, 1, 20), date(2026, 2, 1)),
    )
    assert milestones == (
        (date(2026, 1, 2), 1), (date(2026, 1, 4), 3), (date(2026, 1, 8), 7),
        (date(2026, 1, 12), 1), (date(2026, 1, 14), 3), (date(2026, 1, 18), 7),
        (date(2026, 1, 21), 1), (date(2026, 1, 23), 3), (date(2026, 1, 27), 7),
    )  # fmt: skip


def test_the_chosen_length_is_a_milestone_and_slips_outside_the_plan_are_ignored():
    start = date(2026, 1, 1)
    ignored = (date(2025, 12, 1), date(2026, 1, 1), date(2026, 3, 1))
    stretches, milestones = stretches_and_milestones(start, date(2026, 2, 5), ignored, 30)
    assert stretches == ((start, date(2026, 2, 5)),)
    assert [days for _, days in milestones] == [1, 3, 7, 14, 21, 30]
    assert milestones[-1] == (date(2026, 1, 31), 30)


def test_a_plan_that_began_today_has_one_short_stretch_and_no_milestones():
    assert stretches_and_milestones(TODAY, TODAY, (), 30) == (((TODAY, TODAY),), ())
