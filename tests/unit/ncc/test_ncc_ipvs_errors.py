"""What an operator reads when IPVS refuses a step, and that the part refuses to start where there is no IPVS."""

from __future__ import annotations

import errno
import ipaddress
import os
from pathlib import Path

import pytest

from seesaw.ncc.dataplane import DataplaneError
from seesaw.ncc.kernel.ipvs import IPVSServices
from seesaw.ncc.kernel.ipvs_errors import explain
from seesaw.ncc.model import (
    FLAG_PERSISTENT,
    Destination,
    DestinationKey,
    Forwarding,
    Protocol,
    Service,
    ServiceKey,
)
from seesaw.ncc.steps import Step


def ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.ip_address(text)


WEB = Service(ServiceKey.ip(Protocol.TCP, ip("192.0.2.1"), 80), "mh", FLAG_PERSISTENT, 300)
WEB6 = Service(ServiceKey.ip(Protocol.TCP, ip("2001:db8::1"), 80), "wrr")
BACKEND = Destination(DestinationKey(WEB.key, ip("10.0.0.1"), 8080), Forwarding.MASQ, 3, 5, 10)
MIXED = Destination(DestinationKey(WEB6.key, ip("10.0.0.1"), 80), Forwarding.MASQ)


@pytest.mark.parametrize(
    ("step", "code", "message"),
    [
        (
            Step.add("p", WEB),
            errno.ENOENT,
            "IPVS refused to add service TCP 192.0.2.1:80: scheduler 'mh' is not available "
            "(modprobe ip_vs_mh, and list it in /etc/modules-load.d/ to keep it)",
        ),
        (
            Step.update("p", WEB, WEB),
            errno.ENOENT,
            "IPVS refused to update service TCP 192.0.2.1:80: scheduler 'mh' is not available "
            "(modprobe ip_vs_mh, and list it in /etc/modules-load.d/ to keep it)",
        ),
        (
            Step.add("p", WEB),
            errno.EEXIST,
            "IPVS refused to add service TCP 192.0.2.1:80: a service with this address, protocol and port already "
            "exists (made outside NCC?); the next audit reads the kernel again and repairs it",
        ),
        (
            Step.update("p", WEB, WEB),
            errno.ESRCH,
            "IPVS refused to update service TCP 192.0.2.1:80: no such service in the kernel (deleted behind NCC's "
            "back?); the next audit reads the kernel again and repairs it",
        ),
        (
            Step.add("p", WEB),
            errno.EINVAL,
            "IPVS refused to add service TCP 192.0.2.1:80: the kernel rejected its settings (scheduler 'mh', flags "
            "0x1, persistence timeout 300); check the vserver's scheduler and persistence in cluster.pb",
        ),
        (
            Step.add("p", WEB6),
            errno.EAFNOSUPPORT,
            "IPVS refused to add service TCP [2001:db8::1]:80: this kernel's IPVS has no IPv6 support "
            "(CONFIG_IP_VS_IPV6); use IPv4 or a kernel built with it",
        ),
        (
            Step.add("p", MIXED),
            errno.EINVAL,
            "IPVS refused to add destination TCP [2001:db8::1]:80 -> 10.0.0.1:80: an IPv4 destination cannot serve "
            "an IPv6 service with NAT forwarding (IPVS mixes families only through tunnels): list it under an IPv4 "
            "service, or use tunnel forwarding",
        ),
        (
            Step.add("p", BACKEND),
            errno.ERANGE,
            "IPVS refused to add destination TCP 192.0.2.1:80 -> 10.0.0.1:8080: weight 3 or thresholds (lower 10, "
            "upper 5) out of range: the weight must be 0..2147483647 and the lower threshold must not exceed the "
            "upper one",
        ),
        (
            Step.add("p", BACKEND),
            errno.ESRCH,
            "IPVS refused to add destination TCP 192.0.2.1:80 -> 10.0.0.1:8080: its service TCP 192.0.2.1:80 is not "
            "in the kernel (refused or deleted behind NCC's back?); the next audit reads the kernel again and "
            "repairs it",
        ),
        (
            Step.delete("p", BACKEND),
            errno.ENOENT,
            "IPVS refused to delete destination TCP 192.0.2.1:80 -> 10.0.0.1:8080: it is not a destination of "
            "TCP 192.0.2.1:80 in the kernel (deleted behind NCC's back?); the next audit reads the kernel again "
            "and repairs it",
        ),
        (
            Step.add("p", BACKEND),
            errno.EPERM,
            "IPVS refused to add destination TCP 192.0.2.1:80 -> 10.0.0.1:8080: permission denied: seesaw-ncc "
            "needs CAP_NET_ADMIN in this network namespace (run it as root)",
        ),
        (
            Step.delete("p", WEB),
            errno.EBUSY,
            "IPVS refused to delete service TCP 192.0.2.1:80: Device or resource busy (EBUSY)",
        ),
    ],
)
def test_each_refusal_says_what_happened_and_what_to_do(step, code, message):
    assert explain(step, code) == message


def test_the_kernels_own_words_are_kept():
    text = explain(Step.add("p", WEB), errno.EINVAL, "Attribute failed policy validation")
    assert text.endswith("in cluster.pb (kernel: Attribute failed policy validation)")


def test_a_namespace_that_does_not_exist_is_refused_and_not_created():
    name = f"seesaw-no-such-ns-{os.getpid()}"
    with pytest.raises(DataplaneError, match=f"no network namespace '{name}'"):
        IPVSServices(netns=name)
    assert not Path("/run/netns", name).exists()


@pytest.mark.skipif(Path("/proc/net/ip_vs").exists(), reason="this kernel has IPVS")
def test_a_kernel_without_ipvs_is_refused_with_what_to_do():
    with pytest.raises(DataplaneError, match=r"the kernel has no IPVS: load the IPVS module \(modprobe ip_vs") as err:
        IPVSServices()
    assert err.value.errno == errno.ENOENT
