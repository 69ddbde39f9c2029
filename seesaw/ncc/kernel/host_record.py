"""What NCC set up on an interface, kept in the kernel itself: the interface's alias (IFLA_IFALIAS).

NCC must recognise its LB interface and VLANs after a restart without asking
anyone, and adopt them as they are (no flap, no re-add). The alias of the LB
interface records the LB interface as NCC was asked to set it up, and the MAC
the interface had before the VMAC (restored when the LB interface is
removed); a VLAN's alias records its host addresses. Reading the kernel then
checks every recorded fact against what is really there (see host_observe.py).

    seesaw-ncc lb node=eth0 dummy=dummy0 node4=10.0.0.2/24 node6=- vip4=10.0.0.10 vip6=- vrid=60 vmac=1 table=2 \
mac=02:00:00:00:00:01
    seesaw-ncc vlan ipv4=10.1.0.2/24 ipv6=-

An alias that does not start with "seesaw-ncc " is not NCC's. Pure: text in, values out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

from seesaw.ncc.model import LBInterface

PREFIX = "seesaw-ncc"
IFALIASZ = 256  # the kernel's limit, including the terminating NUL
_NONE = "-"


@dataclass(frozen=True)
class LBRecord:
    lb: LBInterface  # as asked for, with up=False (the link's state is read, not recorded)
    mac: str  # the interface's own MAC, from before NCC set the VMAC


@dataclass(frozen=True)
class VLANRecord:
    ipv4: ipaddress.IPv4Interface | None
    ipv6: ipaddress.IPv6Interface | None


def _text(value: object) -> str:
    return _NONE if value is None or value == "" else str(value)


def encode_lb(lb: LBInterface, mac: str) -> str:
    fields = {
        "node": lb.node_interface,
        "dummy": lb.dummy_interface,
        "node4": lb.node_ipv4,
        "node6": lb.node_ipv6,
        "vip4": lb.cluster_vip_ipv4,
        "vip6": lb.cluster_vip_ipv6,
        "vrid": lb.vrid,
        "vmac": int(lb.use_vmac),
        "table": lb.routing_table,
        "mac": mac.lower(),
    }
    return _join("lb", fields)


def encode_vlan(ipv4: ipaddress.IPv4Interface | None, ipv6: ipaddress.IPv6Interface | None) -> str:
    return _join("vlan", {"ipv4": ipv4, "ipv6": ipv6})


def _join(kind: str, fields: Mapping[str, object]) -> str:
    text = " ".join([PREFIX, kind, *(f"{k}={_text(v)}" for k, v in fields.items())])
    assert len(text) < IFALIASZ, f"interface record too long for IFLA_IFALIAS: {text}"
    return text


def _fields(alias: str, kind: str) -> dict[str, str | None] | None:
    words = alias.split()
    if words[:2] != [PREFIX, kind]:
        return None
    fields: dict[str, str | None] = {}
    for word in words[2:]:
        key, sep, value = word.partition("=")
        if not sep:
            return None
        fields[key] = None if value == _NONE else value
    return fields


def decode_lb(name: str, alias: str) -> LBRecord | None:
    """The LB record in `alias` of interface `name`, or None when the alias is not one (or is damaged)."""
    fields = _fields(alias, "lb")
    if fields is None:
        return None
    try:
        node4, node6 = fields.get("node4"), fields.get("node6")
        vip4, vip6 = fields.get("vip4"), fields.get("vip6")
        lb = LBInterface(
            name=name,
            node_interface=fields.get("node") or "",
            dummy_interface=fields.get("dummy") or "",
            node_ipv4=ipaddress.IPv4Interface(node4) if node4 else None,
            node_ipv6=ipaddress.IPv6Interface(node6) if node6 else None,
            cluster_vip_ipv4=ipaddress.IPv4Address(vip4) if vip4 else None,
            cluster_vip_ipv6=ipaddress.IPv6Address(vip6) if vip6 else None,
            vrid=int(fields["vrid"] or 0),
            use_vmac=fields.get("vmac") == "1",
            routing_table=int(fields["table"] or 0),
        )
        return LBRecord(lb, fields.get("mac") or "")
    except (KeyError, ValueError):
        return None


def decode_vlan(alias: str) -> VLANRecord | None:
    fields = _fields(alias, "vlan")
    if fields is None:
        return None
    try:
        ipv4, ipv6 = fields.get("ipv4"), fields.get("ipv6")
        return VLANRecord(
            ipaddress.IPv4Interface(ipv4) if ipv4 else None, ipaddress.IPv6Interface(ipv6) if ipv6 else None
        )
    except ValueError:
        return None
