"""`show ha`'s one line more than Seesaw's: `Last Takeover:`, the measured duration of the last takeover.

Printed only when HA measured one (HAStatus.last_takeover_ms), so the outputs captured from the original
(observed_show_ha.txt and the others) stay byte for byte; the duration reads as Go's time.Duration.
"""

from __future__ import annotations

import cli_fake_engine as fake
import pytest

from seesaw.cli.format import go_millis


def test_show_ha_prints_the_last_takeover_when_there_was_one(serve_engine, cli, golden, utc_zone):
    state = fake.observed()
    state.ha.last_takeover_ms = 312
    engine = serve_engine(state)
    run = cli("--engine", str(engine.path), "-c", "show ha", now=fake.OBSERVED_NOW)
    assert (run.status, run.err) == (0, "")
    assert run.out == golden("new_show_ha_takeover.txt")
    assert run.out.startswith(golden("observed_show_ha.txt"))  # Seesaw's lines first, unchanged


def test_show_ha_without_a_takeover_is_seesaws_output(serve_engine, cli, golden, utc_zone):
    engine = serve_engine(fake.observed())
    run = cli("--engine", str(engine.path), "-c", "show ha", now=fake.OBSERVED_NOW)
    assert "Last Takeover" not in run.out
    assert run.out == golden("observed_show_ha.txt")


@pytest.mark.parametrize(
    ("millis", "printed"),
    [(1, "1ms"), (312, "312ms"), (999, "999ms"), (1000, "1s"), (1500, "1.5s"), (1234, "1.234s"), (61250, "1m1.25s")],
)
def test_durations_read_as_go_prints_them(millis, printed):
    assert go_millis(millis) == printed
