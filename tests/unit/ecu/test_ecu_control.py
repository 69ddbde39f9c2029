"""The ECU's control API, end to end: TLS with client certificates in front of a real engine, roles from the
certificate subject and cluster.pb's grants, the engine's refusals and audit lines, health and reflection."""

from __future__ import annotations

import grpc
import pytest
from ecu_lab import ClientFiles, Lab
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from seesaw.ecu.control import ControlService
from seesaw.ecu.identity import NotAuthenticated, parse_subject, remote_user
from seesaw.lab.certs import TestCA
from seesaw.pb import common_pb2, ecu_pb2, ecu_pb2_grpc, engine_pb2


def channel(lab: Lab, files: ClientFiles | None) -> grpc.Channel:
    if files is None:
        credentials = grpc.ssl_channel_credentials(root_certificates=lab.ca.pem())
    else:
        ca, cert, key = files.read()
        credentials = grpc.ssl_channel_credentials(root_certificates=ca, private_key=key, certificate_chain=cert)
    return grpc.secure_channel(f"localhost:{lab.port}", credentials)


def stub(lab: Lab, files: ClientFiles | None) -> ecu_pb2_grpc.SeesawECUStub:
    return ecu_pb2_grpc.SeesawECUStub(channel(lab, files))


def disable(name: str) -> engine_pb2.OverrideRequest:
    return engine_pb2.OverrideRequest(
        target=engine_pb2.OverrideRequest.VSERVER, name=name, state=common_pb2.OVERRIDE_DISABLED
    )


def refused(call) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


# -- pure parts -----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subject", "pairs"),
    [
        ("CN=alice,OU=seesaw-admin,O=Example", [("CN", "alice"), ("OU", "seesaw-admin"), ("O", "Example")]),
        (r"CN=Smith\, John,OU=ops", [("CN", "Smith, John"), ("OU", "ops")]),
        (r"CN=a\2Bb+OU=x", [("CN", "a+b"), ("OU", "x")]),
        ("cn = bob , ou=readers", [("CN", "bob"), ("OU", "readers")]),
        ("", []),
    ],
)
def test_parse_subject(subject, pairs):
    assert parse_subject(subject) == pairs


def test_remote_user_needs_a_subject_with_a_cn():
    user = remote_user({"x509_subject": [b"CN=alice,OU=dns-team,OU=seesaw,O=Example"]}, "ipv4:192.0.2.7:5")
    assert (user.user, user.groups) == ("alice", ("dns-team", "seesaw"))
    assert user.via() == "ecu, certificate 'CN=alice,OU=dns-team,OU=seesaw,O=Example', peer ipv4:192.0.2.7:5"
    with pytest.raises(NotAuthenticated, match="no client certificate"):
        remote_user({"transport_security_type": [b"ssl"]}, "ipv4:192.0.2.7:5")
    with pytest.raises(NotAuthenticated, match="has no CN"):
        remote_user({"x509_subject": [b"OU=seesaw-admin,O=Example"]}, "ipv4:192.0.2.7:5")


def test_every_ecu_method_is_served():
    base = ecu_pb2_grpc.SeesawECUServicer
    methods = ecu_pb2.DESCRIPTOR.services_by_name["SeesawECU"].methods_by_name
    missing = [name for name in methods if getattr(ControlService, name) is getattr(base, name)]
    assert missing == []
    # ... and every one is the Engine method of the same name, request and reply (WhoAmI excepted).
    engine = engine_pb2.DESCRIPTOR.services_by_name["Engine"].methods_by_name
    for name, method in methods.items():
        if name != "WhoAmI":
            assert engine[name].input_type.full_name == method.input_type.full_name, name
            assert engine[name].output_type.full_name == method.output_type.full_name, name


# -- over TLS -------------------------------------------------------------------------------------------------------


