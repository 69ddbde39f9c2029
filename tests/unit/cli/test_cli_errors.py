"""What the operator sees when something is wrong: exact stderr, stdout and exit status (seesaw-observed.md P13)."""

from __future__ import annotations

import os
import socket
import threading
from pathlib import Path

import cli_fake_engine as fake
import grpc
import pytest

from seesaw.cli.client import EngineClient
from seesaw.cli.errors import CliError, EngineUnreachable


def no_engine(tmp_path: Path) -> str:
    return str(tmp_path / "absent" / "engine.sock")


@pytest.mark.parametrize(
    ("command", "out", "err"),
    [
        ("foo", "", "Unknown command.\n"),
        ("show v", "", "Incomplete command.\n"),
        ("show", "", "Incomplete command.\n"),
        ("", "", "Incomplete command.\n"),
        ("show vservers a b", "show vservers [<name-or-prefix>]\n", "Incorrect arguments given.\n"),
        ("show ha now", "show ha\n", "Incorrect arguments given.\n"),
        ("config source disk peer", "config source [disk|peer|server]\n", "Incorrect arguments given.\n"),
        (
            "override vserver state disabled",
            "override vserver state <default|disabled|enabled> <vserver>\n",
            "Incorrect arguments given.\n",
        ),
        (
            "o b s e a b",
            "override backend state <default|disabled|enabled> <hostname>\n",
            "Incorrect arguments given.\n",
        ),
        ("failover --json", "failover\n", "Incorrect arguments given.\n"),
    ],
)
def test_command_errors_need_no_engine(command, out, err, cli, tmp_path):
    run = cli("--engine", no_engine(tmp_path), "-c", command)
    assert (run.status, run.out, run.err) == (1, out, err)


def test_no_socket(cli, tmp_path):
    run = cli("--run-dir", str(tmp_path), "-c", "show vservers")
    path = tmp_path / "engine" / "engine.sock"
    assert run.status == 1
    assert run.out == ""
    assert (
        run.err
        == f"Failed to connect to engine at {path}: no such file. Is seesaw running? (systemctl status seesaw)\n"
    )


def test_socket_file_with_nobody_listening(cli, tmp_path):
    path = tmp_path / "engine.sock"
    stale = socket.socket(socket.AF_UNIX)
    stale.bind(str(path))
    stale.close()  # the file stays, nobody listens: what a crashed engine leaves behind
    run = cli("--engine", str(path), "-c", "show ha")
    assert run.status == 1
    assert run.err == (
        f"Failed to connect to engine at {path}: connection refused. Nobody is listening (a stale socket?). "
        "Is seesaw running? (systemctl status seesaw)\n"
    )


def test_not_a_socket(cli, tmp_path):
    path = tmp_path / "engine.sock"
    path.write_text("")
    run = cli("--engine", str(path), "-c", "show ha")
    assert (run.status, run.err) == (
        1,
        f"Failed to connect to engine at {path}: not a socket. Check --engine and --run-dir.\n",
    )


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to switch to an unprivileged uid")
def test_permission_denied(serve_engine, tmp_path):
    engine = serve_engine(fake.observed())
    engine.path.parent.chmod(0o700)
    client = EngineClient(engine.path)
    os.seteuid(65534)
    try:
        with pytest.raises(EngineUnreachable) as caught:
            client.connect()
    finally:
        os.seteuid(0)
    assert str(caught.value) == (
        f"Failed to connect to engine at {engine.path}: permission denied. "
        f"Run the CLI as root, or as a member of the group that owns {engine.path.parent}."
    )


