"""Failover as fast and clean as keepalived's, between real `seesaw-ha` processes on a bridge:

* make before break: a master told to fail over keeps reporting LEADER (its engine keeps serving) until it
  hears the new master, which takes over at once on the priority-0 advert;
* a master whose node interface loses its carrier goes to FAULT (the engine sees HA_ERROR, the LB interface
  goes down) and stops advertising; with the carrier back it rejoins as BACKUP behind the new master;
* the realtime priority asked for is applied to the election's thread.
"""

import subprocess
import time

import pytest
from ha_lab import flags, wait_for
from test_ha_engine_session import ENGINE_MODE, engine_config, led_by_engine_node, reported

from seesaw.pb import common_pb2

pytestmark = pytest.mark.netns

HOLD_MS = 300


def test_failover_keeps_leading_until_the_new_master_speaks(lan, ha, engines):
    engine, lb1, lb2 = led_by_engine_node(lan, ha, engines, {"handover_hold_ms": HOLD_MS})
    before = len(engine.reports)
    engine.failover()
    took = wait_for(lambda: lb2.state() == common_pb2.HA_LEADER, 3, "lb2 never took over")
    assert took < 0.1, f"{took:.3f} s: lb2 should take over at once on the priority-0 advert"
    wait_for(lambda: reported(engine, common_pb2.HA_BACKUP), 2, "lb1 never reported BACKUP")
    states = [r.state for r in engine.reports[before:]]
    # LEADER (still serving, handing over) until BACKUP: never a moment with neither node leading
    assert states[0] == common_pb2.HA_LEADER and common_pb2.HA_BACKUP in states, states
    first_backup = states.index(common_pb2.HA_BACKUP)
    assert set(states[:first_backup]) == {common_pb2.HA_LEADER}, states
    handed = next(r for r in engine.reports[before:] if r.state == common_pb2.HA_BACKUP)
    assert handed.master_address == lan["lb2"]  # it stepped down because it heard the new master
    assert lb2.status().last_takeover_ms >= 1  # measured, rounded up (0 would read as "none")
    time.sleep(0.5)
    assert (lb1.state(), lb2.state()) == (common_pb2.HA_BACKUP, common_pb2.HA_LEADER)


def test_failover_without_a_peer_steps_down_after_the_hold_and_leads_again(lan, ha, engines):
    engine = engines("lb1")
    ha("lb1", *ENGINE_MODE)
    engine.configure(**engine_config(lan["lb1"], 200, handover_hold_ms=HOLD_MS))
    wait_for(lambda: reported(engine, common_pb2.HA_LEADER), 5, "lb1 never reported LEADER")
    before = len(engine.reports)
    started = time.monotonic()
    engine.failover()
    wait_for(lambda: reported(engine, common_pb2.HA_BACKUP), 3, "lb1 never gave up after the hold")
    assert time.monotonic() - started >= HOLD_MS / 1000 - 0.05
    wait_for(lambda: reported(engine, common_pb2.HA_LEADER), 3, "nobody took over, and lb1 never led again")
    assert common_pb2.HA_BACKUP in [r.state for r in engine.reports[before:]]


def set_port(node: str, state: str) -> None:
    subprocess.run(["ip", "-n", "lan", "link", "set", f"v-{node}", state], check=True)


def test_a_master_that_loses_its_carrier_faults_and_comes_back_as_backup(lan, ha, engines):
    engine, lb1, lb2 = led_by_engine_node(lan, ha, engines)
    set_port("lb1", "down")  # the switch port fails: lb1's eth0 has no carrier
    took = wait_for(lambda: reported(engine, common_pb2.HA_ERROR), 2, "lb1 never reported its fault")
    assert took < 0.2, f"{took:.3f} s to notice a lost carrier"
    wait_for(lambda: lb2.state() == common_pb2.HA_LEADER, 2, "lb2 never took over")
    sent = lb1.status().adverts_sent
    time.sleep(0.3)
    assert lb1.status().adverts_sent == sent  # silent while in FAULT
    set_port("lb1", "up")
    wait_for(lambda: reported(engine, common_pb2.HA_BACKUP), 2, "lb1 never rejoined as BACKUP")
    time.sleep(1.0)  # lb1 has the higher priority but no preempt: lb2 stays master
    assert (lb1.state(), lb2.state()) == (common_pb2.HA_BACKUP, common_pb2.HA_LEADER)
    assert lb1.status().master_address == lan["lb2"]
    assert "FAULT: the node interface eth0 has no carrier" in lb1.log()


def test_realtime_priority_is_applied_to_the_election(lan, ha):
    lb1 = ha("lb1", *flags(lan["lb1"], 200, "--realtime-priority", "30"))
    wait_for(lambda: lb1.state() == common_pb2.HA_LEADER, 5, "lb1 alone never led")
    policy = subprocess.run(["chrt", "-p", str(lb1.proc.pid)], capture_output=True, text=True).stdout
    children = subprocess.run(["pgrep", "-P", str(lb1.proc.pid)], capture_output=True, text=True).stdout.split()
    for pid in children:  # `ip netns exec` runs the daemon as its child or in its place
        policy += subprocess.run(["chrt", "-p", pid], capture_output=True, text=True).stdout
    assert "SCHED_RR" in policy and "priority: 30" in policy, policy
