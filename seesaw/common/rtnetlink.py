"""rtnetlink's wire format, the few pieces NCC's host part and HA's takeover speak on plain sockets.

Message types and flags (linux/netlink.h, linux/rtnetlink.h), link flags (linux/if.h), and the
structs of a message header and a link message. HA and NCC each build their own few messages
from these (HA does not import NCC).
"""

from __future__ import annotations

import struct

NLMSG_ERROR = 2
NLMSG_DONE = 3
RTM_NEWLINK = 16
RTM_DELLINK = 17
RTM_GETLINK = 18
RTM_NEWADDR = 20
RTM_DELADDR = 21
RTM_GETADDR = 22
RTM_NEWROUTE = 24
RTM_DELROUTE = 25
RTM_GETROUTE = 26
RTM_NEWNEIGH = 28
RTM_NEWRULE = 32
RTM_DELRULE = 33
RTM_GETRULE = 34

RTMGRP_LINK = 0x1

NLM_F_REQUEST = 0x1
NLM_F_DUMP_INTR = 0x10  # on a dump's answer: a change landed while it ran, it may be inconsistent
NLM_F_ACK = 0x4
NLM_F_REPLACE = 0x100
NLM_F_EXCL = 0x200
NLM_F_DUMP = 0x300
NLM_F_CREATE = 0x400

SOL_NETLINK = 270
NETLINK_GET_STRICT_CHK = 12  # socket option: the kernel checks dump requests and filters by their fields

NTF_USE = 0x01  # a neighbour message that only asks the kernel to resolve the entry (neigh_event_send)
NDA_DST = 1

IFF_UP = 0x1
IFF_RUNNING = 0x40  # operationally up: carrier, and the kernel has activated the link

HEADER = struct.Struct("=IHHII")  # nlmsghdr: length, type, flags, sequence, port
IFINFO = struct.Struct("=BxHiII")  # ifinfomsg: family, type, index, flags, change
NDMSG = struct.Struct("=BxxxiHBB")  # ndmsg: family, index, state, flags, type

# The kernel answers an rtnetlink request within the send; this bounds how long a caller waits if an answer
# were ever lost (HA makes its takeover's calls on its election loop, between adverts).
ACK_TIMEOUT = 0.05
