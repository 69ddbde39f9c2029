"""Kernel dataplanes for NCC, assembled from parts (see part.py).

part.py        the Part protocol every piece implements
composite.py   KernelDataplane: routes steps to parts, merges reads
ipvs*.py       services and destinations in IPVS over generic netlink: our own codec (ipvs_codec,
               ipvs_answers), batched socket (ipvs_netlink), operator messages (ipvs_errors);
               pyroute2 serves as the test oracle
nft*.py        services (slot maps, DSR flow maps) and VIP filters in nftables; DSR healthcheck marks
               routed by policy rules (nft_probe_plan, nft_probe_routes)
host*.py       LB interface, VIPs, VLANs, policy routing, sysctls, GARP
"""
