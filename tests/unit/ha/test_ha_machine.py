"""The election state machine: Seesaw's ha_test.go table, RFC 5798 timing, and what Seesaw lacked."""

import heapq

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from seesaw.common.clock import FakeClock
from seesaw.ha import machine as m
from seesaw.ha import packet
from seesaw.ha.packet import Advert, Drop, DropReason, Received
from seesaw.pb import common_pb2

ME = "10.99.0.2"
PEER = "10.99.0.3"  # a higher address than ME
LOW_PEER = "10.99.0.1"


def config(**overrides) -> m.ElectionConfig:
    values = {"local_address": ME, "priority": 100, "vrid": 1, "advert_interval_ms": 1000, "preempt": False}
    values.update(overrides)
    return m.ElectionConfig(**values)


def advert(priority: int, vrid: int = 1, interval_cs: int = 100, source: str = PEER) -> Received:
    return Received(Advert(vrid, priority, interval_cs), source, packet.GROUP_V4)


def sent(actions: list[m.Action]) -> list[int]:
    return [a.advert.priority for a in actions if isinstance(a, m.SendAdvert)]


def timers(actions: list[m.Action]) -> list[float]:
    return [a.deadline for a in actions if isinstance(a, m.SetTimer)]


class Harness:
    """A machine, its fake clock, and the timer it asked for."""

    def __init__(self, **overrides) -> None:
        self.clock = FakeClock()
        self.machine = m.Machine(config(**overrides), self.clock)
        self.deadline: float | None = None
        self.log: list[m.Action] = []

    def feed(self, event: m.Event) -> list[m.Action]:
        actions = self.machine.handle(event)
        self.log.extend(actions)
        for action in actions:
            if isinstance(action, m.SetTimer):
                self.deadline = action.deadline
            elif isinstance(action, m.CancelTimer):
                self.deadline = None
        return actions

    def wait(self, seconds: float) -> list[m.Action]:
        """Let `seconds` pass, firing the timer whenever it falls due."""
        end = self.clock.monotonic() + seconds
        actions: list[m.Action] = []
        while self.deadline is not None and self.deadline <= end:
            self.clock.advance(max(0.0, self.deadline - self.clock.monotonic()))
            self.deadline = None
            actions += self.feed(m.TimerFired())
        self.clock.advance(end - self.clock.monotonic())
        return actions

    def leader(self) -> None:
        """Start and win by silence (the 'no peer' row)."""
        self.feed(m.Start())
        self.wait(self.machine.master_down_interval())
        assert self.machine.state == m.State.LEADER

    @property
    def state(self) -> m.State:
        return self.machine.state


# -- Seesaw's ha_test.go table ------------------------------------------------


def test_no_peer_becomes_leader():
    h = Harness()
    assert h.feed(m.Start()) == [m.BecomeBackup(), m.SetTimer(h.clock.monotonic() + 3.609375), m.ReportStatus()]
    assert h.state == m.State.BACKUP
    actions = h.wait(3.609375)
    assert h.state == m.State.LEADER
    assert actions[0] == m.BecomeLeader() and sent(actions) == [100] and m.ReportStatus() in actions


def test_higher_priority_peer_then_silence():
    h = Harness(preempt=True)
    h.leader()
    assert h.feed(advert(255)) == [m.BecomeBackup(), m.SetTimer(h.clock.monotonic() + 3.609375), m.ReportStatus()]
    assert h.state == m.State.BACKUP
    assert h.machine.status().master_address == PEER
    h.wait(3.609375)  # the peer died
    assert h.state == m.State.LEADER


def test_lower_priority_peer_keeps_leader():
    h = Harness(preempt=True)
    h.leader()
    assert h.feed(advert(1)) == []
    assert h.state == m.State.LEADER


@pytest.mark.parametrize("reason", [DropReason.VERSION, DropReason.VRID])
def test_wrong_version_or_vrid_is_ignored(reason):
    h = Harness()
    h.leader()
    raw = bytearray(packet.encode_ipv4_packet(Advert(1, 255, 100), PEER, packet.GROUP_V4))
    if reason == DropReason.VERSION:
        raw[20] = 0x41  # version 4
    else:
        raw = bytearray(packet.encode_ipv4_packet(Advert(2, 255, 100), PEER, packet.GROUP_V4))
    result = packet.decode_ipv4(bytes(raw), ME, vrid=1)
    assert h.feed(result) == []
    assert h.state == m.State.LEADER
    assert h.machine.status().dropped == {reason.value: 1}