@pytest.mark.parametrize(
    ("command", "method", "code", "details", "err"),
    [
        (
            "config reload",
            "ReloadConfig",
            grpc.StatusCode.FAILED_PRECONDITION,
            "cluster.pb:3:7: vserver 'web': entry_address is not an IP address; the running config stays in force",
            "cluster.pb:3:7: vserver 'web': entry_address is not an IP address; the running config stays in force\n",
        ),
        (
            "config source tape",
            "SetConfigSource",
            grpc.StatusCode.INVALID_ARGUMENT,
            "unknown config source 'tape': use disk, peer or server",
            "unknown config source 'tape': use disk, peer or server\n",
        ),
        (
            "override vserver state disabled test-vserver",
            "Override",
            grpc.StatusCode.PERMISSION_DENIED,
            "uid 1000 may not override vservers; ask an admin",
            "uid 1000 may not override vservers; ask an admin\n",
        ),
        (
            "config reload",
            "ReloadConfig",
            grpc.StatusCode.FAILED_PRECONDITION,
            "config refused, the running config stays in force:\ncluster.pb:3:7: a  \ncluster.pb:9:1: b\n",
            "config refused, the running config stays in force:\ncluster.pb:3:7: a\ncluster.pb:9:1: b\n",
        ),
        (
            "config source server",
            "SetConfigSource",
            grpc.StatusCode.UNIMPLEMENTED,
            "config source 'server' is not available yet; only 'disk' (/etc/seesaw/cluster.pb) is supported",
            "config source 'server' is not available yet; only 'disk' (/etc/seesaw/cluster.pb) is supported\n",
        ),
        ("failover", "Failover", grpc.StatusCode.FAILED_PRECONDITION, "Node is not master", "Node is not master\n"),
        (
            "show version",
            "GetVersion",
            grpc.StatusCode.UNIMPLEMENTED,
            "Method not implemented!",
            "The engine does not implement GetVersion: is it older than this CLI (0.1.0)?\n",
        ),
        ("show ha", "GetHAStatus", grpc.StatusCode.INTERNAL, "", "GetHAStatus failed: INTERNAL\n"),
        (
            "failover",
            "Failover",
            grpc.StatusCode.UNAVAILABLE,
            "HA is not connected to the engine; is seesaw-ha running?",
            "HA is not connected to the engine; is seesaw-ha running?\n",
        ),
    ],
)
def test_engine_refusals_are_printed_as_the_engine_wrote_them(command, method, code, details, err, serve_engine, cli):
    state = fake.observed()
    state.failures[method] = (code, details)
    engine = serve_engine(state)
    run = cli("--engine", str(engine.path), "-c", command)
    assert (run.status, run.out, run.err) == (1, "", err.replace("0.1.0", __import__("seesaw").__version__))


@pytest.mark.parametrize(
    ("command", "err"),
    [
        ("show nodes nosuch", 'node "nosuch" not found'),
        ("show backends zzz", "backend 'zzz...' not found"),
        ("show destinations zzz", "destination 'zzz...' not found"),
        ("show vlans 7", "VLAN ID 7 not found"),
        ("show vlans 10.9.9.9", "VLAN not found for IP address 10.9.9.9"),
        ("show vlans abc", 'unknown value "abc" - must be a VLAN ID or IP address'),
        ("show bgp neighbors nope", '"nope" is not a valid IP address'),
        ("show bgp neighbors 10.1.1.1", "no such neighbor"),
        ("override vserver state disabled nosuch", "No such vserver - nosuch"),
        ("override backend state disabled backend01", "No such backend - backend01"),
        ("override destination state disabled test-vserver", "No such destination - test-vserver"),
    ],
)
def test_unknown_names(command, err, serve_engine, cli):
    engine = serve_engine(fake.observed())
    run = cli("--engine", str(engine.path), "-c", command)
    assert (run.status, run.out, run.err) == (1, "", err + "\n")
    assert not [m for m, _ in engine.state.calls if m == "Override"], "nothing may be overridden"


def test_nothing_to_list(serve_engine, cli):
    state = fake.observed()
    state.vservers.Clear()
    engine = serve_engine(state)
    assert cli("--engine", str(engine.path), "-c", "show backends").err == "no backends found\n"
    assert cli("--engine", str(engine.path), "-c", "show destinations").err == "no destinations found\n"


def test_slow_engine_hits_the_call_deadline(serve_engine):
    state = fake.observed()
    state.delay = 1.0
    engine = serve_engine(state)
    with EngineClient(engine.path, call_timeout=0.2) as client, pytest.raises(CliError) as caught:
        client.ha_status()
    assert str(caught.value) == (
        f"The engine at {engine.path} did not answer GetHAStatus within 0.2 s; "
        "it may be overloaded or stuck (journalctl -u seesaw)."
    )


def test_socket_that_does_not_speak_grpc(tmp_path):
    """Something accepts connections and hangs up at once: not the engine."""
    path = tmp_path / "engine.sock"
    listener = socket.socket(socket.AF_UNIX)
    listener.bind(str(path))
    listener.listen(8)
    stop = threading.Event()

    def hang_up() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except TimeoutError:
                continue
            conn.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        with EngineClient(path, call_timeout=5) as client, pytest.raises(EngineUnreachable) as caught:
            client.cluster_status()
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert str(caught.value).startswith(f"Lost the connection to the engine at {path}: ")
    assert str(caught.value).endswith(". Is seesaw running? (systemctl status seesaw)")


def test_engine_restart_between_commands(tmp_path_factory):
    """The shell keeps one client: when the engine goes away and comes back, the next command just works."""
    directory = tmp_path_factory.mktemp("eng")
    first = fake.EngineServer(directory, fake.observed()).__enter__()
    client = EngineClient(first.path)
    try:
        assert client.ha_status().adverts_sent == 33
        first.__exit__(None, None, None)
        with pytest.raises(EngineUnreachable) as caught:
            client.ha_status()
        assert str(caught.value).startswith(f"Failed to connect to engine at {first.path}: ")
        first.path.unlink(missing_ok=True)
        state = fake.observed()
        state.ha.adverts_sent = 34
        with fake.EngineServer(directory, state):
            assert client.ha_status().adverts_sent == 34
    finally:
        client.close()
