"""The policy routing of DSR healthcheck marks on the nftables dataplane (see nft_probe_plan.py), through rtnetlink.

    routing = ProbeRouting()
    routing.routed()                 probe -> backend, for every probe routed now (reads the kernel)
    routing.sync(wanted)             route exactly `wanted` (probe -> backend); probe -> error for those it could not

The services part (nft_services.py) calls `routed` when it reads and `sync` after it applied
steps. Acts in the network namespace of the calling thread, through pyroute2 (never `ip`); the
socket is opened on first use and kept until `close`.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pyroute2 import IPRoute
from pyroute2.netlink.exceptions import NetlinkError

from seesaw.ncc.kernel import nft_probe_plan as plan
from seesaw.ncc.kernel.host_record import decode_lb
from seesaw.ncc.model import Family, IPAddress

log = logging.getLogger("seesaw.ncc.nftables")

RTNH_F_ONLINK = 4
FR_ACT_TO_TBL = 1
T = TypeVar("T")
_GONE = frozenset({errno.ENOENT, errno.ESRCH})  # a delete that found nothing: done


class ProbeError(Exception):
    """A mark that could not be routed, or the kernel's routing not read; says what to do."""

    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        self.errno = code


class ProbeRouting:
    def __init__(self) -> None:
        self._ipr: IPRoute | None = None

    def routed(self) -> dict[plan.Probe, IPAddress]:
        """Every probe whose rule, route and local-rule order are in place now: probe -> backend.

        Raises ProbeError if the kernel's rules or routes cannot be read.
        """
        return plan.in_place(self._read(self._held))

    def sync(self, wanted: Mapping[plan.Probe, IPAddress]) -> dict[plan.Probe, ProbeError]:
        """Make the kernel route exactly `wanted`; the probes it could not route, with why.

        Raises ProbeError if the kernel's rules, routes or addresses cannot be read (nothing is written then).
        """
        held = self._read(self._held)
        addresses, nodes = self._read(self._addresses)
        targets: dict[plan.Probe, plan.Target] = {}
        errors: dict[plan.Probe, ProbeError] = {}
        for probe, backend in wanted.items():
            mark = probe[1]
            if mark < plan.FIRST_MARK:
                errors[probe] = ProbeError(
                    f"a DSR fwmark service needs a mark of at least {plan.FIRST_MARK} in the nftables dataplane "
                    f"(mark {mark} would name one of the kernel's routing tables): use a higher mark",
                    errno.EINVAL,
                )
                continue
            target = plan.locate(backend, addresses, nodes)
            if target is None:
                errors[probe] = ProbeError(
                    f"a DSR healthcheck of {backend} needs it on a network this node is directly connected to "
                    "(through its node interface or a VLAN), and none of this node's addresses is on its "
                    "network: put the backend there, or give it a PLAIN healthcheck",
                    errno.EHOSTUNREACH,
                )
                continue
            targets[probe] = target
        for op in plan.plan(targets, held):
            try:
                self._perform(op)
            except (NetlinkError, OSError) as err:
                code = err.code if isinstance(err, NetlinkError) else err.errno
                reason = err.args[1] if isinstance(err, NetlinkError) and len(err.args) > 1 else err
                failure = ProbeError(f"{_describe(op)} failed: {reason}", code)
                log.error("routing DSR healthcheck marks: %s", failure)
                hit = [op.probe] if op.probe is not None else [p for p in targets if p[0] is _family_of(op)]
                for probe in hit:
                    if probe in targets:
                        errors.setdefault(probe, failure)
        return errors

    def close(self) -> None:
        if self._ipr is not None:
            self._ipr.close()
            self._ipr = None

    # ------------------------------------------------------------ reading

    def _read(self, what: Callable[[], T]) -> T:
        try:
            return what()
        except (NetlinkError, OSError) as err:
            code = err.code if isinstance(err, NetlinkError) else err.errno
            raise ProbeError(f"reading the policy rules, routes and addresses (rtnetlink) failed: {err}", code) from err

    def _socket(self) -> IPRoute:
        if self._ipr is None:
            self._ipr = IPRoute()
        return self._ipr

    def _held(self) -> plan.Held:
        ipr = self._socket()
        held = plan.Held()
        for family in Family:
            rules = [_rule(family, m) for m in ipr.get_rules(family=int(family))]
            held.rules.extend(rules)
            if not any(r.proto == plan.PROBE_PROTO for r in rules):
                continue  # no probe here: spare a route dump (a router's tables can be large)
            for message in ipr.route("dump", family=int(family)):
                if message["proto"] == plan.PROBE_PROTO and message["dst_len"] == 0:
                    table = message.get_attr("RTA_TABLE") or message["table"]
                    held.routes[(family, table)] = _target(message)
        return held

    def _addresses(self) -> tuple[list[plan.LinkAddress], list[plan.IPInterface]]:
        """Every global address, by link, with the LB interface marked; and the LB record's node addresses."""
        ipr = self._socket()
        names: dict[int, str] = {}
        lb: set[int] = set()
        nodes: list[plan.IPInterface] = []
        for link in ipr.get_links():
            name, alias = link.get_attr("IFLA_IFNAME") or "", link.get_attr("IFLA_IFALIAS") or ""
            names[link["index"]] = name
            record = decode_lb(name, alias) if alias else None
            if record is not None:
                lb.add(link["index"])
                nodes.extend(a for a in (record.lb.node_ipv4, record.lb.node_ipv6) if a is not None)
        addresses = []
        for message in ipr.get_addr():
            text = message.get_attr("IFA_LOCAL") or message.get_attr("IFA_ADDRESS")
            if not text or message["scope"] != 0:
                continue
            index = message["index"]
            interface = ipaddress.ip_interface(f"{text.split('%')[0]}/{message['prefixlen']}")
            addresses.append(plan.LinkAddress(index, names.get(index, ""), interface, index in lb))
        addresses.sort(key=lambda a: a.index)
        return addresses, nodes

    # ------------------------------------------------------------ writing

    def _perform(self, op: plan.Op) -> None:
        ipr = self._socket()
        if isinstance(op, plan.AddRule | plan.DeleteRule):
            rule = op.rule
            attrs: dict[str, Any] = {"family": int(rule.family), "priority": rule.priority, "table": rule.table}
            if rule.fwmark is not None:
                attrs["fwmark"] = rule.fwmark
            if isinstance(op, plan.AddRule):
                ipr.rule("add", protocol=rule.proto, **attrs)
            else:
                try:
                    ipr.rule("del", **attrs)
                except NetlinkError as err:
                    if err.code not in _GONE:
                        raise
            return
        target = op.target
        route: dict[str, Any] = {
            "family": int(op.family),
            "dst": "0.0.0.0/0" if op.family is Family.INET else "::/0",
            "table": op.table,
            "gateway": str(target.gateway),
            "oif": target.oif,
            "proto": plan.PROBE_PROTO,
        }
        if isinstance(op, plan.ReplaceRoute):
            if target.source is not None:
                route["prefsrc"] = str(target.source)
            ipr.route("replace", flags=RTNH_F_ONLINK, **route)
            return
        try:
            ipr.route("del", **route)
        except NetlinkError as err:
            if err.code not in _GONE:
                raise


