"""seesaw.cfg keys for config sources, rollout and peer sync: defaults, values, and located errors."""

from __future__ import annotations

import pytest

from seesaw.config.errors import ConfigError
from seesaw.config.seesaw_cfg import parse_settings_text

HEAD = "[cluster]\nname = au-syd\nnode_ipv4 = 10.0.0.2\n"


def test_defaults_are_seesaw_v2_constants() -> None:
    s = parse_settings_text(HEAD, "seesaw.cfg").settings
    assert (s.config_server_port, s.config_server_ca, s.config_server_timeout) == (10255, "", 20)
    assert (s.config_source, s.config_check_interval, s.config_archive_keep) == ("disk", 60, 100)
    assert (s.sync_port, s.sync_cert, s.sync_key, s.sync_ca) == (10258, "", "", "")


def test_every_key_is_read() -> None:
    text = HEAD + (
        "[config_server]\nprimary = cfg1.example.com\nport = 8443\nca_cert = ssl/cfg-ca.pem\ntimeout_sec = 5\n"
        "[engine]\nconfig_source = Server\nconfig_check_interval_sec = 30\nconfig_archive_keep = 0\n"
        "sync_cert = a.crt\nsync_key = a.key\nsync_ca = ca.crt\n"
    )
    s = parse_settings_text(text, "seesaw.cfg").settings
    assert s.config_servers == ("cfg1.example.com",)
    assert (s.config_server_port, s.config_server_ca, s.config_server_timeout) == (8443, "ssl/cfg-ca.pem", 5)
    assert (s.config_source, s.config_check_interval, s.config_archive_keep) == ("server", 30, 0)
    assert (s.sync_cert, s.sync_key, s.sync_ca) == ("a.crt", "a.key", "ca.crt")
    assert s.unknown_keys == ()


@pytest.mark.parametrize(
    ("extra", "where", "reason"),
    [
        ("[engine]\nconfig_source = floppy\n", "seesaw.cfg:5:1: engine.config_source", "not one of disk, peer, server"),
        ("[config_server]\nport = 0\n", "seesaw.cfg:5:1: config_server.port", "out of range"),
        ("[engine]\nsync_cert = a.crt\n", "seesaw.cfg:5:1: engine.sync_cert", "also set sync_key, sync_ca"),
        ("[engine]\nconfig_check_interval_sec = 0\n", "engine.config_check_interval_sec", "between 1 and 86400"),
    ],
)
def test_bad_values_are_located(extra: str, where: str, reason: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_settings_text(HEAD + extra, "seesaw.cfg")
    assert where in str(err.value) and reason in str(err.value)
