"""The reconciler driven against the sim dataplane: writes, errors, dry runs, adoption, drift repair."""

from hypothesis import given, settings
from hypothesis import strategies as st
from ncc_build import dest, lb, partition, service, vip, vlan, web

from seesaw.common.clock import FakeClock
from seesaw.ncc.model import LB_PARTITION, Forwarding, ObjectError, Partition, Request, VIPType, ref
from seesaw.ncc.reconciler import RESET, Reconciler
from seesaw.ncc.sim import SimDataplane


def start(sim: SimDataplane) -> Reconciler:
    rec = Reconciler(sim.name, "test", FakeClock())
    rec.observe(sim.read())
    return rec


def apply(rec: Reconciler, sim: SimDataplane, *partitions: Partition, replace_all=False, dry_run=False, errors=()):
    plan = rec.plan(Request(partitions, replace_all))
    if dry_run:
        return rec.dry_run(plan, errors)
    return rec.commit(plan, sim.apply(plan.steps) if plan.steps else [], errors)


def audit(rec: Reconciler, sim: SimDataplane):
    rec.observe(sim.read())
    plan = rec.plan_audit()
    return plan, rec.commit_audit(plan, sim.apply(plan.steps) if plan.steps else [])


LB = partition(LB_PARTITION, lb(up=True), vlan())


def test_unchanged_state_costs_zero_writes_and_one_flip_costs_one():
    sim = SimDataplane()
    rec = start(sim)
    first = apply(rec, sim, LB, web(), web("api", "192.0.2.2"))
    assert first.writes == 12 == sim.writes
    assert first.errors == () and first.generation == 1
    again = apply(rec, sim, LB, web(), web("api", "192.0.2.2"))
    assert again.writes == 0 and again.steps == () and sim.writes == 12
    assert again.generation == 2
    svc = service("192.0.2.2")
    flip = partition("api", vip("192.0.2.2"), svc, dest(svc, "10.0.0.1"), dest(svc, "10.0.0.2", weight=0))
    flip = Partition("api", {**web("api", "192.0.2.2").objects, **flip.objects})
    outcome = apply(rec, sim, flip)
    assert outcome.writes == 1 and sim.writes == 13
    assert sim.read().objects[ref(dest(svc, "10.0.0.2"))].weight == 0


def test_a_refused_object_fails_alone_and_is_reported():
    sim = SimDataplane(schedulers={"wrr"})
    rec = start(sim)
    mh = service("192.0.2.5", scheduler="mh")
    vserver = partition("mixed", vip("192.168.255.5", VIPType.ANYCAST), mh, dest(mh, "10.0.0.1"))
    outcome = apply(rec, sim, LB, vserver, web("ok"))
    assert {(e.kind, e.key) for e in outcome.errors} == {
        ("service", "TCP 192.0.2.5:80"),
        ("destination", "TCP 192.0.2.5:80 -> 10.0.0.1:80"),
    }
    assert all(e.partition == "mixed" for e in outcome.errors)
    assert "ip_vs_mh" in outcome.errors[0].message
    assert ref(vip("192.168.255.5")) in sim.read().objects
    assert len(sim.read().objects) == 2 + 1 + 5  # LB and VLAN, the anycast VIP, the whole "ok" vserver
    assert rec.status().apply_errors_total == 2


def test_input_errors_are_returned_and_counted():
    sim = SimDataplane()
    rec = start(sim)
    bad = ObjectError("service", "TCP 1.2.3.4:80", "web", "unknown scheduler 'x'")
    outcome = apply(rec, sim, errors=[bad])
    assert outcome.errors == (bad,)
    assert rec.status().apply_errors_total == 1


def test_dry_run_returns_the_plan_and_changes_nothing():
    sim = SimDataplane()
    rec = start(sim)
    apply(rec, sim, LB, web())
    writes, generation = sim.writes, rec.generation
    dry = apply(rec, sim, web(weight=4), web("api", "192.0.2.2"), dry_run=True)
    assert [str(s.op) for s in dry.steps].count("UPDATE") == 2
    assert [str(s.op) for s in dry.steps].count("ADD") == 5
    assert dry.writes == 0 and dry.dry_run
    assert sim.writes == writes and rec.generation == generation
    assert rec.status().partitions == ("web",)
    assert apply(rec, sim, LB, web()).steps == ()  # the dry run left no trace


def test_restart_adopts_what_matches_without_writing_or_flushing():
    sim = SimDataplane()
    first = start(sim)
    apply(first, sim, LB, web(), web("api", "192.0.2.2"))
    writes = sim.writes
    foreign = service("192.0.2.99", 8080)
    sim.tamper_put(foreign)

    restarted = start(sim)  # a new NCC process: owns nothing yet, flushes nothing
    assert sim.writes == writes
    outcome = apply(restarted, sim, LB, web(), web("api", "192.0.2.2", weight=3), replace_all=True)
    assert outcome.writes == 2  # only the changed weights
    assert ref(foreign) in sim.read().objects
    # What was adopted is owned: removing its partition deletes it; the foreign service stays.
    gone = apply(restarted, sim, partition("web"))
    assert gone.writes == 5
    assert ref(foreign) in sim.read().objects


