"""Seesaw's Go flags for seesaw_healthcheck: mapped onto ours, or accepted and ignored with a reason."""

from pathlib import Path

import pytest

from seesaw.healthcheck import go_flags
from seesaw.healthcheck.main import parser

# What Seesaw's watchdog.cfg could pass (binaries/seesaw_healthcheck/main.go), in Go's spellings.
SEESAW_ARGS = [
    "-log_dir=/var/log/seesaw",
    "-batch_delay=250ms",
    "-batch_size",
    "50",
    "-channel_size=1000",
    "--engine=/var/run/seesaw/engine/engine.sock",
    "-max_failures=10",
    "-notify_interval=15s",
    "-fetch_interval",
    "1m30s",
    "-retry_delay=2s",
    "-dry_run",
]


def parse(*argv):
    return parser().parse_args(list(argv))


def test_defaults_without_go_flags():
    args = parse()
    assert (args.batch_delay, args.batch_size, args.resync_interval, args.retry_delay) == (0.1, 100, 60.0, 1.0)
    assert args.engine_socket is None and args.dry_run is False
    assert go_flags.ignored(args) == []


def test_seesaw_flags_map_onto_ours():
    args = parse(*SEESAW_ARGS)
    assert args.batch_delay == 0.25
    assert args.batch_size == 50
    assert args.engine_socket == Path("/var/run/seesaw/engine/engine.sock")
    assert args.resync_interval == 15.0
    assert args.retry_delay == 2.0
    assert args.dry_run is True


def test_ignored_flags_are_listed_with_why():
    lines = go_flags.ignored(parse(*SEESAW_ARGS))
    assert lines == [
        "-channel_size=1000: ignored, results wait in a map keyed by check, not a bounded channel",
        "-max_failures=10: ignored, the engine link reconnects for ever (and resyncs) instead of exiting",
        "-fetch_interval=1m30s: ignored, checks stream from the engine; nothing is fetched",
    ]


def test_the_last_of_our_flag_and_its_go_twin_wins():
    assert parse("--batch-delay", "0.5", "-batch_delay=2s").batch_delay == 2.0
    assert parse("-batch_delay=2s", "--batch-delay", "0.5").batch_delay == 0.5


@pytest.mark.parametrize(
    ("argv", "dry_run"),
    [
        (["-dry_run"], True),
        (["-dry_run=true"], True),
        (["-dry_run=T"], True),
        (["-dry_run=1"], True),
        (["-dry_run=false"], False),
        (["--dry_run=FALSE"], False),
        (["-dry_run=0"], False),
        (["--dry-run"], True),
    ],
)
def test_go_booleans(argv, dry_run):
    assert parse(*argv).dry_run is dry_run


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("0", 0.0), ("100ms", 0.1), ("15s", 15.0), ("1m30s", 90.0), ("1.5h", 5400.0), ("250us", 250e-6), ("2µs", 2e-6)],
)
def test_go_durations(text, seconds):
    assert go_flags.go_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize(
    ("argv", "said"),
    [
        (["-batch_delay=100"], "'100' is not a Go duration; write e.g. 100ms, 15s or 1m30s"),
        (["-notify_interval=soon"], "'soon' is not a Go duration"),
        (["-dry_run=maybe"], "'maybe' is not a boolean; write true or false"),
        (["-channel_size=lots"], "'lots' is not a number"),
        (["-fetch_interval="], "'' is not a Go duration"),
    ],
)
def test_bad_values_are_errors_as_in_go(argv, said, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(*argv)
    assert exit_.value.code == 2
    assert said in capsys.readouterr().err
