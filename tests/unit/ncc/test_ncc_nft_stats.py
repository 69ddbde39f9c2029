"""Counters of our nftables tables -> stats (nft_stats.py), on tables as the ledger holds them.

Pure: the ledger stages and commits the objects (as it does once the kernel took the
script), and the counters are those nft would print beside the elements it names.
"""

import ipaddress

from seesaw.ncc.kernel import nft_render, nft_stats
from seesaw.ncc.kernel.nft_ledger import Ledger
from seesaw.ncc.model import Destination, DestinationKey, Family, Forwarding, Kind, Protocol, Service, ServiceKey, Stats
from seesaw.ncc.steps import Step


def ip(text):
    return ipaddress.ip_address(text)


WEB = Service(ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80), "wrr")
WEB_1 = Destination(DestinationKey(WEB.key, ip("10.0.0.1"), 8080), Forwarding.MASQ, 3)
WEB_2 = Destination(DestinationKey(WEB.key, ip("10.0.0.2"), 8080), Forwarding.MASQ, 1)
DSR = Service(ServiceKey.ip(Protocol.TCP, ip("192.0.2.2"), 443), "rr")
DSR_1 = Destination(DestinationKey(DSR.key, ip("10.0.1.1"), 443), Forwarding.ROUTE)
DSR_2 = Destination(DestinationKey(DSR.key, ip("10.0.1.2"), 443), Forwarding.ROUTE)
MARK = Service(ServiceKey.mark(Family.INET, 300), "rr")
MARK_1 = Destination(DestinationKey(MARK.key, ip("10.0.2.1"), 0), Forwarding.MASQ)


def held() -> Ledger:
    ledger = Ledger()
    specs = [WEB, WEB_1, WEB_2, DSR, DSR_1, DSR_2, MARK, MARK_1]
    ledger.commit(ledger.stage([Step.add("p", s) for s in specs], lambda address: "eth1"))
    return ledger


def collect(ledger: Ledger, counters: dict) -> dict:
    ids = ledger.ids
    return nft_stats.collect(ledger.services, ledger.elements, lambda d, a: ids.get((d, a)), counters)


def counted(ledger: Ledger, key: ServiceKey, name: str, per_value: dict[str, int]) -> dict:
    """A counter for each element of map `name` of service `key`: `per_value[value]` packets for each slot."""
    return {
        elem: (per_value[value], 60 * per_value[value])
        for elem, (value, _) in ledger.elements[key].items()
        if elem[1] == name and value in per_value
    }


def test_connections_add_up_the_slots_of_each_destination_and_traffic_is_the_services_own():
    ledger = held()
    slots = counted(ledger, WEB.key, "slots", {"10.0.0.1 . 8080": 5, "10.0.0.2 . 8080": 2})  # 3 slots, 1 slot
    traffic = {("ip seesaw", nft_render.TRAFFIC, "192.0.2.1 . 6 . 80"): (70, 9000)}
    stats = collect(ledger, {**slots, **traffic})
    assert stats[(Kind.SERVICE, WEB.key)] == Stats(connections=3 * 5 + 2, packets_in=70, bytes_in=9000)
    assert stats[(Kind.DESTINATION, WEB_1.key)] == Stats(connections=15)
    assert stats[(Kind.DESTINATION, WEB_2.key)] == Stats(connections=2)


def test_dsr_slots_name_destinations_by_id_and_fwmark_slots_by_address():
    ledger = held()
    one, two = (str(ledger.ids[("eth1", d.key.address)]) for d in (DSR_1, DSR_2))
    counters = {
        **counted(ledger, DSR.key, "slots4", {one: 4, two: 1}),
        **counted(ledger, MARK.key, "mslots", {"10.0.2.1": 7}),
        ("netdev seesaw_dsr_eth1", "traffic4", "192.0.2.2 . 6 . 443"): (40, 4000),  # counted on the device
        ("ip seesaw", nft_render.TRAFFIC, "192.0.2.2 . 6 . 443"): (0, 0),  # DSR packets never reach the nat hooks
    }
    stats = collect(ledger, counters)
    assert stats[(Kind.SERVICE, DSR.key)] == Stats(connections=5, packets_in=40, bytes_in=4000)
    assert stats[(Kind.DESTINATION, DSR_1.key)] == Stats(connections=4)
    assert stats[(Kind.DESTINATION, DSR_2.key)] == Stats(connections=1)
    assert stats[(Kind.SERVICE, MARK.key)] == Stats(connections=7)
    assert stats[(Kind.DESTINATION, MARK_1.key)] == Stats(connections=7)


def test_tables_without_counters_give_zeros():
    stats = collect(held(), {})
    assert set(stats) == {(Kind.SERVICE, s.key) for s in (WEB, DSR, MARK)} | {
        (Kind.DESTINATION, d.key) for d in (WEB_1, WEB_2, DSR_1, DSR_2, MARK_1)
    }
    assert set(stats.values()) == {Stats()}


def test_what_nat_renders_is_counted():
    declarations = nft_render.nat_tabledef(Family.INET).sets
    assert "counter;" in declarations["slots"] and "counter;" in declarations["mslots"]
    assert "counter;" in declarations[nft_render.TRAFFIC]
    assert ("ip seesaw", nft_render.TRAFFIC, "192.0.2.1 . 6 . 80") in held().elements[WEB.key]
    dsr = nft_render.dsr_tabledef("eth1")
    assert (
        "counter;" in dsr.sets["slots4"] and "counter;" in dsr.sets["traffic4"] and "counter;" in dsr.sets["traffic6"]
    )
    assert ("netdev seesaw_dsr_eth1", "traffic4", "192.0.2.2 . 6 . 443") in held().elements[DSR.key]
