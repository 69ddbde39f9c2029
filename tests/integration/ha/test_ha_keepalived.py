"""Interop with keepalived's VRRPv3 (RFC 5798 format, address list): each side obeys the other's adverts."""

import shutil
import signal
import subprocess
import time
from pathlib import Path

import pytest
from ha_lab import flags, wait_for

from seesaw.pb import common_pb2

pytestmark = pytest.mark.netns

VIP = "10.99.0.200"
RFC5798 = ("--format", "rfc5798", "--address", VIP)
KEEPALIVED_CONF = """
global_defs {{
    router_id {name}
    vrrp_version 3
}}
vrrp_instance VI_1 {{
    state BACKUP
    interface eth0
    virtual_router_id 60
    priority {priority}
    advert_int 0.1
    virtual_ipaddress {{
        {vip}/24
    }}
}}
"""


class Keepalived:
    def __init__(self, netns: str, directory: Path, priority: int) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        conf = directory / "keepalived.conf"
        conf.write_text(KEEPALIVED_CONF.format(name=netns, priority=priority, vip=VIP))
        self.netns = netns
        self.log_path = directory / "keepalived.log"
        self._log = open(self.log_path, "wb")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                "ip", "netns", "exec", netns, "keepalived", "--dont-fork", "--log-console", "--vrrp",
                f"--use-file={conf}", f"--pid={directory / 'k.pid'}", f"--vrrp_pid={directory / 'v.pid'}",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip

    def has_vip(self) -> bool:
        out = subprocess.run(["ip", "-n", self.netns, "-br", "addr", "show", "dev", "eth0"], capture_output=True)
        return f" {VIP}/".encode() in out.stdout

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self._log.close()


@pytest.fixture
def keepalived(tmp_path):
    if shutil.which("keepalived") is None:
        pytest.skip("keepalived is not installed (apt-get install -y keepalived)")
    started: list[Keepalived] = []

    def start(netns: str, priority: int) -> Keepalived:
        instance = Keepalived(netns, tmp_path / f"keepalived-{netns}", priority)
        started.append(instance)
        return instance

    yield start
    for instance in started:
        instance.stop()
    for instance in started:
        print(f"--- keepalived in {instance.netns} ---\n{instance.log()}")


def test_keepalived_backs_up_a_seesaw_leader_and_takes_over_on_its_priority_zero(lan, ha, keepalived):
    ours = ha("lb1", *flags(lan["lb1"], 200, *RFC5798))
    wait_for(lambda: ours.state() == common_pb2.HA_LEADER, 5, "our node never led")
    theirs = keepalived("lb2", 100)
    wait_for(lambda: "Entering BACKUP STATE" in theirs.log(), 10, "keepalived never started")
    time.sleep(1.5)  # keepalived's master-down is 0.36 s: it would have taken over by now if it ignored us
    assert not theirs.has_vip() and "Entering MASTER STATE" not in theirs.log()
    assert ours.state() == common_pb2.HA_LEADER

    ours.signal(signal.SIGTERM)
    took = wait_for(theirs.has_vip, 3, "keepalived never took over")
    assert took < 0.3, f"{took:.3f} s: keepalived waited out master-down instead of obeying priority 0"


def test_seesaw_node_follows_keepalived_and_preempts_it(lan, ha, keepalived):
    theirs = keepalived("lb2", 100)
    wait_for(theirs.has_vip, 10, "keepalived never became MASTER")
    ours = ha("lb1", *flags(lan["lb1"], 50, *RFC5798), name="low")
    wait_for(lambda: ours.status().adverts_received >= 5, 5, "our node never heard keepalived")
    status = ours.status()
    assert status.state == common_pb2.HA_BACKUP and status.master_address == lan["lb2"]
    assert dict(status.adverts_dropped) == {}
    ours.stop()

    ours = ha("lb1", *flags(lan["lb1"], 200, "--preempt", *RFC5798), name="high")
    wait_for(lambda: ours.state() == common_pb2.HA_LEADER, 5, "our node never preempted keepalived")
    wait_for(lambda: not theirs.has_vip(), 3, "keepalived never gave the VIP up")
    assert "Entering BACKUP STATE" in theirs.log().split("Entering MASTER STATE", 1)[1]
