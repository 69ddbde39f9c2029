"""The audit log is bounded: rotated by size, `keep` rotated files kept, limits from seesaw.cfg [ecu]."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from seesaw.config.errors import ConfigError
from seesaw.config.seesaw_cfg import parse_settings_text
from seesaw.engine.audit_log import MIB, AuditLimits, AuditLog


def files(directory: Path) -> dict[str, list[str]]:
    return {p.name: p.read_text().splitlines() for p in sorted(directory.iterdir())}


def line(n: int) -> str:
    return f"who=dan what='Override vserver web{n}@au-syd disabled' result=ok"  # 63 bytes with the newline


def test_rotation_keeps_the_newest_lines_in_order(tmp_path: Path):
    path = tmp_path / "audit.log"
    audit = AuditLog(path, lambda: AuditLimits(max_bytes=130, keep=2))  # two lines fit, the third rotates
    for n in range(1, 8):
        audit.write(line(n))
    assert files(tmp_path) == {
        "audit.log": [line(7)],
        "audit.log.1": [line(5), line(6)],
        "audit.log.2": [line(3), line(4)],
    }  # lines 1 and 2 went with the oldest file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert all(len(p.read_bytes()) <= 130 for p in tmp_path.iterdir())


def test_a_line_longer_than_the_limit_still_gets_written_whole(tmp_path: Path):
    path = tmp_path / "audit.log"
    audit = AuditLog(path, lambda: AuditLimits(max_bytes=10, keep=1))
    audit.write("a" * 50)
    audit.write("b" * 50)
    assert files(tmp_path) == {"audit.log": ["b" * 50], "audit.log.1": ["a" * 50]}


def test_keep_zero_drops_the_full_file_and_a_lowered_keep_drops_the_extra_ones(tmp_path: Path):
    path = tmp_path / "audit.log"
    limits = AuditLimits(max_bytes=70, keep=4)
    audit = AuditLog(path, lambda: limits)
    for n in range(1, 6):
        audit.write(line(n))
    assert sorted(files(tmp_path)) == ["audit.log", "audit.log.1", "audit.log.2", "audit.log.3", "audit.log.4"]
    limits = AuditLimits(max_bytes=70, keep=1)  # read at each write: a reloaded seesaw.cfg applies at once
    audit.write(line(6))
    assert files(tmp_path) == {"audit.log": [line(6)], "audit.log.1": [line(5)]}
    limits = AuditLimits(max_bytes=70, keep=0)
    audit.write(line(7))
    assert files(tmp_path) == {"audit.log": [line(7)], "audit.log.1": [line(5)]}  # the full file is dropped


def test_a_directory_that_cannot_be_written_is_logged_not_raised(tmp_path: Path, caplog: pytest.LogCaptureFixture):
    audit = AuditLog(tmp_path / "missing" / "audit.log")
    audit.write(line(1))
    assert "cannot append to the audit log" in caplog.text and "check the space and permissions there" in caplog.text


def test_limits_from_seesaw_cfg():
    defaults = parse_settings_text("[cluster]\nname = x\nnode_ipv4 = 10.0.0.2\n", "seesaw.cfg").settings
    assert AuditLimits.from_settings(defaults) == AuditLimits(10 * MIB, 5) == AuditLimits()
    cfg = "[cluster]\nname = x\nnode_ipv4 = 10.0.0.2\n[ecu]\naudit_log_max_mb = 1\naudit_log_keep = 0\n"
    assert AuditLimits.from_settings(parse_settings_text(cfg, "seesaw.cfg").settings) == AuditLimits(MIB, 0)
    with pytest.raises(
        ConfigError, match=r"audit_log_max_mb.*0 is out of range: use a number between 1 and 100000 MiB"
    ):
        parse_settings_text("[cluster]\nname = x\nnode_ipv4 = 10.0.0.2\n[ecu]\naudit_log_max_mb = 0\n", "seesaw.cfg")