def test_vrid_mismatch_after_decoding_is_dropped_too():
    h = Harness()
    h.leader()
    assert h.feed(advert(255, vrid=2)) == []
    assert h.state == m.State.LEADER and h.machine.status().dropped == {"vrid": 1}


def test_preempt_with_lower_priority_advert():
    h = Harness(preempt=True)
    h.feed(m.Start())
    actions = h.feed(advert(1))
    assert h.state == m.State.LEADER and sent(actions) == [100]

    h = Harness(preempt=False)
    h.feed(m.Start())
    h.feed(advert(1))
    assert h.state == m.State.BACKUP


def test_priority_zero_takes_over_at_once():
    h = Harness()
    h.feed(m.Start())
    h.feed(advert(200))  # a master
    h.wait(0.5)
    actions = h.feed(advert(0))  # ... leaving: a pair has no one to contend with, so no skew (Seesaw v2)
    assert h.state == m.State.LEADER
    assert actions[0] == m.BecomeLeader() and sent(actions) == [100] and m.ReportStatus() in actions
    assert h.machine.status().last_takeover == 0.0


def test_priority_zero_takes_over_after_the_skew_only_with_takeover_skew():
    h = Harness(takeover_skew=True)
    h.feed(m.Start())
    h.wait(1.0)
    h.feed(advert(200))  # a master, advertising every second
    h.wait(0.5)
    actions = h.feed(advert(0))  # ... and now leaving
    skew = (256 - 100) * 1.0 / 256
    assert timers(actions) == [pytest.approx(h.clock.monotonic() + skew)]
    h.wait(skew - 0.001)
    assert h.state == m.State.BACKUP
    h.wait(0.001)
    assert h.state == m.State.LEADER
    assert h.machine.status().last_takeover == pytest.approx(skew)


# -- what Seesaw lacked or did differently ------------------------------------


def test_equal_priority_tie_break_by_address():
    h = Harness()
    h.leader()
    assert h.feed(advert(100, source=LOW_PEER)) == []  # lower address: I stay
    assert h.state == m.State.LEADER
    h.feed(advert(100, source=PEER))  # higher address wins
    assert h.state == m.State.BACKUP
    # As BACKUP, equal-priority adverts just keep the master alive, preempt or not.
    h = Harness(preempt=True)
    h.feed(m.Start())
    h.feed(advert(100, source=LOW_PEER))
    assert h.state == m.State.BACKUP


def test_a_leader_hearing_a_higher_priority_steps_down_even_without_preempt():
    # RFC 5798 6.4.3; preempt only governs a BACKUP (Seesaw's TestPreemptyDisabled expected otherwise,
    # which its own code did not do).
    h = Harness(preempt=False)
    h.leader()
    h.feed(advert(101))
    assert h.state == m.State.BACKUP


@pytest.mark.parametrize("priority, expected", [(255, 1.5019531), (1, 1.9980469), (100, 1.8046875)])
def test_master_down_interval(priority, expected):
    h = Harness(priority=priority, advert_interval_ms=500)
    assert h.machine.master_down_interval() == pytest.approx(expected)
    h.feed(m.Start())
    h.wait(expected - 0.0005)
    assert h.state == m.State.BACKUP
    h.wait(0.001)
    assert h.state == m.State.LEADER


def test_master_down_is_learned_from_the_masters_interval():
    h = Harness(priority=100, advert_interval_ms=500)
    h.feed(m.Start())
    h.feed(advert(200, interval_cs=10))  # the master sends every 100 ms
    down = 3 * 0.1 + 156 * 0.1 / 256
    assert h.machine.master_down_interval() == pytest.approx(down)
    assert h.deadline == pytest.approx(h.clock.monotonic() + down)
    h.wait(down / 2)
    h.feed(advert(200, interval_cs=10))  # each advert restarts the wait
    h.wait(down - 0.001)
    assert h.state == m.State.BACKUP
    h.wait(0.002)
    assert h.state == m.State.LEADER
    assert h.machine.status().last_takeover == pytest.approx(down, abs=0.002)


def test_early_or_spurious_timer_is_harmless():
    h = Harness()
    h.feed(m.Start())
    deadline = h.deadline
    h.clock.advance(1.0)
    assert h.feed(m.TimerFired()) == [m.SetTimer(deadline)]
    assert h.state == m.State.BACKUP


