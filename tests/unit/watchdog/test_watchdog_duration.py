"""Go duration syntax, as Seesaw's term_timeout uses it (time.ParseDuration)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seesaw.watchdog.duration import DurationError, format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("0", 0.0),
        ("5s", 5.0),
        ("10s", 10.0),
        ("1m30s", 90.0),
        ("500ms", 0.5),
        ("1.5h", 5400.0),
        ("2h45m", 9900.0),
        ("+3s", 3.0),
        ("-2s", -2.0),
        (".5s", 0.5),
        ("1.s", 1.0),
        ("100us", 1e-4),
        ("100µs", 1e-4),
        ("1000000ns", 1e-3),
        (" 7s ", 7.0),
    ],
)
def test_parses_go_durations(text, seconds):
    assert parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("", "empty"),
        ("5", "missing unit"),
        ("1.5", "missing unit"),
        ("s", "invalid duration"),
        ("5 s", "invalid duration"),
        ("5sec", "invalid duration"),
        ("10x", "invalid duration"),
        ("-", "invalid duration"),
        (".s", "invalid duration"),
    ],
)
def test_rejects_what_go_rejects(text, fragment):
    with pytest.raises(DurationError, match=fragment) as err:
        parse_duration(text)
    assert "1m30s" in str(err.value)  # says how to write one


@given(st.integers(min_value=0, max_value=10**7))
def test_format_round_trips_whole_milliseconds(ms):
    seconds = ms / 1000
    assert parse_duration(format_duration(seconds)) == pytest.approx(seconds)


def test_format_is_short():
    assert format_duration(0.5) == "500ms"
    assert format_duration(2) == "2s"
    assert format_duration(90) == "1m30s"
    assert format_duration(3600) == "1h"
