"""`seesaw-ha` driven by an engine over `EngineHA.HASession`: config, failover, engine loss and restart (the grace
period), a stopping engine, changes in place."""

import signal
import time

import pytest
from ha_lab import flags, wait_for

from seesaw.pb import common_pb2, ha_pb2

pytestmark = pytest.mark.netns

ENGINE_MODE = ["--report-interval", "0.2"]
INTERVAL = 0.1
DOWN_100 = 3 * INTERVAL + (256 - 100) * INTERVAL / 256
GRACE = 1.0


def engine_config(address: str, priority: int, **extra):
    values = {
        "enabled": True,
        "local_address": address,
        "remote_address": "224.0.0.18",
        "interface": "eth0",
        "priority": priority,
        "vrid": 60,
        "advert_interval_ms": int(INTERVAL * 1000),
    }
    values.update(extra)
    return values


def reported(engine, state: int) -> bool:
    return engine.last_state() == state


def led_by_engine_node(lan, ha, engines, lb1_extra=None, lb2_flags=(), lb1_flags=()):
    """lb1 runs under a scripted engine and leads; lb2 runs in test mode and backs up."""
    engine = engines("lb1")
    lb1 = ha("lb1", *ENGINE_MODE, *lb1_flags)
    engine.configure(**engine_config(lan["lb1"], 200, **(lb1_extra or {})))
    wait_for(lambda: reported(engine, common_pb2.HA_LEADER), 5, "lb1 never reported LEADER")
    lb2 = ha("lb2", *flags(lan["lb2"], 100, *lb2_flags))
    wait_for(lambda: lb2.status().adverts_received >= 3, 5, "lb2 never heard lb1")
    assert lb2.state() == common_pb2.HA_BACKUP
    return engine, lb1, lb2


def test_waits_for_the_engine_then_follows_its_config(lan, ha, engines, tmp_path):
    lb1 = ha("lb1", *ENGINE_MODE)
    time.sleep(0.6)
    assert lb1.state() == common_pb2.HA_UNKNOWN  # no engine yet: not in the election
    engine = engines("lb1")
    took = wait_for(lambda: engine.reports, 3, "HA never opened a session")
    assert took < 1.0, f"HA should retry every 0.5 s, took {took:.2f} s"  # Seesaw: 5 s (P11)
    assert engine.reports[0].state == common_pb2.HA_UNKNOWN

    engine.configure(enabled=False)
    wait_for(lambda: reported(engine, common_pb2.HA_DISABLED), 3, "DISABLED never reported")
    assert lb1.state() == common_pb2.HA_DISABLED

    engine.configure(**engine_config(lan["lb1"], 200))
    wait_for(lambda: reported(engine, common_pb2.HA_LEADER), 3, "LEADER never reported")
    count = len(engine.reports)
    time.sleep(1.0)
    assert len(engine.reports) - count >= 3, "periodic reports stopped"
    status = engine.reports[-1]
    assert status.adverts_sent >= 5 and status.master_address == lan["lb1"]

    engine.configure(enabled=False)  # disabled while leading: step down
    wait_for(lambda: reported(engine, common_pb2.HA_DISABLED), 3, "DISABLED never reported")


def test_failover_command_hands_over_at_once_and_does_not_preempt_back(lan, ha, engines):
    engine, lb1, lb2 = led_by_engine_node(lan, ha, engines, {"preempt": True})
    engine.failover()
    took = wait_for(lambda: lb2.state() == common_pb2.HA_LEADER, 3, "lb2 never took over")
    assert took < DOWN_100 - INTERVAL, f"{took:.3f} s is a timeout, not a priority-0 handover"
    wait_for(lambda: reported(engine, common_pb2.HA_BACKUP), 2, "lb1 never reported BACKUP")
    time.sleep(1.0)  # lb1 has preempt and a higher priority, but the operator asked it to yield
    assert (lb1.state(), lb2.state()) == (common_pb2.HA_BACKUP, common_pb2.HA_LEADER)


def leaders_during(seconds: float, *nodes) -> set[tuple[int, ...]]:
    """The HA states of `nodes`, polled for `seconds`."""
    seen = set()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        seen.add(tuple(node.state() for node in nodes))
        time.sleep(0.02)
    return seen


def test_an_engine_back_within_the_grace_period_changes_nothing(lan, ha, engines):
    engine, lb1, lb2 = led_by_engine_node(lan, ha, engines, lb1_flags=("--engine-grace", "5"))
    transitions = lb1.status().transitions
    engine.stop()  # gone without a word: killed, the watchdog restarts it
    assert leaders_during(1.0, lb1, lb2) == {(common_pb2.HA_LEADER, common_pb2.HA_BACKUP)}
    again = engines("lb1")
    took = wait_for(lambda: again.reports, 3, "HA never reconnected")
    assert took < 1.0
    assert again.reports[0].state == common_pb2.HA_LEADER  # the restarted engine hears LEADER at once
    again.configure(**engine_config(lan["lb1"], 200))
    assert leaders_during(1.0, lb1, lb2) == {(common_pb2.HA_LEADER, common_pb2.HA_BACKUP)}
    assert lb1.status().transitions == transitions
    assert "the engine is back" in lb1.log()


