"""The real engine daemon (seesaw.engine.main.serve) behind its front door: callers identified by
SO_PEERCRED through the proxy, delegation from trusted callers only, refusals with reasons, audit lines.

The test process is one uid; to play other local users the proxy's `identify` is pointed at a
function that describes this connection as another user (the kernel part itself is exercised by
tests/integration/ecu, which calls as a real non-root uid)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from seesaw.common import paths, peercred, rpc
from seesaw.engine import auth_server
from seesaw.engine import main as engine_main
from seesaw.engine.auth import Caller
from seesaw.lab.fixture_configs import GRANTS_CLUSTER, NODE_CFG
from seesaw.pb import common_pb2, engine_pb2, engine_pb2_grpc, ha_pb2


class Engine:
    def __init__(self, tmp: Path) -> None:
        self.config_dir = tmp / "etc"
        self.run_dir = tmp / "run"
        self.config_dir.mkdir()
        (self.config_dir / "seesaw.cfg").write_text(NODE_CFG)
        (self.config_dir / "cluster.pb").write_text(GRANTS_CLUSTER)
        self.socket = paths.socket_path(self.run_dir, "engine")
        self.audit = self.run_dir / "engine" / auth_server.AUDIT_LOG
        self.servers: list[auth_server.GuardedServer] = []

    def audit_lines(self) -> list[str]:
        return self.audit.read_text().splitlines() if self.audit.exists() else []


@asynccontextmanager
async def running(tmp: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Engine]:
    engine = Engine(tmp)
    real = auth_server.GuardedServer

    def keep(*args: object, **kwargs: object) -> auth_server.GuardedServer:
        server = real(*args, **kwargs)  # type: ignore[arg-type]
        engine.servers.append(server)
        return server

    monkeypatch.setattr(auth_server, "GuardedServer", keep)
    args = engine_main.parser().parse_args(["--config-dir", str(engine.config_dir), "--run-dir", str(engine.run_dir)])
    stop = asyncio.Event()
    task = asyncio.create_task(engine_main.serve(args, stop))
    deadline = asyncio.get_running_loop().time() + 10
    while not await rpc.check_health(engine.socket):
        assert not task.done(), task
        assert asyncio.get_running_loop().time() < deadline, "the engine did not start"
        await asyncio.sleep(0.05)
    try:
        yield engine
    finally:
        stop.set()
        await task


def act_as(engine: Engine, caller: Caller) -> None:
    """Describe every new connection through the front door as `caller`."""
    engine.servers[0].proxy.identify = lambda cred: caller


def channel(path: Path) -> grpc.aio.Channel:
    """A channel with a connection of its own (gRPC shares connections between a process's channels otherwise,
    and a test that changes who the next connection belongs to needs a next connection)."""
    return grpc.aio.insecure_channel(f"unix:{path}", options=[("grpc.use_local_subchannel_pool", 1)])


async def call(
    path: Path, method: str, request: object, metadata: tuple[tuple[str, str], ...] = ()
) -> tuple[object | None, grpc.StatusCode, str]:
    async with channel(path) as ch:
        stub = engine_pb2_grpc.EngineStub(ch)
        try:
            reply = await getattr(stub, method)(request, metadata=metadata, timeout=5)
        except grpc.aio.AioRpcError as err:
            return None, err.code(), err.details() or ""
    return reply, grpc.StatusCode.OK, ""


def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: Callable[[Engine], Awaitable[None]]) -> None:
    async def scenario() -> None:
        async with running(tmp_path, monkeypatch) as engine:
            await body(engine)

    asyncio.run(asyncio.wait_for(scenario(), 60))


def disable(name: str) -> engine_pb2.OverrideRequest:
    return engine_pb2.OverrideRequest(
        target=engine_pb2.OverrideRequest.VSERVER, name=name, state=common_pb2.OVERRIDE_DISABLED
    )


def delegate(user: str, groups: str = "") -> tuple[tuple[str, str], ...]:
    return (
        (peercred.DELEGATE_USER, user),
        (peercred.DELEGATE_GROUPS, groups),
        (peercred.DELEGATE_VIA, "ecu, test"),
    )


def test_the_kernel_names_the_caller_and_root_is_admin(tmp_path, monkeypatch):
    async def body(engine: Engine) -> None:
        me, code, _ = await call(engine.socket, "WhoAmI", common_pb2.Empty())
        assert code == grpc.StatusCode.OK
        assert isinstance(me, engine_pb2.Caller)
        assert (me.uid, me.role) == (os.geteuid(), "admin")
        assert me.user == peercred.user_name(os.geteuid())
        vservers, code, _ = await call(engine.socket, "ListVservers", common_pb2.Empty())
        assert code == grpc.StatusCode.OK and len(vservers.vservers) == 2  # type: ignore[union-attr]
        reply, code, _ = await call(engine.socket, "Override", disable("web2@au-syd"))
        assert code == grpc.StatusCode.OK
        (line,) = engine.audit_lines()
        assert line.startswith(f"who={me.user} (uid {me.uid}, pid {os.getpid()}) ")
        assert line.endswith("what='Override vserver web2@au-syd disabled' result=ok: " + reply.message)  # type: ignore[union-attr]
        assert (engine.run_dir / "engine").stat().st_mode & 0o777 == 0o755
        assert engine.socket.stat().st_mode & 0o777 == 0o666

    run(tmp_path, monkeypatch, body)


def test_a_connection_that_bypasses_the_front_door_is_refused(tmp_path, monkeypatch):
    async def body(engine: Engine) -> None:
        private = engine.servers[0].server.path
        assert private.parent.stat().st_mode & 0o777 == 0o700
        _, code, details = await call(private, "ListVservers", common_pb2.Empty())
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert details == f"Permission denied: connection not identified; connect through {engine.socket}"

    run(tmp_path, monkeypatch, body)


def test_local_roles_from_groups(tmp_path, monkeypatch):
    async def body(engine: Engine) -> None:
        act_as(engine, Caller(user="nobody", uid=65534, pid=1))
        _, code, details = await call(engine.socket, "ListVservers", common_pb2.Empty())
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert "nobody has no Seesaw role; ask an admin to add nobody to one of the groups" in details
        async with channel(engine.socket) as ch:  # health stays open to everyone
            health = await health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(), timeout=5)
        assert health.status == health_pb2.HealthCheckResponse.SERVING

        act_as(engine, Caller(user="gina", groups=frozenset({"seesaw"}), uid=1003, pid=2))
        _, code, _ = await call(engine.socket, "ListVservers", common_pb2.Empty())
        assert code == grpc.StatusCode.OK
        _, code, details = await call(engine.socket, "ReloadConfig", common_pb2.Empty())
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert details == "Permission denied: ReloadConfig needs the admin role; gina has role reader"

        act_as(engine, Caller(user="alice", uid=1001, pid=3))  # web-oncall member: ops on web1
        _, code, _ = await call(engine.socket, "Override", disable("web1@au-syd"))
        assert code == grpc.StatusCode.OK
        _, code, details = await call(engine.socket, "Override", disable("web2@au-syd"))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert "alice (role ops) has no access grant on vserver web2@au-syd" in details

        act_as(engine, Caller(user="svc", groups=frozenset({"seesaw-admin"}), uid=999, pid=4))
        _, code, _ = await call(engine.socket, "Failover", common_pb2.Empty())
        assert code == grpc.StatusCode.FAILED_PRECONDITION  # allowed; refused by the engine (no HA)

        lines = engine.audit_lines()
        assert [line.split(" result=")[1].split(":")[0] for line in lines] == ["denied", "ok", "denied", "failed"]
        assert lines[0].startswith("who=gina (uid 1003, pid 2) what='ReloadConfig'")
        assert lines[3].startswith("who=svc (uid 999, pid 4) what='Failover' result=failed: FAILED_PRECONDITION ")

    run(tmp_path, monkeypatch, body)


def test_delegation_is_honoured_from_trusted_callers_only(tmp_path, monkeypatch):
    async def body(engine: Engine) -> None:
        # Root (this process) speaks for carol, whose USER grant covers web2.
        me, code, _ = await call(engine.socket, "WhoAmI", common_pb2.Empty(), delegate("carol", "partners"))
        assert code == grpc.StatusCode.OK
        assert (me.user, me.role, me.uid, list(me.granted_vservers)) == ("carol", "ops", -1, ["web2@au-syd"])  # type: ignore[union-attr]
        assert me.via.startswith("ecu, test; delegate ")  # type: ignore[union-attr]
        _, code, _ = await call(engine.socket, "Override", disable("web2@au-syd"), delegate("carol"))
        assert code == grpc.StatusCode.OK
        _, code, details = await call(engine.socket, "ReloadConfig", common_pb2.Empty(), delegate("carol"))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        # A delegated "root" is just a name: no uid, no role.
        _, code, _ = await call(engine.socket, "ListVservers", common_pb2.Empty(), delegate("root"))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        # An admin OU makes a remote admin.
        _, code, _ = await call(engine.socket, "ListVservers", common_pb2.Empty(), delegate("dan", "seesaw-admin"))
        assert code == grpc.StatusCode.OK

        # A caller the engine does not trust cannot speak for anyone, not even with a lesser role.
        act_as(engine, Caller(user="gina", groups=frozenset({"seesaw-admin"}), uid=1003, pid=2))
        _, code, details = await call(engine.socket, "ListVservers", common_pb2.Empty(), delegate("carol"))
        assert code == grpc.StatusCode.PERMISSION_DENIED
        assert "gina may not act for other users" in details
        assert any("who=carol (remote, via ecu, test; delegate" in line for line in engine.audit_lines())

    run(tmp_path, monkeypatch, body)


def test_internal_sessions_need_a_trusted_process(tmp_path, monkeypatch):
    async def body(engine: Engine) -> None:
        act_as(engine, Caller(user="gina", groups=frozenset({"seesaw"}), uid=1003, pid=2))
        async with channel(engine.socket) as ch:
            session = engine_pb2_grpc.EngineHAStub(ch).HASession()
            await session.write(ha_pb2.HAReport(status=ha_pb2.HAStatus(state=common_pb2.HA_LEADER)))
            with pytest.raises(grpc.aio.AioRpcError) as caught:
                await session.read()
        assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
        assert "may not open the engine's internal sessions" in (caught.value.details() or "")

    run(tmp_path, monkeypatch, body)
