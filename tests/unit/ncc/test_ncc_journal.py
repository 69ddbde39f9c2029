"""The journal: NCC remembers what it was asked for across restarts, and a restart never flushes."""

import asyncio
import logging

from ncc_build import dest, lb, partition, service, vip, vip_filter, vlan, web

from seesaw.common.clock import FakeClock
from seesaw.ncc import journal
from seesaw.ncc.inventory import Inventory
from seesaw.ncc.model import LB_PARTITION, Forwarding, Request, VIPType, ref
from seesaw.ncc.reconciler import Reconciler
from seesaw.ncc.runner import Runner
from seesaw.ncc.sim import SimDataplane

LB = partition(LB_PARTITION, lb(up=True), vlan())


def everything():
    svc = service("2001:db8::1", 443, scheduler="mh", flags=0x18, timeout=300)
    odd = partition(
        "odd",
        vip("192.168.255.1", VIPType.ANYCAST),
        vip("2001:db8::1", VIPType.DEDICATED),
        svc,
        dest(svc, "2001:db8:1::5", 8443, weight=7, forwarding=Forwarding.MASQ, upper_threshold=9),
        vip_filter("192.168.255.1", 80, 443),
    )
    return (LB, web(), odd)


def test_save_and_load_round_trip(tmp_path):
    inv = Inventory()
    for p in everything():
        inv.replace(p.name, p.objects)
    path = tmp_path / journal.FILENAME
    journal.save(path, inv.snapshot())
    partitions, errors = journal.load(path)
    assert errors == []
    assert {p.name: dict(p.objects) for p in partitions} == {p.name: dict(p.objects) for p in everything()}
    assert not path.with_name(path.name + ".tmp").exists()


def test_missing_or_corrupt_journal_means_no_desired_state(tmp_path, caplog):
    path = tmp_path / journal.FILENAME
    assert journal.load(path) == ((), [])
    path.write_bytes(b"\xff\xff\xff garbage")
    with caplog.at_level(logging.WARNING):
        assert journal.load(path) == ((), [])
    assert "is corrupt" in caplog.text


def restart(sim: SimDataplane, partitions) -> Reconciler:
    rec = Reconciler(sim.name, "test", FakeClock())
    rec.observe(sim.read())
    rec.restore(partitions)
    return rec


def test_a_restored_state_is_owned_repaired_and_cleaned_up_by_the_next_resync():
    sim = SimDataplane()
    first = Reconciler(sim.name, "test", FakeClock())
    first.observe(sim.read())
    plan = first.plan(Request((LB, web(), web("old", "192.0.2.7"))))
    first.commit(plan, sim.apply(plan.steps))
    saved = [partition(name, *specs) for name, specs in first.desired.snapshot().items()]
    writes = sim.writes

    sim.tamper_delete(ref(vip("192.0.2.1")))  # lost while NCC was down
    rec = restart(sim, saved)
    assert sim.writes == writes  # restarting wrote nothing
    audit = rec.plan_audit()
    assert [(str(s.op), s.key) for s in audit.steps] == [("ADD", "192.0.2.1")]  # only the repair
    rec.commit_audit(audit, sim.apply(audit.steps))

    # The engine's first full resync no longer has "old": NCC owns it, so it goes.
    plan = rec.plan(Request((LB, web()), replace_all=True))
    assert {s.partition for s in plan.steps} == {"old"}
    outcome = rec.commit(plan, sim.apply(plan.steps))
    assert outcome.writes == 5 and outcome.errors == ()


def test_runner_writes_the_journal_and_a_new_runner_takes_it_back(tmp_path):
    path = tmp_path / journal.FILENAME
    sim = SimDataplane()

    async def first_life():
        runner = Runner(sim, "test", FakeClock(), audit_interval=0, journal_path=path)
        await runner.start()
        stop = asyncio.Event()
        writer = asyncio.create_task(runner.run_journal(stop, interval=0.01))
        await runner.apply(Request((LB, web())))
        for _ in range(100):
            if path.exists():
                break
            await asyncio.sleep(0.01)
        assert path.exists()
        await runner.apply(Request((web("api", "192.0.2.2"),)))
        stop.set()
        await writer  # writes the last change on the way out

    async def second_life():
        runner = Runner(sim, "test", FakeClock(), audit_interval=0, journal_path=path)
        await runner.start()
        assert runner.status().partitions == ("api", "web")
        assert await runner.audit() == 0  # the kernel matches: nothing to repair, nothing deleted
        outcome = await runner.apply(Request((LB, web("api", "192.0.2.2")), replace_all=True))
        assert outcome.writes == 5  # only "web", owned from the journal, is removed

    asyncio.run(first_life())
    writes = sim.writes
    asyncio.run(second_life())
    assert sim.writes == writes + 5
