"""seesaw-watchdog's flags and start-up decisions."""

import asyncio
import logging
from pathlib import Path

from seesaw.watchdog.config import Settings, resolve_log_dir
from seesaw.watchdog.main import EX_CONFIG, build_parser, serve


def test_flags_and_their_defaults(monkeypatch):
    monkeypatch.delenv("SEESAW_CONFIG_DIR", raising=False)
    args = build_parser().parse_args([])
    assert (args.config, args.log_dir, args.config_dir) == (None, None, Path("/etc/seesaw"))
    args = build_parser().parse_args(["--config", "/x/w.cfg", "--log-dir", "/l", "--run-dir", "/r"])
    assert (args.config, args.log_dir, args.run_dir) == (Path("/x/w.cfg"), Path("/l"), Path("/r"))


def test_log_dir_precedence(monkeypatch):
    monkeypatch.setenv("SEESAW_LOG_DIR", "/from/env")
    from_config = Settings(log_dir=Path("/from/config"))
    assert resolve_log_dir(Path("/from/flag"), from_config) == Path("/from/flag")
    assert resolve_log_dir(None, from_config) == Path("/from/config")
    assert resolve_log_dir(None, Settings()) == Path("/from/env")
    monkeypatch.delenv("SEESAW_LOG_DIR")
    assert resolve_log_dir(None, Settings()) == Path("/var/log/seesaw")


def test_an_unusable_config_is_refused_with_ex_config_and_nothing_starts(tmp_path, caplog):
    (tmp_path / "watchdog.cfg").write_text("[ncc]\nbinary = /bin/sleep\nterm_timeout = soon\n")
    args = build_parser().parse_args(["--config-dir", str(tmp_path), "--run-dir", str(tmp_path / "run")])
    with caplog.at_level(logging.ERROR):
        assert asyncio.run(serve(args, asyncio.Event())) == EX_CONFIG
    assert f"{tmp_path}/watchdog.cfg:3: [ncc] term_timeout: invalid duration 'soon'" in caplog.text
    assert "Not starting: fix" in caplog.text
    assert not (tmp_path / "run").exists()
