"""The nftables services core (nft_ledger.py): steps in, one script out; the kernel read back into objects.

Pure: the ledger never touches nftables. `held()` plays the kernel back as nft_parse.py
would read it after the script ran (the parser itself is tested against real nft JSON
in test_ncc_nft_render.py).
"""

import errno
import ipaddress

from seesaw.ncc.kernel import nft_render
from seesaw.ncc.kernel.nft_ledger import Ledger, Staged
from seesaw.ncc.kernel.nft_parse import ChainInfo, Listing
from seesaw.ncc.model import (
    FLAG_ONEPACKET,
    Destination,
    DestinationKey,
    Family,
    Forwarding,
    Kind,
    Protocol,
    Service,
    ServiceKey,
)
from seesaw.ncc.steps import Step


def ip(text):
    return ipaddress.ip_address(text)


def service(vip="192.0.2.1", scheduler="wrr", port=80, **kw):
    return Service(ServiceKey.ip(Protocol.TCP, ip(vip), port), scheduler, **kw)


def dest(svc, address, weight=1, forwarding=Forwarding.MASQ, port=None):
    return Destination(DestinationKey(svc.key, ip(address), svc.key.port if port is None else port), forwarding, weight)


def on_link(address):
    return "eth1" if address.version == 4 else None


def staged(ledger, *steps) -> Staged:
    result = ledger.stage(list(steps), on_link)
    assert all(r.ok for r in result.results), [r.error for r in result.results if not r.ok]
    return result


def applied(ledger, *steps) -> Staged:
    result = staged(ledger, *steps)
    ledger.commit(result)
    return result


def kernel(ledger) -> Listing:
    """What nft would list after the ledger's scripts ran."""
    listing = Listing(elements=dict(ledger.held), sets={t: set(n) for t, n in ledger.sets.items()})
    for (table, name), info in ledger.chains.items():
        device = ledger.devices.get(table) if info.hook == "ingress" else None
        listing.chains[(table, name)] = ChainInfo(info.hook, device, info.rule_comments)
    return listing


def test_a_cold_apply_is_one_script_that_makes_tables_chains_and_elements():
    svc = service()
    result = applied(Ledger(), *(Step.add("p", s) for s in (svc, dest(svc, "10.0.0.1", 3), dest(svc, "10.0.0.2"))))
    script = "\n".join(result.script)
    assert script.startswith("add table ip seesaw\n")
    assert "add chain ip seesaw prerouting { type nat hook prerouting priority dstnat; policy accept; }" in script
    assert "add chain ip seesaw rr_4" in script
    assert 'add element ip seesaw svc { 192.0.2.1 . 6 . 80 comment "wrr flags=0x0 timeout=0" : goto rr_4 }' in script
    assert (
        "add element ip seesaw slots { 192.0.2.1 . 6 . 80 . 0 : 10.0.0.1 . 80, 192.0.2.1 . 6 . 80 . 1 : 10.0.0.1 . 80, "
        "192.0.2.1 . 6 . 80 . 2 : 10.0.0.2 . 80, 192.0.2.1 . 6 . 80 . 3 : 10.0.0.1 . 80 }"
    ) in script
    assert "flush" not in script


def test_the_same_steps_again_write_nothing():
    ledger = Ledger()
    svc = service()
    steps = [Step.add("p", s) for s in (svc, dest(svc, "10.0.0.1"))]
    applied(ledger, *steps)
    assert staged(ledger, *steps).script == []


