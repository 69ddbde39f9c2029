"""The planner's rules, one table or scenario each: what is written, in what order, and what is refused."""

import pytest
from ncc_build import dest, lb, partition, service, vip, vip_filter, vlan, web

from seesaw.ncc import planner
from seesaw.ncc.inventory import Inventory
from seesaw.ncc.model import LB_PARTITION, Kind, Partition, Request, ref
from seesaw.ncc.steps import Op


def inventory(*partitions: Partition) -> Inventory:
    inv = Inventory()
    for p in partitions:
        inv.replace(p.name, p.objects)
    return inv


def kernel(*partitions: Partition) -> dict:
    return {item: spec for p in partitions for item, spec in p.objects.items()}


def summary(plan) -> list[tuple[str, str, str]]:
    return [(str(s.op), str(s.kind), s.key) for s in plan.steps]


def plan_from(current: tuple[Partition, ...], *wanted: Partition, replace_all=False, observed=None):
    """Plan `wanted` against a node that applied `current` and whose kernel holds it (or `observed`)."""
    desired, applied = inventory(*current), inventory(*current)
    observed = kernel(*current) if observed is None else observed
    return planner.plan(Request(wanted, replace_all), desired, applied, observed)


def test_cold_apply_adds_in_dependency_order():
    plan = plan_from((), web())
    assert summary(plan) == [
        ("ADD", "vip", "192.0.2.1"),
        ("ADD", "service", "TCP 192.0.2.1:80"),
        ("ADD", "destination", "TCP 192.0.2.1:80 -> 10.0.0.1:80"),
        ("ADD", "destination", "TCP 192.0.2.1:80 -> 10.0.0.2:80"),
        ("ADD", "filter", "192.0.2.1"),
    ]
    assert all(s.partition == "web" for s in plan.steps)
    assert plan.errors == ()
    assert plan.partitions["web"] == web().objects


def test_unchanged_state_plans_nothing():
    assert plan_from((web(), web("api", "192.0.2.2")), web(), web("api", "192.0.2.2")).steps == ()


def test_one_weight_change_is_exactly_one_update():
    plan = plan_from((web(),), web(weight=5))
    assert summary(plan) == [
        ("UPDATE", "destination", "TCP 192.0.2.1:80 -> 10.0.0.1:80"),
        ("UPDATE", "destination", "TCP 192.0.2.1:80 -> 10.0.0.2:80"),
    ]
    svc = service()
    flipped = partition("web", vip(), svc, dest(svc, "10.0.0.1"), dest(svc, "10.0.0.2", weight=0), vip_filter())
    plan = plan_from((web(),), flipped)
    assert summary(plan) == [("UPDATE", "destination", "TCP 192.0.2.1:80 -> 10.0.0.2:80")]
    assert plan.steps[0].detail() == "weight=1->0"
    assert plan.steps[0].old == dest(svc, "10.0.0.2")


def test_a_changed_service_field_is_one_update_without_touching_destinations():
    svc = service(scheduler="wlc")
    changed = partition("web", vip(), svc, dest(svc, "10.0.0.1"), dest(svc, "10.0.0.2"), vip_filter())
    plan = plan_from((web(),), changed)
    assert summary(plan) == [("UPDATE", "service", "TCP 192.0.2.1:80")]
    assert plan.steps[0].detail() == "scheduler=wrr->wlc"


