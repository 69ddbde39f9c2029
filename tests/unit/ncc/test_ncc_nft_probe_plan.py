"""DSR healthcheck marks on nftables as policy routing (nft_probe_plan.py): which marks, where, and the rules.

Pure. `kernel()` below plays the operations back on a Held the way the kernel would, so a plan
made against its result must be empty.
"""

import ipaddress

from seesaw.ncc.kernel import nft_probe_plan as plan
from seesaw.ncc.kernel.nft_render import ServiceState
from seesaw.ncc.model import Destination, DestinationKey, Family, Forwarding, Protocol, Service, ServiceKey

V4, V6 = Family.INET, Family.INET6
BOOT_RULES = [plan.Rule(V4, 0, 255, proto=2), plan.Rule(V4, 32766, 254, proto=2), plan.Rule(V4, 32767, 253, proto=2)]


def ip(text):
    return ipaddress.ip_address(text)


def marked(mark, *backends, forwarding=Forwarding.ROUTE, weight=1, family=V4):
    spec = Service(ServiceKey.mark(family, mark), "rr")
    dests = [Destination(DestinationKey(spec.key, ip(b), 0), forwarding, weight) for b in backends]
    return ServiceState(spec, {d.key: d for d in dests})


def target(backend, oif=2, source="10.0.0.2"):
    return plan.Target(ip(backend), oif, ip(source))


def kernel(held: plan.Held, ops) -> plan.Held:
    """`held` after the kernel performed `ops`."""
    rules, routes = list(held.rules), dict(held.routes)
    for op in ops:
        if isinstance(op, plan.AddRule):
            assert op.rule not in rules, op
            rules.append(op.rule)
        elif isinstance(op, plan.DeleteRule):
            rules.remove(op.rule)
        elif isinstance(op, plan.ReplaceRoute):
            routes[(op.family, op.table)] = op.target
        else:
            del routes[(op.family, op.table)]
    return plan.Held(sorted(rules, key=lambda r: (r.family, r.priority)), routes)


def test_only_fwmark_services_with_one_dsr_destination_are_routed():
    services = [
        marked(65536, "10.0.0.11"),
        marked(65537, "10.0.0.12", weight=0),
        marked(65538, "10.0.0.13", forwarding=Forwarding.MASQ),
        marked(65539, "2001:db8::13", family=V6),
        marked(65540),
        ServiceState(Service(ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80), "rr")),
    ]
    assert plan.wanted(services) == {(V4, 65536): ip("10.0.0.11"), (V6, 65539): ip("2001:db8::13")}


def test_a_probe_leaves_by_the_node_address_on_the_backends_network_never_the_lb_interface():
    addresses = [
        plan.LinkAddress(2, "eth0", ipaddress.ip_interface("10.0.0.9/24")),
        plan.LinkAddress(2, "eth0", ipaddress.ip_interface("10.0.0.2/24")),
        plan.LinkAddress(3, "eth1", ipaddress.ip_interface("10.0.0.1/24"), lb=True),
        plan.LinkAddress(3, "eth1", ipaddress.ip_interface("10.0.5.1/24"), lb=True),
        plan.LinkAddress(4, "eth1.7", ipaddress.ip_interface("10.7.0.2/24")),
        plan.LinkAddress(2, "eth0", ipaddress.ip_interface("2001:db8::2/64")),
    ]
    node = [ipaddress.ip_interface("10.0.0.2/24")]
    assert plan.locate(ip("10.0.0.11"), addresses, node) == plan.Target(ip("10.0.0.11"), 2, ip("10.0.0.2"))
    assert plan.locate(ip("10.0.0.11"), addresses) == plan.Target(ip("10.0.0.11"), 2, ip("10.0.0.9"))
    assert plan.locate(ip("10.7.0.11"), addresses, node) == plan.Target(ip("10.7.0.11"), 4, ip("10.7.0.2"))
    assert plan.locate(ip("2001:db8::11"), addresses) == plan.Target(ip("2001:db8::11"), 2, ip("2001:db8::2"))
    assert plan.locate(ip("10.0.5.11"), addresses, node) is None  # only the LB interface is on that network
    assert plan.locate(ip("192.0.2.7"), addresses, node) is None


