"""The advert codec against captured Seesaw packets, RFC 1071 vectors and scapy's VRRPv3."""

import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from seesaw.ha import packet
from seesaw.ha.packet import Advert, Drop, DropReason, Received

# Three adverts of a Go Seesaw master (observed section 4), IP header on: tcpdump -xx minus the Ethernet header.
CAPTURED = [
    "4500 001c 1aab 4000 ff70 9abe c0a8 254d e000 0012 313c 0100 0032 0711",
    "4500 001c 1acd 4000 ff70 9a9c c0a8 254d e000 0012 313c 0100 0032 0711",
    "4500 001c 1ad7 4000 ff70 9a92 c0a8 254d e000 0012 313c 0100 0032 0711",
]
SEESAW_MASTER = "192.168.37.77"
SEESAW_BACKUP = "192.168.37.76"
GO_ADVERT = Advert(vrid=60, priority=1, interval_cs=50)


def captured(index: int) -> bytes:
    return bytes.fromhex(CAPTURED[index].replace(" ", ""))


def test_rfc1071_vectors_even_and_odd_length():
    # The two vectors of Seesaw's ha_test.go (from RFC 1071 itself).
    assert packet.checksum(bytes([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7])) == ~0xDDF2 & 0xFFFF
    assert packet.checksum(bytes([0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7, 0x01])) == ~0xDEF2 & 0xFFFF


def test_encode_matches_the_go_seesaw_advert_byte_for_byte():
    assert packet.encode(GO_ADVERT, SEESAW_MASTER, packet.GROUP_V4) == bytes.fromhex("313c010000320711")


def test_the_checksum_covers_the_pseudo_header():
    # Observed: without the pseudo-header the checksum would have been 0xcd91.
    assert packet.checksum(bytes.fromhex("313c010000320000")) == 0xCD91
    assert packet.encode(GO_ADVERT, SEESAW_MASTER, "224.0.0.19")[6:] != bytes.fromhex("0711")


@pytest.mark.parametrize("index, ident", [(0, 0x1AAB), (1, 0x1ACD), (2, 0x1AD7)])
def test_whole_packet_matches_the_capture(index, ident):
    assert packet.encode_ipv4_packet(GO_ADVERT, SEESAW_MASTER, packet.GROUP_V4, ident=ident) == captured(index)


@pytest.mark.parametrize("index", range(3))
def test_decode_captured_packets(index):
    result = packet.decode_ipv4(captured(index), SEESAW_BACKUP, vrid=60)
    assert result == Received(GO_ADVERT, SEESAW_MASTER, packet.GROUP_V4)


def test_rfc5798_format_matches_scapy_vrrpv3_ipv4():
    # Built with scapy: IP(src, dst, ttl=255, id=0, flags="DF")/VRRPv3(vrid=51, priority=150, adv=100, addrlist=[...])
    scapy_bytes = bytes.fromhex("4500002400004000ff7090f20a630002e000001231339602006436df0a6300c80a630101")
    advert = Advert(vrid=51, priority=150, interval_cs=100, addresses=("10.99.0.200", "10.99.1.1"))
    assert packet.encode_ipv4_packet(advert, "10.99.0.2", packet.GROUP_V4) == scapy_bytes
    assert packet.decode_ipv4(scapy_bytes, "10.99.0.3", vrid=51) == Received(advert, "10.99.0.2", packet.GROUP_V4)


def test_rfc5798_format_matches_scapy_vrrpv3_ipv6():
    # scapy: IPv6(src="fe80::1", dst="ff02::12", hlim=255)/VRRPv3(vrid=51, priority=150, adv=100, addrlist=[...])
    scapy_payload = bytes.fromhex("3133960100640c8e20010db8000000000000000000000001")
    advert = Advert(vrid=51, priority=150, interval_cs=100, addresses=("2001:db8::1",))
    assert packet.encode(advert, "fe80::1", packet.GROUP_V6) == scapy_payload
    result = packet.decode_ipv6(scapy_payload, "fe80::1", packet.GROUP_V6, 255, "fe80::2", vrid=51)
    assert result == Received(advert, "fe80::1", packet.GROUP_V6)


