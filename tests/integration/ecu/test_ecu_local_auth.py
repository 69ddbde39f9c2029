"""Local authorisation on the engine socket, from SO_PEERCRED: the real CLI, run as real non-root users.

root and the seesaw-admin group write, the seesaw group reads, everyone else is refused (with what to do)."""

from __future__ import annotations

import json

from ecu_node import ADMIN, OPERATOR, STRANGER, cli_as


def test_a_user_in_no_seesaw_group_is_refused(node):
    _, engine = node
    proc = cli_as(STRANGER[0], "--engine", str(engine.socket), "-c", "show vservers")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        f"Permission denied: {STRANGER[0]} has no Seesaw role; ask an admin to add {STRANGER[0]} to one of "
        "the groups seesaw, seesaw-admin, seesaw-ops\n"
    )
    proc = cli_as(STRANGER[0], "--engine", str(engine.socket), "--json", "-c", "whoami")
    me = json.loads(proc.stdout)
    assert (me["user"], me["uid"], me["role"]) == (STRANGER[0], STRANGER[1], "none")


def test_the_seesaw_group_reads_but_does_not_write(node):
    _, engine = node
    proc = cli_as(OPERATOR[0], "--engine", str(engine.socket), "-c", "show vservers")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, "Vserver\n" + proc.stdout.split("Vserver\n", 1)[1], "")
    assert "web1@au-syd" in proc.stdout
    proc = cli_as(OPERATOR[0], "--engine", str(engine.socket), "-c", "override vserver state disabled web1@au-syd")
    assert proc.returncode == 1
    assert proc.stderr == (f"Permission denied: overrides need the ops or admin role; {OPERATOR[0]} has role reader\n")
    (line,) = engine.audit_lines()
    assert line.startswith(f"who={OPERATOR[0]} (uid {OPERATOR[1]}, pid ")
    assert line.endswith(
        "what='Override vserver web1@au-syd disabled' result=denied: overrides need the ops or "
        f"admin role; {OPERATOR[0]} has role reader"
    )


def test_the_seesaw_admin_group_writes(node):
    _, engine = node
    proc = cli_as(ADMIN[0], "--engine", str(engine.socket), "--json", "-c", "whoami")
    me = json.loads(proc.stdout)
    assert (me["user"], me["role"]) == (ADMIN[0], "admin")
    assert "seesaw-admin" in me["groups"]
    proc = cli_as(ADMIN[0], "--engine", str(engine.socket), "-c", "override vserver state disabled web1@au-syd")
    assert (proc.returncode, proc.stderr) == (0, "")
    proc = cli_as(ADMIN[0], "--engine", str(engine.socket), "-c", "show vservers web1@au-syd")
    assert "Status:              disabled (override state disabled; config state enabled)" in proc.stdout
    (line,) = engine.audit_lines()
    assert line.startswith(f"who={ADMIN[0]} (uid {ADMIN[1]}, pid ") and " result=ok" in line
