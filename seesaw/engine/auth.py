"""Who may call what on the engine: the rules, pure (no sockets, no gRPC).

Every caller is a `Caller` the kernel vouched for: a local process known by
its SO_PEERCRED uid and groups, or a remote user the ECU authenticated by
client certificate and passes on ("delegates"); a delegated caller is only
accepted from a trusted local process (root, or the engine's own uid).
Nothing a client writes into a request decides who it is.

Roles, highest first:

* admin  - root or the engine's own uid (locally), or a member of an admin
           group (`seesaw-admin`): everything.
* ops    - a member of an ops group (`seesaw-ops`), or anyone cluster.pb's
           access grants name (as a USER grant, or through a GROUP grant
           naming an access group that lists them or one of their own
           groups): reads, and overrides of the vservers granted to them.
* reader - a member of a reader group (`seesaw`): reads.
* none   - everyone else: refused, with the reason.

The HA and healthcheck sessions are internal: only trusted processes and
local admins may open them. `grpc.health.v1` is open to anyone who can
connect. An Engine method this table does not know is a read if its name
says so (Get..., List...) and an admin-only write otherwise: new methods
fail closed.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field

from seesaw.config.model import AccessType, Cluster
from seesaw.engine.overrides import destination_vserver
from seesaw.pb import common_pb2, engine_pb2


class Role(enum.IntEnum):
    NONE = 0
    READER = 1
    OPS = 2
    ADMIN = 3

    def __str__(self) -> str:
        return self.name.lower()


class Kind(enum.Enum):
    OPEN = "open"  # anyone who can connect (grpc.health.v1)
    IDENTIFIED = "identified"  # any identified caller, even with no role (WhoAmI)
    READ = "read"
    OVERRIDE = "override"  # ops on granted vservers, admin everywhere
    WRITE = "write"  # admin only
    INTERNAL = "internal"  # the HA and healthcheck sessions


@dataclass(frozen=True)
class RoleGroups:
    """The group names that give a role (local Unix groups, or certificate OUs for remote users)."""

    admin: frozenset[str] = frozenset({"seesaw-admin"})
    ops: frozenset[str] = frozenset({"seesaw-ops"})
    reader: frozenset[str] = frozenset({"seesaw"})


@dataclass(frozen=True)
class Caller:
    user: str  # login name, or a certificate's CN
    groups: frozenset[str] = frozenset()
    uid: int | None = None  # kernel uid of a local caller; None for a delegated remote user
    pid: int | None = None
    trusted: bool = False  # root or the engine's own uid: may open internal sessions and delegate
    via: str = ""  # for a delegated caller: who passed it on ("ecu, peer ipv4:192.0.2.7:51234")

    @property
    def local(self) -> bool:
        return self.uid is not None

    def describe(self) -> str:
        if self.local:
            return f"{self.user} (uid {self.uid}, pid {self.pid})"
        return f"{self.user} (remote, via {self.via or 'a delegate'})"


@dataclass(frozen=True)
class Operation:
    kind: Kind
    action: str  # what is asked, for the audit line: "Override vserver web@au-syd disabled"
    override_target: int = -1  # for OVERRIDE: engine_pb2.OverrideRequest.Target
    override_name: str = ""


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason: str  # why not, or what allowed it
    role: Role = Role.NONE
    granted: frozenset[str] = frozenset()  # the vservers the caller's access grants cover


@dataclass(frozen=True)
class Grants:
    """cluster.pb's access grants, as who-may-override-what."""

    users: dict[str, frozenset[str]] = field(default_factory=dict)  # vserver -> granted user names
    groups: dict[str, frozenset[str]] = field(default_factory=dict)  # vserver -> granted group names
    members: dict[str, frozenset[str]] = field(default_factory=dict)  # access group -> its members

    @classmethod
    def from_cluster(cls, cluster: Cluster | None) -> Grants:
        if cluster is None:
            return cls()
        users: dict[str, set[str]] = {}
        groups: dict[str, set[str]] = {}
        for vs in cluster.vservers.values():
            for grant in vs.access_grants.values():
                table = users if grant.type == AccessType.USER else groups
                table.setdefault(vs.name, set()).add(grant.grantee)
        return cls(
            users={k: frozenset(v) for k, v in users.items()},
            groups={k: frozenset(v) for k, v in groups.items()},
            members={name: frozenset(m) for name, m in cluster.access_groups.items()},
        )

    def vservers_for(self, caller: Caller) -> frozenset[str]:
        """The vservers whose grants name `caller`: directly, through an access group listing them, or
        through a grant naming one of the caller's own groups."""
        granted = {vs for vs, users in self.users.items() if caller.user in users}
        for vs, names in self.groups.items():
            for name in names:
                if name in caller.groups or caller.user in self.members.get(name, ()):
                    granted.add(vs)
                    break
        return frozenset(granted)


def override_scope(cluster: Cluster | None, target: int, name: str) -> frozenset[str]:
    """The vservers an override of `name` touches: the vserver itself, the destination's vserver, or every
    vserver that has the backend."""
    if target == engine_pb2.OverrideRequest.VSERVER:
        return frozenset({name})
    if target == engine_pb2.OverrideRequest.DESTINATION:
        return frozenset({destination_vserver(name)})
    if cluster is None:
        return frozenset()
    return frozenset(vs.name for vs in cluster.vservers.values() if name in vs.backends)


def role_of(caller: Caller, role_groups: RoleGroups, granted: frozenset[str]) -> Role:
    if caller.trusted or caller.groups & role_groups.admin:
        return Role.ADMIN
    if caller.groups & role_groups.ops or granted:
        return Role.OPS
    if caller.groups & role_groups.reader:
        return Role.READER
    return Role.NONE