def test_admin_certificate(lab: Lab):
    ecu = stub(lab, lab.client("admin", "dan", ("seesaw-admin",)))
    me = ecu.WhoAmI(common_pb2.Empty(), timeout=10)
    assert (me.user, me.role, list(me.groups)) == ("dan", "admin", ["seesaw-admin"])
    assert me.via.startswith("ecu, certificate 'CN=dan,OU=seesaw-admin', peer ipv4:127.0.0.1:")
    names = [v.name for v in ecu.ListVservers(common_pb2.Empty(), timeout=10).vservers]
    assert names == ["web1@au-syd", "web2@au-syd"]
    assert ecu.GetClusterStatus(common_pb2.Empty(), timeout=10).site == "au-syd"
    reply = ecu.ReloadConfig(common_pb2.Empty(), timeout=10)
    line = next(line for line in reversed(lab.audit_lines()) if "what='ReloadConfig'" in line)
    assert line.startswith("who=dan (remote, via ecu, certificate 'CN=dan,OU=seesaw-admin', peer ")
    assert line.endswith(f"result=ok: {reply.message}")


def test_ops_certificate_overrides_only_its_vservers(lab: Lab):
    ecu = stub(lab, lab.client("ops", "alice"))  # member of access group web-oncall, granted web1
    me = ecu.WhoAmI(common_pb2.Empty(), timeout=10)
    assert (me.role, list(me.granted_vservers)) == ("ops", ["web1@au-syd"])
    assert ecu.Override(disable("web1@au-syd"), timeout=10).message
    err = refused(lambda: ecu.Override(disable("web2@au-syd"), timeout=10))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert err.details() == (
        "Permission denied: alice (role ops) has no access grant on vserver web2@au-syd; "
        "an admin can add one to cluster.pb (access_grant)"
    )
    err = refused(lambda: ecu.Failover(common_pb2.Empty(), timeout=10))
    assert err.details() == "Permission denied: Failover needs the admin role; alice has role ops"
    lines = [line for line in lab.audit_lines() if line.startswith("who=alice ")]
    assert [line.rsplit(" result=", 1)[1].split(":")[0] for line in lines] == ["ok", "denied", "denied"]


def test_reader_and_roleless_certificates(lab: Lab):
    reader = stub(lab, lab.client("reader", "gina", ("seesaw",)))
    assert reader.GetHAStatus(common_pb2.Empty(), timeout=10).state == common_pb2.HA_UNKNOWN
    assert refused(lambda: reader.ReloadConfig(common_pb2.Empty(), timeout=10)).code() == (
        grpc.StatusCode.PERMISSION_DENIED
    )
    nobody = stub(lab, lab.client("nobody", "nobody", ("interns",)))
    assert nobody.WhoAmI(common_pb2.Empty(), timeout=10).role == "none"
    err = refused(lambda: nobody.ListVservers(common_pb2.Empty(), timeout=10))
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "its certificate needs an OU naming one of seesaw, seesaw-admin, seesaw-ops" in (err.details() or "")


def test_no_certificate_or_a_foreign_one_is_turned_away(lab: Lab):
    anonymous = stub(lab, None)
    err = refused(lambda: anonymous.WhoAmI(common_pb2.Empty(), timeout=10))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    foreign = stub(lab, lab.client("foreign", "mallory", ("seesaw-admin",), ca=TestCA("Other CA")))
    err = refused(lambda: foreign.WhoAmI(common_pb2.Empty(), timeout=10))
    assert err.code() == grpc.StatusCode.UNAVAILABLE
    assert not any("mallory" in line for line in lab.audit_lines())


def test_health_and_reflection_behind_tls(lab: Lab):
    ch = channel(lab, lab.client("probe", "prometheus", ("seesaw",)))
    health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.HealthCheckRequest(service="seesaw.ecu.SeesawECU"))
    assert health.status == health_pb2.HealthCheckResponse.SERVING
    request = reflection_pb2.ServerReflectionRequest(list_services="")
    (answer,) = reflection_pb2_grpc.ServerReflectionStub(ch).ServerReflectionInfo(iter([request]), timeout=10)
    services = {s.name for s in answer.list_services_response.service}
    assert {"seesaw.ecu.SeesawECU", "grpc.health.v1.Health"} <= services
