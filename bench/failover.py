"""Failover figures in the namespace lab: two Seesaw nodes against two keepalived (VRRPv3) nodes, same run.

    python bench/failover.py [--quick] [--trials N] [--quiet-seconds S] [--priorities adjacent|seesaw] [--keep-logs]

As root; it runs itself inside a private network and mount namespace (`unshare --net --mount` and
seesaw.lab.isolate) unless it already is in one: nothing touches the host. Both labs are up side by side
(the lab's `pair` topology twice: `bo-*` runs Seesaw, `bk-*` runs keepalived with a plain HTTP server on
each LB node, the same 100 ms advert interval, the same priorities and no preemption: `--priorities
adjacent` (the default: [ha] priorities = adjacent, 255/254; keepalived 254/253, it refuses 255 for
addresses it does not own) or `seesaw` (Seesaw's own 255/1; keepalived 254/1); Seesaw's DSR HTTP
service scheduled by mh, so that both nodes pick the same backend for a flow, as keepalived's nodes
serve it themselves), and their trials alternate, so both see the same machine. Seesaw's HA runs at
realtime priority 50 ([ha] realtime_priority). The client of each lab runs a probe loop: a fresh TCP
connection and HTTP request through the VIP every 10 ms (200 ms timeout), each stamped with the MAC
its client was sending to (seesaw.lab.probe).

* unplanned_failover_p99: from the fault to the first request answered through the new master's MAC
  after which none failed (seesaw.lab.outage), over `--trials` SIGKILLs of the master's whole HA
  software (Seesaw: the watchdog and its five daemons, HA first; keepalived: both processes) and as
  many losses of the master's links (its bridge ports go down). The master alternates between the two
  nodes, so half the takeovers are by the lower-priority node, whose RFC 5798 master-down interval is
  300.8 ms with adjacent priorities (254) and 399.6 ms with Seesaw's (1); the other's 300.4 ms.
  Baseline: keepalived in the same trials.
* planned_failover_p99: the master hands over (Seesaw: `seesaw -c failover`, the real CLI; keepalived:
  stopped with SIGTERM, its way to hand over), from the old master's priority-0 advert on the wire to the
  client answered through the new master; the requests that failed meanwhile are reported beside it.
* false_failovers: while one CPU spins at 100 % for `--quiet-seconds`, how often a node other than the
  master advertised (seen on the client's link); baseline: keepalived beside it, under the same load.
* ha_timer_lateness_p99: in that window, how late each of the master's adverts came after the one before
  (the advert timer's lateness as the wire shows it, kernel receive timestamps).
* takeover_announce_p99: in the unplanned trials, from the new master's first advert on the client's link (its
  HA is LEADER) to its first gratuitous ARP there (the clients are called over): everything between the
  election and the wire, Seesaw's HA -> NCC (Takeover) -> LB interface up -> GARP against keepalived's
  in-process one. Each trial line also shows the master-down timer as the wire saw it (old master's last
  advert to the new one's first; RFC 5798: 3 x interval + (256 - priority) / 256 x interval) and the client's
  part (the GARP to the first request answered through the new master).

Each figure ends as `BENCH <name> ours=<v> baseline=<v> ratio=<ours/baseline> unit=<u> [key=value ...]`;
lines starting with `#` are the trials one by one. --quick: one SIGKILL and one link loss (one each way),
two hand-overs (one each way) and 10 s of busy CPU, about a minute in all.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

from seesaw.lab import netns, topology, trials
from seesaw.lab.adverts import AdvertWatch, TakeoverPath, intrusions, lateness
from seesaw.lab.keepalived import KeepalivedPair, installed, keepalived_priorities, seesaw_priorities
from seesaw.lab.lab import Lab
from seesaw.lab.outage import percentile
from seesaw.lab.probe import Probe
from seesaw.lab.trials import Pair, Result, SeesawPair

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("ours", "keepalived")


@dataclass
class Side:
    """One implementation's lab, with its client's probe loop and advert watch."""

    name: str
    pair: Pair
    probe: Probe
    watch: AdvertWatch
    results: list[Result]
    paths: list[tuple[Result, TakeoverPath]] = field(default_factory=list)  # the unplanned trials, on the wire
    priorities: dict[str, int] = field(default_factory=dict)  # each node's VRRP priority


def master_down_ms(side: Side, node: str) -> float:
    """RFC 5798's master-down interval of `node` as backup, in ms."""
    interval = side.pair.topo.advert_interval_ms
    priority = side.priorities[node]
    return 3 * interval + (256 - priority) * interval / 256


