"""The engine's gRPC server assembled behind its front door.

    <run-dir>/engine/engine.sock          the proxy (auth_proxy): anyone may connect, the kernel says who
    <private>/engine/engine.sock          the gRPC server, in a 0700 directory: only the proxy uses it
    <run-dir>/engine/audit.log            one line per write: who, what, result (rotated by size, audit_log.py)

`<private>` is `<run-dir>/engine/private`, or a 0700 directory under $TMPDIR
named for the run dir when the run dir's path is too long for a socket name
(108 bytes).
Every servicer added through `add` is guarded (auth_guard).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
from pathlib import Path
from typing import Any

from seesaw.common import paths
from seesaw.common.rpc import AddServicer, UnixServer
from seesaw.engine.audit_log import AuditLimits, AuditLog
from seesaw.engine.auth import RoleGroups
from seesaw.engine.auth_guard import AuthGuard, EnginePolicy
from seesaw.engine.auth_proxy import CallerRegistry, PeerProxy, local_caller
from seesaw.engine.core import Engine

AUDIT_LOG = "audit.log"
_SOCKET_NAME_MAX = 100  # sun_path holds 108 bytes; leave room for the proxy's peer names


def add_arguments(p: argparse.ArgumentParser) -> None:
    defaults = RoleGroups()
    for role, default in (("admin", defaults.admin), ("ops", defaults.ops), ("reader", defaults.reader)):
        p.add_argument(
            f"--{role}-group",
            dest=f"{role}_groups",
            default=",".join(sorted(default)),
            metavar="GROUPS",
            help=f"comma-separated Unix groups (and certificate OUs) with the {role} role (default: %(default)s)",
        )


def role_groups(args: argparse.Namespace) -> RoleGroups:
    def names(value: str) -> frozenset[str]:
        return frozenset(name.strip() for name in value.split(",") if name.strip())

    return RoleGroups(admin=names(args.admin_groups), ops=names(args.ops_groups), reader=names(args.reader_groups))


def _short_private_dir(run_dir: Path) -> Path:
    """A 0700 directory of our own under $TMPDIR, named for the run dir so that a restarted engine (even one
    that was killed) reuses it; a name someone else holds (another owner, a symlink, looser modes) is not used."""
    digest = hashlib.sha256(str(run_dir.resolve()).encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"seesaw-engine-{os.geteuid()}-{digest}"
    try:
        path.mkdir(mode=0o700)
    except FileExistsError:
        info = path.lstat()
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
            return Path(tempfile.mkdtemp(prefix="seesaw-engine-"))
    return path


class GuardedServer:
    def __init__(self, run_dir: Path, engine: Engine, groups: RoleGroups) -> None:
        state = paths.state_dir(run_dir, "engine")
        state.mkdir(parents=True, exist_ok=True)
        self.front = paths.socket_path(run_dir, "engine")
        private = state / "private"
        self._temporary = len(str(paths.socket_path(private, "engine"))) > _SOCKET_NAME_MAX
        if self._temporary:
            private = _short_private_dir(run_dir)
        else:
            private.mkdir(mode=0o700, exist_ok=True)
            os.chmod(private, 0o700)
        self.private = private
        self.server = UnixServer(private, "engine", dir_mode=0o700)
        self.registry = CallerRegistry()
        audit = AuditLog(state / AUDIT_LOG, lambda: AuditLimits.from_settings(engine.settings))
        self.guard = AuthGuard(self.registry, EnginePolicy(engine, groups), audit, self.front)
        own_uid = os.geteuid()
        self.proxy = PeerProxy(
            self.front, self.server.path, private / "peers", self.registry, lambda cred: local_caller(cred, own_uid)
        )

    def add(self, add_fn: AddServicer, servicer: Any, service_name: str) -> None:
        self.server.add(add_fn, self.guard.wrap(servicer, service_name), service_name)

    async def start(self) -> None:
        await self.server.start()
        await self.proxy.start()

    async def set_serving(self, serving: bool) -> None:
        await self.server.set_serving(serving)

    async def stop(self) -> None:
        await self.server.set_serving(False)
        await self.proxy.stop()
        await self.server.stop()
        if self._temporary:
            with contextlib.suppress(OSError):
                shutil.rmtree(self.private)
