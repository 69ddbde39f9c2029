"""NCC's model values: keys print the way operators read them; equality is what "changed" means."""

from ncc_build import dest, ip, lb, service, vip_filter, vlan

from seesaw.ncc.model import (
    Family,
    Forwarding,
    Kind,
    Protocol,
    ServiceKey,
    changes,
    describe,
    ref,
)
from seesaw.ncc.steps import Op, Step


def test_keys_print_like_the_contract_says():
    svc = service()
    assert str(svc.key) == "TCP 192.0.2.1:80"
    assert str(service("2001:db8::1", 53, Protocol.UDP).key) == "UDP [2001:db8::1]:53"
    assert str(ServiceKey.mark(Family.INET, 256)) == "FWM 256 (IPv4)"
    assert str(dest(svc, "10.0.0.1", 8080).key) == "TCP 192.0.2.1:80 -> 10.0.0.1:8080"
    assert str(vlan().key) == "eth1.100"


def test_equal_values_are_the_same_object_and_any_field_change_is_a_change():
    svc = service()
    assert dest(svc, "10.0.0.1") == dest(svc, "10.0.0.1")
    assert ref(dest(svc, "10.0.0.1")) == ref(dest(svc, "10.0.0.1", weight=5))
    assert dest(svc, "10.0.0.1") != dest(svc, "10.0.0.1", weight=5)
    assert ref(svc) == (Kind.SERVICE, ServiceKey(Family.INET, Protocol.TCP, ip("192.0.2.1"), 80))


def test_describe_and_changes_name_fields_not_keys():
    svc = service()
    d = dest(svc, "10.0.0.1")
    assert describe(d) == "forwarding=DSR weight=1 upper_threshold=0 lower_threshold=0"
    assert changes(d, dest(svc, "10.0.0.1", weight=3, forwarding=Forwarding.MASQ)) == "forwarding=DSR->NAT weight=1->3"
    assert describe(vip_filter("192.0.2.1", 443, 80)) == "ports=TCP/80,TCP/443 fwmark=0 nat=False"
    assert "cluster_vip_ipv4=192.0.2.100" in describe(lb())


def test_steps_describe_themselves():
    svc = service()
    assert str(Step.add("web", svc)) == "ADD service TCP 192.0.2.1:80 (scheduler=wrr flags=0 timeout=0)"
    step = Step.update("web", dest(svc, "10.0.0.1"), dest(svc, "10.0.0.1", weight=0))
    assert str(step) == "UPDATE destination TCP 192.0.2.1:80 -> 10.0.0.1:80 (weight=1->0)"
    assert step.op is Op.UPDATE and step.ref == ref(dest(svc, "10.0.0.1"))
    assert str(Step.delete("web", svc)) == "DELETE service TCP 192.0.2.1:80"


def test_vmac_follows_the_vrid():
    assert lb(vrid=60).vmac == "00:00:5e:00:01:3c"
    assert lb(vrid=255).vmac == "00:00:5e:00:01:ff"


def test_service_keys_sort_by_family_then_mark_then_protocol_address_port():
    keys = [
        service("192.0.2.2", 80).key,
        ServiceKey.mark(Family.INET, 1),
        service("192.0.2.1", 443).key,
        service("2001:db8::1", 80).key,
        service("192.0.2.1", 53, Protocol.UDP).key,
        service("192.0.2.1", 80).key,
    ]
    ordered = [str(k) for k in sorted(keys, key=ServiceKey.sort_key)]
    assert ordered == [
        "TCP 192.0.2.1:80",
        "TCP 192.0.2.1:443",
        "TCP 192.0.2.2:80",
        "UDP 192.0.2.1:53",
        "FWM 1 (IPv4)",
        "TCP [2001:db8::1]:80",
    ]