def test_one_destination_changed_rewrites_only_its_service_slots():
    ledger = Ledger()
    web, other = service(), service("192.0.2.2")
    one, two = dest(web, "10.0.0.1"), dest(web, "10.0.0.2")
    applied(ledger, *(Step.add("p", s) for s in (web, one, two, other, dest(other, "10.0.0.1"))))
    heavier = Destination(two.key, Forwarding.MASQ, 3)
    result = staged(ledger, Step.update("p", two, heavier))
    script = "\n".join(result.script)
    assert "192.0.2.2" not in script
    assert set(result.adds) - set(result.deletes) == {
        (nft_render.nat_table(Family.INET), "slots", f"{k} . {i}") for k in ["192.0.2.1 . 6 . 80"] for i in (2, 3)
    }
    assert ("ip seesaw", "dest", "192.0.2.1 . 6 . 80 . 10.0.0.2 . 80") in result.adds
    assert script.index("delete element") < script.index("add element")
    assert "add chain ip seesaw rr_4" in script  # 1:3 needs four slots; rr_2 stays for the other service


def test_deleting_a_service_removes_every_element_it_had():
    ledger = Ledger()
    svc = service()
    applied(ledger, *(Step.add("p", s) for s in (svc, dest(svc, "10.0.0.1"), dest(svc, "10.0.0.2"))))
    result = applied(ledger, Step.delete("p", svc))
    assert len(result.deletes) == 1 + 1 + 2 + 2 and not result.adds  # dispatch, traffic, 2 dests, 2 slots
    assert ledger.held == {} and ledger.services == {}


def test_refused_steps_fail_alone_with_a_reason():
    ledger = Ledger()
    good, bad = service(), service("192.0.2.9", "fast")
    tun = dest(good, "10.0.0.3", forwarding=Forwarding.TUNNEL)
    v6 = dest(good, "2001:db8::1")
    orphan = dest(service("192.0.2.7"), "10.0.0.4")
    result = ledger.stage([Step.add("p", s) for s in (good, bad, dest(good, "10.0.0.1"), tun, v6, orphan)], on_link)
    errors = {str(r.step.spec.key): (r.errno, r.error) for r in result.results if not r.ok}
    assert errors[str(bad.key)][0] == errno.ENOENT and "scheduler 'fast' is unknown" in errors[str(bad.key)][1]
    assert errors[str(tun.key)][0] == errno.EOPNOTSUPP and "use DSR or NAT" in errors[str(tun.key)][1]
    assert errors[str(v6.key)][0] == errno.EINVAL
    assert errors[str(orphan.key)][0] == errno.ENOENT
    assert len(errors) == 4 and "192.0.2.9" not in "\n".join(result.script)


def test_what_the_kernel_refuses_or_cannot_do_is_said_per_object():
    ledger = Ledger()
    svc = service(flags=FLAG_ONEPACKET)
    mark = Service(ServiceKey.mark(Family.INET, 300), "rr")
    cases = [
        (dest(svc, "10.0.0.1"), "one-packet scheduling with NAT needs IPVS"),
        (dest(mark, "10.0.0.1", forwarding=Forwarding.ROUTE, port=0), None),  # routed: nft_probe_plan.py
        (dest(mark, "10.0.0.1", port=80), "keeps the client's port here: give port 0"),
        (dest(service(), "192.168.9.9", forwarding=Forwarding.ROUTE), None),
    ]
    for spec, message in cases:
        parent = Service(spec.key.service, svc.scheduler, svc.flags if spec.key.service == svc.key else 0)
        result = ledger.stage([Step.add("p", parent), Step.add("p", spec)], on_link)
        if message is None:
            assert result.results[1].ok
        else:
            assert message in (result.results[1].error or ""), result.results[1].error


def test_a_dsr_fwmark_service_takes_one_destination_and_no_dsr_table():
    ledger = Ledger()
    mark = Service(ServiceKey.mark(Family.INET, 65536), "rr")
    one = dest(mark, "10.0.0.1", forwarding=Forwarding.ROUTE, port=0)
    result = applied(ledger, Step.add("p", mark), Step.add("p", one))
    assert set(result.adds) == {
        ("ip seesaw", "msvc", "65536"),
        ("ip seesaw", "mdest", "65536 . 10.0.0.1 . 0"),
    }
    assert result.adds[("ip seesaw", "msvc", "65536")][0] == "accept"  # no NAT: the probe is routed as it is
    second = ledger.stage([Step.add("p", dest(mark, "10.0.0.2", forwarding=Forwarding.ROUTE, port=0))], on_link)
    assert second.results[0].errno == errno.EOPNOTSUPP
    assert "more than one destination needs IPVS" in second.results[0].error
    assert Ledger().load(kernel(ledger)).objects == {(Kind.SERVICE, mark.key): mark, (Kind.DESTINATION, one.key): one}


