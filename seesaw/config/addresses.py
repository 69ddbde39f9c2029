"""Seesaw's address strings: `Host.ipv4`/`ipv6` and `dedicated_vip_subnet`.

Seesaw v2 parsed these with Go's `net.ParseCIDR` and silently ignored what
did not parse. Here the same strings are read strictly (an address with a
prefix length, of the family the field names) and a `ValueError` says what is
wrong; `seesaw.config.convert` uses the lenient `*_or_none` forms so that it
stays a total function, and `seesaw.config.validate` reports the failures.
"""

from __future__ import annotations

import ipaddress

from seesaw.config.errors import quote
from seesaw.config.model import IPInterface, IPNetwork


def parse_cidr(text: str, version: int | None = None) -> IPInterface:
    """`"192.168.10.2/24"` -> IPv4Interface. `version` (4 or 6) restricts the family."""
    if "/" not in text:
        example = "2015:cafe::2/64" if version == 6 or ":" in text else "192.168.10.2/24"
        raise ValueError(f"{quote(text)} has no prefix length: write it with one, e.g. {quote(example)}")
    address, _, prefix = text.partition("/")
    if not prefix.isdigit() or not prefix.isascii():
        raise ValueError(f"{quote(text)} has a bad prefix length {quote(prefix)}: it must be a number of bits")
    if "%" in address:
        raise ValueError(f"{quote(text)} carries a scope (%...): scoped addresses cannot be VIPs or backends")
    try:
        iface = ipaddress.ip_interface(f"{address}/{int(prefix)}")
    except ValueError as err:
        raise ValueError(f"{quote(text)} is not a valid CIDR address: {err}") from None
    if version is not None and iface.version != version:
        raise ValueError(f"{quote(text)} is an IPv{iface.version} address but this field takes IPv{version}")
    return iface


def parse_cidr_or_none(text: str, version: int | None = None) -> IPInterface | None:
    """As Seesaw v2 did: a string that does not parse means no address."""
    try:
        return parse_cidr(text, version)
    except ValueError:
        return None


def parse_subnet(text: str) -> IPNetwork:
    """A subnet such as `"192.168.100.0/26"`; host bits may be set (Seesaw
    keyed subnets by their network form, so `192.168.100.1/26` is the same
    subnet as `192.168.100.0/26`)."""
    return parse_cidr(text).network


def parse_subnet_or_none(text: str) -> IPNetwork | None:
    try:
        return parse_subnet(text)
    except ValueError:
        return None
