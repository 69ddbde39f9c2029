"""How --ecu and --ssh targets are read, and what a bad one says (before anything is dialled)."""

from __future__ import annotations

import base64
import hashlib

import paramiko
import pytest

from seesaw.cli import remote_ecu, remote_ssh


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lb1.example.com", ("lb1.example.com", 10256)),
        ("lb1:4000", ("lb1", 4000)),
        ("192.0.2.7:10256", ("192.0.2.7", 10256)),
        ("[2001:db8::7]:4000", ("2001:db8::7", 4000)),
        ("2001:db8::7", ("2001:db8::7", 10256)),
    ],
)
def test_ecu_targets(text, expected):
    assert remote_ecu.parse_target(text) == expected


@pytest.mark.parametrize("text", ["", ":80", "lb1:0", "lb1:http", "lb1:70000", "[2001:db8::7]:x"])
def test_bad_ecu_targets(text):
    with pytest.raises(ValueError, match=r"expected HOST\[:PORT\]"):
        remote_ecu.parse_target(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("lb1", (None, "lb1", 22)),
        ("ops@lb1", ("ops", "lb1", 22)),
        ("ops@lb1:2222", ("ops", "lb1", 2222)),
        ("ops@[2001:db8::7]:2222", ("ops", "2001:db8::7", 2222)),
        ("first.last@corp@lb1", ("first.last@corp", "lb1", 22)),
    ],
)
def test_ssh_targets(text, expected):
    assert remote_ssh.parse_target(text) == expected


@pytest.mark.parametrize("text", ["", "ops@", "ops@lb1:0", "lb1:ssh"])
def test_bad_ssh_targets(text):
    with pytest.raises(ValueError, match=r"expected \[USER@\]HOST\[:PORT\]"):
        remote_ssh.parse_target(text)


def test_fingerprint_is_openssh_sha256():
    blob = paramiko.RSAKey.generate(1024)
    expected = base64.b64encode(hashlib.sha256(blob.asbytes()).digest()).decode().rstrip("=")
    assert remote_ssh.fingerprint(blob) == f"SHA256:{expected}"


def test_bad_targets_are_one_line_with_exit_1(cli):
    run = cli("--ecu", "lb1:99999", "-c", "show ha")
    assert (run.status, run.out, run.err) == (1, "", "--ecu: expected HOST[:PORT] with PORT 1-65535, got 'lb1:99999'\n")
    run = cli("--ssh", "ops@", "-c", "show ha")
    assert (run.status, run.out, run.err) == (1, "", "--ssh: expected [USER@]HOST[:PORT], got 'ops@'\n")
    with pytest.raises(SystemExit) as caught:  # argparse: the two are mutually exclusive
        cli("--ecu", "lb1", "--ssh", "lb1", "-c", "show ha")
    assert caught.value.code == 2
