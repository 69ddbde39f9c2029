"""Who may do what: Seesaw's TestUserRights table, plus grants, delegation and new methods failing closed."""

from __future__ import annotations

import pytest

from seesaw.config.model import AccessGrant, AccessRole, AccessType, Backend, Cluster, Host, Vserver
from seesaw.engine import auth
from seesaw.engine.auth import Caller, Grants, Kind, Role, RoleGroups
from seesaw.pb import common_pb2, engine_pb2

GROUPS = RoleGroups(admin=frozenset({"admins"}), ops=frozenset({"operators"}), reader=frozenset({"readers"}))

ENGINE = "/seesaw.engine.Engine/"
READ = auth.classify(ENGINE + "ListVservers")
RELOAD = auth.classify(ENGINE + "ReloadConfig")
FAILOVER = auth.classify(ENGINE + "Failover")


def override(target: int, name: str, state: int = common_pb2.OVERRIDE_DISABLED) -> auth.Operation:
    return auth.classify(ENGINE + "Override", engine_pb2.OverrideRequest(target=target, name=name, state=state))


def cluster() -> Cluster:
    def vs(name: str, grants: list[AccessGrant], backends: list[str]) -> Vserver:
        return Vserver(
            name=name,
            host=Host(f"{name}.example.com."),
            access_grants={g.key: g for g in grants},
            backends={b: Backend(Host(b)) for b in backends},
        )

    return Cluster(
        site="au-syd",
        vip=Host("vip.example.com."),
        vservers={
            "dns@au-syd": vs(
                "dns@au-syd", [AccessGrant("dns-team", AccessRole.OPS, AccessType.GROUP)], ["dns1.", "shared."]
            ),
            "web@au-syd": vs("web@au-syd", [AccessGrant("carol", AccessRole.ADMIN, AccessType.USER)], ["shared."]),
            "ldap@au-syd": vs("ldap@au-syd", [AccessGrant("netops", AccessRole.OPS, AccessType.GROUP)], ["ldap1."]),
        },
        access_groups={"dns-team": ("alice", "bob")},
    )


def decide(caller: Caller, op: auth.Operation) -> auth.Decision:
    c = cluster()
    return auth.decide(caller, op, GROUPS, Grants.from_cluster(c), lambda t, n: auth.override_scope(c, t, n))


# Seesaw's common/ipc/ipc_test.go TestUserRights, with our write = admin and read = reader or above.
@pytest.mark.parametrize(
    ("groups", "role", "can_read", "can_write"),
    [
        (set(), Role.NONE, False, False),
        ({"readers"}, Role.READER, True, False),
        ({"operators"}, Role.OPS, True, False),
        ({"operators", "readers"}, Role.OPS, True, False),
        ({"admins"}, Role.ADMIN, True, True),
        ({"unrelated"}, Role.NONE, False, False),
    ],
)
@pytest.mark.parametrize("local", [True, False])
def test_user_rights(groups, role, can_read, can_write, local):
    caller = Caller(user="dave", groups=frozenset(groups), uid=1000 if local else None, pid=1 if local else None)
    assert decide(caller, READ).role is role
    assert decide(caller, READ).allowed is can_read
    assert decide(caller, RELOAD).allowed is can_write
    assert decide(caller, FAILOVER).allowed is can_write


def test_root_and_the_engines_uid_are_admins_and_a_remote_root_is_not():
    assert decide(Caller(user="root", uid=0, pid=1, trusted=True), RELOAD).allowed
    remote_root = Caller(user="root", via="ecu")
    refused = decide(remote_root, READ)
    assert not refused.allowed
    assert "no Seesaw role" in refused.reason and "OU" in refused.reason


def test_ops_may_override_only_granted_vservers():
    alice = Caller(user="alice", uid=1001, pid=2)  # in access group dns-team, granted dns@au-syd
    assert decide(alice, READ).role is Role.OPS
    assert decide(alice, override(engine_pb2.OverrideRequest.VSERVER, "dns@au-syd")).allowed
    assert decide(alice, override(engine_pb2.OverrideRequest.DESTINATION, "dns@au-syd/10.0.0.1:53/UDP")).allowed
    assert decide(alice, override(engine_pb2.OverrideRequest.BACKEND, "dns1.")).allowed
    refused = decide(alice, override(engine_pb2.OverrideRequest.VSERVER, "web@au-syd"))
    assert not refused.allowed
    assert "no access grant on vserver web@au-syd" in refused.reason
    # A backend that also serves a vserver alice has no grant on.
    shared = decide(alice, override(engine_pb2.OverrideRequest.BACKEND, "shared."))
    assert not shared.allowed and "web@au-syd" in shared.reason
    # Ops may not reload or fail over.
    assert not decide(alice, RELOAD).allowed
    assert "needs the admin role" in decide(alice, RELOAD).reason


