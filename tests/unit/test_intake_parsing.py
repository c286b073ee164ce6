from __future__ import annotations

from datetime import date

import pytest

from content import load_content
from content.intake import FutureDate, clean_name, parse_breakup_date, parse_hour
from content.timezones import zone_info

TODAY = date(2026, 3, 2)


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-02-14", date(2026, 2, 14)),
        ("14 February", date(2026, 2, 14)),
        ("February 14", date(2026, 2, 14)),
        ("3 October", date(2025, 10, 3)),  # no year: the most recent 3 October
        ("10 days ago", date(2026, 2, 20)),
        ("two weeks ago", date(2026, 2, 16)),
        ("a month ago", date(2026, 1, 31)),
        ("yesterday", date(2026, 3, 1)),
        ("1/2/2026", date(2026, 2, 1)),
    ],
)
def test_typed_breakup_dates_are_understood(typed, expected):
    assert parse_breakup_date(typed, TODAY) == expected


@pytest.mark.parametrize("typed", ["purple", "5", "", "the day my heart broke", "31 Smarch"])
def test_unreadable_dates_are_refused(typed):
    assert parse_breakup_date(typed, TODAY) is None


def test_a_future_date_is_called_out():
    with pytest.raises(FutureDate):
        parse_breakup_date("2027-01-01", TODAY)


@pytest.mark.parametrize(
    ("typed", "hour"),
    [
        ("7", 7),
        ("07:00", 7),
        ("7pm", 19),
        ("7 PM", 19),
        ("19", 19),
        ("21:00", 21),
        ("12am", 0),
        ("12pm", 12),
        ("0", 0),
    ],
)
def test_check_in_hours_can_be_typed_many_ways(typed, hour):
    assert parse_hour(typed) == hour


@pytest.mark.parametrize("typed", ["7:30", "25", "13pm", "noonish", ""])
def test_impossible_or_partial_hours_are_refused(typed):
    assert parse_hour(typed) is None


@pytest.mark.parametrize(
    ("typed", "zone"),
    [
        ("Toronto", "America/Toronto"),
        ("paris", "Europe/Paris"),
        ("New York", "America/New_York"),
        ("Mumbai", "Asia/Kolkata"),
        ("san francisco", "America/Los_Angeles"),
        ("UTC", "UTC"),
        ("UTC+2", "UTC+02:00"),
        ("gmt-3", "UTC-03:00"),
        ("+5:30", "UTC+05:30"),
        ("Asia/Tokyo", "Asia/Tokyo"),
        ("London", "Europe/London"),
    ],
)
def test_time_zones_resolve_from_cities_countries_and_offsets(typed, zone):
    assert load_content().timezones.resolve(typed) == zone


@pytest.mark.parametrize("typed", ["Narnia", "UTC+15", "UTC+5:20", "", "🙂"])
def test_places_and_offsets_that_do_not_exist_are_refused(typed):
    assert load_content().timezones.resolve(typed) is None


def test_a_stored_offset_zone_gives_a_fixed_offset():
    from datetime import datetime, timedelta

    assert zone_info("UTC+05:30").utcoffset(datetime(2026, 1, 1)) == timedelta(hours=5, minutes=30)
    assert zone_info("UTC-03:00").utcoffset(datetime(2026, 1, 1)) == timedelta(hours=-3)


def test_names_are_trimmed_and_kept_short():
    assert clean_name("  Jo   Ann ") == "Jo Ann"
    assert clean_name("x" * 41) is None
    assert clean_name("Mary Ann de Souza") == "Mary Ann de Souza"
    assert clean_name("he said he'd make me disappear") is None  # a sentence, not a name
    assert clean_name("   ") is None