def test_leader_sends_every_interval_and_does_not_burst_after_a_stall():
    h = Harness(advert_interval_ms=200)
    h.leader()
    before = h.machine.status().sent
    h.wait(1.0001)
    assert h.machine.status().sent - before == 5
    h.clock.advance(3.0)  # the loop stalled for 15 intervals
    actions = h.feed(m.TimerFired())
    assert sent(actions) == [100]
    assert timers(actions) == [pytest.approx(h.clock.monotonic() + 0.2)]


def test_leader_answers_a_priority_zero_advert_at_once():
    h = Harness()
    h.leader()
    actions = h.feed(advert(0))
    assert sent(actions) == [100] and h.state == m.State.LEADER


def test_stop_as_leader_sends_priority_zero_and_keeps_counters():
    h = Harness()
    h.leader()
    actions = h.feed(m.Stop())
    assert sent(actions) == [0]
    assert m.CancelTimer() in actions and m.ReportStatus() in actions
    assert h.state == m.State.SHUTDOWN
    assert h.machine.status().transitions == 3  # INIT->BACKUP->LEADER->SHUTDOWN
    assert h.feed(m.Stop()) == []
    h.feed(m.Start())
    assert h.state == m.State.BACKUP
    assert h.machine.status().transitions == 4
    assert h.machine.status().sent == 2  # one on becoming leader, the priority-0 one


def test_stop_as_backup_sends_nothing():
    h = Harness()
    h.feed(m.Start())
    assert sent(h.feed(m.Stop())) == []
    assert h.state == m.State.SHUTDOWN
    assert h.feed(advert(255)) == []  # out of the election: nothing changes


def test_failover_steps_down_and_does_not_preempt_back():
    h = Harness(preempt=True, priority=200)
    h.leader()
    actions = h.feed(m.Failover())
    assert sent(actions) == [0] and h.state == m.State.BACKUP
    assert h.feed(advert(100)) != [] and h.state == m.State.BACKUP  # the lower-priority peer took over: let it
    h.wait(h.machine.master_down_interval())  # ... until it dies
    assert h.state == m.State.LEADER
    h.feed(advert(100))  # preempt is back once we lead again
    assert h.state == m.State.LEADER


def test_failover_when_not_leader_does_nothing():
    h = Harness()
    h.feed(m.Start())
    assert h.feed(m.Failover()) == []
    assert h.state == m.State.BACKUP


def test_reconfigure_in_place_as_leader():
    h = Harness()
    h.leader()
    transitions = h.machine.status().transitions
    actions = h.feed(m.Reconfigure(config(priority=50)))
    assert sent(actions) == [50] and h.state == m.State.LEADER
    actions = h.feed(m.Reconfigure(config(priority=50, vrid=9)))
    assert [a.advert.vrid for a in actions if isinstance(a, m.SendAdvert)] == [9]
    actions = h.feed(m.Reconfigure(config(priority=50, vrid=9, advert_interval_ms=100)))
    assert timers(actions) == [pytest.approx(h.clock.monotonic() + 0.1)]
    assert h.feed(m.Reconfigure(config(priority=50, vrid=9, advert_interval_ms=100))) == []
    assert h.machine.status().transitions == transitions
    # A peer that now outranks us takes over by the normal rules.
    h.feed(advert(60, vrid=9))
    assert h.state == m.State.BACKUP


def test_reconfigure_in_place_as_backup():
    h = Harness(priority=100)
    h.feed(m.Start())
    h.feed(advert(150))
    h.feed(m.Reconfigure(config(priority=200)))  # preempt still off: no takeover
    assert h.state == m.State.BACKUP
    h.feed(advert(150))
    assert h.state == m.State.BACKUP
    h.feed(m.Reconfigure(config(priority=200, preempt=True)))
    h.feed(advert(150))  # applies at the next advert
    assert h.state == m.State.LEADER


def test_reconfigure_vrid_as_backup_forgets_the_old_master():
    h = Harness()
    h.feed(m.Start())
    h.wait(1.0)
    h.feed(advert(150, interval_cs=10))
    actions = h.feed(m.Reconfigure(config(vrid=2)))
    assert h.machine.status().master_address == ""
    assert timers(actions) == [pytest.approx(h.clock.monotonic() + h.machine.master_down_interval())]
    assert h.machine.master_down_interval() == pytest.approx(3.609375)  # back to our own interval
    h.feed(advert(150, vrid=1))  # the old VRID no longer counts
    assert h.machine.status().dropped == {"vrid": 1}