def test_an_engine_without_a_config_yet_keeps_the_election_as_it_is(lan, ha, engines):
    engine, lb1, lb2 = led_by_engine_node(lan, ha, engines, lb1_flags=("--engine-grace", str(GRACE)))
    engine.stop()
    again = engines("lb1")  # restarted with a broken config: it greets HA with an empty command
    again.send(ha_pb2.HACommand())
    wait_for(lambda: again.reports, 3, "HA never reconnected")
    assert leaders_during(GRACE + 1.0, lb1, lb2) == {(common_pb2.HA_LEADER, common_pb2.HA_BACKUP)}


def test_losing_the_engine_for_good_steps_down_after_the_grace_period(lan, ha, engines):
    engine, lb1, lb2 = led_by_engine_node(lan, ha, engines, lb1_flags=("--engine-grace", str(GRACE)))
    engine.stop()
    took = wait_for(lambda: lb2.state() == common_pb2.HA_LEADER, GRACE + 3, "lb2 never took over")
    assert GRACE <= took < GRACE + DOWN_100 - INTERVAL, f"{took:.3f} s: not a priority-0 handover after the grace"
    assert lb1.state() == common_pb2.HA_SHUTDOWN
    assert "did not come back within 1.0 s: leaving the election" in lb1.log()
    pid = lb1.proc.pid

    again = engines("lb1")  # the engine restarts on the same socket
    took = wait_for(lambda: again.reports, 3, "HA never reconnected")
    assert took < 1.0
    again.configure(**engine_config(lan["lb1"], 200))
    wait_for(lambda: reported(again, common_pb2.HA_BACKUP), 3, "lb1 never rejoined as BACKUP")
    time.sleep(0.5)
    assert (lb1.state(), lb2.state()) == (common_pb2.HA_BACKUP, common_pb2.HA_LEADER)
    assert lb1.proc.poll() is None and lb1.proc.pid == pid
    status = again.reports[-1]
    assert status.transitions >= 4 and status.master_address == lan["lb2"]  # counters survived the outage


def test_a_stopping_engine_is_left_at_once(lan, ha, engines):
    engine, lb1, lb2 = led_by_engine_node(lan, ha, engines)  # the default grace period: 10 s
    engine.send(ha_pb2.HACommand(stopping=True))
    took = wait_for(lambda: lb2.state() == common_pb2.HA_LEADER, 3, "lb2 never took over")
    assert took < DOWN_100 - INTERVAL, f"{took:.3f} s is a timeout, not a priority-0 handover"
    wait_for(lambda: engine.last_state() == common_pb2.HA_SHUTDOWN, 2, "the engine never heard SHUTDOWN")
    wait_for(lambda: engine.sessions_ended == 1, 2, "HA never closed its side of the session")
    assert lb1.state() == common_pb2.HA_SHUTDOWN


def test_config_changes_apply_in_place(lan, ha, engines):
    engine, lb1, lb2 = led_by_engine_node(lan, ha, engines, lb2_flags=("--preempt",))
    engine.configure(**engine_config(lan["lb1"], 50))  # below lb2, which preempts
    wait_for(lambda: lb2.state() == common_pb2.HA_LEADER, 3, "lb2 never preempted")
    wait_for(lambda: lb1.state() == common_pb2.HA_BACKUP, 3, "lb1 never stepped down")

    engine.configure(**engine_config(lan["lb1"], 50, vrid=61))  # another virtual router: lb2 is not in it
    wait_for(lambda: lb1.state() == common_pb2.HA_LEADER, 3, "lb1 never led VRID 61")
    time.sleep(0.3)
    assert lb1.status().adverts_dropped["vrid"] >= 2  # lb2's VRID-60 adverts
    assert lb2.state() == common_pb2.HA_LEADER
    assert lb1.proc.poll() is None, "a config change must never restart HA"


def test_a_bad_config_leaves_the_running_one_in_force(lan, ha, engines):
    engine, lb1, _lb2 = led_by_engine_node(lan, ha, engines)
    engine.configure(**engine_config(lan["lb1"], 0))  # priority 0 is not a config
    engine.configure(**engine_config(lan["lb1"], 200, interface="eth9"))  # no such interface
    time.sleep(0.5)
    assert lb1.state() == common_pb2.HA_LEADER
    log = lb1.log()
    assert "priority 0 is out of range" in log and "'eth9' does not exist" in log


def test_a_first_config_that_cannot_run_reports_error_until_fixed(lan, ha, engines):
    engine = engines("lb1")
    lb1 = ha("lb1", *ENGINE_MODE)
    engine.configure(**engine_config(lan["lb1"], 200, interface="eth9"))
    wait_for(lambda: reported(engine, common_pb2.HA_ERROR), 3, "ERROR never reported")
    engine.configure(**engine_config(lan["lb1"], 200))
    wait_for(lambda: reported(engine, common_pb2.HA_LEADER), 3, "the fixed config never ran")
    assert lb1.status().state == common_pb2.HA_LEADER


def test_sigterm_tells_the_engine_and_the_peer(lan, ha, engines):
    engine, lb1, lb2 = led_by_engine_node(lan, ha, engines)
    lb1.signal(signal.SIGTERM)
    took = wait_for(lambda: lb2.state() == common_pb2.HA_LEADER, 3, "lb2 never took over")
    assert took < DOWN_100 - INTERVAL
    assert lb1.proc.wait(5) == 0
    assert engine.last_state() == common_pb2.HA_SHUTDOWN, "the engine must hear SHUTDOWN before HA goes"
    assert engine.sessions == 1