@pytest.mark.parametrize(
    ("wanted", "expected"),
    [
        pytest.param(
            (partition("web"),),
            [
                ("DELETE", "filter", "192.0.2.1"),
                ("DELETE", "destination", "TCP 192.0.2.1:80 -> 10.0.0.1:80"),
                ("DELETE", "destination", "TCP 192.0.2.1:80 -> 10.0.0.2:80"),
                ("DELETE", "service", "TCP 192.0.2.1:80"),
                ("DELETE", "vip", "192.0.2.1"),
            ],
            id="empty-partition-removes-it-dependents-first",
        ),
        pytest.param(
            (web(backends=("10.0.0.1", "10.0.0.3")),),
            [
                ("DELETE", "destination", "TCP 192.0.2.1:80 -> 10.0.0.2:80"),
                ("ADD", "destination", "TCP 192.0.2.1:80 -> 10.0.0.3:80"),
            ],
            id="swap-one-backend",
        ),
        pytest.param(
            (web(address="192.0.2.9"),),
            [
                ("DELETE", "filter", "192.0.2.1"),
                ("DELETE", "destination", "TCP 192.0.2.1:80 -> 10.0.0.1:80"),
                ("DELETE", "destination", "TCP 192.0.2.1:80 -> 10.0.0.2:80"),
                ("DELETE", "service", "TCP 192.0.2.1:80"),
                ("DELETE", "vip", "192.0.2.1"),
                ("ADD", "vip", "192.0.2.9"),
                ("ADD", "service", "TCP 192.0.2.9:80"),
                ("ADD", "destination", "TCP 192.0.2.9:80 -> 10.0.0.1:80"),
                ("ADD", "destination", "TCP 192.0.2.9:80 -> 10.0.0.2:80"),
                ("ADD", "filter", "192.0.2.9"),
            ],
            id="re-ip-deletes-before-adds",
        ),
    ],
)
def test_replacing_a_partition(wanted, expected):
    assert summary(plan_from((web(),), *wanted)) == expected


def test_partitions_not_listed_are_left_alone_unless_replace_all():
    current = (web(), web("api", "192.0.2.2"))
    plan = plan_from(current, web(weight=2))
    assert {s.partition for s in plan.steps} == {"web"}
    assert set(plan.partitions) == {"web"}

    plan = plan_from(current, web(), replace_all=True)
    assert {s.partition for s in plan.steps} == {"api"}
    assert all(s.op is Op.DELETE for s in plan.steps)
    assert plan.partitions["api"] is None


def test_replace_all_never_removes_the_lb_partition():
    lb_part = partition(LB_PARTITION, lb(), vlan())
    plan = plan_from((lb_part, web()), replace_all=True)
    assert {s.kind for s in plan.steps} == {Kind.FILTER, Kind.DESTINATION, Kind.SERVICE, Kind.VIP}
    assert LB_PARTITION not in plan.partitions


def test_lb_vlan_vip_ordering_up_and_down():
    lb_part = partition(LB_PARTITION, lb(), vlan())
    plan = plan_from((), lb_part, web("v", "198.51.100.1"))
    assert [str(s.kind) for s in plan.steps[:3]] == ["lb", "vlan", "vip"]
    down = planner.plan(
        Request((Partition(LB_PARTITION),), replace_all=True),
        inventory(lb_part, web("v", "198.51.100.1")),
        inventory(lb_part, web("v", "198.51.100.1")),
        kernel(lb_part, web("v", "198.51.100.1")),
    )
    kinds = [str(s.kind) for s in down.steps]
    assert kinds[-3:] == ["vip", "vlan", "lb"]
    assert all(s.op is Op.DELETE for s in down.steps)


def test_lb_going_up_is_one_update():
    lb_part = partition(LB_PARTITION, lb(), vlan())
    plan = plan_from((lb_part,), partition(LB_PARTITION, lb(up=True), vlan()))
    assert summary(plan) == [("UPDATE", "lb", "eth1")]
    assert plan.steps[0].detail() == "up=False->True"


def test_an_object_owned_by_another_partition_is_refused_with_its_destinations():
    svc = service()
    intruder = partition("intruder", svc, dest(svc, "10.0.0.9"), vip("192.0.2.50"))
    plan = plan_from((web(),), intruder)
    assert summary(plan) == [("ADD", "vip", "192.0.2.50")]
    assert [(e.kind, e.key, e.partition) for e in plan.errors] == [("service", "TCP 192.0.2.1:80", "intruder")]
    assert "already belongs to partition 'web'" in plan.errors[0].message
    assert "destinations were not applied" in plan.errors[0].message


def test_two_partitions_claiming_one_key_in_one_request_first_wins():
    plan = plan_from((), web("a"), web("b"))
    assert {s.partition for s in plan.steps} == {"a"}
    assert len(plan.steps) == 5
    assert {(e.kind, e.partition) for e in plan.errors} == {("vip", "b"), ("service", "b"), ("filter", "b")}
    assert plan.partitions["b"] is None


