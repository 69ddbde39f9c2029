"""The doctor's anycast check: a BGP speaker NCC can drive whenever anycast VIPs are to be advertised.

The verdicts are pure (checks.anycast on given facts); the facts come from a real bgpd (FRR, standalone, in a
private directory) and from files laid out as FRR's package lays them out.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from seesaw.config.cluster import read_cluster_text
from seesaw.config.seesaw_cfg import parse_settings_text
from seesaw.lab import frr
from seesaw.preflight import checks
from seesaw.preflight.doctor import ncc_bgpd_vty
from seesaw.preflight.facts import BGPSpeaker, System, probe_vty
from seesaw.preflight.result import Status

CFG = """
[cluster]
name = test
node_ipv4 = 10.0.0.2
anycast_enabled = {anycast}
"""
CLUSTER = """
seesaw_vip {{ fqdn: "vip." ipv4: "10.0.0.10/24" status: PRODUCTION }}
node {{ fqdn: "lb1." ipv4: "10.0.0.2/24" status: {status} }}
node {{ fqdn: "lb2." ipv4: "10.0.0.3/24" status: PRODUCTION }}
"""
ANYCAST_VSERVER = """
vserver {
  name: "dns@test"
  entry_address { fqdn: "dns." ipv4: "192.168.255.1/32" status: PRODUCTION }
  rp: "ops"
  vserver_entry { protocol: UDP port: 53 scheduler: RR }
}
"""
VTY = Path("/run/frr/bgpd.vty")
DAEMONS = Path("/etc/frr/daemons")
RUNNING = BGPSpeaker(VTY, installed=True, daemons=DAEMONS, enabled=True)
NOT_INSTALLED = BGPSpeaker(VTY, False, DAEMONS, None, f"there is no VTY socket at {VTY}")
DISABLED = BGPSpeaker(VTY, True, DAEMONS, False, f"there is no VTY socket at {VTY}")
STOPPED = BGPSpeaker(VTY, True, DAEMONS, True, f"nothing listens at {VTY} (a stale socket: bgpd stopped)")


def settings(anycast: bool):
    return parse_settings_text(CFG.format(anycast=str(anycast).lower()), "seesaw.cfg").settings


def cluster(status: str = "PRODUCTION", vservers: str = ANYCAST_VSERVER):
    return read_cluster_text(CLUSTER.format(status=status) + vservers, "cluster.pb", "test").cluster


# -- the verdicts ---------------------------------------------------------------------------------------------------


def test_anycast_off_and_no_anycast_vips_needs_no_speaker():
    result = checks.anycast(NOT_INSTALLED, settings(False), cluster(vservers=""))
    assert (result.status, result.detail) == (
        Status.OK,
        "off (anycast_enabled = false in [cluster] of seesaw.cfg): no BGP speaker needed",
    )


def test_anycast_vips_with_anycast_off_are_never_advertised():
    result = checks.anycast(NOT_INSTALLED, settings(False), cluster())
    assert result.status is Status.WARN
    assert result.detail == (
        "cluster.pb has anycast VIPs (192.168.255.1) but anycast_enabled = false in [cluster] of seesaw.cfg: "
        "they are never advertised, so no traffic reaches them"
    )
    assert result.fixes == (
        "set `anycast_enabled = true` in [cluster] of seesaw.cfg",
        "apt-get install frr",
        "set `bgpd=yes` in /etc/frr/daemons",
        "systemctl restart frr   (journalctl -u frr says why bgpd did not start)",
    )
    # with bgpd already answering, turning anycast on is the whole fix
    assert checks.anycast(RUNNING, settings(False), cluster()).fixes == (
        "set `anycast_enabled = true` in [cluster] of seesaw.cfg",
    )


@pytest.mark.parametrize(
    ("speaker", "why", "fixes"),
    [
        (
            NOT_INSTALLED,
            "FRR's bgpd is not installed",
            ("apt-get install frr", "set `bgpd=yes` in /etc/frr/daemons", checks.FRR_RESTART),
        ),
        (
            DISABLED,
            "bgpd is not enabled in /etc/frr/daemons (FRR starts it only with bgpd=yes)",
            ("sed -i 's/^bgpd=.*/bgpd=yes/' /etc/frr/daemons", checks.FRR_RESTART),
        ),
        (
            BGPSpeaker(VTY, True, DAEMONS, None, "there is no VTY socket at /run/frr/bgpd.vty"),
            "FRR is installed but has no /etc/frr/daemons",
            ("apt-get install --reinstall frr", "set `bgpd=yes` in /etc/frr/daemons", checks.FRR_RESTART),
        ),
        (
            STOPPED,
            "bgpd is enabled but does not answer: nothing listens at /run/frr/bgpd.vty (a stale socket: bgpd stopped)",
            (
                checks.FRR_RESTART,
                "if bgpd's VTY socket is elsewhere, give seesaw-ncc --bgpd-vty <path> (args in [ncc] of watchdog.cfg)",
            ),
        ),
    ],
)
def test_anycast_on_without_a_usable_speaker_fails_with_the_fix(speaker, why, fixes):
    result = checks.anycast(speaker, settings(True), cluster())
    assert result.status is Status.FAIL
    assert result.detail == (
        f"anycast_enabled = true in seesaw.cfg but no BGP speaker is usable: {why}; "
        "the anycast VIPs (192.168.255.1) and service anycast addresses are never advertised"
    )
    assert result.fixes == fixes


def test_anycast_on_with_bgpd_answering_or_off_for_this_node():
    assert checks.anycast(RUNNING, settings(True), cluster()).line() == (
        "ok    anycast: bgpd answers at /run/frr/bgpd.vty: NCC can advertise the anycast VIPs"
    )
    off_here = checks.anycast(STOPPED, settings(True), cluster(status="BUILDING"))  # not serving: no anycast
    assert off_here.line() == "ok    anycast: lb1. has anycast disabled in cluster.pb: no BGP speaker needed"


# -- the facts ------------------------------------------------------------------------------------------------------


@pytest.fixture
def bgpd(tmp_path: Path) -> Iterator[frr.FRR]:
    if frr.missing():
        pytest.skip(frr.missing())
    with frr.running(tmp_path / "frr", standalone=True) as daemon:
        yield daemon


def frr_files(root: Path, bgpd_line: str | None, installed: bool = True) -> tuple[Path, Path]:
    """A libexec directory (with a bgpd program when `installed`) and a daemons file as FRR's package ships it."""
    libexec = root / "lib"
    libexec.mkdir()
    if installed:
        (libexec / "bgpd").write_text("#!/bin/sh\n")
        (libexec / "bgpd").chmod(0o755)
    daemons = root / "daemons"
    if bgpd_line is not None:
        daemons.write_text(f'# which daemons FRR starts\n{bgpd_line}\nzebra_options=" -s 9"\n')
    return libexec, daemons


