"""The helplines (content/helplines.py): where the country comes from, what each country lists,
how the lines are shown, and how a broken file is refused."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from content.helplines import (
    HelplineSet,
    Line,
    countries_for_zone,
    format_crisis,
    format_danger,
    format_helplines,
    format_youth_note,
    helplines_for,
    load_helplines,
)
from content.loader import ContentError

CHECKED = date(2026, 11, 27)
SRC = "https://example.org/page"

# The numbers every covered country must show: emergency, crisis, domestic violence, youth.
REQUIRED = {
    "us": ("911", "988", "1-800-799-7233", "1-800-422-4453"),
    "gb": ("999", "116 123", "0808 2000 247", "0800 1111"),
    "ie": ("112", "116 123", "1800 341 900", "1800 66 66 66"),
    "ca": ("911", "9-8-8", None, "1-800-668-6868"),
    "au": ("000", "13 11 14", "1800 737 732", "1800 55 1800"),
    "de": ("112", "0800 111 0 111", "116 016", "116 111"),
    "fr": ("112", "3114", "3919", "119"),
    "es": ("112", "024", "016", "900 20 20 10"),
    "it": ("112", "02 2327 2327", "1522", "19696"),
    "in": ("112", "14416", "181", "1098"),
}


def _phones(lines: tuple[Line, ...]) -> set[str]:
    return {phone for line in lines for phone in line.phones}


# --- Where the country comes from ---------------------------------------------------------------


def test_the_london_time_zone_gives_the_uk_lines():
    hs = helplines_for(timezone="Europe/London")
    assert (hs.country, hs.source, hs.emergency) == ("gb", "timezone", "999")
    assert "116 123" in _phones(hs.crisis)
    assert "0808 2000 247" in _phones(hs.domestic_violence)


def test_the_new_york_time_zone_gives_988_and_the_domestic_violence_hotline():
    hs = helplines_for(timezone="America/New_York")
    assert (hs.country, hs.source, hs.emergency) == ("us", "timezone", "911")
    assert "988" in _phones(hs.crisis)
    assert "1-800-799-7233" in _phones(hs.domestic_violence)


def test_en_gb_without_a_time_zone_gives_the_uk():
    hs = helplines_for(None, "en-GB")
    assert (hs.country, hs.source) == ("gb", "language")


def test_nothing_known_gives_the_worldwide_list():
    hs = helplines_for()
    assert (hs.country, hs.source, hs.emergency) == (None, "default", None)
    assert hs.crisis == hs.domestic_violence == hs.youth == ()
    assert any(line.web == "https://findahelpline.com" for line in hs.international)


@pytest.mark.parametrize(
    ("zone", "country"),
    [
        ("Europe/Dublin", "ie"),
        ("America/Toronto", "ca"),
        ("America/Vancouver", "ca"),
        ("Australia/Perth", "au"),
        ("Europe/Madrid", "es"),
        ("Atlantic/Canary", "es"),
        ("Europe/Rome", "it"),
        ("Asia/Kolkata", "in"),
        ("Asia/Calcutta", "in"),  # an old name, a link in the tz database
        ("US/Pacific", "us"),  # likewise
        ("Pacific/Honolulu", "us"),
    ],
)
def test_any_zone_of_a_covered_country_names_that_country(zone, country):
    hs = helplines_for(timezone=zone)
    assert (hs.country, hs.source) == (country, "timezone")


def test_every_zone_in_the_tz_database_maps_to_a_country_code():
    from zoneinfo import available_timezones

    regional = [z for z in available_timezones() if "/" in z and not z.startswith("Etc/")]
    mapped = [z for z in regional if countries_for_zone(z)]
    assert len(mapped) > 0.9 * len(regional)
    assert all(re.fullmatch(r"[a-z]{2}", c) for z in mapped for c in countries_for_zone(z))


@pytest.mark.parametrize("zone", ["UTC", "Etc/GMT+3", "UTC+05:30", "Mars/Olympus", "", None])
def test_a_zone_that_names_no_country_leaves_the_choice_to_the_language(zone):
    assert countries_for_zone(zone) == ()
    hs = helplines_for(None, "de", timezone=zone)
    assert (hs.country, hs.source) == ("de", "language")


def test_a_time_zone_beats_the_language():
    hs = helplines_for(None, "de", timezone="America/Chicago")
    assert (hs.country, hs.source) == ("us", "timezone")


def test_a_time_zone_in_a_country_without_lines_gets_the_worldwide_list_not_a_guess():
    hs = helplines_for(None, "en-GB", timezone="Asia/Tokyo")
    assert (hs.country, hs.source, hs.emergency) == (None, "timezone", None)
    assert hs.international


def test_the_language_picks_between_countries_that_share_a_zone():
    # Europe/London is Jersey's clock too; a GB region keeps GB, and a bare zone is GB.
    assert countries_for_zone("Europe/London")[0] == "gb"
    assert helplines_for(None, "en-GB", timezone="Europe/London").country == "gb"


def test_the_country_setting_beats_time_zone_and_language():
    hs = helplines_for("gb", "de", timezone="Europe/Berlin")
    assert (hs.country, hs.source) == ("gb", "setting")


@pytest.mark.parametrize(
    ("language", "country"),
    [
        ("en-GB", "gb"),
        ("en_us", "us"),
        ("en-AU", "au"),
        ("fr-CA", "ca"),
        ("en-IN", "in"),
        ("de", "de"),
        ("fr", "fr"),
        ("es", "es"),
        ("it", "it"),
        ("hi", "in"),
        ("ga", "ie"),
    ],
)
def test_without_a_setting_or_zone_the_country_is_read_from_the_language(language, country):
    hs = helplines_for(None, language)
    assert (hs.country, hs.source) == (country, "language")


@pytest.mark.parametrize("language", ["en", "pt", "ar", "es-MX", "es-419", "de-AT", "", "-", None])
def test_an_ambiguous_or_uncovered_language_falls_back_to_the_worldwide_list(language):
    hs = helplines_for(None, language)
    assert (hs.country, hs.source) == (None, "default")
    assert hs.crisis == () and hs.abuse == () and hs.emergency is None
    assert hs.directory


@pytest.mark.parametrize("setting", ["zz", "br", "Atlantis"])
def test_an_unknown_country_setting_gets_the_worldwide_list_not_a_guess(setting):
    hs = helplines_for(setting, "de", timezone="Europe/Berlin")
    assert hs.country is None
    assert hs.directory


@pytest.mark.parametrize(("setting", "country"), [("GB", "gb"), (" uk ", "gb"), ("Germany", "de")])
def test_a_country_setting_can_be_a_code_an_alias_or_a_name(setting, country):
    assert helplines_for(setting, None).country == country


def test_a_blank_country_setting_counts_as_no_setting():
    assert helplines_for("  ", "fr").country == "fr"


# --- What each country lists --------------------------------------------------------------------


@pytest.mark.parametrize(("code", "numbers"), REQUIRED.items())
def test_every_covered_country_has_its_emergency_crisis_violence_and_youth_numbers(code, numbers):
    emergency, crisis, violence, youth = numbers
    hs = helplines_for(code, None)
    assert hs.country == code
    assert hs.emergency == emergency
    assert crisis in _phones(hs.crisis)
    assert youth in _phones(hs.youth)
    if violence is None:
        assert hs.domestic_violence == ()  # none confirmed: not invented
    else:
        assert violence in _phones(hs.domestic_violence)


def test_every_line_and_emergency_number_names_its_source_and_the_date_it_was_checked():
    data = load_helplines()
    lines = list(data.international.lines)
    for country in data.countries.values():
        assert country.emergency.source.startswith(("https://", "http://"))
        assert country.emergency.checked <= date.today()
        lines += [*country.crisis, *country.domestic_violence, *country.youth]
    assert len(lines) > 30
    for line in lines:
        assert line.source.startswith(("https://", "http://")), line.name
        assert date(2026, 1, 1) <= line.checked <= date.today(), line.name


def test_the_old_names_still_reach_the_same_lines():
    hs = helplines_for("gb", None)
    assert hs.abuse == hs.domestic_violence
    assert hs.directory == hs.international
    assert hs.lines[-len(hs.directory) :] == hs.directory


def test_helplines_are_loaded_once_and_cached():
    assert load_helplines() is load_helplines()


# --- How they are shown -------------------------------------------------------------------------

EVIL = Line(
    name="<b>Evil</b> & co", phones=("123",), hours="<i>24/7</i>", source=SRC, checked=CHECKED
)
EVIL_SET = HelplineSet("xx", "X", "1<2", (EVIL,), (EVIL,), (EVIL,), "setting", (EVIL,))
FORMATTERS = [format_crisis, format_danger, format_youth_note, format_helplines]


@pytest.mark.parametrize("formatter", FORMATTERS)
@pytest.mark.parametrize("country", [*REQUIRED, None])
def test_every_formatted_text_is_phone_sized(formatter, country):
    text = formatter(helplines_for(country, None))
    assert len(text) < 700
    assert max(len(line) for line in text.splitlines()) < 160


@pytest.mark.parametrize("formatter", FORMATTERS)
def test_every_formatted_text_escapes_html(formatter):
    text = formatter(EVIL_SET)
    assert "&lt;b&gt;Evil&lt;/b&gt; &amp; co" in text or "1&lt;2" in text
    assert "<b>" not in text and "<i>" not in text and "1<2" not in text


def test_the_crisis_text_lists_the_crisis_lines_and_the_emergency_number():
    text = format_crisis(helplines_for(timezone="Europe/London"))
    assert "Samaritans: call 116 123" in text
    assert "call 999" in text
    assert "0808 2000 247" not in text  # the crisis reply stays on the crisis


def test_the_danger_text_starts_with_the_emergency_number_then_the_violence_lines():
    text = format_danger(helplines_for(timezone="Europe/London"))
    assert text.splitlines()[0] == "If you are in immediate danger, call 999."
    assert "0808 2000 247" in text and "116 123" not in text


def test_the_danger_text_without_a_violence_line_points_to_the_directory():
    text = format_danger(helplines_for("ca", None))
    assert "call 911" in text and "findahelpline.com" in text


def test_the_danger_text_without_a_country_names_the_local_emergency_number():
    text = format_danger(helplines_for())
    assert "your local emergency number" in text and "findahelpline.com" in text


def test_the_youth_note_names_a_trusted_adult_and_the_youth_line():
    text = format_youth_note(helplines_for(timezone="Australia/Sydney"))
    assert "trusted adult" in text
    assert "Kids Helpline: call 1800 55 1800" in text


def test_the_youth_note_without_a_country_points_to_the_directory():
    text = format_youth_note(helplines_for())
    assert "trusted adult" in text and "findahelpline.com" in text


def test_the_full_list_puts_the_emergency_number_first_and_the_directory_last():
    lines = format_helplines(helplines_for("us", None)).splitlines()
    assert "911" in lines[0]
    assert "988 Suicide &amp; Crisis Lifeline: call or text 988" in "\n".join(lines)
    assert "findahelpline.com" in lines[-1]


@pytest.mark.parametrize("risk", ["abuse", "danger"])
def test_the_full_list_leads_with_violence_lines_after_abuse_or_danger(risk):
    text = format_helplines(helplines_for("gb", None), risk=risk)
    assert text.index("0808 2000 247") < text.index("116 123")
    text = format_helplines(helplines_for("gb", None))
    assert text.index("116 123") < text.index("0808 2000 247")


def test_a_country_without_violence_lines_shows_no_empty_heading():
    assert "hurting, scaring" not in format_helplines(helplines_for("ca", None))


# --- A broken file is refused -------------------------------------------------------------------

GOOD_LINE = "{name: S, phone: '116 123', source: 'https://x.org', checked: 2026-11-27}"
EMERGENCY = "{number: '999', source: 'https://x.org', checked: 2026-11-27}"


def _write(tmp_path: Path, countries: str, languages: str = "") -> Path:
    texts = load_helplines().texts.model_dump()
    body = (
        "texts:\n"
        + "".join(f"  {key}: {value!r}\n" for key, value in texts.items())
        + "international:\n  name: Worldwide\n  lines:\n"
        "    - {name: Find A Helpline, web: 'https://findahelpline.com',"
        " source: 'https://findahelpline.com', checked: 2026-11-27}\n"
        f"countries:\n{countries}{languages}"
    )
    (tmp_path / "helplines.yaml").write_text(body, encoding="utf-8")
    return tmp_path


def test_a_well_formed_file_loads(tmp_path):
    data = load_helplines(
        _write(
            tmp_path,
            f"  gb:\n    name: UK\n    emergency: {EMERGENCY}\n    crisis:\n      - {GOOD_LINE}\n",
        )
    )
    assert data.countries["gb"].crisis[0].phones == ("116 123",)


@pytest.mark.parametrize(
    ("country", "languages", "entry", "problem"),
    [
        (
            "    emergency: {number: 999, source: 'https://x.org', checked: 2026-11-27}\n"
            f"    crisis:\n      - {GOOD_LINE}\n",
            "",
            "countries.gb.emergency.number",
            "string",
        ),
        (f"    emergency: {EMERGENCY}\n    crisis: []\n", "", "countries.gb.crisis", "at least 1"),
        (
            f"    emergency: {EMERGENCY}\n"
            "    crisis:\n      - {name: S, phone: 116123, source: 'https://x.org', "
            "checked: 2026-11-27}\n",
            "",
            "countries.gb.crisis[0].phone[0]",
            "string",
        ),
        (
            f"    emergency: {EMERGENCY}\n"
            "    crisis:\n      - {name: S, web: 'http://x.org', source: 'https://x.org', "
            "checked: 2026-11-27}\n",
            "",
            "countries.gb.crisis[0].web",
            "https",
        ),
        (
            f"    emergency: {EMERGENCY}\n"
            "    crisis:\n      - {name: S, source: 'https://x.org', checked: 2026-11-27}\n",
            "",
            "countries.gb.crisis[0]",
            "way to reach",
        ),
        (
            f"    emergency: {EMERGENCY}\n    crisis:\n      - {{name: S, phone: '116 123'}}\n",
            "",
            "countries.gb.crisis[0].source",
            "required",
        ),
        (
            f"    emergency: {EMERGENCY}\n"
            "    crisis:\n      - {name: S, phone: '116 123', source: 'https://x.org'}\n",
            "",
            "countries.gb.crisis[0].checked",
            "required",
        ),
        (
            f"    emergency: {EMERGENCY}\n"
            "    crisis:\n      - {name: S, phone: '1', source: 'https://x.org', "
            "checked: 2026-11-27, verified: yes}\n",
            "",
            "countries.gb.crisis[0].verified",
            "not permitted",
        ),
        (
            f"    emergency: {EMERGENCY}\n    crisis:\n      - {GOOD_LINE}\n",
            "languages:\n  de: de\n",
            "-",
            "not in 'countries'",
        ),
    ],
    ids=[
        "unquoted emergency",
        "no crisis lines",
        "unquoted phone",
        "plain http web",
        "no way to reach",
        "no source",
        "no date checked",
        "unknown field",
        "language to unknown country",
    ],
)
def test_a_broken_file_is_refused_naming_the_file_and_entry(
    tmp_path, country, languages, entry, problem
):
    with pytest.raises(ContentError) as err:
        load_helplines(_write(tmp_path, f"  gb:\n    name: UK\n{country}", languages))
    assert err.value.file == "helplines.yaml"
    assert err.value.entry == entry
    assert problem in err.value.problem


def test_a_country_key_that_is_not_an_iso_code_is_refused(tmp_path):
    with pytest.raises(ContentError) as err:
        load_helplines(
            _write(
                tmp_path,
                f"  GBR:\n    name: UK\n    emergency: {EMERGENCY}\n"
                f"    crisis:\n      - {GOOD_LINE}\n",
            )
        )
    assert err.value.entry == "countries.GBR"
    assert "pattern" in err.value.problem
