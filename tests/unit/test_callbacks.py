from __future__ import annotations

import pytest

from handlers.callbacks import Callback, CallbackDataError, decode, encode, pattern


def test_a_button_round_trips_through_the_codec():
    data = encode("intake", "timezone", "America/Argentina/Buenos_Aires")
    assert decode(data) == Callback("intake", "timezone", "America/Argentina/Buenos_Aires")
    assert pattern("intake", "timezone").match(data)
    assert not pattern("intake", "goal").match(data)


def test_callback_data_longer_than_64_bytes_is_refused_when_building_a_button():
    with pytest.raises(CallbackDataError):
        encode("intake", "timezone", "x" * 60)


@pytest.mark.parametrize(
    "junk",
    [
        None,
        "",
        "intake",
        "intake:goal",
        "a:b:c:d",
        "Intake:goal:x",
        "intake:goal:<x>",
        "é:b:c",
        "x" * 65,
    ],
)
def test_anything_malformed_decodes_to_nothing(junk):
    assert decode(junk) is None


def test_parts_with_separators_cannot_be_encoded():
    with pytest.raises(CallbackDataError):
        encode("intake", "goal", "a:b")
