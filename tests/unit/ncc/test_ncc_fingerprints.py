"""Partitions sent again byte for byte: skipped by Apply, and never at the cost of a different outcome.

Each scenario runs against the sim dataplane through the same path as the
gRPC service (convert.request_from_pb with the reconciler's fingerprints,
plan, apply, commit). The property test drives two NCCs with the same requests,
one remembering fingerprints and one not, and wants the same answers and the
same kernel from both.
"""

from hypothesis import given, settings
from hypothesis import strategies as st
from ncc_build import dest, pb_lb, pb_partition, service, vip

from seesaw.common.clock import FakeClock
from seesaw.ncc import convert
from seesaw.ncc.model import VIPType, ref
from seesaw.ncc.reconciler import Outcome, Reconciler
from seesaw.ncc.sim import SimDataplane
from seesaw.pb import ncc_pb2


def start(sim: SimDataplane) -> Reconciler:
    rec = Reconciler(sim.name, "test", FakeClock())
    rec.observe(sim.read())
    return rec


def apply(rec: Reconciler, sim: SimDataplane, message: ncc_pb2.ApplyRequest, remember: bool = True) -> Outcome:
    request, errors = convert.request_from_pb(message, rec.accepted if remember else None)
    plan = rec.plan(request)
    return rec.commit(plan, sim.apply(plan.steps) if plan.steps else [], errors)


def request(*partitions: ncc_pb2.Partition, replace_all: bool = False) -> ncc_pb2.ApplyRequest:
    """The partitions, with the LB interface their unicast VIPs need (never fingerprinted: it is one object)."""
    return ncc_pb2.ApplyRequest(partitions=partitions, replace_all=replace_all, lb=pb_lb(), has_lb=True)


def listed_unchanged(rec: Reconciler, message: ncc_pb2.ApplyRequest) -> list[str]:
    partitions = convert.request_from_pb(message, rec.accepted)[0].partitions
    return [p.name for p in partitions if p.unchanged]


def test_a_partition_sent_again_byte_for_byte_is_neither_converted_nor_planned():
    sim = SimDataplane()
    rec = start(sim)
    full = request(pb_partition("web"), pb_partition("api", "192.0.2.2"), replace_all=True)
    assert apply(rec, sim, full).writes == 11
    assert set(rec.accepted) == {"web", "api"}
    assert listed_unchanged(rec, full) == ["web", "api"]
    again = apply(rec, sim, full)
    assert (again.steps, again.errors, again.writes) == ((), (), 0)
    assert rec.status().partitions == ("api", "web")  # replace_all kept both: listed, unchanged

    flipped = request(pb_partition("web"), pb_partition("api", "192.0.2.2", weight=3), replace_all=True)
    assert listed_unchanged(rec, flipped) == ["web"]
    outcome = apply(rec, sim, flipped)
    assert outcome.writes == 2 and outcome.errors == ()
    assert rec.accepted["api"] == flipped.partitions[1].SerializeToString(deterministic=True)


def test_a_partition_left_out_of_a_full_request_is_removed_and_forgotten():
    sim = SimDataplane()
    rec = start(sim)
    apply(rec, sim, request(pb_partition("web"), pb_partition("api", "192.0.2.2"), replace_all=True))
    outcome = apply(rec, sim, request(pb_partition("web"), replace_all=True))
    assert outcome.writes == 5 and set(rec.accepted) == {"web"}
    assert rec.status().partitions == ("web",)


def test_a_partition_with_an_input_error_is_converted_and_reported_every_time():
    sim = SimDataplane()
    rec = start(sim)
    bad = request(pb_partition("web", scheduler="fast"))
    first = apply(rec, sim, bad)
    assert [e.kind for e in first.errors] == ["service"] and "web" not in rec.accepted
    second = apply(rec, sim, bad)
    assert second.errors == first.errors and listed_unchanged(rec, bad) == []


def test_a_partition_whose_step_failed_is_retried_when_sent_again():
    sim = SimDataplane(schedulers={"wlc"})
    rec = start(sim)
    web = request(pb_partition("web"))
    assert len(apply(rec, sim, web).errors) == 3  # the wrr service and its two destinations
    assert "web" not in rec.accepted
    sim.schedulers.add("wrr")  # the operator loads ip_vs_wrr
    outcome = apply(rec, sim, web)
    assert outcome.errors == () and outcome.writes == 3
    assert "web" in rec.accepted