def test_ipv6_seesaw_format_round_trip_and_pseudo_header():
    advert = Advert(vrid=7, priority=200, interval_cs=10)
    payload = packet.encode(advert, "fe80::1", packet.GROUP_V6)
    assert len(payload) == 8
    header = packet.pseudo_header("fe80::1", packet.GROUP_V6, 8)
    assert len(header) == 40 and header[32:36] == b"\x00\x00\x00\x08" and header[36:] == b"\x00\x00\x00\x70"
    assert packet.decode_ipv6(payload, "fe80::1", packet.GROUP_V6, 255, "fe80::2", vrid=7).advert == advert
    hop_limited = packet.decode_ipv6(payload, "fe80::1", packet.GROUP_V6, 64, "fe80::2", vrid=7)
    assert hop_limited == Drop(DropReason.TTL, "fe80::1")


def with_payload(payload: bytes, ttl: int = 255, source: str = SEESAW_MASTER) -> bytes:
    """An IPv4 packet around an arbitrary payload (lengths and IP checksum right)."""
    header = struct.pack(
        "!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0x4000, ttl, 112, 0,
        bytes(map(int, source.split("."))), bytes([224, 0, 0, 18]),
    )  # fmt: skip
    return header + payload


def test_every_drop_reason():
    good = packet.encode(GO_ADVERT, SEESAW_MASTER, packet.GROUP_V4)
    flipped = good[:6] + bytes([good[6] ^ 0xFF]) + good[7:]
    version2 = bytes([0x21]) + good[1:]
    too_short = good[:7]
    one_address_claimed = good[:3] + b"\x01" + good[4:]
    udp = bytearray(captured(0))
    udp[9] = 17
    cases = {
        DropReason.MALFORMED: [b"\x45\x00", b"\x60" + bytes(30), bytes(udp)],
        DropReason.LENGTH: [with_payload(too_short), with_payload(good + b"\x00"), with_payload(one_address_claimed)],
        DropReason.CHECKSUM: [with_payload(flipped)],
        DropReason.TTL: [with_payload(good, ttl=64), with_payload(good, ttl=254)],
        DropReason.OWN_SOURCE: [captured(0)],
        DropReason.VERSION: [with_payload(version2)],
        DropReason.VRID: [captured(1)],
    }
    for reason, packets in cases.items():
        local = SEESAW_MASTER if reason == DropReason.OWN_SOURCE else SEESAW_BACKUP
        vrid = 61 if reason == DropReason.VRID else 60
        for raw in packets:
            result = packet.decode_ipv4(raw, local, vrid)
            assert isinstance(result, Drop), (reason, raw.hex())
            assert result.reason == reason, (reason, raw.hex(), result)


def test_encode_refuses_what_does_not_fit():
    with pytest.raises(ValueError, match="12 bits"):
        packet.encode(Advert(1, 100, 4096), "10.0.0.1", packet.GROUP_V4)
    with pytest.raises(ValueError, match="VRID"):
        packet.encode(Advert(0, 100, 100), "10.0.0.1", packet.GROUP_V4)
    with pytest.raises(ValueError, match="not IPv4"):
        packet.encode(Advert(1, 100, 100, ("2001:db8::1",)), "10.0.0.1", packet.GROUP_V4)
    with pytest.raises(ValueError, match="address family"):
        packet.encode(Advert(1, 100, 100), "10.0.0.1", packet.GROUP_V6)


addresses_v4 = st.lists(st.ip_addresses(v=4).map(str), max_size=20).map(tuple)


@given(
    vrid=st.integers(1, 255),
    priority=st.integers(0, 255),
    interval=st.integers(0, packet.MAX_INTERVAL_CS),
    addresses=addresses_v4,
    source=st.ip_addresses(v=4).map(str),
)
def test_round_trip_ipv4(vrid, priority, interval, addresses, source):
    advert = Advert(vrid, priority, interval, addresses)
    raw = packet.encode_ipv4_packet(advert, source, packet.GROUP_V4)
    local = "10.255.255.254" if source != "10.255.255.254" else "10.255.255.253"
    assert packet.decode_ipv4(raw, local, vrid) == Received(advert, source, packet.GROUP_V4)


@given(st.binary(max_size=200))
def test_garbage_never_raises(data):
    assert isinstance(packet.decode_ipv4(data, SEESAW_BACKUP, 60), Received | Drop)
    assert isinstance(packet.decode_ipv4(with_payload(data), SEESAW_BACKUP, 60), Received | Drop)
    assert isinstance(packet.decode_ipv6(data, "fe80::1", packet.GROUP_V6, 255, "fe80::2", 60), Received | Drop)