def test_dsr_needs_a_directly_connected_backend():
    svc = service()
    result = Ledger().stage(
        [Step.add("p", svc), Step.add("p", dest(svc, "10.0.0.1", forwarding=Forwarding.ROUTE))], lambda address: None
    )
    assert result.results[1].errno == errno.EHOSTUNREACH and "directly connected" in result.results[1].error


def test_dsr_ids_stay_put_when_destinations_come_and_go():
    ledger = Ledger()
    svc = service()
    one, two = (dest(svc, a, forwarding=Forwarding.ROUTE) for a in ("10.0.0.1", "10.0.0.2"))
    first = applied(ledger, Step.add("p", svc), Step.add("p", one))
    assert ("netdev seesaw_dsr_eth1", "ids4", "1") in first.adds
    assert 'hook ingress device "eth1"' in "\n".join(first.script)
    applied(ledger, Step.add("p", two))
    assert ledger.ids == {("eth1", ip("10.0.0.1")): 1, ("eth1", ip("10.0.0.2")): 2}
    gone = applied(ledger, Step.delete("p", one))
    assert ("netdev seesaw_dsr_eth1", "ids4", "1") in gone.deletes
    assert ledger.ids == {("eth1", ip("10.0.0.2")): 2}


def test_an_id_shared_by_two_services_stays_while_one_uses_it():
    ledger = Ledger()
    a, b = service(), service("192.0.2.2")
    da, db = dest(a, "10.0.0.1", forwarding=Forwarding.ROUTE), dest(b, "10.0.0.1", forwarding=Forwarding.ROUTE)
    applied(ledger, *(Step.add("p", s) for s in (a, da, b, db)))
    result = applied(ledger, Step.delete("p", da))
    assert not any(name == "ids4" for _, name, _ in result.deletes)
    assert ledger.ids == {("eth1", ip("10.0.0.1")): 1}


def test_an_id_two_services_drop_in_one_apply_is_given_back():
    # A reload removing a backend from every service at once (the id used to stay in ids4 for good).
    ledger = Ledger()
    a, b = service(), service("192.0.2.2")
    da, db = dest(a, "10.0.0.1", forwarding=Forwarding.ROUTE), dest(b, "10.0.0.1", forwarding=Forwarding.ROUTE)
    keep = dest(a, "10.0.0.2", forwarding=Forwarding.ROUTE)
    applied(ledger, *(Step.add("p", s) for s in (a, da, keep, b, db)))
    result = applied(ledger, Step.delete("p", da), Step.delete("p", db))
    assert ("netdev seesaw_dsr_eth1", "ids4", "1") in result.deletes
    assert ledger.ids == {("eth1", ip("10.0.0.2")): 2}


def test_an_id_nobody_uses_is_given_back_by_the_next_apply():
    ledger = Ledger()
    svc = service()
    applied(ledger, Step.add("p", svc), Step.add("p", dest(svc, "10.0.0.2", forwarding=Forwarding.ROUTE)))
    listing = kernel(ledger)
    listing.elements[("netdev seesaw_dsr_eth1", "ids4", "7")] = ("10.0.0.9", None)  # an earlier NCC's leftover
    fresh = Ledger()
    fresh.load(listing)
    result = applied(fresh, Step.add("p", service("192.0.2.9")))
    assert ("netdev seesaw_dsr_eth1", "ids4", "7") in result.deletes
    assert fresh.ids == {("eth1", ip("10.0.0.2")): 1}