def test_audit_repairs_drift_on_owned_objects_and_counts_it():
    sim = SimDataplane()
    rec = start(sim)
    apply(rec, sim, LB, web())
    svc = service()
    foreign = vip("192.0.2.200")
    sim.tamper_delete(ref(svc))  # takes both destinations with it
    sim.tamper_put(foreign)
    plan, errors = audit(rec, sim)
    assert [(str(s.op), str(s.kind)) for s in plan.steps] == [
        ("ADD", "service"),
        ("ADD", "destination"),
        ("ADD", "destination"),
    ]
    assert errors == []
    assert rec.status().drift_repairs_total == 3
    assert ref(foreign) in sim.read().objects

    sim.tamper_put(dest(svc, "10.0.0.2", weight=50))
    plan, _ = audit(rec, sim)
    assert [(str(s.op), s.key, s.detail()) for s in plan.steps] == [
        ("UPDATE", "TCP 192.0.2.1:80 -> 10.0.0.2:80", "weight=50->1")
    ]
    assert sim.read().objects[ref(dest(svc, "10.0.0.2"))].weight == 1
    assert rec.status().drift_repairs_total == 4
    assert rec.status().audits == 2 and rec.status().last_audit is not None

    plan, _ = audit(rec, sim)
    assert plan.steps == ()


def test_a_delete_that_finds_nothing_is_done_not_an_error():
    sim = SimDataplane()
    rec = start(sim)
    apply(rec, sim, LB, web())
    sim.tamper_delete(ref(vip()))  # NCC's mirror still has it
    outcome = apply(rec, sim, partition("web"))
    assert outcome.errors == ()
    assert outcome.writes == 4  # filter, 2 destinations, service; the VIP delete found nothing
    assert sim.read().objects.keys() == LB.objects.keys()
    assert audit(rec, sim)[0].steps == ()


def test_failed_adds_are_retried_by_the_audit():
    sim = SimDataplane(schedulers={"wlc"})
    rec = start(sim)
    outcome = apply(rec, sim, LB, web())
    assert len(outcome.errors) == 3  # the wrr service and its two destinations
    sim.schedulers.add("wrr")  # the operator loads ip_vs_wrr
    plan, errors = audit(rec, sim)
    assert errors == [] and len(plan.steps) == 3
    assert len(sim.read().objects) == 7


def test_reset_removes_everything_ncc_programmed_and_nothing_else():
    sim = SimDataplane()
    rec = start(sim)
    apply(rec, sim, LB, web(), web("api", "192.0.2.2"))
    foreign = service("203.0.113.1")
    sim.tamper_put(foreign)
    outcome = rec.commit(plan := rec.plan(RESET), sim.apply(plan.steps))
    assert outcome.errors == ()
    assert outcome.writes == 12
    assert list(sim.read().objects) == [ref(foreign)]
    assert rec.status().partitions == ()
    assert [str(s.kind) for s in outcome.steps[-2:]] == ["vlan", "lb"]


# --- property: whatever the engine asks, the kernel ends up holding exactly that ------------------------------------

ANYCAST = [f"192.168.255.{i}" for i in range(1, 5)]
BACKENDS = ["10.0.0.1", "10.0.0.2", "10.0.0.3"]


@st.composite
def vservers(draw, name: str) -> Partition:
    specs = []
    for address in draw(st.lists(st.sampled_from(ANYCAST), unique=True, max_size=2)):
        specs.append(vip(address, VIPType.ANYCAST))
        for port in draw(st.lists(st.sampled_from([80, 443]), unique=True, max_size=2)):
            svc = service(address, port, scheduler=draw(st.sampled_from(["wrr", "rr"])))
            specs.append(svc)
            for backend in draw(st.lists(st.sampled_from(BACKENDS), unique=True, max_size=3)):
                specs.append(dest(svc, backend, port, weight=draw(st.integers(0, 3))))
    return partition(name, *specs)


requests = st.lists(
    st.tuples(
        st.lists(st.sampled_from(["a", "b", "c"]), unique=True, max_size=3).flatmap(
            lambda names: st.tuples(*[vservers(n) for n in names])
        ),
        st.booleans(),
    ),
    min_size=1,
    max_size=6,
)


@settings(max_examples=150, deadline=None)
@given(requests)
def test_kernel_converges_to_the_desired_state(sequence):
    sim = SimDataplane()
    rec = start(sim)
    for partitions, replace_all in sequence:
        outcome = apply(rec, sim, *partitions, replace_all=replace_all)
        assert all(e.message.startswith("already belongs") for e in outcome.errors)
        wanted = {item: spec for _, item, spec in rec.desired.items()}
        assert sim.read().objects == wanted
        assert rec.plan(Request()).steps == ()
        assert audit(rec, sim)[0].steps == ()
        assert sim.writes == rec.status().writes_total


def test_deleting_a_service_forgets_destinations_the_kernel_took_along():
    sim = SimDataplane()
    rec = start(sim)
    apply(rec, sim, LB, web())
    svc = service()
    extra = dest(svc, "10.0.0.3")
    sim.tamper_put(extra)  # added behind NCC's back: not NCC's, never deleted by NCC ...
    audit(rec, sim)
    apply(rec, sim, partition("web"))  # ... but the kernel drops it with its service
    assert ref(extra) not in sim.read().objects
    outcome = apply(rec, sim, web(backends=("10.0.0.1", "10.0.0.2", "10.0.0.3")))
    assert outcome.errors == ()
    assert ref(extra) in sim.read().objects  # NCC knew it was gone and added it


def test_the_dsr_destinations_ncc_programmed_ipv4_first():
    rec = Reconciler("sim", "test", FakeClock())
    svc, svc6 = service(), service("2001:db8::1")
    rec.applied.put("web", dest(svc, "10.0.0.2", forwarding=Forwarding.ROUTE))
    rec.applied.put("web", dest(svc, "10.0.0.1", forwarding=Forwarding.ROUTE))
    rec.applied.put("web", dest(svc, "10.0.0.3", forwarding=Forwarding.MASQ))  # NAT: not reached by DSR
    rec.applied.put("v6", dest(svc6, "2001:db8::9", forwarding=Forwarding.ROUTE))
    assert rec.dsr_destinations() == ("10.0.0.1", "10.0.0.2", "2001:db8::9")
