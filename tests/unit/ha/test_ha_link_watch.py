"""The node interface's link state: rtnetlink link messages decoded, what the flags mean, the real socket."""

import socket
import struct
import time

from seesaw.ha.link_watch import (
    IFF_LOWER_UP,
    IFF_UP,
    RTM_DELLINK,
    RTM_GETLINK,
    RTM_NEWLINK,
    LinkEvent,
    LinkWatch,
    decode_links,
    get_link_request,
    health,
    interface_index,
)

IFF_RUNNING = 0x40


def message(kind: int, index: int, flags: int, extra: bytes = b"") -> bytes:
    body = struct.pack("=BxHiII", socket.AF_UNSPEC, 1, index, flags, 0xFFFFFFFF) + extra
    length = 16 + len(body)
    return struct.pack("=IHHII", length, kind, 0, 0, 0) + body + b"\0" * (-length % 4)


def test_health_says_what_is_wrong():
    assert health(IFF_UP | IFF_LOWER_UP | IFF_RUNNING, "eth0") is None
    assert "has no carrier" in (health(IFF_UP, "eth0") or "")
    assert "is down (ip link set eth0 up)" in (health(IFF_LOWER_UP, "eth0") or "")
    assert "does not exist" in (health(None, "eth0") or "")


def test_decode_links_reads_new_and_deleted_links_and_skips_the_rest():
    data = (
        message(RTM_NEWLINK, 3, IFF_UP | IFF_LOWER_UP, extra=b"\x08\x00\x03\x00eth\x00")  # with an attribute
        + message(20, 9, 0)  # RTM_NEWADDR: not a link message
        + message(RTM_DELLINK, 4, IFF_UP)
    )
    assert decode_links(data) == [LinkEvent(3, IFF_UP | IFF_LOWER_UP), LinkEvent(4, IFF_UP, deleted=True)]
    assert decode_links(data[:-4]) == [LinkEvent(3, IFF_UP | IFF_LOWER_UP)]  # a truncated message is dropped
    assert decode_links(b"") == []


def test_get_link_request_is_a_well_formed_request():
    raw = get_link_request(7, sequence=5)
    length, kind, flags, sequence, _ = struct.unpack_from("=IHHII", raw)
    assert (length, kind, flags & 1, sequence) == (len(raw), RTM_GETLINK, 1, 5)
    assert struct.unpack_from("=BxHiII", raw, 16)[2] == 7


def test_the_kernel_answers_a_request_through_the_watch():
    """The real socket (no root needed): asking for lo's state brings an RTM_NEWLINK for it."""
    index = interface_index("lo")
    assert index is not None and interface_index("no-such-if0") is None
    watch = LinkWatch()
    try:
        watch.request(index)
        deadline = time.monotonic() + 2.0
        events: list[LinkEvent] = []
        while not events and time.monotonic() < deadline:
            events = [e for e in watch.read() if e.index == index]
            time.sleep(0.01)
        assert events and not events[0].deleted
        assert events[0].flags & IFF_UP  # lo is up in every namespace that runs tests
    finally:
        watch.close()