def test_user_grant_and_a_grant_to_one_of_the_callers_own_groups():
    carol = Caller(user="carol", via="ecu")  # a USER grant on web
    assert decide(carol, override(engine_pb2.OverrideRequest.VSERVER, "web@au-syd")).allowed
    # netops is not an access group in cluster.pb, but it is one of erin's certificate OUs.
    erin = Caller(user="erin", groups=frozenset({"netops"}), via="ecu")
    assert decide(erin, READ).granted == frozenset({"ldap@au-syd"})
    assert decide(erin, override(engine_pb2.OverrideRequest.VSERVER, "ldap@au-syd")).allowed
    assert not decide(erin, override(engine_pb2.OverrideRequest.VSERVER, "dns@au-syd")).allowed


def test_ops_group_without_grants_reads_but_overrides_nothing():
    frank = Caller(user="frank", groups=frozenset({"operators"}), uid=1002, pid=3)
    assert decide(frank, READ).allowed
    refused = decide(frank, override(engine_pb2.OverrideRequest.VSERVER, "dns@au-syd"))
    assert not refused.allowed and "no access grant" in refused.reason
    unknown_backend = decide(frank, override(engine_pb2.OverrideRequest.BACKEND, "nosuch."))
    assert not unknown_backend.allowed and "belongs to none" in unknown_backend.reason


def test_readers_cannot_override():
    reader = Caller(user="gina", groups=frozenset({"readers"}), uid=1003, pid=4)
    refused = decide(reader, override(engine_pb2.OverrideRequest.VSERVER, "dns@au-syd"))
    assert not refused.allowed and "ops or admin" in refused.reason


def test_internal_sessions_are_for_trusted_local_processes():
    ha = auth.classify("/seesaw.engine.EngineHA/HASession")
    assert ha.kind is Kind.INTERNAL
    assert decide(Caller(user="root", uid=0, pid=1, trusted=True), ha).allowed
    assert decide(Caller(user="svc", groups=frozenset({"admins"}), uid=999, pid=1), ha).allowed
    assert not decide(Caller(user="admin", groups=frozenset({"admins"}), via="ecu"), ha).allowed
    assert not decide(Caller(user="gina", groups=frozenset({"readers"}), uid=1003, pid=4), ha).allowed


@pytest.mark.parametrize(
    ("method", "request_", "kind"),
    [
        ("/grpc.health.v1.Health/Check", None, Kind.OPEN),
        ("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", None, Kind.READ),
        (ENGINE + "WhoAmI", None, Kind.IDENTIFIED),
        (ENGINE + "GetConfigDiff", None, Kind.READ),
        (ENGINE + "SetConfigSource", engine_pb2.ConfigSourceRequest(source=""), Kind.READ),
        (ENGINE + "SetConfigSource", engine_pb2.ConfigSourceRequest(source="disk"), Kind.WRITE),
        (ENGINE + "Reload", engine_pb2.ReloadRequest(force=True), Kind.WRITE),
        (ENGINE + "SomethingNew", None, Kind.WRITE),  # an unknown method fails closed
        ("/seesaw.other.Service/Get", None, Kind.WRITE),
    ],
)
def test_classification(method, request_, kind):
    assert auth.classify(method, request_).kind is kind


def test_a_forced_reload_says_so_in_the_audit_line():
    op = auth.classify(ENGINE + "Reload", engine_pb2.ReloadRequest(force=True))
    assert (op.kind, op.action) == (Kind.WRITE, "Reload force")


def test_no_role_may_still_ask_who_it_is_and_health():
    nobody = Caller(user="nobody", uid=65534, pid=5)
    assert decide(nobody, auth.classify(ENGINE + "WhoAmI")).allowed
    assert decide(nobody, auth.classify("/grpc.health.v1.Health/Check")).allowed
    refused = decide(nobody, READ)
    assert not refused.allowed and "ask an admin to add nobody" in refused.reason


def test_audit_line_names_who_what_and_result():
    op = override(engine_pb2.OverrideRequest.VSERVER, "dns@au-syd")
    line = auth.audit_line(Caller(user="alice", uid=1001, pid=77), op, "ok")
    assert line == "who=alice (uid 1001, pid 77) what='Override vserver dns@au-syd disabled' result=ok"