def test_the_first_probe_moves_the_local_rule_behind_the_probe_rules_then_routes_and_adds_its_rule():
    held = plan.Held(list(BOOT_RULES))
    ops = plan.plan({(V4, 65536): target("10.0.0.11")}, held)
    local_behind = plan.Rule(V4, plan.LOCAL_PRIORITY, 255, proto=plan.PROBE_PROTO)
    assert ops == [
        plan.AddRule(local_behind),  # first: there is never a moment without a local rule
        plan.DeleteRule(BOOT_RULES[0]),
        plan.ReplaceRoute(V4, 65536, target("10.0.0.11"), (V4, 65536)),
        plan.AddRule(plan.Rule(V4, plan.PROBE_PRIORITY, 65536, 65536, plan.PROBE_PROTO), (V4, 65536)),
    ]
    after = kernel(held, ops)
    assert plan.in_place(after) == {(V4, 65536): ip("10.0.0.11")}
    assert plan.plan({(V4, 65536): target("10.0.0.11")}, after) == []


def test_the_last_probe_gone_puts_the_local_rule_back_where_the_kernel_had_it():
    held = kernel(plan.Held(list(BOOT_RULES)), plan.plan({(V4, 65536): target("10.0.0.11")}, plan.Held(BOOT_RULES)))
    ops = plan.plan({}, held)
    after = kernel(held, ops)
    assert sorted(after.rules, key=lambda r: r.priority) == BOOT_RULES
    assert after.routes == {}
    assert isinstance(ops[0], plan.DeleteRule) and ops[0].rule.table == 65536  # the probe stops being routed first


def test_a_local_rule_someone_else_moved_is_left_where_it_is():
    cilium = [plan.Rule(V4, 100, 255, proto=4), *BOOT_RULES[1:]]
    held = plan.Held(list(cilium))
    ops = plan.plan({(V4, 65536): target("10.0.0.11")}, held)
    assert [type(op) for op in ops] == [plan.ReplaceRoute, plan.AddRule]
    after = kernel(held, ops)
    assert plan.in_place(after) == {(V4, 65536): ip("10.0.0.11")}
    assert kernel(after, plan.plan({}, after)).rules == cilium


def test_a_changed_backend_or_interface_is_one_route_replaced():
    held = kernel(plan.Held(list(BOOT_RULES)), plan.plan({(V4, 65536): target("10.0.0.11")}, plan.Held(BOOT_RULES)))
    assert plan.plan({(V4, 65536): target("10.0.0.11", oif=5)}, held) == [
        plan.ReplaceRoute(V4, 65536, target("10.0.0.11", oif=5), (V4, 65536))
    ]


def test_what_is_missing_is_not_in_place_and_the_plan_repairs_only_that():
    wanted = {(V4, 65536): target("10.0.0.11"), (V4, 65537): target("10.0.0.12")}
    held = kernel(plan.Held(list(BOOT_RULES)), plan.plan(wanted, plan.Held(BOOT_RULES)))
    without_route = plan.Held(list(held.rules), {k: v for k, v in held.routes.items() if k != (V4, 65537)})
    assert plan.in_place(without_route) == {(V4, 65536): ip("10.0.0.11")}
    assert plan.plan(wanted, without_route) == [plan.ReplaceRoute(V4, 65537, target("10.0.0.12"), (V4, 65537))]
    local_back = plan.Held([plan.Rule(V4, 0, 255, proto=2), *held.rules], dict(held.routes))
    assert plan.in_place(local_back) == {}  # the node would deliver its own VIP's probes to itself
    assert plan.plan(wanted, local_back) == [plan.DeleteRule(plan.Rule(V4, 0, 255, proto=2))]


def test_orphans_of_our_protocol_go_and_nothing_else_is_touched():
    foreign = [
        plan.Rule(V4, 1, 65540, 65540, proto=4),  # someone's own fwmark rule at our priority
        plan.Rule(V4, 32765, 2, proto=83),  # the host part's
    ]
    held = plan.Held([*BOOT_RULES, *foreign], {(V4, 65541): target("10.0.0.13")})
    assert plan.plan({}, held) == [plan.DeleteRoute(V4, 65541, target("10.0.0.13"), (V4, 65541))]


def test_families_are_routed_apart():
    v6_boot = [plan.Rule(V6, 0, 255, proto=2), plan.Rule(V6, 32766, 254, proto=2)]
    held = plan.Held([*BOOT_RULES, *v6_boot])
    six = plan.Target(ip("2001:db8::11"), 2, ip("2001:db8::2"))
    ops = plan.plan({(V6, 65536): six}, held)
    assert {op.rule.family if isinstance(op, plan.AddRule | plan.DeleteRule) else op.family for op in ops} == {V6}
    assert plan.in_place(kernel(held, ops)) == {(V6, 65536): ip("2001:db8::11")}
