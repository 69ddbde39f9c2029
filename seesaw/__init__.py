"""Seesaw: an LVS/nftables L4 load-balancing platform, compatible with Seesaw v2.

Layout (data flows down this list; nothing imports from a daemon below it):

    config/       cluster.pb and seesaw.cfg: parse, validate, the config model
    common/       paths, logging, gRPC plumbing, clocks shared by every daemon
    pb/           generated protobuf/gRPC modules (scripts/gen_protos.py)
    ncc/          the only process that touches the kernel (dataplanes)
    engine/       config + health + HA -> desired dataplane state -> NCC
    ha/           VRRP master election
    healthcheck/  backend probes
    ecu/          external API and metrics
    watchdog/     supervises the five daemons
    cli/          the operator's `seesaw` command
"""

__version__ = "0.1.0"
