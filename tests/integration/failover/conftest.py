"""Fixtures of the failover tests: the two-node lab (real Seesaw nodes under their watchdogs), the client's probe
loop through the DSR VIP, and a watch on the VRRP adverts the client's link carries.

Run under `unshare --net --mount --propagation private -- python -m seesaw.lab.isolate ...`
(scripts/run-tests does): the lab's namespaces are then private to the run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest
from failover_lab import ENGINE_GRACE, http_vip, require_lab

from seesaw.lab import topology
from seesaw.lab.adverts import AdvertWatch
from seesaw.lab.lab import Lab
from seesaw.lab.probe import Probe
from seesaw.lab.trials import SeesawPair


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    """The two-node lab, up once for the module."""
    require_lab()
    # mh for the DSR HTTP service: a connection straddling a failover keeps its backend (topology.consistent)
    # a short engine grace (seesaw-ha --engine-grace) for the engine-loss test; the other faults kill HA itself
    topo = dataclasses.replace(topology.consistent(topology.pair("fo-")), engine_grace=ENGINE_GRACE)
    running = Lab(tmp_path_factory.mktemp("failover"), topo)
    running.up()
    try:
        yield running
    finally:
        running.down()


@pytest.fixture(scope="module")
def pair(lab: Lab) -> SeesawPair:
    return SeesawPair(lab)


@pytest.fixture(scope="module")
def probe(lab: Lab) -> Iterator[Probe]:
    """A fresh connection and request through the VIP every 10 ms from the client, for the whole module."""
    address, port = http_vip(lab.topo)
    with Probe(lab.topo.ns(lab.topo.client.name), address, port) as running:
        running.wait_count(10)
        yield running


@pytest.fixture(scope="module")
def watch(lab: Lab) -> Iterator[AdvertWatch]:
    with AdvertWatch(lab.topo.ns(lab.topo.client.name)) as running:
        yield running
