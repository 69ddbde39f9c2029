"""`seesaw.cfg`: the node's own settings (INI), resolved into one value.

Sections and keys are Seesaw v2's, with its defaults, except that
`anycast_enabled` defaults to false (anycast needs a BGP speaker; the
original's default of true made a first start without Quagga fatal). Keys
this project adds live in new sections (`dataplane`, `ha`, `healthcheck`,
`engine`, `ecu`) or take new names; the parser is `seesaw.config.seesaw_cfg`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

DEFAULT_CONFIG_SERVERS = ("seesaw-config.example.com",)


@dataclass(frozen=True)
class Settings:
    # [cluster]
    cluster_name: str
    anycast_enabled: bool = False
    vip_ipv4: ipaddress.IPv4Address | None = None
    vip_ipv6: ipaddress.IPv6Address | None = None
    node_ipv4: ipaddress.IPv4Address | None = None
    node_ipv6: ipaddress.IPv6Address | None = None
    peer_ipv4: ipaddress.IPv4Address | None = None
    peer_ipv6: ipaddress.IPv6Address | None = None
    use_vmac: bool = True
    garp_interval_sec: int = 10
    vrid: int = 60
    # [config_server] primary, secondary, tertiary (in order)
    config_servers: tuple[str, ...] = DEFAULT_CONFIG_SERVERS
    # [config_server] port, ca_cert, timeout_sec (hard-coded in Seesaw v2)
    config_server_port: int = 10255
    config_server_ca: str = ""  # empty: <config-dir>/ssl/ca.crt; relative paths are under the config dir
    config_server_timeout: int = 20  # seconds per server address
    # [interface]
    node_interface: str = "eth0"
    lb_interface: str = "eth1"
    dummy_interface: str = "dummy0"
    routing_table: int = 2
    # [extra_service_anycast] any key -> IP; always advertised
    extra_service_anycast: tuple[ipaddress.IPv4Address | ipaddress.IPv6Address, ...] = ()
    # [dataplane]
    dataplane: str = "auto"  # auto | ipvs | nftables | sim
    # [ha]
    advert_interval_ms: int = 500
    preempt: bool = False
    advert_format: str = "seesaw"  # seesaw | rfc5798
    unicast_peers: tuple[str, ...] = ()
    takeover_skew: bool = False  # wait RFC 5798's skew after a priority-0 advert (groups of 3+); else at once
    make_before_break: bool = True  # a failing-over master serves until the new one speaks (never with use_vmac)
    realtime_priority: int = 0  # SCHED_RR priority of seesaw-ha, 1..99; 0: ordinary scheduling
    # seesaw: 255, then nodes-1 .. 1 (Seesaw's); adjacent: 255, 254, 253 .. (same order, RFC 5798 skew ~0)
    priorities: str = "seesaw"
    # [engine]
    max_vserver_changes: int = 10  # per config update; 0 = unlimited
    max_delete_share: float = 0.5  # refuse configs deleting more, unless forced
    sync_port: int = 10258
    sync_cert: str = ""  # PEM paths for mutual TLS on the sync port; all three or none
    sync_key: str = ""
    sync_ca: str = ""
    config_source: str = "disk"  # where the cluster config comes from at start: disk | peer | server
    config_check_interval: int = 60  # seconds between checks of a peer or server source
    config_archive_keep: int = 100  # previous cluster.pb versions kept in <config-dir>/archive
    # [ecu]
    ecu_control_port: int = 10256
    ecu_monitor_port: int = 10257
    audit_log_max_mb: int = 10  # the audit log (<run-dir>/engine/audit.log) is rotated past this size
    audit_log_keep: int = 5  # rotated audit logs kept (audit.log.1 .. audit.log.N); 0: none
    # Anything the file held that this version does not know: kept so that
    # nothing an operator set is silently lost, and reported as a warning.
    unknown_keys: tuple[str, ...] = field(default=(), compare=False)