def wire_note(side: Side, result: Result, path: TakeoverPath) -> str:
    """The takeover's parts as the client's link saw them."""

    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value * 1000:.1f} ms"

    served = None if result.trial.takeover is None or path.garp is None else result.fault + result.trial.takeover
    client = None if served is None or path.garp is None else served - path.garp
    return (
        f"timer {ms(path.timer)} (master-down {master_down_ms(side, result.new):.1f} ms), "
        f"LEADER to GARP {ms(path.announce)}, GARP to served {ms(client)}"
    )


def bench_line(name: str, ours: float, baseline: float, unit: str, **extra: object) -> str:
    ratio = f"{ours / baseline:.2f}" if baseline else ("1.00" if ours == baseline else "inf")  # 0 against 0: even
    tail = "".join(f" {key}={value}" for key, value in extra.items())
    return f"BENCH {name} ours={ours:.1f} baseline={baseline:.1f} ratio={ratio} unit={unit}{tail}"


def p99_line(name: str, samples_ms: dict[str, list[float]], p50_format: str, **extra: object) -> str:
    """The BENCH line of a latency: p99 ours against keepalived's, both p50s, the number of trials, then `extra`."""
    ours, theirs = samples_ms["ours"], samples_ms["keepalived"]
    return bench_line(
        name,
        percentile(ours, 99),
        percentile(theirs, 99),
        "ms",
        p50=format(statistics.median(ours), p50_format),
        baseline_p50=format(statistics.median(theirs), p50_format),
        trials=len(ours),
        **extra,
    )


def takeovers_ms(results: list[Result], kinds: tuple[str, ...], limit: float) -> list[float]:
    """Each trial's takeover in ms; a trial without one counts as `limit` (the wait it gave up after)."""
    chosen = [r for r in results if r.kind in kinds]
    return [1000 * (r.trial.takeover if r.trial.takeover is not None else limit) for r in chosen]


def summary(results: list[Result], kinds: tuple[str, ...]) -> str:
    """p50/p99 per direction, as `# ...` text."""
    parts = []
    for old, new in sorted({(r.old, r.new) for r in results if r.kind in kinds}):
        values = [1000 * r.trial.takeover for r in results if r.kind in kinds and r.old == old and r.trial.takeover]
        if values:
            parts.append(
                f"{old}->{new} n={len(values)} p50={statistics.median(values):.0f} p99={percentile(values, 99):.0f}"
            )
    return "; ".join(parts)


def run_trials(sides: list[Side], count: int, planned: int, say: Callable[[str], None]) -> None:
    """`count` rounds of a SIGKILL and a link loss on each side, then `planned` hand-overs.

    The master the fault hits alternates between the nodes (round and kind), so both directions are measured
    alike; the sides take turns going first, and Seesaw's crashed node restarts while keepalived is measured.
    """

    def record(side: Side, result: Result) -> None:
        side.results.append(result)
        note = ""
        if result.kind != "planned":
            topo = side.pair.topo
            path = side.watch.path(
                result.fault,
                str(topo.host(result.old).ip.ip),
                str(topo.host(result.new).ip.ip),
                trials.mac(topo, result.new),
            )
            side.paths.append((result, path))
            note = f"; {wire_note(side, result, path)}"
        say(f"# {side.name:<10} {result.describe()}{note}")

    for i in range(count):
        for k, kind in enumerate(("sigkill", "link")):
            for side in sides if (i + k) % 2 == 0 else sides[::-1]:
                trials.make_master(side.pair, side.probe, side.pair.topo.lbs[(i + k) % 2].name)
                fault = trials.sigkill if kind == "sigkill" else trials.link
                record(side, fault(side.pair, side.probe))
    for i in range(planned):  # each hand-over reverses the direction of the next
        for side in sides if i % 2 == 0 else sides[::-1]:
            record(side, trials.planned(side.pair, side.probe, side.watch))


