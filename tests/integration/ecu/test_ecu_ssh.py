"""`seesaw --ssh USER@HOST`: the real CLI through a real OpenSSH sshd to the engine socket, where the engine
sees the SSH user (SO_PEERCRED of sshd's forwarding process); host keys are verified, never trusted blindly."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from ecu_node import ADMIN, OPERATOR, sshd


def seesaw(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "seesaw.cli", *argv], capture_output=True, text=True, timeout=60)


@pytest.fixture
def ssh(node):
    work, engine = node
    with sshd(work, (OPERATOR[0], ADMIN[0])) as server:
        known = server.known_hosts(work / "known_hosts")

        def run(user: str, *argv: str, known_hosts: Path = known) -> subprocess.CompletedProcess[str]:
            return seesaw(
                "--ssh",
                f"{user}@127.0.0.1:{server.port}",
                "--ssh-key",
                str(server.client_key),
                "--known-hosts",
                str(known_hosts),
                "--engine",
                str(engine.socket),
                *argv,
            )

        yield run, server, engine, work


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr.rstrip("\n")


def test_the_engine_sees_the_ssh_user(ssh):
    run, _, engine, _ = ssh
    proc = run(OPERATOR[0], "--json", "-c", "whoami")
    assert proc.returncode == 0, proc.stderr
    me = json.loads(proc.stdout)
    assert (me["user"], me["uid"], me["role"]) == (OPERATOR[0], OPERATOR[1], "reader")
    proc = run(OPERATOR[0], "-c", "show vservers")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert "Name:                web1@au-syd" in proc.stdout
    assert one_line(run(OPERATOR[0], "-c", "config reload")) == (
        f"Permission denied: ReloadConfig needs the admin role; {OPERATOR[0]} has role reader"
    )
    proc = run(ADMIN[0], "-c", "override vserver state disabled web1@au-syd")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert engine.audit_lines()[-1].startswith(f"who={ADMIN[0]} (uid {ADMIN[1]}, pid ")


def test_an_unknown_host_key_stops_the_connection(ssh):
    run, server, _, work = ssh
    empty = work / "empty_known_hosts"
    empty.write_text("")
    line = one_line(run(OPERATOR[0], "-c", "show ha", known_hosts=empty))
    fingerprint = subprocess.run(
        ["ssh-keygen", "-l", "-E", "sha256", "-f", "/dev/stdin"],
        input=server.host_key_pub,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()[1]
    assert line == (
        f"The host key of 127.0.0.1 (ssh-ed25519 {fingerprint}) is not in {empty}: check that fingerprint with the "
        f"host's administrator, then add it: ssh-keyscan -p {server.port} 127.0.0.1 >> {empty}"
    )
    assert empty.read_text() == ""  # nothing was added


def test_a_changed_host_key_is_refused(ssh):
    run, server, _, work = ssh
    other = work / "other_key"
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], check=True)
    kind, blob = Path(f"{other}.pub").read_text().split()[:2]
    wrong = work / "wrong_known_hosts"
    wrong.write_text(f"[127.0.0.1]:{server.port} {kind} {blob}\n")
    line = one_line(run(OPERATOR[0], "-c", "show ha", known_hosts=wrong))
    assert line.startswith("The host key of 127.0.0.1 has CHANGED (ssh-ed25519 SHA256:")
    assert "Connection refused; fix" in line


def test_refused_login_and_missing_socket(ssh):
    run, server, _, work = ssh
    line = one_line(run("root", "-c", "show ha"))  # not an allowed user
    assert line.startswith("SSH login to root@127.0.0.1 was refused (")
    proc = seesaw(
        "--ssh",
        f"{OPERATOR[0]}@127.0.0.1:{server.port}",
        "--ssh-key",
        str(server.client_key),
        "--known-hosts",
        str(work / "known_hosts"),
        "--engine",
        "/nonexistent/engine.sock",
        "-c",
        "show ha",
    )
    assert one_line(proc).startswith(f"{OPERATOR[0]}@127.0.0.1 refused to connect to /nonexistent/engine.sock (")
