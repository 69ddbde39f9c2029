"""The config fetcher against the real seesaw-config-server and against
servers that fail or lie: first server down, bad certificate, wrong name,
wrong content type, truncated body, redirect, older config; and the engine
taking (or refusing) what the servers offer."""

from __future__ import annotations

import asyncio
import logging
import random
from pathlib import Path

import pytest
from fetch_fixtures import Lab, Lie, lab, resolver
from sync_fixtures import BACKUP_IP, MASTER_IP, cluster_text, make_node

from seesaw.config.cluster import read_cluster_text
from seesaw.config.seesaw_cfg import parse_settings_text
from seesaw.engine import views
from seesaw.engine.config_loader import SourceUnavailable
from seesaw.engine.config_source import BinaryConfigParser
from seesaw.engine.core import ConfigRefused
from seesaw.engine.fetcher import ConfigFetcher, FetchError, order_addresses
from seesaw.engine.runtime import EngineRuntime
from seesaw.lab.certs import TestCA
from seesaw.pb import engine_pb2

SERVERS = ("cfg1.test", "cfg2.test", "cfg3.test")
CFG = f"""\
[cluster]
name = au-syd
node_ipv4 = {MASTER_IP}
peer_ipv4 = {BACKUP_IP}
"""


def body(*vservers: int, last_updated: int) -> bytes:
    return read_cluster_text(
        cluster_text(*vservers, last_updated=last_updated), "x", "au-syd"
    ).proto.SerializeToString()


def fetcher(the_lab: Lab, servers: tuple[str, ...] = SERVERS, ca: Path | None = None) -> ConfigFetcher:
    return ConfigFetcher(servers, "au-syd", ca or the_lab.ca_file, port=the_lab.port, timeout=3, resolver=resolver)


def parser(not_older_than: int | None = None) -> BinaryConfigParser:
    return BinaryConfigParser(parse_settings_text(CFG, "seesaw.cfg"), not_older_than)


def publish(the_lab: Lab, *vservers: int, last_updated: int) -> None:
    (the_lab.configs / "au-syd.pb").write_text(cluster_text(*vservers, last_updated=last_updated))


def test_the_first_server_down_the_second_answers(tmp_path: Path) -> None:
    with lab(tmp_path) as the_lab:
        publish(the_lab, 1, 2, last_updated=100)
        the_lab.honest("cfg2.test")
        fetched = fetcher(the_lab).fetch(parser())
    assert set(fetched.value.cluster.vservers) == {"web1@au-syd", "web2@au-syd"}
    assert fetched.origin == f"https://cfg2.test:{the_lab.port}/config/au-syd (127.0.0.3)"
    (failure,) = fetched.failures
    assert failure.address == "127.0.0.2" and "connection refused" in failure.reason
    assert str(failure).startswith(f"config server https://cfg1.test:{the_lab.port}/config/au-syd (127.0.0.2): ")


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda lab: lab.honest("cfg1.test", ca=TestCA("rogue-ca")), "TLS certificate not trusted"),
        (lambda lab: lab.honest("cfg1.test", dns="elsewhere.test"), "Hostname mismatch"),
        (
            lambda lab: lab.liar("cfg1.test", Lie(content_type="text/html", body=b"<html>")),
            "Content-Type is 'text/html'",
        ),
        (lambda lab: lab.liar("cfg1.test", Lie(body=body(1, last_updated=1)[:40], declared_length=4000)), "truncated"),
        (lambda lab: lab.liar("cfg1.test", Lie(status=302)), "HTTP status 302 Found (redirects are not followed)"),
        (lambda lab: lab.liar("cfg1.test", Lie(body=b"\xff\xff\xff garbage")), "not a binary Cluster message"),
        (lambda lab: lab.liar("cfg1.test", Lie(body=body(1, last_updated=1), send_length=False)), "no Content-Length"),
    ],
    ids=["bad-ca", "wrong-name", "content-type", "truncated", "redirect", "garbage", "no-length"],
)
def test_a_failing_or_lying_first_server_is_passed_over(tmp_path: Path, make: object, reason: str) -> None:
    with lab(tmp_path) as the_lab:
        publish(the_lab, 1, 2, last_updated=100)
        make(the_lab)  # type: ignore[operator]
        the_lab.honest("cfg2.test")
        fetched = fetcher(the_lab).fetch(parser())
    assert fetched.address == "127.0.0.3"
    (failure,) = fetched.failures
    assert failure.address == "127.0.0.2" and reason in failure.reason, failure.reason