@dataclass(frozen=True)
class Quiet:
    false_failovers: int
    lateness_ms: list[float]
    adverts: int
    failed: int


def quiet(sides: list[Side], seconds: float, say: Callable[[str], None]) -> dict[str, Quiet]:
    """Both labs steady, one CPU spinning for `seconds`: other nodes' advert episodes, the master's lateness."""
    masters = {side.name: trials.steady(side.pair, side.probe) for side in sides}
    with trials.busy_core(0):
        start = time.monotonic()
        time.sleep(seconds)
        end = time.monotonic()
    out = {}
    for side in sides:
        source = str(side.pair.topo.host(masters[side.name]).ip.ip)
        seen = side.watch.adverts(start, end)
        episodes = intrusions(seen, source)
        interval = side.pair.topo.advert_interval_ms / 1000
        late = [1000 * x for x in lateness([a for a in seen if a.source == source], interval)]
        failures = [s for s in side.probe.samples(start, end - side.probe.timeout) if not s.ok]
        failed = len(failures)
        out[side.name] = Quiet(episodes, late, len(seen), failed)
        say(
            f"# {side.name:<10} {seconds:.0f} s with one CPU busy: master {masters[side.name]}, {len(seen)} adverts, "
            f"{episodes} from another node, lateness p50 {statistics.median(late):.1f} ms p99 "
            f"{percentile(late, 99):.1f} ms max {max(late):.1f} ms, {failed} failed requests"
            + "".join(f"\n#   +{s.start - start:.3f} s to {s.mac}: {s.error}" for s in failures)
        )
    return out


def measure(work: Path, count: int, quiet_seconds: float, priorities: str, say: Callable[[str], None]) -> list[str]:
    """Both labs up, the trials, the busy minute; the BENCH lines."""
    with contextlib.ExitStack() as stack:
        # mh, not rr, for the DSR HTTP service: both nodes pick the same backend for a flow, so a request
        # straddling a failover is not reset by the other node's own pick (topology.consistent)
        ours_topo = dataclasses.replace(topology.consistent(topology.pair("bo-")), ha_priorities=priorities)
        ours_lab = Lab(work / "ours", ours_topo)
        started = time.monotonic()
        ours_lab.up()
        stack.callback(ours_lab.down)
        their_topo = dataclasses.replace(topology.pair("bk-"), ha_priorities=priorities)
        theirs = KeepalivedPair(work / "keepalived", their_topo)
        theirs.up()
        stack.callback(theirs.down)
        say(f"# both labs serving after {time.monotonic() - started:.1f} s ({ours_lab.dir}, {theirs.dir})")
        sides = []
        for name, pair in (("ours", SeesawPair(ours_lab)), ("keepalived", theirs)):
            topo = pair.topo
            vserver = topo.vservers[0]
            client = topo.ns(topo.client.name)
            probe = stack.enter_context(Probe(client, str(vserver.vip.ip), 80))
            watch = stack.enter_context(AdvertWatch(client))
            given = seesaw_priorities(topo) if name == "ours" else keepalived_priorities(topo)
            sides.append(Side(name, pair, probe, watch, [], priorities=given))
        say(f"# priorities: ours {sides[0].priorities}, keepalived {sides[1].priorities}")
        run_trials(sides, count, max(count, 2), say)
        calm = quiet(sides, quiet_seconds, say)

    by = {side.name: side for side in sides}
    lines = []
    limit = trials.TAKEOVER_TIMEOUT
    unplanned = {name: takeovers_ms(by[name].results, ("sigkill", "link"), limit) for name in NAMES}
    planned = {name: takeovers_ms(by[name].results, ("planned",), limit) for name in NAMES}
    for name in NAMES:
        say(f"# {name:<10} unplanned: {summary(by[name].results, ('sigkill', 'link'))}")
        say(f"# {name:<10} planned:   {summary(by[name].results, ('planned',))}")

    def failed(name: str, kinds: tuple[str, ...]) -> int:
        return sum(r.trial.failed for r in by[name].results if r.kind in kinds)

    def missed(name: str, kinds: tuple[str, ...]) -> int:
        return sum(1 for r in by[name].results if r.kind in kinds and r.trial.takeover is None)

    lines.append(
        p99_line(
            "unplanned_failover_p99",
            unplanned,
            ".0f",
            no_takeover=missed("ours", ("sigkill", "link")),
            baseline_no_takeover=missed("keepalived", ("sigkill", "link")),
        )
    )
    lines.append(
        p99_line(
            "planned_failover_p99",
            planned,
            ".0f",
            failed_requests=failed("ours", ("planned",)),
            baseline_failed_requests=failed("keepalived", ("planned",)),
        )
    )
    announce = {name: [1000 * p.announce for _, p in by[name].paths if p.announce is not None] for name in NAMES}
    for name in NAMES:
        lates = [1000 * p.timer - master_down_ms(by[name], r.new) for r, p in by[name].paths if p.timer is not None]
        if lates and announce[name]:
            say(
                f"# {name:<10} timer beyond master-down: p50 {statistics.median(lates):.1f} ms p99 "
                f"{percentile(lates, 99):.1f} ms; LEADER to GARP: p50 {statistics.median(announce[name]):.1f} ms "
                f"p99 {percentile(announce[name], 99):.1f} ms"
            )
    if announce["ours"] and announce["keepalived"]:
        lines.append(p99_line("takeover_announce_p99", announce, ".1f"))
    lines.append(
        bench_line(
            "false_failovers",
            calm["ours"].false_failovers,
            calm["keepalived"].false_failovers,
            "count",
            seconds=f"{quiet_seconds:.0f}",
            busy_cpus=1,
            failed_requests=calm["ours"].failed,
        )
    )
    lines.append(
        bench_line(
            "ha_timer_lateness_p99",
            percentile(calm["ours"].lateness_ms, 99),
            percentile(calm["keepalived"].lateness_ms, 99),
            "ms",
            max=f"{max(calm['ours'].lateness_ms):.1f}",
            baseline_max=f"{max(calm['keepalived'].lateness_ms):.1f}",
            adverts=len(calm["ours"].lateness_ms),
        )
    )
    return lines