def test_every_drop_reason_is_counted():
    h = Harness()
    h.feed(m.Start())
    for reason in DropReason:
        h.feed(Drop(reason))
    h.feed(Drop(DropReason.OVERFLOW, count=41))
    dropped = h.machine.status().dropped
    assert set(dropped) == {r.value for r in DropReason}
    assert dropped["overflow"] == 42 and dropped["ttl"] == 1
    assert h.state == m.State.BACKUP


def test_counters_and_status():
    h = Harness()
    h.leader()
    h.wait(3.0)
    h.feed(advert(1))
    status = h.machine.status()
    assert status.state == m.State.LEADER and int(status.state) == common_pb2.HA_LEADER
    assert status.sent == 4 and status.received == 1 and status.transitions == 2
    assert status.master_address == ME
    assert status.since == pytest.approx(h.clock.wall() - 3.0)
    assert status.last_takeover is None  # never heard a master: nothing was taken over


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"priority": 0}, "priority"),
        ({"priority": 256}, "priority"),
        ({"vrid": 0}, "VRID"),
        ({"advert_interval_ms": 5}, "interval"),
        ({"advert_interval_ms": 50_000}, "interval"),
        ({"local_address": "eth0"}, "node_ipv4"),
    ],
)
def test_config_is_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        config(**overrides)


# -- two machines on one simulated link ----------------------------------------


class Link:
    """Two (or more) machines on a shared clock; adverts arrive after `latency`."""

    def __init__(self, configs: list[m.ElectionConfig], latency: float = 0.0002) -> None:
        self.clock = FakeClock()
        self.machines = [m.Machine(c, self.clock) for c in configs]
        self.latency = latency
        self.queue: list[tuple[float, int, int, m.Event]] = []
        self.seq = 0
        self.alive = [True] * len(configs)

    def push(self, at: float, index: int, event: m.Event) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (at, self.seq, index, event))

    def handle(self, index: int, event: m.Event) -> None:
        if not self.alive[index]:
            return
        now = self.clock.monotonic()
        for action in self.machines[index].handle(event):
            if isinstance(action, m.SendAdvert):
                source = self.machines[index].config.local_address
                for other in range(len(self.machines)):
                    if other != index:
                        self.push(now + self.latency, other, Received(action.advert, source, packet.GROUP_V4))
            elif isinstance(action, m.SetTimer):
                self.push(action.deadline, index, m.TimerFired())

    def run(self, seconds: float) -> None:
        end = self.clock.monotonic() + seconds
        while self.queue and self.queue[0][0] <= end:
            at, _, index, event = heapq.heappop(self.queue)
            self.clock.advance(max(0.0, at - self.clock.monotonic()))
            self.handle(index, event)
        self.clock.advance(end - self.clock.monotonic())

    def states(self) -> list[m.State]:
        return [mc.state if alive else m.State.SHUTDOWN for mc, alive in zip(self.machines, self.alive, strict=True)]


@settings(max_examples=80, deadline=None)
@given(
    priorities=st.tuples(st.integers(1, 255), st.integers(1, 255)),
    preempt=st.booleans(),
    head_start=st.one_of(st.just(0.0), st.floats(0, 3)),
)
def test_two_nodes_always_settle_on_one_leader(priorities, preempt, head_start):
    configs = [
        config(local_address=ME, priority=priorities[0], preempt=preempt, advert_interval_ms=100),
        config(local_address=PEER, priority=priorities[1], preempt=preempt, advert_interval_ms=100),
    ]
    link = Link(configs)
    link.handle(0, m.Start())
    link.run(head_start)
    link.handle(1, m.Start())
    link.run(2.0)
    states = link.states()
    assert sorted(states) == [m.State.BACKUP, m.State.LEADER]
    leader = states.index(m.State.LEADER)
    if preempt and priorities[0] != priorities[1]:
        assert priorities[leader] == max(priorities)
    if head_start == 0.0 and priorities[0] == priorities[1]:
        assert leader == 1, "equal priorities, simultaneous start: the higher address wins"
    if not preempt and head_start > link.machines[0].master_down_interval() + 0.01:
        assert leader == 0, "without preempt, whoever leads first keeps it"


