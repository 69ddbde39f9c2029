"""What an IPVS refusal means for one step, said so an operator knows what to do next.

The kernel answers a refused IPVS command with an errno only; which errno
means what depends on the command (net/netfilter/ipvs/ip_vs_ctl.c):

    ENOENT        service add/update: no scheduler module ip_vs_<name>
                  destination update/delete: no such destination
    ESRCH         service update/delete, any destination command: no such service
    EEXIST        add of a service or destination that exists
    EINVAL        a destination of the other address family with NAT or DSR (only tunnels may mix),
                  or attributes the kernel cannot take
    EAFNOSUPPORT  IPv6 while the kernel's IPVS was built without it
    ERANGE        a weight below 0, or a lower threshold above the upper one
    EPERM         no CAP_NET_ADMIN in this network namespace
"""

from __future__ import annotations

import errno
import os

from seesaw.ncc.model import Destination, Family, Service
from seesaw.ncc.steps import Op, Step

_VERB = {Op.ADD: "add", Op.UPDATE: "update", Op.DELETE: "delete"}
_AUDIT = "the next audit reads the kernel again and repairs it"


def explain(step: Step, code: int, detail: str = "") -> str:
    """The message for `step` refused with errno `code` (and the kernel's extended-ack `detail`, if any)."""
    spec = step.spec
    what = f"IPVS refused to {_VERB[step.op]} {step.kind} {spec.key}"
    if isinstance(spec, Service):
        reason = _service_reason(step.op, spec, code)
    else:
        assert isinstance(spec, Destination)
        reason = _destination_reason(step.op, spec, code)
    if reason is None:
        reason = _common_reason(code)
    if detail:
        reason = f"{reason} (kernel: {detail})"
    return f"{what}: {reason}"


def _service_reason(op: Op, service: Service, code: int) -> str | None:
    if code == errno.ENOENT and op is not Op.DELETE:
        return (
            f"scheduler {service.scheduler!r} is not available (modprobe ip_vs_{service.scheduler}, "
            f"and list it in /etc/modules-load.d/ to keep it)"
        )
    if code == errno.EEXIST:
        return f"a service with this address, protocol and port already exists (made outside NCC?); {_AUDIT}"
    if code == errno.ESRCH:
        return f"no such service in the kernel (deleted behind NCC's back?); {_AUDIT}"
    if code == errno.EINVAL:
        return (
            f"the kernel rejected its settings (scheduler {service.scheduler!r}, flags {service.flags:#x}, "
            f"persistence timeout {service.timeout}); check the vserver's scheduler and persistence in cluster.pb"
        )
    return None


def _destination_reason(op: Op, dest: Destination, code: int) -> str | None:
    service = dest.key.service
    if code == errno.ESRCH:
        if op is Op.DELETE:
            return f"its service {service} is no longer in the kernel, so neither is it"
        return f"its service {service} is not in the kernel (refused or deleted behind NCC's back?); {_AUDIT}"
    if code == errno.EEXIST:
        return f"it is already a destination of {service} (made outside NCC?); {_AUDIT}"
    if code == errno.ENOENT:
        return f"it is not a destination of {service} in the kernel (deleted behind NCC's back?); {_AUDIT}"
    if code == errno.EINVAL and op is not Op.DELETE and Family.of(dest.key.address) is not service.family:
        family = Family.of(dest.key.address)
        return (
            f"an {family.label} destination cannot serve an {service.family.label} service with "
            f"{dest.forwarding} forwarding (IPVS mixes families only through tunnels): list it under an "
            f"{family.label} service, or use tunnel forwarding"
        )
    if code == errno.ERANGE:
        return (
            f"weight {dest.weight} or thresholds (lower {dest.lower_threshold}, upper {dest.upper_threshold}) "
            "out of range: the weight must be 0..2147483647 and the lower threshold must not exceed the upper one"
        )
    if code == errno.EINVAL:
        return (
            f"the kernel rejected its settings (forwarding {dest.forwarding}, weight {dest.weight}, "
            f"thresholds {dest.lower_threshold}/{dest.upper_threshold}); check the backend in cluster.pb"
        )
    return None


def _common_reason(code: int) -> str:
    if code == errno.EAFNOSUPPORT:
        return "this kernel's IPVS has no IPv6 support (CONFIG_IP_VS_IPV6); use IPv4 or a kernel built with it"
    if code == errno.EPERM:
        return "permission denied: seesaw-ncc needs CAP_NET_ADMIN in this network namespace (run it as root)"
    if code == errno.ENOMEM:
        return "the kernel is out of memory for IPVS; free memory or reduce the number of services"
    name = errno.errorcode.get(code, str(code))
    return f"{os.strerror(code)} ({name})"
