"""Write commands and --json: what reaches the engine, and what the operator reads back."""

from __future__ import annotations

import json
from pathlib import Path

import cli_fake_engine as fake
import pytest

from seesaw.pb import common_pb2, engine_pb2


def requests(engine, method):
    return [request for name, request in engine.state.calls if name == method]


@pytest.mark.parametrize(
    ("command", "target", "name", "state"),
    [
        (
            "override vserver state disabled test-vserver",
            engine_pb2.OverrideRequest.VSERVER,
            "test-vserver",
            common_pb2.OVERRIDE_DISABLED,
        ),
        ("o v s def test-vserver", engine_pb2.OverrideRequest.VSERVER, "test-vserver", common_pb2.OVERRIDE_DEFAULT),
        (
            "override backend state enabled backend01.localdomain.",
            engine_pb2.OverrideRequest.BACKEND,
            "backend01.localdomain.",
            common_pb2.OVERRIDE_ENABLED,
        ),
        (
            "override destination state disabled test-vserver/192.168.37.72:80/TCP",
            engine_pb2.OverrideRequest.DESTINATION,
            "test-vserver/192.168.37.72:80/TCP",
            common_pb2.OVERRIDE_DISABLED,
        ),
    ],
)
def test_override_sends_one_request_and_prints_nothing(command, target, name, state, serve_engine, cli):
    engine = serve_engine(fake.observed())
    run = cli("--engine", str(engine.path), "-c", command)
    assert (run.status, run.out, run.err) == (0, "", "")
    assert requests(engine, "Override") == [engine_pb2.OverrideRequest(target=target, name=name, state=state)]


def test_override_prints_the_engine_reply_when_there_is_one(serve_engine, cli):
    state = fake.observed()
    state.reply_message = "vserver test-vserver disabled by operator (was enabled)"
    engine = serve_engine(state)
    run = cli("--engine", str(engine.path), "-c", "override vserver state disabled test-vserver")
    assert run.out == "vserver test-vserver disabled by operator (was enabled)\n"


def test_config_source_change(serve_engine, cli):
    engine = serve_engine(fake.observed())
    run = cli("--engine", str(engine.path), "-c", "config source disk")
    assert (run.status, run.out) == (0, "Config source is disk (was server)\n")
    assert cli("--engine", str(engine.path), "-c", "config source").out == "Config source is disk\n"
    assert [r.source for r in requests(engine, "SetConfigSource")] == ["disk", ""]


def test_reload_and_failover(serve_engine, cli):
    engine = serve_engine(fake.observed())
    assert cli("--engine", str(engine.path), "-c", "config reload").out == "Configuration reload requested.\n"
    assert cli("--engine", str(engine.path), "-c", "failover").out == "Failover requested.\n"
    assert len(requests(engine, "ReloadConfig")) == len(requests(engine, "Failover")) == 1
    engine.state.reply_message = "generation 7 applied"
    assert cli("--engine", str(engine.path), "-c", "co rel").out == (
        "Configuration reload requested.\ngeneration 7 applied\n"
    )


def test_exit_and_help_in_one_shot_mode(cli, tmp_path):
    missing = str(tmp_path / "engine.sock")
    assert cli("--engine", missing, "-c", "exit").status == 0
    run = cli("--engine", missing, "-c", "help")
    assert run.status == 0
    assert run.out.startswith("Use ? for context-aware command completions.\n")
    assert "  override destination state <default|disabled|enabled> <destination>\n" in run.out


def test_words_instead_of_dash_c(serve_engine, cli, golden, utc_zone):
    engine = serve_engine(fake.observed())
    run = cli("--engine", str(engine.path), "sh", "vs")
    assert (run.status, run.out) == (0, golden("observed_show_vservers.txt"))
    both = cli("--engine", str(engine.path), "-c", "show ha", "show", "ha")
    assert (both.status, both.err) == (2, "Give the command either with -c or as words, not both.\n")


def test_config_check_runs_locally_without_an_engine(cli, tmp_path):
    """`config check` is answered by seesaw.config.check, with no engine anywhere."""
    absent = str(tmp_path / "absent.sock")
    example = Path(__file__).parents[2] / "data" / "compat" / "etc" / "seesaw" / "cluster.pb.example"
    run = cli("--engine", absent, "-c", f"config check {example}")
    assert run.status == 0
    assert run.out.splitlines()[-1].startswith(f"config OK: {example}")
    bad = tmp_path / "cluster.pb"
    bad.write_text("seesaw_vip {\n  fqdn: \n}\n")
    run = cli("--engine", absent, "-c", f"config check {bad}")
    assert run.status == 1
    assert run.out.startswith(f"{bad}:3:1: seesaw_vip.fqdn: ")
    run = cli("--engine", absent, "--config-dir", str(tmp_path / "etc"), "-c", "config check")
    assert run.status == 1
    assert f"{tmp_path / 'etc' / 'cluster.pb'}: cannot read the file" in run.out


# -- --json -----------------------------------------------------------------------------------------------------------


def test_json_vservers_is_the_reply(serve_engine, cli):
    engine = serve_engine(fake.observed())
    run = cli("--engine", str(engine.path), "-c", "show vservers --json")
    assert run.status == 0
    data = json.loads(run.out)
    assert engine_pb2.VserverList(**_from_json(data, engine_pb2.VserverList)) == engine.state.vservers
    # stable: sorted keys, defaults included (an operator's jq must find "enabled": false too)
    assert run.out == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert data["vservers"][0]["ipv6"] == ""


def _from_json(data, message_type):
    from google.protobuf import json_format

    return {"vservers": json_format.ParseDict(data, message_type()).vservers}


@pytest.mark.parametrize(
    ("command", "key"),
    [
        ("show ha", "state"),
        ("show nodes", "nodes"),
        ("show backends", "backends"),
        ("show destinations", "destinations"),
        ("show checks", "checks"),
        ("show vlans", "vlans"),
        ("show bgp neighbors", "neighbors"),
        ("show warnings", "warnings"),
        ("show version", "engine"),
        ("config status", "source"),
    ],
)
def test_json_on_every_show_command(command, key, serve_engine, cli):
    engine = serve_engine(fake.observed())
    flag_inside = cli("--engine", str(engine.path), "-c", f"{command} --json")
    flag_outside = cli("--engine", str(engine.path), "--json", "-c", command)
    assert flag_inside.status == flag_outside.status == 0
    assert flag_inside.out == flag_outside.out
    assert key in json.loads(flag_inside.out)


def test_json_values(serve_engine, cli):
    engine = serve_engine(fake.observed())
    ha = json.loads(cli("--engine", str(engine.path), "-c", "show ha --json").out)
    assert ha["state"] == "HA_LEADER"
    assert ha["adverts_sent"] == 33  # a number, not the string proto3 JSON would make of a uint64
    checks = json.loads(cli("--engine", str(engine.path), "-c", "show checks backend02 --json").out)["checks"]
    assert [(c["backend"], c["check"]["state"]) for c in checks] == [("backend02.localdomain.", "HEALTH_UNHEALTHY")]
    backends = json.loads(cli("--engine", str(engine.path), "-c", "show backends backend01 --json").out)
    assert [b["hostname"] for b in backends["backends"]] == ["backend01.localdomain."]
    assert backends["backends"][0]["destinations"][0]["name"] == "test-vserver/192.168.37.71:80/TCP"


def test_json_is_not_taken_by_write_commands(serve_engine, cli):
    engine = serve_engine(fake.observed())
    run = cli("--engine", str(engine.path), "--json", "-c", "config source")
    assert run.out == "Config source is server\n"