def test_a_truncated_body_that_still_parses_is_caught_by_its_length(tmp_path: Path) -> None:
    whole = body(1, 2, 3, last_updated=100)
    with lab(tmp_path) as the_lab:
        the_lab.liar("cfg1.test", Lie(body=whole[: len(whole) // 2], declared_length=len(whole)))
        with pytest.raises(FetchError) as err:
            fetcher(the_lab, ("cfg1.test",)).fetch(parser())
    assert "body truncated: got" in str(err.value) and f"of {len(whole)} bytes" in str(err.value)


def test_an_older_config_is_refused_and_a_newer_one_elsewhere_taken(tmp_path: Path) -> None:
    with lab(tmp_path) as the_lab:
        the_lab.liar("cfg1.test", Lie(body=body(1, last_updated=50)))
        publish(the_lab, 1, 2, last_updated=150)
        the_lab.honest("cfg2.test")
        fetched = fetcher(the_lab).fetch(parser(not_older_than=100))
    assert fetched.value.cluster.metadata.last_updated == 150
    assert "older than the running config (metadata.last_updated 50 < 100)" in fetched.failures[0].reason


def test_every_failure_is_reported_when_none_answers(tmp_path: Path) -> None:
    with lab(tmp_path) as the_lab:
        the_lab.liar("cfg2.test", Lie(status=500))
        with pytest.raises(FetchError) as err:
            fetcher(the_lab, ("cfg1.test", "cfg2.test", "nowhere.test")).fetch(parser())
    lines = str(err.value).splitlines()
    assert len(lines) == 3
    assert "(127.0.0.2): connection refused" in lines[0]
    assert "(127.0.0.3): HTTP status 500" in lines[1]
    assert "nowhere.test" in lines[2] and "cannot resolve nowhere.test" in lines[2]


def test_a_missing_ca_file_says_what_to_do(tmp_path: Path) -> None:
    with lab(tmp_path) as the_lab, pytest.raises(FetchError) as err:
        fetcher(the_lab, ("cfg1.test",), ca=tmp_path / "nope.crt").fetch(parser())
    assert f"cannot load the CA certificate {tmp_path / 'nope.crt'}" in str(err.value)
    assert "ca_cert in [config_server]" in str(err.value)


def test_ipv6_addresses_come_first_each_family_shuffled() -> None:
    addresses = ["10.0.0.1", "2001:db8::1", "10.0.0.2", "2001:db8::2", "10.0.0.3"]
    seen = set()
    for seed in range(20):
        ordered = order_addresses(addresses, random.Random(seed))
        assert {a for a in ordered[:2]} == {"2001:db8::1", "2001:db8::2"}
        seen.add(tuple(ordered[2:]))
    assert len(seen) > 1


# ------------------------------------------------------------------------------------------------- the engine


def server_node(tmp_path: Path, the_lab: Lab, cluster: str, interval: int = 60) -> EngineRuntime:
    extra = f"""
[config_server]
primary = cfg1.test
secondary = cfg2.test
port = {the_lab.port}
ca_cert = {the_lab.ca_file}
timeout_sec = 3

[engine]
config_source = server
config_archive_keep = 2
config_check_interval_sec = {interval}
"""
    runtime = make_node(tmp_path, "node", MASTER_IP, BACKUP_IP, cluster, extra)
    runtime.loader.resolver = resolver
    return runtime


def test_the_engine_takes_server_configs_and_never_a_bad_one(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async def scenario(the_lab: Lab) -> None:
        runtime = server_node(tmp_path, the_lab, cluster_text(1, last_updated=100))
        engine, loader = runtime.engine, runtime.loader
        cluster_pb = tmp_path / "node" / "etc" / "cluster.pb"
        assert loader.source == "server" and set(engine.machines) == {"web1@au-syd"}  # cold load from disk

        publish(the_lab, 1, 2, last_updated=200)
        the_lab.honest("cfg2.test")
        message = await loader.check()
        assert "2 vservers (1 created, 0 deleted)" in message
        assert engine.config_info.origin == f"https://cfg2.test:{the_lab.port}/config/au-syd (127.0.0.3)"
        assert "web2@au-syd" in cluster_pb.read_text() and "Written by seesaw-engine from https://cfg2" in (
            cluster_pb.read_text()
        )
        assert [p.name.split(".")[0] for p in (tmp_path / "node" / "etc" / "archive").iterdir()] == ["cluster"]

        # The server goes back in time: refused, one log line per server, shown in config status.
        caplog.clear()
        publish(the_lab, 1, last_updated=150)
        with caplog.at_level(logging.ERROR), pytest.raises(SourceUnavailable):
            await loader.check()
        assert set(engine.machines) == {"web1@au-syd", "web2@au-syd"}
        lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("config server ")]
        assert len(lines) == 2 and "(127.0.0.2): connection refused" in lines[0]
        assert "(127.0.0.3): config refused: it is older than the running config" in lines[1]
        status = views.config_status(engine)
        assert "older than the running config" in status.last_error and status.last_check_unix_ms > 0
        assert any(w.startswith("config: the last config was refused") for w in status.warnings)

        # A config deleting most vservers is refused unless forced; `config diff` says so beforehand.
        publish(the_lab, 9, last_updated=300)
        diff = views.config_diff(engine, await loader.candidate())
        assert [(v.name, v.kind) for v in diff.vservers] == [
            ("web1@au-syd", engine_pb2.VserverChange.REMOVED),
            ("web2@au-syd", engine_pb2.VserverChange.REMOVED),
            ("web9@au-syd", engine_pb2.VserverChange.ADDED),
        ]
        assert "deletes 2 of the 2 running vservers" in diff.refusals[0]
        with pytest.raises(ConfigRefused):
            await loader.check()
        assert set(engine.target.vservers if engine.target else ()) == {"web1@au-syd", "web2@au-syd"}
        await loader.check(force=True)
        assert set(engine.target.vservers if engine.target else ()) == {"web9@au-syd"}
        assert not engine.config_info.last_error
        # The archive keeps the newest two earlier versions.
        assert len(list((tmp_path / "node" / "etc" / "archive").iterdir())) == 2

    with lab(tmp_path) as the_lab:
        asyncio.run(scenario(the_lab))


def test_the_periodic_check_follows_the_server(tmp_path: Path) -> None:
    async def scenario(the_lab: Lab) -> None:
        runtime = server_node(tmp_path, the_lab, cluster_text(1, last_updated=100), interval=1)
        publish(the_lab, 1, 2, last_updated=200)
        the_lab.honest("cfg1.test")
        stop = asyncio.Event()
        task = asyncio.create_task(runtime.loader.run(stop))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while len(runtime.engine.machines) != 2:  # right after the start
            assert loop.time() < deadline, "the first check did not happen"
            await asyncio.sleep(0.05)
        publish(the_lab, 1, 2, 3, last_updated=300)
        while len(runtime.engine.machines) != 3:  # a periodic check
            assert loop.time() < deadline, "the periodic check did not happen"
            await asyncio.sleep(0.05)
        stop.set()
        await task

    with lab(tmp_path) as the_lab:
        asyncio.run(scenario(the_lab))
