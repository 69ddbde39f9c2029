"""The scheduler with real checkers against real loopback servers (Seesaw's TestCheckRun/Timeout/Dryrun and more)."""

import asyncio
import os
import socket

from hc_servers import TCPEchoServer, free_port

from seesaw.healthcheck.retry import Health
from seesaw.healthcheck.scheduler import DRY_RUN_MESSAGE, Scheduler
from seesaw.pb import healthcheck_pb2 as hc


def tcp_config(check_id, port, ip="127.0.0.1", interval_ms=250, timeout_ms=200, **kw):
    return hc.CheckConfig(
        id=check_id,
        name=f"TCP/{port}_0",
        type=hc.CHECK_TCP,
        target=ip,
        port=port,
        interval_ms=interval_ms,
        timeout_ms=timeout_ms,
        **kw,
    )


def full(*configs):
    return hc.CheckSet(full=True, upsert=list(configs))


def open_fds():
    return len(os.listdir("/proc/self/fd"))


def open_sockets():
    """Sockets this process holds (not the poller's epoll fd, nor pipes)."""
    fds = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            fds.append(os.readlink(f"/proc/self/fd/{fd}"))
        except FileNotFoundError:
            pass  # the directory's own fd, gone already
    return sum(link.startswith("socket:") for link in fds)


def test_check_run():
    """TestCheckRun: 250 ms interval succeeding; at 800 ms a failing config at 500 ms; stop at 2 s."""
    server = TCPEchoServer("127.0.0.1")
    closed = free_port("127.0.0.1")
    notified = []

    async def scenario():
        sched = Scheduler(on_transition=lambda c: notified.append(c.health.state))
        sched.start()
        sched.apply(full(tcp_config(1, server.port, interval_ms=250)))
        await asyncio.sleep(0.8)
        sched.apply(hc.CheckSet(upsert=[tcp_config(1, closed, interval_ms=500)]))
        await asyncio.sleep(1.2)
        await sched.stop()
        return sched.get(1)

    try:
        check = asyncio.run(scenario())
    finally:
        server.close()
    h = check.health
    assert 3 <= h.successes <= 5, f"want about 4 successes, got {h.successes}"
    assert 1 <= h.failures <= 3, f"want about 2 failures, got {h.failures}"
    assert notified == [Health.HEALTHY, Health.UNHEALTHY]
    assert "connection refused" in check.message


def test_check_timeout():
    """TestCheckTimeout: a 500 ms backend, 200 ms timeout failing; at 800 ms the timeout goes to 1 s."""
    slow = TCPEchoServer("127.0.0.1", delay=0.5)
    notified = []

    async def scenario():
        sched = Scheduler(on_transition=lambda c: notified.append(c.health.state))
        sched.start()
        config = tcp_config(1, slow.port, interval_ms=250, timeout_ms=200, send="hi", receive="hi")
        sched.apply(full(config))
        await asyncio.sleep(0.8)
        config.timeout_ms = 1000
        sched.apply(hc.CheckSet(upsert=[config]))
        await asyncio.sleep(1.2)
        await sched.stop()
        return sched

    try:
        sched = asyncio.run(scenario())
    finally:
        slow.close()
    h = sched.get(1).health
    assert 3 <= h.failures <= 5, f"want about 4 failures, got {h.failures}"
    assert 1 <= h.successes <= 3, f"want about 2 successes, got {h.successes}"
    assert notified == [Health.UNHEALTHY, Health.HEALTHY]
    assert sched.stats.skipped >= 1, "a run due while the previous one is still going is skipped"


def test_check_dry_run():
    """TestCheckDryrun: a failing check reports HEALTHY in dry-run mode, without probing."""
    closed = free_port("127.0.0.1")

    async def scenario():
        sched = Scheduler(dry_run=True)
        sched.start()
        sched.apply(full(tcp_config(1, closed, interval_ms=100)))
        await asyncio.sleep(0.25)
        await sched.stop()
        return sched.get(1)

    check = asyncio.run(scenario())
    assert check.health.state == Health.HEALTHY
    assert check.health.failures == 0 and check.health.successes >= 1
    assert check.message == DRY_RUN_MESSAGE