def rerun_isolated() -> int:
    """This bench again, inside a private network and mount namespace."""
    command = ["unshare", "--net", "--mount", "--propagation", "private", "--"]
    command += [sys.executable, "-m", "seesaw.lab.isolate", sys.executable, __file__, *sys.argv[1:]]
    return subprocess.run(command, cwd=ROOT, check=False).returncode


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1 trial of each unplanned kind, 10 s of busy CPU")
    parser.add_argument("--trials", type=int, help="trials of each kind (default 20; 1 with --quick, 2 hand-overs)")
    parser.add_argument("--quiet-seconds", type=float, help="seconds of busy CPU (default 60; 10 with --quick)")
    parser.add_argument(
        "--priorities",
        choices=("adjacent", "seesaw"),
        default="adjacent",
        help="[ha] priorities of both pairs: adjacent (255/254, keepalived 254/253; default) or seesaw (255/1, 254/1)",
    )
    parser.add_argument("--keep-logs", action="store_true", help="keep both labs' logs (their directory is printed)")
    args = parser.parse_args()
    count = args.trials or (1 if args.quick else 20)
    quiet_seconds = args.quiet_seconds or (10.0 if args.quick else 60.0)
    if os.geteuid() != 0:
        sys.exit("the failover bench needs root (network namespaces): run it with sudo")
    if not installed():
        sys.exit("the baseline needs keepalived: apt-get install -y keepalived (scripts/system-deps installs it)")
    if not netns.isolated():
        sys.exit(rerun_isolated())

    def on_term(signum: int, frame: FrameType | None) -> None:
        raise SystemExit(128 + signum)  # unwinds: both labs are taken down

    signal.signal(signal.SIGTERM, on_term)
    work = Path(tempfile.mkdtemp(prefix="seesaw-failover-bench-"))
    try:
        lines = measure(work, count, quiet_seconds, args.priorities, lambda text: print(text, flush=True))
    except BaseException:
        print(f"# the bench failed: both labs' logs are kept in {work}", file=sys.stderr, flush=True)
        raise
    if args.keep_logs:
        print(f"# both labs' logs are kept in {work}", flush=True)
    else:
        shutil.rmtree(work)
    for line in lines:
        print(line, flush=True)


if __name__ == "__main__":
    main()