def test_a_running_bgpd_answers(bgpd: frr.FRR, tmp_path: Path):
    libexec, daemons = frr_files(tmp_path, "bgpd=yes")
    speaker = System(modprobe=False, frr_libexec=libexec, frr_daemons=daemons)._bgp(bgpd.bgpd_vty)
    assert speaker == BGPSpeaker(bgpd.bgpd_vty, True, daemons, True, "")
    assert checks.anycast(speaker, settings(True), cluster()).status is Status.OK


def test_a_stopped_bgpd_leaves_a_stale_socket(bgpd: frr.FRR, tmp_path: Path):
    bgpd.stop_bgpd()
    stale = tmp_path / "stale.vty"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))  # bound, never listening: what a killed bgpd leaves
    assert probe_vty(stale) == f"nothing listens at {stale} (a stale socket: bgpd stopped)"
    assert probe_vty(tmp_path / "none.vty") == f"there is no VTY socket at {tmp_path / 'none.vty'}"


def test_a_daemon_that_hangs_up_or_refuses(tmp_path: Path):
    path = tmp_path / "odd.vty"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        server.listen(2)

        def daemon() -> None:  # hangs up on the first caller, refuses `enable` to the second
            conn, _ = server.accept()
            conn.close()
            conn, _ = server.accept()
            with conn:
                conn.recv(64)
                conn.sendall(b"% Authentication failed\n\x00\x00\x00\x02")

        thread = threading.Thread(target=daemon)
        thread.start()
        try:
            assert probe_vty(path) == f"bgpd at {path} closed the connection before answering `enable`"
            assert probe_vty(path) == f"bgpd at {path} refused `enable`: % Authentication failed"
        finally:
            thread.join(10)


@pytest.mark.parametrize(
    ("line", "installed", "enabled"),
    [
        ("bgpd=yes", True, True),
        ('bgpd="yes"   # on', True, True),
        ("bgpd=no", True, False),
        ("#bgpd=yes", True, False),
        (None, True, None),
        (None, False, None),
    ],
)
def test_installed_and_enabled_from_frrs_files(tmp_path: Path, line, installed, enabled):
    libexec, daemons = frr_files(tmp_path, line, installed)
    speaker = System(modprobe=False, frr_libexec=libexec, frr_daemons=daemons)._bgp(tmp_path / "bgpd.vty")
    assert (speaker.installed, speaker.enabled, speaker.usable) == (installed, enabled, False)


def test_the_vty_socket_is_the_one_ncc_is_given(tmp_path: Path):
    assert ncc_bgpd_vty(tmp_path) == Path("/run/frr/bgpd.vty")  # no watchdog.cfg
    (tmp_path / "watchdog.cfg").write_text("[ncc]\nbinary = seesaw-ncc\nargs = --bgpd-vty /srv/frr/bgpd.vty\n")
    assert ncc_bgpd_vty(tmp_path) == Path("/srv/frr/bgpd.vty")
    (tmp_path / "watchdog.cfg").write_text("[ncc]\nbinary = seesaw-ncc\nargs = --audit-interval 2 --bgpd-vty=/x.vty\n")
    assert ncc_bgpd_vty(tmp_path) == Path("/x.vty")
    (tmp_path / "watchdog.cfg").write_text("[ncc]\nargs = 'unclosed\n")
    assert ncc_bgpd_vty(tmp_path) == Path("/run/frr/bgpd.vty")  # the watchdog says what is wrong with it