def test_full_set_replaces_and_delta_updates_in_place():
    server = TCPEchoServer("127.0.0.1")

    async def scenario():
        sched = Scheduler()
        sched.start()
        sched.apply(full(tcp_config(1, server.port, interval_ms=100), tcp_config(2, server.port, interval_ms=100)))
        await asyncio.sleep(0.3)
        first = sched.get(1)
        runs = first.health.successes
        assert runs >= 2 and first.health.state == Health.HEALTHY
        same = tcp_config(1, server.port, interval_ms=100)
        sched.apply(hc.CheckSet(upsert=[same], remove=[2]))
        assert sched.get(1) is first and sched.get(2) is None
        changed = tcp_config(1, server.port, interval_ms=100, retries=3)
        sched.apply(hc.CheckSet(upsert=[changed]))
        assert sched.get(1) is first, "a changed config keeps the check, its health and its counters"
        assert first.health.retries == 3 and first.health.successes >= runs
        sched.apply(full(tcp_config(3, server.port, interval_ms=100)))
        assert [c.id for c in sched] == [3]
        await sched.stop()

    try:
        asyncio.run(scenario())
    finally:
        server.close()


def test_interval_change_reschedules_from_last_start():
    server = TCPEchoServer("127.0.0.1")

    async def scenario():
        loop = asyncio.get_running_loop()
        sched = Scheduler()
        sched.start()
        sched.apply(full(tcp_config(1, server.port, interval_ms=100)))
        await asyncio.sleep(0.25)
        check = sched.get(1)
        sched.apply(hc.CheckSet(upsert=[tcp_config(1, server.port, interval_ms=5000)]))
        assert check.started + 5.0 > loop.time()
        assert abs(check.due - (check.started + 5.0)) < 1e-6, "one new interval after the last start"
        for _ in range(400):  # the run under way when the interval changed finishes, and counts
            if not check.running:
                break
            await asyncio.sleep(0.005)
        assert not check.running
        before = check.health.successes
        await asyncio.sleep(0.4)
        assert check.health.successes == before, "no run before the new interval has passed"
        await sched.stop()

    try:
        asyncio.run(scenario())
    finally:
        server.close()


def test_removal_cancels_in_flight_probe_and_closes_its_socket():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]

        async def scenario():
            sched = Scheduler()
            sched.start()
            base = open_sockets()
            sched.apply(full(tcp_config(1, port, interval_ms=100, timeout_ms=5000, receive="never")))
            for _ in range(100):
                await asyncio.sleep(0.02)
                if open_sockets() > base:
                    break
            assert sched.running == 1 and open_sockets() == base + 1, "the probe is connected and waiting"
            sched.apply(full())
            await asyncio.sleep(0.05)
            assert sched.running == 0
            assert open_sockets() == base, "the cancelled probe's socket must be closed"
            base_fds = open_fds()
            await sched.stop()
            assert open_fds() == base_fds - 1, "stop closes the poller's epoll fd"

        asyncio.run(scenario())


def test_concurrency_is_bounded():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        port = silent.getsockname()[1]

        async def scenario():
            sched = Scheduler(max_concurrent=5)
            sched.start()
            configs = [tcp_config(i, port, interval_ms=200, timeout_ms=150, receive="x") for i in range(1, 21)]
            sched.apply(full(*configs))
            peak = 0
            for _ in range(60):
                await asyncio.sleep(0.01)
                peak = max(peak, sched.running)
            await sched.stop()
            return peak, sched

        peak, sched = asyncio.run(scenario())
    assert peak == 5
    assert sched.stats.started >= 10
    assert max(sched.stats.lateness) > 0.05, "checks that waited for a slot start late"


