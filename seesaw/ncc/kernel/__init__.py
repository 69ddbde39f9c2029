"""Kernel dataplanes for NCC, assembled from parts (see part.py).

part.py        the Part protocol every piece implements
composite.py   KernelDataplane: routes steps to parts, merges reads
ipvs*.py       services and destinations in IPVS (pyroute2 generic netlink)
nft*.py        services (slot maps, DSR flow maps) and VIP filters in nftables
host*.py       LB interface, VIPs, VLANs, policy routing, sysctls, GARP
"""
