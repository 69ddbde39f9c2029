"""Gratuitous ARP and unsolicited NA frames, byte for byte against scapy's encoding of the same packets."""

import ipaddress

import pytest
from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, IPv6
from scapy.layers.l2 import ARP, Ether

from seesaw.ncc.kernel.host_garp import (
    ARP_REPLY,
    ARP_REQUEST,
    announcement,
    arp_frame,
    checksum,
    mac_bytes,
    neighbour_advert_frame,
)

VMAC = "00:00:5e:00:01:3c"
VIP4 = ipaddress.IPv4Address("10.0.0.10")
VIP6 = ipaddress.IPv6Address("2001:db8::10")


def test_request_form_has_sender_ip_as_target_and_a_zero_target_mac():
    frame = arp_frame(VMAC, VIP4, ARP_REQUEST)
    expected = Ether(dst="ff:ff:ff:ff:ff:ff", src=VMAC) / ARP(
        op=1, hwsrc=VMAC, psrc=str(VIP4), hwdst="00:00:00:00:00:00", pdst=str(VIP4)
    )
    assert frame == bytes(expected)
    assert len(frame) == 42


def test_reply_form_repeats_the_sender_mac_as_target_mac():
    # a reply counts as gratuitous for Linux only when tha == sha (lab-facts.md section 4)
    frame = arp_frame(VMAC, VIP4, ARP_REPLY)
    parsed = Ether(frame)
    assert parsed[ARP].op == 2
    assert parsed[ARP].hwdst == parsed[ARP].hwsrc == VMAC
    assert parsed[ARP].psrc == parsed[ARP].pdst == str(VIP4)
    assert parsed.dst == "ff:ff:ff:ff:ff:ff"


def test_unsolicited_neighbour_advert_matches_scapy_including_the_checksum():
    frame = neighbour_advert_frame(VMAC, VIP6)
    expected = (
        Ether(dst="33:33:00:00:00:01", src=VMAC)
        / IPv6(src=str(VIP6), dst="ff02::1", hlim=255)
        / ICMPv6ND_NA(R=0, S=0, O=1, tgt=str(VIP6))
        / ICMPv6NDOptDstLLAddr(lladdr=VMAC)
    )
    assert frame == bytes(expected)


def test_checksum_is_rfc_1071_for_even_and_odd_lengths():
    assert checksum(bytes.fromhex("0001f203f4f5f6f7")) == 0x220D
    assert checksum(b"\x01") == 0xFEFF


def test_a_burst_uses_every_honoured_form_and_ipv6_gets_an_advert():
    burst = announcement(VMAC, VIP4, burst=True)
    assert [Ether(f)[ARP].op for f in burst] == [1, 2]
    assert announcement(VMAC, VIP4) == [arp_frame(VMAC, VIP4)]
    (advert,) = announcement(VMAC, VIP6, burst=True)
    assert Ether(advert)[ICMPv6ND_NA].tgt == str(VIP6)


def test_bad_macs_are_refused():
    assert mac_bytes("02-00-00-00-00-01") == bytes.fromhex("020000000001")
    with pytest.raises(ValueError, match="not an Ethernet address"):
        mac_bytes("02:00:00")