def test_many_checks_no_leaks():
    """2,000 checks against one local server: all healthy, every one ran, nothing left behind after stop."""

    class Hangup(asyncio.Protocol):
        def connection_made(self, transport):
            transport.close()

    async def scenario():
        server = await asyncio.get_running_loop().create_server(Hangup, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        base_fds = open_fds()
        base_tasks = len(asyncio.all_tasks())
        sched = Scheduler(max_concurrent=200)
        sched.start()
        sched.apply(full(*[tcp_config(i, port, interval_ms=2000, timeout_ms=2000) for i in range(1, 2001)]))
        await asyncio.sleep(4.2)  # every check is due at least twice
        await sched.stop()
        await asyncio.sleep(0.05)  # let closed server-side transports finish
        leaked_tasks = len(asyncio.all_tasks()) - base_tasks
        leaked_fds = open_fds() - base_fds
        server.close()
        await server.wait_closed()
        return sched, leaked_tasks, leaked_fds

    sched, leaked_tasks, leaked_fds = asyncio.run(scenario())
    checks = list(sched)
    assert len(checks) == 2000
    failed = [c.message for c in checks if c.health.failures]
    assert not failed, f"{len(failed)} checks failed, e.g. {failed[:3]}"
    assert all(c.health.successes >= 1 for c in checks)
    # Each check was due at least twice (1,000 runs/s, backend in this same loop); a shared machine under heavy
    # load (other suites running) gets through fewer: the rate itself is bench/healthcheck.py's business.
    stats = sched.stats
    diag = f"started={stats.started} skipped={stats.skipped} max_latency={max(c.latency for c in checks):.3f}"
    assert sum(c.health.successes for c in checks) >= 3000, diag
    assert all(c.health.state == Health.HEALTHY for c in checks)
    assert leaked_tasks == 0
    assert leaked_fds <= 0


def test_zero_interval_and_timeout_take_the_defaults():
    """Seesaw panics on interval 0 and times every run out on timeout 0; here they mean cluster.pb's defaults."""
    from seesaw.healthcheck.check import Check, wire_of
    from seesaw.healthcheck.checkers import build

    config = tcp_config(1, 80, interval_ms=0, timeout_ms=0)
    check = Check(config, wire_of(config), build(config))
    assert (check.interval, check.timeout) == (10.0, 5.0)
    assert check.config == config, "the stored config is the one given"


class Hangup(asyncio.Protocol):
    """A backend that accepts and hangs up."""

    def connection_made(self, transport):
        transport.close()


def test_workers_are_a_pool_not_a_task_per_run():
    """Runs go to a few long-lived workers: no task is made per run, and the pool stays near the probes in flight."""

    async def scenario():
        loop = asyncio.get_running_loop()
        server = await loop.create_server(Hangup, "127.0.0.1", 0, backlog=1024)
        port = server.sockets[0].getsockname()[1]
        created = []

        def counting_factory(loop, coro, **kw):
            created.append(coro.__qualname__)
            return asyncio.Task(coro, loop=loop, **kw)

        sched = Scheduler(max_concurrent=500)
        sched.apply(full(*[tcp_config(i, port, interval_ms=100, timeout_ms=1000) for i in range(1, 201)]))
        loop.set_task_factory(counting_factory)
        sched.start()
        await asyncio.sleep(1.5)
        loop.set_task_factory(None)
        workers, started = sched.workers, sched.stats.started
        await sched.stop()
        server.close()
        await server.wait_closed()
        return created, workers, started, sched

    made, workers, started, sched = asyncio.run(scenario())
    assert started >= 1500, f"200 checks at 10/s for 1.5 s started only {started} runs"
    ours = [name for name in made if name.startswith("Scheduler.")]  # the rest serve the backend's connections
    assert ours == ["Scheduler._work"] * workers, "the only tasks the scheduler makes are its workers"
    assert workers <= 200 and workers * 5 <= started, f"{workers} workers for {started} runs"
    assert all(c.health.successes >= 5 and c.health.failures == 0 for c in sched)


def test_timeouts_fail_the_run_and_the_workers_go_on():
    """Runs that hang past their timeout fail with "timed out" (one deadline heap for all), sockets closed."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(128)
        port = silent.getsockname()[1]

        async def scenario():
            sched = Scheduler()
            base = open_sockets()
            configs = [tcp_config(i, port, interval_ms=300, timeout_ms=200, receive="x") for i in range(1, 31)]
            sched.apply(full(*configs))
            sched.start()
            # three runs each take about 1.1 s; a loaded machine gets more time, the outcome is the same
            deadline = asyncio.get_running_loop().time() + 10
            while any(c.health.failures < 3 for c in sched) and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.1)
            seen = {c.id: (c.health.failures, c.health.successes, c.message) for c in sched}
            sched.apply(full())  # nothing left to run: what is in flight is cancelled
            await asyncio.sleep(0.05)
            leaked = open_sockets() - base
            workers = sched.workers
            await sched.stop()
            return seen, leaked, workers

        seen, leaked, workers = asyncio.run(scenario())
    assert leaked == 0, "timed-out and cancelled probes close their sockets"
    assert workers <= 30
    for failures, successes, message in seen.values():
        assert failures >= 3 and successes == 0, "every run timed out, and the next ones still ran"
        assert message == f"TCP 127.0.0.1:{port}: timed out after 0.2 s"


def test_timed_out_results_say_so():
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(16)
        port = silent.getsockname()[1]
        notified = []

        async def scenario():
            sched = Scheduler(on_transition=lambda c: notified.append((c.id, c.health.state, c.message, c.latency)))
            sched.apply(full(*[tcp_config(i, port, interval_ms=1000, timeout_ms=200, receive="x") for i in (1, 2)]))
            sched.start()
            await asyncio.sleep(1.3)
            await sched.stop()

        asyncio.run(scenario())
    assert sorted(n[0] for n in notified) == [1, 2]
    for _, state, message, latency in notified:
        assert state == Health.UNHEALTHY
        assert message == f"TCP 127.0.0.1:{port}: timed out after 0.2 s"
        assert 0.19 <= latency < 0.5, latency


def test_a_failing_transition_callback_does_not_stop_the_checks(caplog):
    server = TCPEchoServer("127.0.0.1")
    closed = free_port("127.0.0.1")

    def broken(check):
        raise RuntimeError("report queue exploded")

    async def scenario():
        sched = Scheduler(on_transition=broken)
        sched.apply(full(tcp_config(1, server.port, interval_ms=100), tcp_config(2, closed, interval_ms=100)))
        sched.start()
        await asyncio.sleep(0.6)
        await sched.stop()
        return sched

    try:
        sched = asyncio.run(scenario())
    finally:
        server.close()
    assert sched.get(1).health.successes >= 3 and sched.get(2).health.failures >= 3
    assert "reporting the transition of check 1 failed" in caplog.text


def test_stop_then_start_again_in_a_new_loop():
    """The daemon's scheduler outlives nothing, but a stopped scheduler must be startable again."""
    server = TCPEchoServer("127.0.0.1")
    sched = Scheduler()

    async def run_for(seconds, configs=()):
        if configs:
            sched.apply(full(*configs))
        sched.start()
        await asyncio.sleep(seconds)
        await sched.stop()

    try:
        asyncio.run(run_for(0.35, [tcp_config(1, server.port, interval_ms=100)]))
        first = sched.get(1).health.successes
        assert sched.running == 0 and not sched.get(1).running
        asyncio.run(run_for(0.35))
    finally:
        server.close()
    assert first >= 2 and sched.get(1).health.successes >= first + 2


def test_a_recheck_runs_at_once_and_reports_even_without_a_transition():
    """The engine set a failure aside (our own link was down): the check runs now and its result is reported."""
    closed = free_port("127.0.0.1")
    reported = []

    async def scenario():
        sched = Scheduler(on_transition=lambda c: reported.append((c.health.state, c.checked)))
        sched.start()
        sched.apply(full(tcp_config(1, closed, interval_ms=60_000)))
        sched.get(1).health.state = Health.UNHEALTHY  # as after an earlier failed run
        await asyncio.sleep(0.2)  # its first run is somewhere in its minute: not now
        assert reported == []
        sched.apply(hc.CheckSet(recheck=[1, 99]))  # 99: unknown, ignored
        for _ in range(100):
            if reported:
                break
            await asyncio.sleep(0.01)
        first = list(reported)
        sched.apply(hc.CheckSet(upsert=[tcp_config(1, closed, interval_ms=100)]))
        await asyncio.sleep(0.35)  # later runs fail the same way: no transition, nothing reported
        await sched.stop()
        return first, sched.get(1)

    first, check = asyncio.run(scenario())
    assert [state for state, _ in first] == [Health.UNHEALTHY]  # unchanged, reported all the same
    assert reported == first
    assert check.health.failures >= 2