def test_graceful_handover_between_two_nodes_takes_the_skew_with_takeover_skew():
    link = Link(
        [
            config(priority=200, advert_interval_ms=100, takeover_skew=True),
            config(local_address=PEER, priority=100, advert_interval_ms=100, takeover_skew=True),
        ]
    )
    link.handle(0, m.Start())
    link.handle(1, m.Start())
    link.run(1.0)
    assert link.states() == [m.State.LEADER, m.State.BACKUP]
    link.handle(0, m.Stop())
    link.alive[0] = False
    link.run(0.1)
    assert link.states()[1] == m.State.LEADER
    skew = 156 * 0.1 / 256
    assert link.machines[1].status().last_takeover == pytest.approx(skew, abs=0.001)


def test_crash_of_the_leader_takes_master_down():
    link = Link(
        [config(priority=200, advert_interval_ms=100), config(local_address=PEER, priority=100, advert_interval_ms=100)]
    )
    link.handle(0, m.Start())
    link.handle(1, m.Start())
    link.run(1.0)
    link.alive[0] = False  # SIGKILL: no farewell
    crashed = link.clock.wall()
    down = 3 * 0.1 + 156 * 0.1 / 256
    link.run(down - 0.1 - 0.001)  # the last advert left at most one interval before the crash
    assert link.states()[1] == m.State.BACKUP
    link.run(0.102)
    assert link.states()[1] == m.State.LEADER
    status = link.machines[1].status()
    assert down - 0.1 <= status.since - crashed <= down
    assert status.last_takeover == pytest.approx(down, abs=0.001)


def test_graceful_handover_between_two_nodes_is_immediate():
    link = Link(
        [config(priority=255, advert_interval_ms=100), config(local_address=PEER, priority=1, advert_interval_ms=100)]
    )
    link.handle(0, m.Start())
    link.handle(1, m.Start())
    link.run(1.0)
    link.handle(0, m.Stop())
    link.alive[0] = False
    link.run(0.001)  # one hop of latency: the priority-1 node does not wait its 99.6 ms skew
    assert link.states()[1] == m.State.LEADER


# -- make before break: a hand-over that keeps serving until the new master speaks -----


def test_failover_with_a_hold_stays_leader_until_the_new_master_is_heard_and_one_interval_more():
    h = Harness(priority=200, handover_hold_ms=300, advert_interval_ms=100)
    h.leader()
    actions = h.feed(m.Failover())
    assert sent(actions) == [0] and h.state == m.State.LEADER and m.ReportStatus() in actions
    assert h.machine.status().handing_over
    assert h.feed(m.Failover()) == []  # already handing over
    assert h.feed(advert(0)) == []  # another goodbye changes nothing
    assert sent(h.wait(0.1)) == [0]  # the goodbye again each interval (in case it was lost), nothing else
    h.wait(0.05)
    actions = h.feed(advert(100, interval_cs=10))  # the new master: its LB interface comes up next
    assert actions == [m.SetTimer(h.clock.monotonic() + 0.1)] and h.state == m.State.LEADER
    assert h.machine.status().master_address == PEER
    assert h.feed(advert(100, interval_cs=10)) == []
    assert sent(h.wait(0.099)) == [] and h.state == m.State.LEADER  # silent, still serving
    actions = h.wait(0.001)
    assert actions[0] == m.BecomeBackup() and h.state == m.State.BACKUP
    status = h.machine.status()
    assert not status.handing_over and status.master_address == PEER
    h.feed(advert(100, interval_cs=10))
    assert h.state == m.State.BACKUP  # no preempting back after an operator's failover


def test_a_new_master_heard_late_does_not_stretch_the_hold():
    h = Harness(priority=200, handover_hold_ms=300, advert_interval_ms=100)
    h.leader()
    h.feed(m.Failover())
    h.wait(0.25)
    assert h.feed(advert(100, interval_cs=10)) == [m.SetTimer(h.clock.monotonic() + 0.05)]
    h.wait(0.05)
    assert h.state == m.State.BACKUP


def test_failover_hold_runs_out_without_a_new_master():
    h = Harness(priority=200, handover_hold_ms=300, advert_interval_ms=100)
    h.leader()
    h.feed(m.Failover())
    actions = h.wait(0.299)
    assert sent(actions) == [0, 0] and h.state == m.State.LEADER
    actions = h.wait(0.001)
    assert m.BecomeBackup() in actions and h.state == m.State.BACKUP
    h.wait(h.machine.master_down_interval())  # nobody took over: lead again rather than leave the VIPs unserved
    assert h.state == m.State.LEADER