_ENGINE = "/seesaw.engine.Engine/"
_WRITES = {"ReloadConfig", "Failover"}
_INTERNAL_SERVICES = ("/seesaw.engine.EngineHA/", "/seesaw.engine.EngineHealthcheck/")
_OPEN_SERVICES = ("/grpc.health.v1.Health/",)
_READ_SERVICES = ("/grpc.reflection.v1alpha.ServerReflection/", "/grpc.reflection.v1.ServerReflection/")
_READ_PREFIXES = ("Get", "List", "Watch", "Show")

TARGET_WORDS = {
    engine_pb2.OverrideRequest.VSERVER: "vserver",
    engine_pb2.OverrideRequest.BACKEND: "backend",
    engine_pb2.OverrideRequest.DESTINATION: "destination",
}
STATE_WORDS = {
    common_pb2.OVERRIDE_DEFAULT: "default",
    common_pb2.OVERRIDE_DISABLED: "disabled",
    common_pb2.OVERRIDE_ENABLED: "enabled",
}


def classify(method: str, request: object = None) -> Operation:
    """What calling `method` (a full gRPC path) with `request` amounts to."""
    if method.startswith(_OPEN_SERVICES):
        return Operation(Kind.OPEN, method)
    if method.startswith(_INTERNAL_SERVICES):
        return Operation(Kind.INTERNAL, method)
    if method.startswith(_READ_SERVICES):
        return Operation(Kind.READ, method)
    if not method.startswith(_ENGINE):
        return Operation(Kind.WRITE, method)  # unknown service: fail closed
    name = method.removeprefix(_ENGINE)
    if name == "WhoAmI":
        return Operation(Kind.IDENTIFIED, name)
    if name == "Override" and isinstance(request, engine_pb2.OverrideRequest):
        target = TARGET_WORDS.get(request.target, str(request.target))
        state = STATE_WORDS.get(request.state, str(request.state))
        return Operation(Kind.OVERRIDE, f"Override {target} {request.name} {state}", request.target, request.name)
    if name == "SetConfigSource" and isinstance(request, engine_pb2.ConfigSourceRequest):
        if not request.source.strip():
            return Operation(Kind.READ, name)
        return Operation(Kind.WRITE, f"SetConfigSource {request.source.strip()}")
    if name == "Reload" and isinstance(request, engine_pb2.ReloadRequest):
        return Operation(Kind.WRITE, "Reload force" if request.force else "Reload")
    if name in _WRITES:
        return Operation(Kind.WRITE, name)
    if name.startswith(_READ_PREFIXES):
        return Operation(Kind.READ, name)
    return Operation(Kind.WRITE, name)


def is_write(op: Operation) -> bool:
    """Writes are audited, allowed or not."""
    return op.kind in (Kind.WRITE, Kind.OVERRIDE)


def decide(
    caller: Caller,
    op: Operation,
    role_groups: RoleGroups,
    grants: Grants,
    override_scope: Callable[[int, str], frozenset[str]] = lambda target, name: frozenset(),
) -> Decision:
    """May `caller` do `op`? `override_scope(target, name)` names the vservers an override touches."""
    granted = grants.vservers_for(caller)
    role = role_of(caller, role_groups, granted)
    decision = _decide(caller, op, role, granted, role_groups, override_scope)
    return Decision(decision.allowed, decision.reason, role, granted)


def _decide(
    caller: Caller,
    op: Operation,
    role: Role,
    granted: frozenset[str],
    role_groups: RoleGroups,
    override_scope: Callable[[int, str], frozenset[str]],
) -> Decision:
    if op.kind is Kind.OPEN:
        return Decision(True, "open to all", role)
    if op.kind is Kind.IDENTIFIED:
        return Decision(True, "any identified caller", role)
    if op.kind is Kind.INTERNAL:
        if caller.local and (caller.trusted or role is Role.ADMIN):
            return Decision(True, "trusted local process", role)
        return Decision(False, f"{caller.user} may not open the engine's internal sessions (HA, healthcheck)", role)
    if role is Role.NONE:
        return Decision(False, f"{caller.user} has no Seesaw role; {_how_to_get(role_groups, caller)}", role)
    if op.kind is Kind.READ:
        return Decision(True, f"role {role}", role)
    if role is Role.ADMIN:
        return Decision(True, "role admin", role)
    if op.kind is Kind.WRITE:
        return Decision(False, f"{op.action} needs the admin role; {caller.user} has role {role}", role)
    # OVERRIDE by ops (or a reader, who is refused unless granted: a grant makes them ops anyway).
    if role is not Role.OPS:
        return Decision(False, f"overrides need the ops or admin role; {caller.user} has role {role}", role)
    scope = override_scope(op.override_target, op.override_name)
    if not scope:
        return Decision(
            False,
            f"{caller.user} (role ops) may override only vservers granted to it; "
            f"{op.override_name!r} belongs to none of them",
            role,
        )
    missing = sorted(scope - granted)
    if missing:
        return Decision(
            False,
            f"{caller.user} (role ops) has no access grant on vserver {', '.join(missing)}; "
            "an admin can add one to cluster.pb (access_grant)",
            role,
        )
    return Decision(True, f"role ops, granted {', '.join(sorted(scope))}", role)


def _how_to_get(role_groups: RoleGroups, caller: Caller) -> str:
    readers = ", ".join(sorted(role_groups.reader | role_groups.ops | role_groups.admin))
    if caller.local:
        return f"ask an admin to add {caller.user} to one of the groups {readers}"
    return f"its certificate needs an OU naming one of {readers}"


def audit_line(caller: Caller, op: Operation, result: str) -> str:
    """The audit record of one write: who, what, and how it ended."""
    return f"who={caller.describe()} what={op.action!r} result={result}"
