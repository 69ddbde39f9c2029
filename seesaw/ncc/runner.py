"""The asyncio shell around the reconciler: one dataplane call at a time, the audit, the journal.

Every call that touches the dataplane (apply, read, audit, ARP) holds one
lock, so Apply calls are serialised and a dataplane never sees two threads.
Dataplane calls may block (netlink, libnftables), so they run in a worker
thread and the event loop keeps answering; except a plan of a few steps (a
flipped backend) that the dataplane says it can apply inline (`inline_safe`,
see dataplane.py), applied on the loop's own thread: its kernel round trip is
shorter than the hop to a worker thread and back, which on a busy or
virtualised single CPU costs milliseconds. A call cancelled meanwhile (the
engine gave up on its Apply) keeps the lock until its thread has finished:
a thread cannot be stopped, and the next call must not run beside it. The journal (journal.py) is
written in the background, at most once a second, and once more on stop.

Writes go before reads waiting for the lock (an Apply is served before a
view's read or an audit's next part; `DataplaneLock`), views that come
together share one read, and a takeover that finds a read holding the lock
takes the express lane: the host part raises and announces the LB interface
at once, beside the read's thread, and the Apply follows as usual (`_express`).

`apply_pb` converts the engine's request under that lock, so the reconciler's
fingerprints (partitions sent again byte for byte) are checked against the
state the plan is made on.

Python's cyclic garbage collector is paused while an apply, a read or an
audit runs: a large state is hundreds of thousands of long-lived objects made
at once, and the collector would walk all of them again and again as they
are made. After one of those made or read a large state, what survived is
frozen (gc.freeze), so later collections skip it and a one-destination flip
never pays for walking the whole state. NCC's objects hold no reference
cycles, so what is freed later still goes by reference counting.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

from seesaw.common.clock import Clock
from seesaw.ncc import convert, journal
from seesaw.ncc.dataplane import Dataplane, DataplaneError, KernelState, StaleRead, TakeoverKit
from seesaw.ncc.model import LB_PARTITION, IPAddress, LBInterface, ObjectError, Request
from seesaw.ncc.planner import Plan
from seesaw.ncc.reconciler import RESET, Outcome, Reconciler, Status
from seesaw.ncc.steps import Op, Step, StepResult
from seesaw.ncc.takeover import TakeoverOrder, remakes_kit
from seesaw.pb import ncc_pb2

log = logging.getLogger("seesaw.ncc")

DEFAULT_AUDIT_INTERVAL = 10.0
JOURNAL_INTERVAL = 1.0
LARGE = 1000  # objects made or read at once, after which the survivors are frozen (see above)
INLINE_STEPS = 16  # plans this small are applied on the event loop's thread (see above)
AUDIT_DUTY = 0.1  # at most this share of the time goes to audits: they hold the lock an Apply needs
OVERTAKEN_AUDITS = 3  # audit rounds in a row an Apply overtook, after which one reads the whole under the lock
SLOW_WAIT = 0.05  # a call that waited this long for the lock says so, and behind what
READ_REUSE = 0.25  # a read this recent, with nothing written since, answers a view's read again
T = TypeVar("T")


def audit_pause(interval: float, last_took: float) -> float:
    """How long to wait before the next audit: `interval`, stretched so that audits (which hold the
    dataplane lock while they read the whole state, seconds at 10,000 services) take at most
    AUDIT_DUTY of the time and an Apply rarely waits behind one."""
    return max(interval, last_took / AUDIT_DUTY - last_took)


class DataplaneLock:
    """The one lock around the dataplane. Writes go first: an `urgent` holder (an Apply: a takeover, a
    flipped backend) is served before every read still waiting (a view's counters, an audit's part).
    It knows what holds it: a call that waited long says behind what."""

    def __init__(self) -> None:
        self._lock = asyncio.Lock()
        self.holder = ""  # what holds it now ("" when free)
        self.reading = False  # the holder only reads (in a worker thread): the express lane may pass it
        self._urgent_waiting = 0

    def locked(self) -> bool:
        return self._lock.locked()

    @contextlib.asynccontextmanager
    async def hold(self, what: str, urgent: bool = False, read: bool = False) -> AsyncIterator[None]:
        loop = asyncio.get_running_loop()
        behind, started = self.holder, loop.time()
        if urgent:
            self._urgent_waiting += 1
        try:
            while True:
                await self._lock.acquire()
                if urgent or not self._urgent_waiting:
                    break
                self._lock.release()  # a write is waiting: it goes first (the lock's queue is first come first served)
                await asyncio.sleep(0)
        finally:
            if urgent:
                self._urgent_waiting -= 1
        try:
            waited = loop.time() - started
            if waited >= SLOW_WAIT:
                log.info("%s waited %.0f ms for the dataplane, behind %s", what, waited * 1000, behind or "a queue")
            self.holder, self.reading = what, read
            yield
        finally:
            self.holder, self.reading = "", False
            self._lock.release()


class Runner:
    def __init__(
        self,
        dataplane: Dataplane,
        reason: str,
        clock: Clock,
        audit_interval: float = DEFAULT_AUDIT_INTERVAL,
        journal_path: Path | None = None,
        inline_steps: int = INLINE_STEPS,
    ) -> None:
        self.dataplane = dataplane
        self.inline_steps = inline_steps
        self.audit_interval = audit_interval
        self.journal_path = journal_path
        self.reconciler = Reconciler(dataplane.name, reason, clock)
        self.ready = False
        self._lock = DataplaneLock()
        self._journaled_generation = 0
        self._reading: asyncio.Future[KernelState] | None = None  # the read in progress, shared
        self._takeovers: TakeoverOrder[Step] = TakeoverOrder()  # HA's word on the LB interface vs the engine's
        self._last_read: tuple[KernelState, float, int] | None = None  # state, loop time, writes_total then
        self.overtaken_audits = 0  # audit rounds in a row whose read an Apply overtook (see `audit`)
        self._kit: TakeoverKit | None = None  # the takeover kit HA is offered (see `kits`)
        self._kit_serial = 0
        self._kit_changed = asyncio.Condition()

    async def start(self) -> None:
        """Read what the dataplane holds (never flushing it), take back the journal, and become ready."""
        async with self._lock.hold("start: the first read"):
            with _collector_paused() as size:
                state = await _in_thread(self.dataplane.read)
                size.append(len(state.objects))
                self.reconciler.observe(state)
                if self.journal_path is not None:
                    partitions, errors = await _in_thread(journal.load, self.journal_path)
                    for error in errors:
                        log.warning("journal: %s", error)
                    self.reconciler.restore(partitions)
                    if partitions:
                        log.info("took back %d partitions from %s", len(partitions), self.journal_path)
            await self._refresh_kit()
        self.ready = True
        log.info(
            "dataplane %s holds %d objects; those the engine asks for are adopted as they are",
            self.dataplane.name,
            len(state.objects),
        )

    async def apply_pb(self, message: ncc_pb2.ApplyRequest) -> Outcome:
        """Apply (or dry-run) the engine's request as it came: converted here, partitions sent unchanged skipped."""
        if message.has_lb and not message.dry_run:
            message = self._weigh_against_takeover(message)
            if message.has_lb:
                raised = self._takeovers.settled()
                if raised is not None and not message.lb.up:
                    # the kernel's LB interface is up since the express lane: this "down" is a change to carry
                    # out (an "up" goes the usual way: its step does the rest, routes, VLANs, finds the link up)
                    self.reconciler.record_express(raised)
            if self._lock.reading and message.has_lb and message.lb.up:
                self._express_pb(message.lb, f"ahead of {self._lock.holder or 'a read'}")
        async with self._lock.hold("Apply", urgent=True):
            with _collector_paused() as size:
                request, errors = convert.request_from_pb(message, self.reconciler.accepted)
                outcome = await self._apply(request, errors, message.dry_run)
                size.append(len(outcome.steps))
            if message.has_lb and not message.dry_run:
                self._takeovers.settled()  # the engine's word on the LB interface is carried out
        _log_outcome(outcome)
        return outcome

    async def apply(self, request: Request, input_errors: Sequence[ObjectError] = (), dry_run: bool = False) -> Outcome:
        async with self._lock.hold("Apply", urgent=True):
            with _collector_paused() as size:
                outcome = await self._apply(request, input_errors, dry_run)
                size.append(len(outcome.steps))
        _log_outcome(outcome)
        return outcome

    async def takeover(self, since_unix_ms: int, raised_kit: int = 0) -> str:
        """HA leads since `since_unix_ms` (its clock): raise and announce the LB interface now, as the engine
        last set it up but for `up`; the engine's Apply follows. Returns why not ("" when raised).

        `raised_kit`: HA set the link up and sent the burst itself, with the takeover kit of that serial
        (`kits`); NCC records the takeover the same way and sends the burst's repeats.

        Refused when the engine has since spoken for a later HA state. Beside a read holding the dataplane
        it goes at once (the express lane); otherwise it takes the lock first, ahead of waiting reads.
        """
        refused = self._takeovers.refuses(since_unix_ms)
        if refused:
            if raised_kit:
                log.warning(
                    "HA raised the LB interface for a leadership the engine has since overruled (%s): "
                    "the next audit takes it down again, as the engine last asked",
                    refused,
                )
            return refused
        why = "at HA's word" if not raised_kit else f"after HA raised it (kit {raised_kit})"
        if not self._lock.reading:
            async with self._lock.hold("Takeover", urgent=True):
                outcome = self._express(None, why, bool(raised_kit))
        else:
            outcome = self._express(None, f"{why}, ahead of {self._lock.holder or 'a read'}", bool(raised_kit))
        await self._refresh_kit()  # up now: no kit
        return outcome

    async def kits(self) -> AsyncIterator[tuple[int, TakeoverKit | None]]:
        """The takeover kit (with its serial) now, then each time it changes: what HA carries out itself the
        moment it leads (the LB interface's link up, the burst), so that no hop to NCC comes first.

        Offered while the LB interface NCC applied is down and as NCC set it up (the host part's fast path
        would take it: dataplane.TakeoverKit); None otherwise. Made again after every change to the LB
        interface, its VLANs or VIPs, after every audit, and after a takeover."""
        seen = -1
        while True:
            async with self._kit_changed:
                while self._kit_serial == seen:
                    await self._kit_changed.wait()
                seen, kit = self._kit_serial, self._kit
            yield seen, kit

    async def _refresh_kit(self) -> None:
        make = getattr(self.dataplane, "takeover_kit", None)
        kit = None
        if callable(make):
            lb = _applied_lb(self.reconciler.applied.objects(LB_PARTITION).values())
            if lb is not None and not lb.up:
                kit = make(lb)  # a few plain rtnetlink calls, as the express lane's
            if kit is not None:
                kit = dataclasses.replace(kit, neighbours=self.reconciler.dsr_destinations())
        if kit == self._kit:
            return
        async with self._kit_changed:
            self._kit, self._kit_serial = kit, self._kit_serial + 1
            self._kit_changed.notify_all()
        if kit is not None:
            log.info(
                "takeover kit %d ready for HA: %s (index %d), %d frames",
                self._kit_serial,
                kit.interface,
                kit.index,
                len(kit.frames),
            )
        else:
            log.info("takeover kit withdrawn")

    def _weigh_against_takeover(self, message: ncc_pb2.ApplyRequest) -> ncc_pb2.ApplyRequest:
        """The engine's word on the LB interface, unless it is a "down" older than HA's own takeover (the
        engine sent it before HA's report reached it): that one is not carried out, the rest is."""
        since = message.lb.ha_since_unix_ms
        if self._takeovers.carries(message.lb.up, since):
            return message
        log.warning(
            "the engine's LB interface down follows an HA state older than HA's takeover (%d ms before it): "
            "kept up until the engine's next word",
            self._takeovers.takeover_since - since,
        )
        kept = ncc_pb2.ApplyRequest()
        kept.CopyFrom(message)
        kept.ClearField("lb")
        kept.has_lb = False
        return kept

    def _express_pb(self, message: ncc_pb2.LBInterface, why: str) -> None:
        try:
            new = convert.lb_from_pb(message)
        except convert.Invalid:
            return  # the Apply reports it
        self._express(new, why)

    def _express(self, new: LBInterface | None, why: str, raised: bool = False) -> str:
        """The express lane: the LB interface up and announced at once, on this thread (the host part's
        fast path: a few plain rtnetlink calls and the burst), beside a read's thread if one holds the
        dataplane (a view's, an audit's part: 100s of ms on a busy machine). The engine's Apply follows
        under the lock as usual and finds it done; an audit whose read this overtook repairs nothing, nor
        does one for a few seconds (takeover.SETTLE) (it would take the interface down again before the engine's
        word came). `raised`: HA set the link up itself (its takeover kit); what is left is the burst's
        repeats and the record. Returns why not ("" when raised)."""
        express = getattr(self.dataplane, "express", None)
        if not callable(express):
            return f"the {self.dataplane.name} dataplane has no fast takeover"
        old = _applied_lb(self.reconciler.applied.objects(LB_PARTITION).values())
        if old is None:
            return "no LB interface set up yet"
        if old.up:
            return "the LB interface is up already"
        if new is None:
            new = dataclasses.replace(old, up=True)
        elif dataclasses.replace(new, up=False) != old:
            return "the engine asks for a different LB interface"  # the Apply's own step does all of it
        log.info("takeover: raising the LB interface %s", why)
        step = Step(Op.UPDATE, LB_PARTITION, new, old)
        # HA resolved the DSR neighbours itself with its kit; without one, the host part does after the link runs
        neighbours = () if raised else self.reconciler.dsr_destinations()
        try:
            done = express([step], raised, neighbours)
        except DataplaneError as err:
            log.info("takeover: the fast path failed (%s); the engine's Apply does it", err)
            return f"the fast path failed: {err}"
        if not done:
            return "the fast path did not apply (see NCC's log); the engine's Apply does it"
        self._takeovers.took_over(step, asyncio.get_running_loop().time())
        return ""

    async def _apply(self, request: Request, input_errors: Sequence[ObjectError], dry_run: bool) -> Outcome:
        plan = self.reconciler.plan(request)
        if dry_run:
            return self.reconciler.dry_run(plan, input_errors)
        results = await self._perform(plan)
        outcome = self.reconciler.commit(plan, results, input_errors)
        if remakes_kit(plan.steps):
            await self._refresh_kit()
        return outcome

    async def reset(self) -> Outcome:
        """Remove everything NCC programmed (a clean suite stop)."""
        log.info("reset: removing everything NCC programmed")
        return await self.apply(RESET)

    async def audit(self) -> int:
        """Re-read the dataplane and repair drift on what NCC owns; returns the repairs made.

        The read goes part by part where the dataplane has parts (`read_parts`), each part's read under
        the lock on its own: an Apply (a takeover, a flipped backend) waits for one part's read at most,
        not for the whole state. A part that can read off the lock (`prepare_read`: the nftables services
        part lists its tables through the `nft` program, seconds at 10,000 services) does, beside Applies,
        and only takes its read in under the lock. If an Apply wrote meanwhile, what was read may be
        stale: this round repairs nothing, and the next audit reads again. After OVERTAKEN_AUDITS such
        rounds in a row, one reads the whole dataplane under the lock (Applies wait for it that once): on a
        node whose backends change every few seconds, drift is still found.
        """
        written = (self.reconciler.writes_total, self._takeovers.overtaken)
        whole = self.overtaken_audits >= OVERTAKEN_AUDITS
        with _collector_paused() as size:
            try:
                state = await (self._read_whole() if whole else self._read_in_parts())
            except StaleRead as err:
                return self._overtaken(str(err))
            size.append(len(state.objects))
            async with self._lock.hold("audit: repair"):
                if (self.reconciler.writes_total, self._takeovers.overtaken) != written:
                    return self._overtaken("the dataplane changed while it was read")
                self.overtaken_audits = 0
                if self._takeovers.settling(asyncio.get_running_loop().time()):
                    log.debug("audit: a takeover is under way (the engine's Apply is due); next round")
                    return 0
                self.reconciler.observe(state)
                plan = self.reconciler.plan_audit()
                results = await self._perform(plan)
                errors = self.reconciler.commit_audit(plan, results)
                await self._refresh_kit()
        repairs = sum(r.ok for r in results)
        for result in results:
            if result.ok:
                log.warning("audit: repaired drift: %s", result.step)
        for error in errors:
            log.error("audit: could not repair %s", error)
        return repairs

    def _overtaken(self, why: str) -> int:
        self.overtaken_audits += 1
        if self.overtaken_audits >= OVERTAKEN_AUDITS:
            log.info(
                "audit: %d rounds in a row overtaken by Applies (%s): the next reads under the lock",
                self.overtaken_audits,
                why,
            )
        else:
            log.debug("audit: %s; next round", why)
        return 0

    async def _read_whole(self) -> KernelState:
        """The whole dataplane in one read under the lock: the audit's way after OVERTAKEN_AUDITS rounds in a
        row that Applies overtook (a node whose backends change all the time still has its drift found)."""
        async with self._lock.hold("audit: the whole read (Applies overtook the last rounds)", read=True):
            return await _in_thread(self.dataplane.read)

    def _part_reads(self) -> Sequence[Callable[[], KernelState]]:
        """Each part's read (`read_parts`, bound methods of the parts), or the whole dataplane's as one."""
        read_parts = getattr(self.dataplane, "read_parts", None)
        return read_parts() if callable(read_parts) else [self.dataplane.read]

    async def _read_in_parts(self) -> KernelState:
        """The whole dataplane, read one part at a time, each under the lock (see `audit`)."""
        state = KernelState()
        for read in self._part_reads():
            owner = getattr(read, "__self__", None)
            part = type(owner).__name__ if owner is not None else "the dataplane"
            prepare = getattr(owner, "prepare_read", None)
            take_in = await _in_thread(prepare) if callable(prepare) else None  # off the lock, beside Applies
            if take_in is not None:
                async with self._lock.hold(f"audit: taking in the read of {part}", read=True):
                    found = take_in()  # StaleRead if an Apply changed the part meanwhile
            else:
                async with self._lock.hold(f"audit: read of {part}", read=True):
                    found = await _in_thread(read)
            state.add(found)
        return state

    async def run_audits(self, stop: asyncio.Event) -> None:
        """Audit every `audit_interval` seconds (longer after a slow audit: `audit_pause`) until `stop` is set.

        A non-positive interval disables it."""
        if self.audit_interval <= 0:
            return
        loop = asyncio.get_running_loop()
        took = 0.0
        while not stop.is_set():
            pause = audit_pause(self.audit_interval, took)
            if pause > self.audit_interval:
                log.info("audit: the last took %.1f s; next in %.0f s", took, pause)
            try:
                await asyncio.wait_for(stop.wait(), timeout=pause)
            except TimeoutError:
                started = loop.time()
                try:
                    await self.audit()
                except DataplaneError as err:
                    log.error("audit: reading the dataplane failed: %s", err)
                took = loop.time() - started

    async def save_journal(self) -> None:
        """Write the desired state to the journal if it changed since the last write."""
        generation = self.reconciler.generation
        if self.journal_path is None or generation == self._journaled_generation:
            return
        snapshot = self.reconciler.desired.snapshot()
        await asyncio.to_thread(journal.save, self.journal_path, snapshot)
        self._journaled_generation = generation

    async def run_journal(self, stop: asyncio.Event, interval: float = JOURNAL_INTERVAL) -> None:
        """Keep the journal current (at most one write per `interval`) until `stop`, then write it a last time."""
        while not stop.is_set():
            try:
                await asyncio.wait_for(stop.wait(), timeout=interval)
            except TimeoutError:
                pass
            try:
                await self.save_journal()
            except OSError as err:
                log.error("cannot write the journal %s: %s", self.journal_path, err)

    async def read(self) -> KernelState:
        """What the dataplane holds, for a view (GetState: the counters, an adoption).

        Callers that come together share one read, and a read under READ_REUSE seconds old answers again
        if nothing was written since: each read holds the lock an Apply needs (a /metrics scrape and the
        CLI at once would otherwise queue reads in front of a takeover).
        """
        if self._last_read is not None:
            state, at, writes = self._last_read
            if writes == self.reconciler.writes_total and asyncio.get_running_loop().time() - at < READ_REUSE:
                return state
        if self._reading is None:
            self._reading = asyncio.ensure_future(self._read_now())
        reading = self._reading
        try:
            return await asyncio.shield(reading)
        finally:
            if reading.done() and self._reading is reading:
                self._reading = None

    async def _read_now(self) -> KernelState:
        """A view's read: parts that can read off the lock (`peek`: the nftables services part, through the
        `nft` program) do, beside Applies; the rest is read under the lock."""
        writes = self.reconciler.writes_total
        state = KernelState()
        locked: list[Callable[[], KernelState]] = []
        with _collector_paused():
            for read in self._part_reads():
                peek = getattr(getattr(read, "__self__", None), "peek", None)
                found = await _in_thread(peek) if callable(peek) else None
                if found is None:
                    locked.append(read)
                else:
                    state.add(found)
            if locked:
                async with self._lock.hold("read", read=True):
                    for read in locked:
                        state.add(await _in_thread(read))
        self._last_read = (state, asyncio.get_running_loop().time(), writes)
        return state

    async def announce(self, targets: Sequence[tuple[str, IPAddress]]) -> list[str]:
        """Send one gratuitous ARP per (interface, address); returns what failed (the rest still went)."""
        failures = []
        async with self._lock.hold("gratuitous ARP"):
            for interface, address in targets:
                try:
                    await _in_thread(self.dataplane.send_gratuitous_arp, interface, address)
                except DataplaneError as err:
                    failures.append(f"{interface} {address}: {err}")
        return failures

    def status(self) -> Status:
        return self.reconciler.status()

    async def _perform(self, plan: Plan) -> list[StepResult]:
        if plan.empty:
            return []
        try:
            if len(plan.steps) <= self.inline_steps and _inline_safe(self.dataplane, plan.steps):
                return self.dataplane.apply(plan.steps)  # a few netlink round trips: cheaper than the thread hop
            return await _in_thread(self.dataplane.apply, plan.steps)
        except DataplaneError as err:  # the dataplane as a whole failed: no step can be trusted to have happened
            log.error("the %s dataplane failed: %s", self.dataplane.name, err)
            message = f"not applied: the {self.dataplane.name} dataplane failed ({err})"
            return [StepResult(step, message) for step in plan.steps]


