"""Read bgpd's `show running-config` into `model.Running`.

Reads FRR's layout and Quagga's older one alike:

    router bgp 64512                      <- the default VRF's instance (`... vrf X` and `view` are skipped)
     bgp router-id 10.0.0.2
     neighbor SEESAW peer-group
     neighbor SEESAW remote-as 64513
     neighbor 10.0.0.1 peer-group SEESAW
     neighbor 10.0.0.1 description router1
     network 192.168.255.1/32             <- Quagga: IPv4 networks at the router level
     address-family ipv4 unicast          <- FRR; Quagga says `address-family ipv6` for IPv6 unicast
      network 192.168.255.1/32
      neighbor SEESAW route-map SEESAW-IN in
     exit-address-family
    exit                                  <- FRR 8; older versions end the block with `!`
    route-map SEESAW-IN deny 10

A block is its header and the indented lines below it. Lines NCC has no use
for are skipped; a line it cannot read is skipped too, so an unknown
statement never stops NCC from managing its own.
"""

from __future__ import annotations

import ipaddress

from seesaw.ncc.bgp.model import PEER_GROUP, IPAddress, IPNetwork, Running

_FAMILIES = {"ipv4": 4, "ipv4 unicast": 4, "ipv6": 6, "ipv6 unicast": 6}


def _address(token: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(token)
    except ValueError:
        return None


def _network(token: str) -> IPNetwork | None:
    try:
        return ipaddress.ip_network(token, strict=False)
    except ValueError:
        return None


class _Reader:
    def __init__(self) -> None:
        self.asn: int | None = None
        self.router_id = ""
        self.default_ipv4_unicast = True
        self.group = False
        self.group_remote_as = ""
        self.group_af: dict[int, set[str]] = {4: set(), 6: set()}
        self.members: dict[IPAddress, str] = {}
        self.descriptions: dict[IPAddress, str] = {}
        self.others: set[IPAddress] = set()
        self.networks: set[IPNetwork] = set()
        self.route_maps: set[str] = set()

    def read(self, text: str) -> Running:
        in_router = False
        family: int | None = 4  # the router level holds IPv4 unicast (Quagga's layout)
        for raw in text.splitlines():
            line = raw.rstrip()
            if not line or line.lstrip().startswith("!"):
                continue
            if not line[0].isspace():
                in_router = self.top_level(line.split())
                family = 4
                continue
            if not in_router:
                continue
            words = line.split()
            if words[0] == "address-family":
                family = _FAMILIES.get(" ".join(words[1:]))  # None: a family NCC does not manage
            elif words[0] == "exit-address-family":
                family = 4
            elif family is not None:
                self.router_statement(words, family)
        return self.result()

    def top_level(self, words: list[str]) -> bool:
        """Read a top-level line; True if it opens the default VRF's `router bgp` block."""
        if words[0] == "route-map" and len(words) >= 2:
            self.route_maps.add(words[1])
        if words[:2] == ["router", "bgp"] and len(words) == 3 and words[2].isdigit():
            self.asn = int(words[2])
            return True
        return False

    def router_statement(self, words: list[str], family: int) -> None:
        if words[0] == "network" and len(words) >= 2:
            network = _network(words[1])
            if network is not None and network.version == family:
                self.networks.add(network)
        elif words[:2] == ["bgp", "router-id"] and len(words) == 3:
            self.router_id = words[2]
        elif words == ["no", "bgp", "default", "ipv4-unicast"]:
            self.default_ipv4_unicast = False
        elif words[0] == "neighbor" and len(words) >= 3:
            self.neighbor(words[1], words[2:], family)
        elif words[:2] == ["no", "neighbor"] and words[2:3] == [PEER_GROUP] and words[3:] == ["activate"]:
            self.group_af[family].add("no activate")

    def neighbor(self, name: str, rest: list[str], family: int) -> None:
        if name == PEER_GROUP:
            if rest == ["peer-group"]:
                self.group = True
            elif rest[0] == "remote-as" and len(rest) == 2:
                self.group_remote_as = rest[1]
            elif rest[0] in ("activate", "route-map"):
                self.group_af[family].add(" ".join(rest))
            return
        address = _address(name)
        if address is None:
            return  # another peer group, or an interface neighbour
        if rest == ["peer-group", PEER_GROUP]:
            self.members[address] = ""
        elif rest[0] in ("remote-as", "peer-group"):
            self.others.add(address)
        elif rest[0] == "description":
            self.descriptions[address] = " ".join(rest[1:])

    def result(self) -> Running:
        members = {address: self.descriptions.get(address, "") for address in self.members}
        return Running(
            asn=self.asn,
            router_id=self.router_id,
            default_ipv4_unicast=self.default_ipv4_unicast,
            group=self.group,
            group_remote_as=self.group_remote_as,
            group_af={version: frozenset(s) for version, s in self.group_af.items()},
            members=members,
            others=frozenset(self.others - set(members)),
            networks=frozenset(self.networks),
            route_maps=frozenset(self.route_maps),
        )


def parse(text: str) -> Running:
    """The part of a `show running-config` (or `write terminal`) NCC manages."""
    return _Reader().read(text)