def test_each_dsr_destination_is_live_in_its_service_until_it_leaves():
    ledger = Ledger()
    svc = service()
    one, two, three = (dest(svc, a, forwarding=Forwarding.ROUTE) for a in ("10.0.0.1", "10.0.0.2", "10.0.0.3"))
    quiesced = Destination(two.key, Forwarding.ROUTE, 0)
    first = applied(ledger, *(Step.add("p", s) for s in (svc, one, two, three)))
    live = {key for table, name, key in first.adds if name == "live4"}
    assert live == {f"192.0.2.1 . 6 . 80 . {i}" for i in (1, 2, 3)}
    assert not any(name == "live4" for _, name, _ in applied(ledger, Step.update("p", two, quiesced)).deletes)
    gone = applied(ledger, Step.delete("p", one))
    assert ("netdev seesaw_dsr_eth1", "live4", "192.0.2.1 . 6 . 80 . 1") in gone.deletes
    listing = kernel(ledger)
    del listing.elements[("netdev seesaw_dsr_eth1", "live4", "192.0.2.1 . 6 . 80 . 2")]
    fresh = Ledger()
    assert (Kind.DESTINATION, two.key) not in fresh.load(listing).objects  # its flows could not find it live
    assert (Kind.SERVICE, svc.key) in fresh.load(listing).objects
    repair = staged(fresh, Step.add("p", quiesced))
    assert repair.script == ["add element netdev seesaw_dsr_eth1 live4 { 192.0.2.1 . 6 . 80 . 2 }"]


def test_load_reads_back_exactly_what_was_written():
    ledger = Ledger()
    web = service(scheduler="sh", flags=0x18, timeout=0)
    dsr = service("192.0.2.2", "rr")
    mark = Service(ServiceKey.mark(Family.INET, 300), "wlc")
    specs = [
        web,
        dest(web, "10.0.0.1", 2),
        dest(web, "10.0.0.2"),
        dsr,
        dest(dsr, "10.0.0.1", forwarding=Forwarding.ROUTE),
        mark,
        dest(mark, "10.0.0.3", port=0),
    ]
    applied(ledger, *(Step.add("p", s) for s in specs))
    state = Ledger().load(kernel(ledger))
    assert state.objects == {(s.kind, s.key): s for s in specs}


def test_load_leaves_out_a_destination_whose_slot_was_removed_and_the_repair_adds_only_that():
    ledger = Ledger()
    svc = service()
    one, two = dest(svc, "10.0.0.1"), dest(svc, "10.0.0.2")
    applied(ledger, *(Step.add("p", s) for s in (svc, one, two)))
    listing = kernel(ledger)
    del listing.elements[("ip seesaw", "slots", "192.0.2.1 . 6 . 80 . 1")]
    fresh = Ledger()
    state = fresh.load(listing)
    assert (Kind.DESTINATION, two.key) not in state.objects
    assert {(Kind.SERVICE, svc.key), (Kind.DESTINATION, one.key)} <= state.objects.keys()
    repair = staged(fresh, Step.add("p", two))
    assert repair.script == ["add element ip seesaw slots { 192.0.2.1 . 6 . 80 . 1 : 10.0.0.2 . 80 }"]


def test_load_leaves_out_a_service_whose_chain_was_flushed_and_the_repair_remakes_it():
    ledger = Ledger()
    svc = service()
    applied(ledger, Step.add("p", svc), Step.add("p", dest(svc, "10.0.0.1")))
    listing = kernel(ledger)
    listing.chains[("ip seesaw", "rr_1")] = ChainInfo(None, None, ())
    fresh = Ledger()
    assert (Kind.SERVICE, svc.key) not in fresh.load(listing).objects
    repair = staged(fresh, Step.add("p", svc))
    assert repair.script[:2] == ["add chain ip seesaw rr_1", "flush chain ip seesaw rr_1"]
    assert len(repair.script) == 4  # the chain's two rules (tcp, udp), no element


