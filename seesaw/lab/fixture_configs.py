"""The hand-written configs the daemon tests start a real engine with (tests/unit/engine, tests/unit/ecu,
tests/integration/ecu): node seesaw1-1 of the two-node au-syd cluster. Pure text.

The addresses in the seesaw.cfg texts and in `CLUSTER_HEAD` name the same nodes: change them together.
"""

from __future__ import annotations

_CLUSTER_SECTION = """\
name = au-syd
node_ipv4 = 10.0.0.2
peer_ipv4 = 10.0.0.3
vip_ipv4 = 10.0.0.1
"""

NODE_CFG = "[cluster]\n" + _CLUSTER_SECTION
"""seesaw.cfg of a node with no interfaces named: enough for an engine without NCC."""


def engine_cfg(anycast: bool = False) -> str:
    """seesaw.cfg of a node whose engine runs with NCC (sim dataplane): anycast on or off, interfaces named."""
    return (
        f"[cluster]\nanycast_enabled = {str(anycast).lower()}\n"
        + _CLUSTER_SECTION
        + "\n[interface]\nnode = eth0\nlb = eth1\n"
    )


CLUSTER_HEAD = """\
seesaw_vip < fqdn: "seesaw-vip.example.com." ipv4: "10.0.0.1/24" status: PRODUCTION >
node < fqdn: "seesaw1-1.example.com." ipv4: "10.0.0.2/24" status: PRODUCTION >
node < fqdn: "seesaw1-2.example.com." ipv4: "10.0.0.3/24" status: PRODUCTION >
"""
"""cluster.pb up to its vservers: the cluster VIP and both nodes."""


def web_vserver(n: int, grants: str = "") -> str:
    """Vserver web<n>@au-syd: VIP 10.0.0.<10+n>, TCP/80 NAT without healthchecks, backend be<n> (10.2.<n>.1),
    and `grants` (access_grant lines) inside it."""
    return f"""
vserver <
  name: "web{n}@au-syd"
  rp: "ops"
  entry_address < fqdn: "web{n}.example.com." ipv4: "10.0.0.{10 + n}/24" status: PRODUCTION >
  vserver_entry < protocol: TCP port: 80 scheduler: RR mode: NAT >
  backend < host < fqdn: "be{n}.example.com." ipv4: "10.2.{n}.1/24" status: PRODUCTION > >
  {grants}
>
"""


GRANTS_CLUSTER = (
    CLUSTER_HEAD
    + web_vserver(1, 'access_grant < grantee: "web-oncall" role: OPS type: GROUP >')
    + web_vserver(2, 'access_grant < grantee: "carol" role: ADMIN type: USER >')
    + 'access_groups < name: "web-oncall" member: "alice" >\n'
)
"""The authorisation tests' cluster: group web-oncall (alice) is OPS on web1, user carol is ADMIN on web2."""