def _rule(family: Family, m: Any) -> plan.Rule:
    selectors = ("FRA_SRC", "FRA_DST", "FRA_IIFNAME", "FRA_OIFNAME", "FRA_UID_RANGE", "FRA_L3MDEV", "FRA_IP_PROTO")
    mask = m.get_attr("FRA_FWMASK")
    mark = m.get_attr("FRA_FWMARK")
    full = mark is not None and mask in (None, 0xFFFFFFFF)
    plain = (
        m["action"] == FR_ACT_TO_TBL
        and not m["flags"]  # FIB_RULE_INVERT and friends
        and not m["tos"]
        and not any(m.get_attr(name) for name in selectors)
        and (mark is None or full)
        and m.get_attr("FRA_SUPPRESS_PREFIXLEN") in (None, -1, 0xFFFFFFFF)
    )
    return plan.Rule(
        family=family,
        priority=m.get_attr("FRA_PRIORITY") or 0,
        table=m.get_attr("FRA_TABLE") or m["table"],
        fwmark=mark if full else None,
        proto=m.get_attr("FRA_PROTOCOL") or 0,
        plain=plain,
    )


def _target(m: Any) -> plan.Target:
    gateway = m.get_attr("RTA_GATEWAY")
    source = m.get_attr("RTA_PREFSRC")
    return plan.Target(
        ipaddress.ip_address(gateway) if gateway else ipaddress.ip_address(0),
        m.get_attr("RTA_OIF") or 0,
        ipaddress.ip_address(source) if source else None,
    )


def _family_of(op: plan.Op) -> Family:
    return op.rule.family if isinstance(op, plan.AddRule | plan.DeleteRule) else op.family


def _describe(op: plan.Op) -> str:
    if isinstance(op, plan.AddRule | plan.DeleteRule):
        rule = op.rule
        verb = "adding" if isinstance(op, plan.AddRule) else "deleting"
        mark = f" fwmark {rule.fwmark}" if rule.fwmark is not None else ""
        return f"{verb} the {rule.family.label} rule `pref {rule.priority}{mark} lookup {rule.table}`"
    verb = "routing" if isinstance(op, plan.ReplaceRoute) else "unrouting"
    return f"{verb} mark {op.table} via {op.target.gateway} (table {op.table})"