def test_what_the_kernel_lost_or_changed_unsettles_its_partition():
    sim = SimDataplane()
    rec = start(sim)
    web, api = pb_partition("web"), pb_partition("api", "192.0.2.2")
    apply(rec, sim, request(web, api))
    svc = service()
    sim.tamper_delete(ref(svc))  # takes both destinations with it
    sim.tamper_put(dest(service("192.0.2.2"), "10.0.0.1", weight=9))
    rec.observe(sim.read())  # what every audit starts with
    assert rec.accepted == {}
    outcome = apply(rec, sim, request(web, api))  # as before fingerprints: planned against the fresh read
    assert outcome.writes == 4 and outcome.errors == ()
    assert set(rec.accepted) == {"web", "api"}


def test_an_unchanged_partition_keeps_or_loses_a_claimed_object_as_if_sent_in_full():
    for order in ("claimer first", "owner first"):
        outcomes = []
        for remember in (True, False):
            sim = SimDataplane()
            rec = start(sim)
            owner = convert.partition_to_pb("owner", [vip("192.168.255.1", VIPType.ANYCAST)])
            claimer = convert.partition_to_pb("claimer", [vip("192.168.255.1", VIPType.ANYCAST)])
            apply(rec, sim, request(owner), remember)
            both = (claimer, owner) if order == "claimer first" else (owner, claimer)
            outcome = apply(rec, sim, request(*both), remember)
            outcomes.append((outcome.steps, outcome.errors, outcome.writes, sorted(rec.desired.names())))
        assert outcomes[0] == outcomes[1], order
        assert len(outcomes[0][1]) == 1  # the second claim is refused, whoever made it


# --- property: remembering fingerprints never changes an answer -----------------------------------------------------

ANYCAST = [f"192.168.255.{i}" for i in range(1, 4)]
BACKENDS = ["10.0.0.1", "10.0.0.2"]


@st.composite
def vservers(draw, name: str) -> ncc_pb2.Partition:
    specs = []
    for address in draw(st.lists(st.sampled_from(ANYCAST), unique=True, max_size=2)):
        specs.append(vip(address, VIPType.ANYCAST))
        svc = service(address, scheduler=draw(st.sampled_from(["wrr", "rr", "mh"])))
        specs.append(svc)
        for backend in draw(st.lists(st.sampled_from(BACKENDS), unique=True, max_size=2)):
            specs.append(dest(svc, backend, weight=draw(st.integers(0, 2))))
    return convert.partition_to_pb(name, specs)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_fingerprints_never_change_what_ncc_answers_or_programs(data):
    # A few versions of a few partitions, sent again and again: byte-for-byte resends are the point.
    pool = data.draw(
        st.lists(st.sampled_from(["a", "b", "c"]).flatmap(vservers), min_size=1, max_size=5), label="versions"
    )
    sims = [SimDataplane(schedulers={"wrr", "rr"}), SimDataplane(schedulers={"wrr", "rr"})]  # mh: a step fails
    recs = [start(sim) for sim in sims]
    for _ in range(data.draw(st.integers(1, 10), label="requests")):
        action = data.draw(st.sampled_from(["apply", "apply", "apply", "drift", "audit"]))
        if action == "drift":  # the same object dropped behind both NCCs' backs
            pick = data.draw(st.integers(0, 50))
            for sim in sims:
                held = sorted(sim.read().objects, key=str)
                if held:
                    sim.tamper_delete(held[pick % len(held)])
            continue
        if action == "audit":
            for sim, rec in zip(sims, recs, strict=True):
                rec.observe(sim.read())
                plan = rec.plan_audit()
                rec.commit_audit(plan, sim.apply(plan.steps) if plan.steps else [])
            continue
        picks = data.draw(st.lists(st.integers(0, len(pool) - 1), max_size=4))
        message = request(*(pool[i] for i in picks), replace_all=data.draw(st.booleans()))
        answers = []
        for sim, rec, remember in zip(sims, recs, (True, False), strict=True):
            outcome = apply(rec, sim, message, remember)
            answers.append((outcome.steps, outcome.errors, outcome.writes))
        assert answers[0] == answers[1]
        assert sims[0].read().objects == sims[1].read().objects