def test_replace_all_lets_a_partition_take_over_keys_of_removed_ones():
    plan = plan_from((web("old"),), web("new"), replace_all=True)
    assert plan.steps == () and plan.errors == ()
    assert plan.partitions == {"old": None, "new": web("new").objects}


def test_moving_an_object_between_partitions_in_one_request_costs_nothing():
    svc = service()
    a = partition("a", vip(), svc, dest(svc, "10.0.0.1"))
    b = partition("b", vip("192.0.2.2"))
    a2 = partition("a", svc, dest(svc, "10.0.0.1"))
    b2 = partition("b", vip("192.0.2.2"), vip())
    assert plan_from((a, b), a2, b2).steps == ()
    b3 = partition("b", vip("192.0.2.2"), vip("192.0.2.1", vip_type=1))
    assert summary(plan_from((a, b), a2, b3)) == [("UPDATE", "vip", "192.0.2.1")]


def test_a_partition_listed_twice_uses_the_first():
    plan = plan_from((), web(), web(weight=7))
    assert [(e.kind, e.key) for e in plan.errors] == [("partition", "web")]
    assert all(s.new.weight == 1 for s in plan.steps if s.kind is Kind.DESTINATION)


def test_held_objects_keep_their_previous_version():
    svc = service()
    # The engine's new version of the service was refused (held): the service and its destinations stay.
    wanted = partition("web", vip(), vip_filter(), held=(ref(svc),))
    plan = plan_from((web(),), wanted)
    assert plan.steps == ()
    assert plan.partitions["web"] == web().objects


def test_objects_the_kernel_holds_but_nobody_owns_are_never_touched():
    foreign = service("203.0.113.5", 443)
    observed = {**kernel(web()), ref(foreign): foreign}
    plan = plan_from((web(),), replace_all=True, observed=observed)
    assert ref(foreign) not in {s.ref for s in plan.steps}
    assert len(plan.steps) == 5


def test_desired_objects_already_in_the_kernel_are_adopted_without_writes():
    desired, applied = Inventory(), Inventory()
    plan = planner.plan(Request((web(),)), desired, applied, kernel(web()))
    assert plan.steps == ()


def test_deleting_what_the_kernel_no_longer_holds_is_skipped():
    observed = kernel(web())
    svc = service()
    del observed[ref(dest(svc, "10.0.0.2"))]
    plan = plan_from((web(),), partition("web"), observed=observed)
    assert ("DELETE", "destination", "TCP 192.0.2.1:80 -> 10.0.0.2:80") not in summary(plan)
    assert len(plan.steps) == 4


def test_without_observed_the_applied_state_is_trusted():
    plan = planner.plan(Request((web(weight=3),)), inventory(web()), inventory(web()), None)
    assert [str(s.op) for s in plan.steps] == ["UPDATE", "UPDATE"]


def test_audit_repairs_drift_only_on_owned_objects():
    svc = service()
    observed = kernel(web())
    del observed[ref(svc)]  # someone deleted the service (the kernel took its destinations along)
    del observed[ref(dest(svc, "10.0.0.1"))]
    del observed[ref(dest(svc, "10.0.0.2"))]
    observed[ref(vip())] = vip(vip_type=2)  # and changed the VIP's type
    foreign = vip("203.0.113.1")
    observed[ref(foreign)] = foreign
    plan = planner.audit(inventory(web()), inventory(web()), observed)
    assert summary(plan) == [
        ("UPDATE", "vip", "192.0.2.1"),
        ("ADD", "service", "TCP 192.0.2.1:80"),
        ("ADD", "destination", "TCP 192.0.2.1:80 -> 10.0.0.1:80"),
        ("ADD", "destination", "TCP 192.0.2.1:80 -> 10.0.0.2:80"),
    ]


def test_audit_retries_deletes_of_owned_objects_no_longer_desired():
    leftover = partition("gone", vip("192.0.2.77"))
    plan = planner.audit(inventory(web()), inventory(web(), leftover), kernel(web(), leftover))
    assert summary(plan) == [("DELETE", "vip", "192.0.2.77")]
    assert plan.steps[0].partition == "gone"


def test_audit_of_a_matching_kernel_is_empty():
    assert planner.audit(inventory(web()), inventory(web()), kernel(web())).steps == ()
