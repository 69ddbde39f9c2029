"""What the original CLI lacked: `show ipvs` (ipvsadm -Ln's layout), `config diff`, `whoami`; all with --json."""

from __future__ import annotations

import json

import cli_fake_engine as fake
import grpc

from seesaw.pb import engine_pb2


def test_show_ipvs_prints_what_ipvsadm_would(serve_engine, cli, golden):
    engine = serve_engine(fake.programmed())
    run = cli("--engine", str(engine.path), "-c", "sh ipvs")
    assert (run.status, run.out, run.err) == (0, golden("new_show_ipvs.txt"), "")
    as_json = json.loads(cli("--engine", str(engine.path), "--json", "-c", "show ipvs").out)
    assert as_json["status"]["drift_repairs_total"] == 2
    assert len(as_json["state"]["services"]) == 4


def test_show_ipvs_when_ncc_is_unreachable(serve_engine, cli):
    state = fake.observed()
    state.dataplane = engine_pb2.DataplaneView(connected=False, error="Failed to connect to NCC at /run/x: refused")
    engine = serve_engine(state)
    run = cli("--engine", str(engine.path), "-c", "show ipvs")
    assert (run.status, run.out) == (1, "")
    assert run.err == "The engine cannot read the dataplane: Failed to connect to NCC at /run/x: refused\n"


def diff() -> engine_pb2.ConfigDiff:
    return engine_pb2.ConfigDiff(
        source="disk",
        origin="/etc/seesaw/cluster.pb",
        changed=True,
        running_last_updated=fake.utc(2026, 11, 26, 18, 0, 0),
        candidate_last_updated=fake.utc(2026, 11, 26, 19, 0, 0),
        vservers=[
            engine_pb2.VserverChange(name="web3@au-syd", kind=engine_pb2.VserverChange.ADDED),
            engine_pb2.VserverChange(
                name="web1@au-syd",
                kind=engine_pb2.VserverChange.CHANGED,
                details=["backend be1-3.example.com. added", "TCP/80: scheduler rr -> wlc"],
            ),
            engine_pb2.VserverChange(name="old@au-syd", kind=engine_pb2.VserverChange.REMOVED),
        ],
        cluster=["vlan 512 added"],
        refusals=["deletes 1 of 2 vservers (50%), more than max_delete_share 0.4"],
        steps=2,
        step_limit=1,
    )


def test_config_diff(serve_engine, cli, utc_zone):
    state = fake.observed()
    state.diff = diff()
    engine = serve_engine(state)
    run = cli("--engine", str(engine.path), "-c", "config diff")
    assert run.status == 0
    assert run.out == (
        "Config diff against /etc/seesaw/cluster.pb\n"
        "  Running Updated:     Nov 26 18:00:00 UTC\n"
        "  Candidate Updated:   Nov 26 19:00:00 UTC\n"
        "\n"
        "  Vservers:\n"
        "    - old@au-syd\n"
        "    ~ web1@au-syd\n"
        "        backend be1-3.example.com. added\n"
        "        TCP/80: scheduler rr -> wlc\n"
        "    + web3@au-syd\n"
        "\n"
        "  Cluster:\n"
        "    ~ vlan 512 added\n"
        "\n"
        "  A reload would be refused ('config reload force' would take it):\n"
        "    - deletes 1 of 2 vservers (50%), more than max_delete_share 0.4\n"
        "\n"
        "  It would take 2 steps of at most 1 vserver creations or deletions.\n"
    )
    state.diff = engine_pb2.ConfigDiff(source="disk", origin="/etc/seesaw/cluster.pb")
    run = cli("--engine", str(engine.path), "-c", "co d")
    assert run.out == "Config diff against /etc/seesaw/cluster.pb\n  No changes: a reload would change nothing.\n"
    as_json = json.loads(cli("--engine", str(engine.path), "-c", "config diff --json").out)
    assert as_json["origin"] == "/etc/seesaw/cluster.pb" and as_json["changed"] is False


def test_whoami(serve_engine, cli):
    state = fake.observed()
    state.caller = engine_pb2.Caller(
        user="alice", role="ops", groups=["seesaw", "web-oncall"], uid=1001, granted_vservers=["web1@au-syd"]
    )
    engine = serve_engine(state)
    run = cli("--engine", str(engine.path), "-c", "whoami")
    assert run.out == (
        "Caller\n"
        "  User:                alice\n"
        "  Role:                ops\n"
        "  Groups:              seesaw, web-oncall\n"
        "  Granted Vservers:    web1@au-syd\n"
    )
    assert json.loads(cli("--engine", str(engine.path), "--json", "-c", "whoami").out)["uid"] == 1001


def test_a_refusal_is_one_line(serve_engine, cli):
    state = fake.observed()
    state.failures["GetConfigDiff"] = (grpc.StatusCode.PERMISSION_DENIED, "Permission denied: bob has no Seesaw role")
    engine = serve_engine(state)
    run = cli("--engine", str(engine.path), "-c", "config diff")
    assert (run.status, run.out, run.err) == (1, "", "Permission denied: bob has no Seesaw role\n")
