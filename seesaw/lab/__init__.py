"""The namespace lab: real Seesaw nodes, backends and a client in network namespaces (`seesaw lab`, `make run`).

    topology   what a lab is made of: hosts, addresses, vservers (`pair`, `tutorial`)   (pure)
    build      a topology -> the `ip` commands that make it; running and undoing them
    configs    a topology -> each node's cluster.pb, seesaw.cfg, watchdog.cfg           (pure)
    netns      namespace primitives: run in one, enter one (this thread), isolated(), unmet_needs()
    backend    a backend's HTTP and DNS servers (`python -m seesaw.lab.backend`)
    traffic    the client: requests through a VIP, their tally, a load loop
    processes  the lab's processes by pid and start time
    state      <lab dir>/state.json: what is up, so every command finds it
    query      a node's engine and NCC over their sockets (HA state, failover, reload, writes)
    node       one node's dirs and watchdog (also used by tests/integration/suite)
    lab        Lab: up, status, traffic, failover, down
    unshare    --unshare: the lab inside a private (user) namespace, entered with nsenter
    main       `seesaw lab ...`;  demo: `make run`;  isolate: finish an `unshare --net --mount`
    certs      throw-away CA and certificates (ECU tests);  frr: a private FRR bgpd (anycast tests)
    fixture_configs  the small seesaw.cfg and cluster.pb texts the engine and ECU tests share  (pure)
    probe      the client's probe loop: a new connection every 10 ms, with the MAC it went to
    adverts    VRRP adverts on the wire with kernel timestamps; timer lateness, intrusions   (parse: pure)
    outage     a failover as the client's samples show it; percentiles                    (pure)
    faults     SIGKILL of a node's whole suite, its links losing carrier; undoing them
    keepalived keepalived in a node's namespace: the baseline pair and interop peer
    trials     failover trials on a pair (Seesaw's or keepalived's): fault, measure, steady again

This file re-exports the pure description; the rest is imported from its modules.
"""

from seesaw.lab.build import commands
from seesaw.lab.configs import cluster_pb, seesaw_cfg
from seesaw.lab.topology import LAYOUTS, Check, Entry, Host, Topology, VServer, pair, tutorial

__all__ = [
    "LAYOUTS",
    "Check",
    "Entry",
    "Host",
    "Topology",
    "VServer",
    "cluster_pb",
    "commands",
    "pair",
    "seesaw_cfg",
    "tutorial",
]
