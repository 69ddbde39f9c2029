"""`seesaw --ecu HOST:PORT`: the real CLI, as a process, against the real ECU and engine.

Every failure is one line on stderr and exit status 1: no traceback, and none of gRPC's own log lines."""

from __future__ import annotations

import json
import socket
import subprocess
import sys

from ecu_lab import ClientFiles, Lab

from seesaw.lab.certs import TestCA


def seesaw(lab: Lab, files: ClientFiles, *argv: str, target: str = "") -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "seesaw.cli", "--ecu", target or f"localhost:{lab.port}", *files.flags(), *argv]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60)


def one_line(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 1, proc
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    return proc.stderr.rstrip("\n")


def test_show_and_whoami_through_the_ecu(lab: Lab):
    admin = lab.client("cli-admin", "dan", ("seesaw-admin",))
    proc = seesaw(lab, admin, "-c", "show vservers")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "Vservers\n[  1] web1@au-syd\n[  2] web2@au-syd\n", "")
    proc = seesaw(lab, admin, "--json", "-c", "whoami")
    assert proc.returncode == 0, proc.stderr
    me = json.loads(proc.stdout)
    assert (me["user"], me["role"], me["groups"]) == ("dan", "admin", ["seesaw-admin"])
    proc = seesaw(lab, admin, "-c", "show ha")
    assert proc.returncode == 0 and proc.stdout.startswith("HA Status\n  State:               UNKNOWN\n")


def test_the_engine_refuses_in_one_line(lab: Lab):
    reader = lab.client("cli-reader", "gina", ("seesaw",))
    assert one_line(seesaw(lab, reader, "-c", "config reload")) == (
        "Permission denied: ReloadConfig needs the admin role; gina has role reader"
    )
    ops = lab.client("cli-ops", "alice")
    assert seesaw(lab, ops, "-c", "override vserver state disabled web1@au-syd").returncode == 0
    assert one_line(seesaw(lab, ops, "-c", "override vserver state disabled web2@au-syd")).startswith(
        "Permission denied: alice (role ops) has no access grant on vserver web2@au-syd"
    )


def test_nobody_listening(lab: Lab):
    admin = lab.client("cli-closed", "dan", ("seesaw-admin",))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, not listening: connections are refused
        line = one_line(seesaw(lab, admin, "-c", "show vservers", target=f"127.0.0.1:{port}"))
    assert line == (
        f"Failed to connect to the ECU at 127.0.0.1:{port}: connection refused. "
        "Is seesaw-ecu running there, with its control API on this port?"
    )


def test_a_certificate_the_ecu_refuses(lab: Lab):
    foreign = lab.client("cli-foreign", "mallory", ("seesaw-admin",), ca=TestCA("Other CA"))
    line = one_line(seesaw(lab, foreign, "-c", "show vservers"))
    assert line.startswith(
        f"Failed to connect to the ECU at localhost:{lab.port}: it refused this client's certificate"
    )
    assert line.endswith("The certificate must be signed by the cluster's CA: check --cert and --key.")


def test_an_ecu_the_ca_does_not_vouch_for(lab: Lab):
    files = lab.client("cli-wrong-ca", "dan", ("seesaw-admin",))
    files.ca.write_bytes(TestCA("Some Other CA").pem())
    line = one_line(seesaw(lab, files, "-c", "show vservers"))
    assert line.startswith(f"Failed to connect to the ECU at localhost:{lab.port}: its certificate is not trusted: ")
    assert line.endswith("Check --ca, and --server-name if the certificate names another host.")


def test_missing_client_files_and_bad_targets(lab: Lab, tmp_path):
    files = lab.client("cli-missing", "dan", ("seesaw-admin",))
    files.key.unlink()
    assert one_line(seesaw(lab, files, "-c", "show vservers")) == (
        f"Cannot read the client key {files.key}: No such file or directory. "
        "Give it with --key (see README, 'The ECU API')."
    )
    assert one_line(seesaw(lab, files, "-c", "show ha", target="localhost:99999")) == (
        "--ecu: expected HOST[:PORT] with PORT 1-65535, got 'localhost:99999'"
    )
    # Mistyped commands need no connection at all.
    assert one_line(seesaw(lab, files, "-c", "show vsx")) == "Unknown command."


def test_config_reload_end_to_end(lab: Lab):
    """`config reload` and `config reload force` over the ECU reach the engine as the certificate's user, audited."""
    admin = lab.client("cli-reload", "erin", ("seesaw-admin",))
    for argv, what in (("config reload", "ReloadConfig"), ("config reload force", "Reload force")):
        proc = seesaw(lab, admin, "-c", argv)
        assert (proc.returncode, proc.stderr) == (0, ""), proc
        assert proc.stdout.startswith("Configuration reload requested.\n")
        line = next(line for line in reversed(lab.audit_lines()) if line.startswith("who=erin "))
        assert f"what={what!r}" in line
        assert "via ecu, certificate 'CN=erin,OU=seesaw-admin'" in line
        assert " result=ok" in line
    ops = lab.client("cli-reload-ops", "alice")  # ops on web1 only: a reload is the admin's
    assert one_line(seesaw(lab, ops, "-c", "config reload force")) == (
        "Permission denied: Reload force needs the admin role; alice has role ops"
    )
    assert lab.audit_lines()[-1].startswith("who=alice ") and lab.audit_lines()[-1].endswith(
        "result=denied: Reload force needs the admin role; alice has role ops"
    )