def _applied_lb(specs: Iterable[object]) -> LBInterface | None:
    return next((spec for spec in specs if isinstance(spec, LBInterface)), None)


def _inline_safe(dataplane: Dataplane, steps: Sequence[Step]) -> bool:
    """Whether `dataplane` says it can apply `steps` on the event loop's thread (see dataplane.py)."""
    check = getattr(dataplane, "inline_safe", None)
    return callable(check) and bool(check(steps))


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    """`function(*args)` in a worker thread; if the caller is cancelled, only once that thread has finished."""
    work = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        # A thread cannot be stopped: hold on (and so to the caller's lock) until it has finished.
        while not work.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([work])
        if not work.cancelled():
            work.exception()  # retrieved: the caller is gone, and its cancellation is what it gets
        raise


@contextlib.contextmanager
def _collector_paused() -> Iterator[list[int]]:
    """Pause the cyclic garbage collector; freeze the survivors if the caller reports a large size.

    The caller appends how many objects it made or read to the list it is given.
    """
    size: list[int] = []
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield size
    finally:
        # Freeze first: the collector, enabled again, would otherwise start at the next allocation with
        # every object made meanwhile counted as young, and walk them all (a third of a second at 10,000
        # services); gc.freeze() moves them out of its sight and resets that count.
        if sum(size) >= LARGE:
            gc.freeze()
        if was_enabled:
            gc.enable()


def _log_outcome(outcome: Outcome) -> None:
    if outcome.steps or outcome.errors:
        log.info(
            "generation %d: %d steps, %d writes, %d errors",
            outcome.generation,
            len(outcome.steps),
            outcome.writes,
            len(outcome.errors),
        )
    for error in outcome.errors:
        log.warning("not applied: %s", error)