def test_foreign_comments_are_not_taken_for_ours():
    ledger = Ledger()
    listing = Listing(elements={("ip seesaw", "svc", "192.0.2.1 . 6 . 80"): ("accept", "someone else's")})
    assert ledger.load(listing).objects == {}


# --- stage_parts: a large apply in parts ------------------------------------------------------------------------


def staged_parts(ledger, steps, size=8, first=4, commit=True):
    """Every part of `steps` (committed in turn, as the services part does once the kernel took each)."""
    results, parts = ledger.stage_parts(steps, on_link, size, first)
    made = []
    for part in parts:
        made.append(part)
        if commit:
            ledger.commit(part)
    return results, made


def mixed_steps():
    """Adds and changes of NAT services, with refusals among them (a bad scheduler, a tunnel, an orphan)."""
    services = [service(f"192.0.2.{i}", "fast" if i == 4 else "wrr") for i in range(1, 9)]
    steps = [Step.add("p", s) for s in services]
    for i, svc in enumerate(services):
        for b in range(1 + i % 3):
            forwarding = Forwarding.TUNNEL if (i, b) == (2, 1) else Forwarding.MASQ
            steps.append(Step.add("p", dest(svc, f"10.0.{b}.{i + 1}", weight=b + 1, forwarding=forwarding)))
    steps.append(Step.add("p", dest(service("192.0.2.99"), "10.9.9.9")))  # its service is not there
    return steps


def test_without_dsr_the_parts_check_their_steps_as_they_are_made_and_come_out_as_checked_up_front():
    steps = mixed_steps()
    lazy = Ledger()
    results, parts = staged_parts(lazy, steps)
    eager = Ledger()
    eager._by_service = lambda steps: None  # the all-up-front path, as with DSR
    eager_results, eager_parts = staged_parts(eager, steps)
    assert results == eager_results and len(results) == len(steps) and None not in results
    assert [r.error for r in results if not r.ok] == [r.error for r in eager_results if not r.ok] != []
    lines = sorted(line for part in parts for line in part.script)
    assert lines == sorted(line for part in eager_parts for line in part.script)
    assert lazy.held == eager.held and lazy.services == eager.services
    assert Ledger().load(kernel(lazy)).objects == eager.load(kernel(eager)).objects


def nat_services(count, first=1):
    """Adds of `count` NAT services with one destination each."""
    steps = []
    for i in range(first, first + count):
        svc = service(f"192.0.2.{i}")
        steps += [Step.add("p", svc), Step.add("p", dest(svc, f"10.0.0.{i}"))]
    return steps


def test_the_first_part_is_made_before_the_later_steps_are_checked():
    steps = nat_services(6)
    results, parts = Ledger().stage_parts(steps, on_link, 8, 4)
    first = next(parts)
    assert first.writes and None in results  # the later services' steps are not checked yet
    rest = list(parts)
    assert rest and None not in results and all(r.ok for r in results)


def test_with_dsr_every_step_is_checked_before_the_first_part():
    svc = service()
    steps = [Step.add("p", svc), Step.add("p", dest(svc, "10.0.0.1", forwarding=Forwarding.ROUTE))]
    steps += nat_services(4, first=2)
    results, parts = Ledger().stage_parts(steps, on_link, 8, 4)
    assert None not in results and all(r.ok for r in results)  # before any part was asked for
    assert len(list(parts)) >= 2


def test_each_part_holds_twice_the_elements_of_the_one_before_up_to_the_size():
    steps = nat_services(40)
    _, parts = staged_parts(Ledger(), steps, size=32, first=4)
    services = [len(part.services) for part in parts]  # 4 elements a service: about dispatch, traffic, dest, slot
    assert services[:4] == [1, 2, 4, 8] and set(services[3:-1]) == {8}