def test_stop_while_handing_over_says_goodbye_and_leaves():
    h = Harness(priority=200, handover_hold_ms=300, advert_interval_ms=100)
    h.leader()
    h.feed(m.Failover())
    actions = h.feed(m.Stop())
    assert sent(actions) == [0] and h.state == m.State.SHUTDOWN and not h.machine.status().handing_over


def test_two_nodes_hand_over_make_before_break():
    link = Link(
        [
            config(priority=255, advert_interval_ms=100, handover_hold_ms=300),
            config(local_address=PEER, priority=1, advert_interval_ms=100, handover_hold_ms=300),
        ]
    )
    link.handle(0, m.Start())
    link.handle(1, m.Start())
    link.run(1.0)
    assert link.states() == [m.State.LEADER, m.State.BACKUP]
    link.handle(0, m.Failover())
    link.run(0.0003)  # the goodbye arrived; the new master's first advert is on its way
    assert link.states() == [m.State.LEADER, m.State.LEADER]  # both serve a moment: make before break
    link.run(0.1)
    assert link.states() == [m.State.LEADER, m.State.LEADER]  # the old one, one interval after hearing it
    link.run(0.001)
    assert link.states() == [m.State.BACKUP, m.State.LEADER]
    link.run(2.0)
    assert link.states() == [m.State.BACKUP, m.State.LEADER]


# -- FAULT: the node interface lost its link -----------------------------------------


def test_link_down_as_leader_is_a_fault_and_link_up_rejoins_as_backup():
    h = Harness(advert_interval_ms=100)
    h.leader()
    actions = h.feed(m.LinkDown("no carrier"))
    assert actions == [m.CancelTimer(), m.BecomeFault("no carrier"), m.ReportStatus()]
    assert h.state == m.State.FAULT and int(h.state) == common_pb2.HA_ERROR
    assert h.machine.status().fault == "no carrier"
    assert h.wait(5.0) == [] and h.feed(advert(1)) == []  # silent, no timer, deaf to adverts
    assert h.feed(m.Failover()) == []
    actions = h.feed(m.LinkUp())
    assert actions[0] == m.BecomeBackup() and h.state == m.State.BACKUP and h.machine.status().fault == ""
    h.feed(advert(50, interval_cs=10))  # the peer took over meanwhile: without preempt, it stays master
    h.wait(0.2)
    h.feed(advert(50, interval_cs=10))
    assert h.state == m.State.BACKUP


def test_link_down_while_backup_or_handing_over_or_stopped():
    h = Harness(handover_hold_ms=300, advert_interval_ms=100)
    h.feed(m.Start())
    h.feed(m.LinkDown("down"))
    assert h.state == m.State.FAULT
    h.feed(m.LinkUp())
    h.wait(h.machine.master_down_interval())
    h.feed(m.Failover())
    assert h.machine.status().handing_over
    h.feed(m.LinkDown("down"))
    assert h.state == m.State.FAULT and not h.machine.status().handing_over
    h.feed(m.Stop())
    assert h.state == m.State.SHUTDOWN
    assert h.feed(m.LinkUp()) == []  # out of the election: stays out
    h.feed(m.LinkDown("gone"))
    assert h.feed(m.Start()) == [m.CancelTimer(), m.BecomeFault("gone"), m.ReportStatus()]  # starts in FAULT


def test_a_cut_off_master_comes_back_as_backup_behind_the_new_one():
    link = Link(
        [config(priority=255, advert_interval_ms=100), config(local_address=PEER, priority=1, advert_interval_ms=100)]
    )
    link.handle(0, m.Start())
    link.handle(1, m.Start())
    link.run(1.0)
    link.handle(0, m.LinkDown("no carrier"))
    link.alive[0] = False  # cut off: it hears nothing
    link.run(1.0)
    assert link.states()[1] == m.State.LEADER
    link.alive[0] = True
    link.handle(0, m.LinkUp())
    link.run(2.0)
    assert link.states() == [m.State.BACKUP, m.State.LEADER]


def test_a_shorter_hold_configured_while_handing_over_ends_it_sooner():
    h = Harness(priority=200, handover_hold_ms=300, advert_interval_ms=100)
    h.leader()
    h.feed(m.Failover())
    h.wait(0.05)
    assert h.feed(m.Reconfigure(config(priority=200, handover_hold_ms=0, advert_interval_ms=100))) == [
        m.SetTimer(h.clock.monotonic())
    ]
    h.wait(0.0)
    assert h.state == m.State.BACKUP and not h.machine.status().handing_over
