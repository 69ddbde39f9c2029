"""The watchdog for real: a real seesaw-watchdog process supervising real children.

Each child is a small Python script written into tmp_path that serves
grpc.health.v1 on <run-dir>/<name>/<name>.sock with seesaw.common.rpc.UnixServer
and appends what happens to it ("start", "serving", "term", "exit") with a
timestamp to $EVENTS. No root is needed; scripts/run-tests runs this directory
inside a private namespace anyway.
"""

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest

from seesaw.common import paths

pytestmark = pytest.mark.slow

CHILD = f"""#!{sys.executable}
import os, sys, time

def note(what):
    with open(os.environ["EVENTS"], "a") as f:
        f.write(f"{{time.time():.6f}} {{NAME}} {{what}} {{os.getpid()}}\\n")

NAME = sys.argv[1]
opts = sys.argv[2:]
note("start")
if "--exit" in opts:  # crash at once, before the slow imports
    sys.exit(int(opts[opts.index("--exit") + 1]))

import asyncio, signal, subprocess
from pathlib import Path
from seesaw.common.rpc import UnixServer

async def main():
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    def on_term():
        if "--ignore-term" in opts:
            note("term-ignored")
        else:
            note("term")
            stop.set()
    loop.add_signal_handler(signal.SIGTERM, on_term)
    if "--grandchild" in opts:
        child = subprocess.Popen(["sleep", "300"])
        note(f"grandchild-{{child.pid}}")
    server = UnixServer(Path(os.environ["SEESAW_RUN_DIR"]), NAME)
    await server.start()
    if "--never-serve" not in opts:
        await asyncio.sleep(float(opts[opts.index("--serve-after") + 1]) if "--serve-after" in opts else 0)
        note("serving")  # just before: a probe can never see SERVING earlier than this note says
        await server.set_serving(True)
    print(f"{{NAME}} says hello on stdout", flush=True)
    await stop.wait()
    await server.stop(0)
    note("exit")

asyncio.run(main())
"""

FAST = """[default]
restart_delay = 200ms
max_backoff = 2s
healthy_after = 30s
start_timeout = 10s
"""


def section(name: str, dependency: str | None = None, args: str = "", **extra: str) -> str:
    lines = [f"[{name}]", "binary = ./child.py", f"args = {name} {args}".rstrip()]
    if dependency:
        lines.append(f"dependency = {dependency}")
    lines += [f"{k} = {v}" for k, v in extra.items()]
    return "\n".join(lines) + "\n"


SUITE = (
    FAST
    + section("ncc", priority="-5")
    + section("engine", "ncc", "--serve-after 0.3", term_timeout="3s")
    + section("ha", "engine")
    + section("healthcheck", "engine")
    + section("ecu", "engine")
)


class Watchdog:
    """A seesaw-watchdog process under test, with its own dirs and a NOTIFY_SOCKET we read."""

    def __init__(self, tmp_path: Path, config: str, env: dict[str, str] | None = None) -> None:
        self.dir = tmp_path
        self.run_dir = Path(tempfile.mkdtemp(prefix="wd-", dir="/tmp"))  # short: socket paths are limited
        self.log_dir = tmp_path / "logs" / "not-yet-there"
        self.events_path = tmp_path / "events"
        self.config_path = tmp_path / "watchdog.cfg"
        self.config_path.write_text(config)
        child = tmp_path / "child.py"
        child.write_text(CHILD)
        child.chmod(0o755)
        self.notify_path = self.run_dir / "notify"
        self.notify_sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify_sock.bind(str(self.notify_path))
        self.notify_sock.settimeout(0.1)
        self.notifications: list[tuple[float, str]] = []  # (time received, datagram), like systemd reads them
        self._draining = True
        self._drainer = threading.Thread(target=self._drain, daemon=True)
        self._drainer.start()
        self.stderr_path = tmp_path / "watchdog.stderr"
        full_env = {
            **os.environ,
            "EVENTS": str(self.events_path),
            "NOTIFY_SOCKET": str(self.notify_path),
            **(env or {}),
        }
        full_env.pop(paths.ENV_LOG_DIR, None)
        with self.stderr_path.open("w") as stderr:
            self.proc = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "seesaw.watchdog",
                    "--config",
                    str(self.config_path),
                    "--config-dir",
                    str(tmp_path),
                    "--run-dir",
                    str(self.run_dir),
                    "--log-dir",
                    str(self.log_dir),
                ],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                env=full_env,
            )

    # -- observing -----------------------------------------------------------------------------------------

    def status(self) -> dict:
        try:
            return json.loads((self.run_dir / "watchdog" / "status.json").read_text())
        except FileNotFoundError:
            return {}

    def wait_for(self, what: str, predicate, timeout: float = 15.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            value = predicate(status) if status else None
            if value:
                return value
            if self.proc.poll() is not None:
                raise AssertionError(f"watchdog exited ({self.proc.returncode}) waiting for {what}:\n{self.log()}")
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}; status:\n{json.dumps(self.status(), indent=1)}")

    def wait_ready(self, timeout: float = 20.0) -> dict:
        return self.wait_for("all services SERVING", lambda s: s if s["watchdog"]["ready"] else None, timeout)

    def events(self) -> list[tuple[float, str, str, int]]:
        if not self.events_path.exists():
            return []
        out = []
        for line in self.events_path.read_text().splitlines():
            stamp, name, what, pid = line.split()
            out.append((float(stamp), name, what, int(pid)))
        return out

    def first(self, name: str, what: str, after: float = 0.0) -> float:
        times = [t for t, n, w, _ in self.events() if n == name and w == what and t >= after]
        assert times, f"no {what!r} event from {name}: {self.events()}"
        return times[0]

    def _drain(self) -> None:
        while self._draining:
            try:
                data = self.notify_sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            self.notifications.append((time.time(), data.decode()))

    def read_notifications(self) -> list[str]:
        return [text for _, text in list(self.notifications)]

    def log(self) -> str:
        return self.stderr_path.read_text()

    def log_time(self, fragment: str) -> float:
        """When the watchdog logged the first line containing `fragment` (from its timestamp)."""
        line = next(line for line in self.log().splitlines() if fragment in line)
        stamp = time.mktime(time.strptime(line[:19], "%Y-%m-%d %H:%M:%S"))
        return stamp + int(line[20:23]) / 1000

    # -- acting --------------------------------------------------------------------------------------------

    def signal(self, sig: signal.Signals) -> None:
        self.proc.send_signal(sig)

    def stop(self, timeout: float = 30.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for pid in [pid for s in self.status().get("services", {}).values() if (pid := s.get("pid"))]:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self._draining = False
        self._drainer.join()
        self.notify_sock.close()
        shutil.rmtree(self.run_dir, ignore_errors=True)


@pytest.fixture
def watchdog(tmp_path):
    started: list[Watchdog] = []

    def start(config: str, env: dict[str, str] | None = None) -> Watchdog:
        wd = Watchdog(tmp_path, config, env)
        started.append(wd)
        return wd

    yield start
    for wd in started:
        wd.close()


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"


def test_starts_in_dependency_order_notifies_systemd_and_stops_in_reverse(watchdog):
    wd = watchdog(SUITE, env={"WATCHDOG_USEC": "300000"})
    status = wd.wait_ready()
    services = status["services"]
    assert {name: s["state"] for name, s in services.items()} == dict.fromkeys(
        ("ncc", "engine", "ha", "healthcheck", "ecu"), "running"
    )
    # A dependent starts only after its dependency answered SERVING (not merely after it was exec'd).
    assert wd.first("engine", "start") > wd.first("ncc", "serving")
    engine_serving = wd.first("engine", "serving")
    for name in ("ha", "healthcheck", "ecu"):
        assert wd.first(name, "start") > engine_serving
    assert engine_serving - wd.first("engine", "start") >= 0.3  # it took its time, and the others waited

    # systemd hears READY=1 once, after the last service is SERVING, and keep-alive pings.
    time.sleep(0.5)
    notes = wd.read_notifications()
    ready = [t for t, text in wd.notifications if "READY=1" in text]
    assert len(ready) == 1
    assert ready[0] >= max(wd.first(n, "serving") for n in ("ha", "healthcheck", "ecu"))
    assert any(text.startswith("STATUS=") and "waits for" in text for text in notes)
    assert "READY=1\nSTATUS=5/5 services serving" in notes
    assert notes.count("WATCHDOG=1") >= 3

    # Each child: new process group, the configured nice, its output in the log file behind the symlink.
    ncc_pid = services["ncc"]["pid"]
    assert os.getpgid(ncc_pid) == ncc_pid
    assert os.getpriority(os.PRIO_PROCESS, ncc_pid) == -5
    for name in services:
        link = wd.log_dir / f"seesaw_{name}.log"
        assert link.is_symlink()
        assert f"{name} says hello on stdout" in link.read_text()

    # SIGTERM: leaves first, then engine, then ncc; exit status 0.
    pids = {name: s["pid"] for name, s in services.items()}
    t0 = time.time()
    assert wd.stop() == 0
    engine_term = wd.first("engine", "term", after=t0)
    assert engine_term > max(wd.first(n, "exit", after=t0) for n in ("ha", "healthcheck", "ecu"))
    assert wd.first("ncc", "term", after=t0) > wd.first("engine", "exit", after=t0)
    assert not any(pid_alive(pid) for pid in pids.values())
    assert "STOPPING=1" in wd.read_notifications()
    final = wd.status()
    assert final["watchdog"]["shutting_down"] and not final["watchdog"]["ready"]
    assert {s["state"] for s in final["services"].values()} == {"stopped"}
    assert not (wd.run_dir / "engine" / "engine.sock").exists()  # the child cleaned up after a clean SIGTERM


def test_a_sigkilled_child_is_restarted_and_serves_again(watchdog):
    wd = watchdog(FAST + section("ncc") + section("engine", "ncc"))
    before = wd.wait_ready()["services"]
    os.kill(before["engine"]["pid"], signal.SIGKILL)
    after = wd.wait_for(
        "engine restarted",
        lambda s: s["services"] if s["watchdog"]["ready"] and s["services"]["engine"]["restarts"] == 1 else None,
    )
    assert after["engine"]["pid"] != before["engine"]["pid"]
    assert after["engine"]["last_exit"] == "killed by SIGKILL"
    assert after["engine"]["failures"] == 1
    assert after["ncc"]["pid"] == before["ncc"]["pid"] and after["ncc"]["restarts"] == 0
    assert "Service engine exited unexpectedly: killed by SIGKILL" in wd.log()
    assert wd.stop() == 0


def test_a_crash_loop_waits_longer_each_time_up_to_the_cap(watchdog):
    config = "[default]\nrestart_delay = 200ms\nmax_backoff = 800ms\n" + section("ncc", args="--exit 3")
    config += section("engine", "ncc")
    wd = watchdog(config)
    starts = wd.wait_for(
        "six starts of ncc",
        lambda s: (
            [t for t, n, w, _ in wd.events() if n == "ncc" and w == "start"][:6]
            if len([1 for _, n, w, _ in wd.events() if n == "ncc" and w == "start"]) >= 6
            else None
        ),
        timeout=20,
    )
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    # Each gap is the process' short life plus the delay: 0.2, 0.4, 0.8, 0.8, 0.8 s.
    for gap, delay in zip(gaps, [0.2, 0.4, 0.8, 0.8, 0.8], strict=True):
        assert delay <= gap < delay + 1.5, gaps
    assert gaps[2] > gaps[0] + 0.3, gaps
    status = wd.status()["services"]
    assert status["ncc"]["failures"] >= 5 and status["ncc"]["last_exit"] == "exit status 3"
    assert status["engine"]["starts"] == 0 and status["engine"]["waiting_for"] == "ncc"
    assert not any("READY=1" in text for text in wd.read_notifications())
    assert "Service ncc has failed 3 times in a row - delaying 800ms before restart" in wd.log()
    assert wd.stop() == 0


def test_a_child_ignoring_sigterm_is_sigkilled_with_its_group_after_term_timeout(watchdog):
    config = FAST + section("ncc") + section("engine", "ncc", "--ignore-term --grandchild", term_timeout="1s")
    wd = watchdog(config)
    wd.wait_ready()
    grandchild = next(int(w.split("-")[1]) for _, n, w, _ in wd.events() if w.startswith("grandchild-"))
    assert pid_alive(grandchild)
    t0 = time.time()
    assert wd.stop() == 0
    ignored = wd.first("engine", "term-ignored", after=t0)
    ncc_term = wd.first("ncc", "term", after=t0)
    assert 0.9 <= ncc_term - ignored < 3.0  # ncc waited for engine's term_timeout and SIGKILL
    assert "still running 1s after SIGTERM; sending SIGKILL to its process group" in wd.log()
    deadline = time.monotonic() + 5
    while pid_alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not pid_alive(grandchild)  # the whole process group went


def test_alive_but_never_serving_is_restarted_after_start_timeout(watchdog):
    config = "[default]\nrestart_delay = 200ms\nstart_timeout = 1s\n" + section("ncc", args="--never-serve")
    wd = watchdog(config)
    status = wd.wait_for("a restart", lambda s: s if s["services"]["ncc"]["restarts"] >= 1 else None, timeout=10)
    assert status["services"]["ncc"]["total_failures"] >= 1
    assert "did not answer grpc.health.v1 SERVING on" in wd.log()
    waited = wd.log_time("did not answer grpc.health.v1") - wd.log_time("Service ncc started")
    assert 1.0 <= waited < 2.0
    assert wd.stop() == 0


def test_sighup_with_a_bad_file_changes_nothing_and_a_good_file_is_applied(watchdog, tmp_path):
    wd = watchdog(FAST + section("ncc") + section("engine", "ncc") + section("ha", "engine"))
    before = {name: s["pid"] for name, s in wd.wait_ready()["services"].items()}

    wd.config_path.write_text(FAST + section("ncc") + section("engine", "nnc"))
    wd.signal(signal.SIGHUP)
    wd.wait_for("the refusal", lambda s: "Reload refused" in wd.log())
    time.sleep(0.5)
    assert "watchdog.cfg:12: [engine] dependency: no service named 'nnc'" in wd.log()
    assert {name: s["pid"] for name, s in wd.status()["services"].items()} == before
    assert wd.status()["watchdog"]["ready"]

    # Good file: ha removed, engine changed, healthcheck added, ncc untouched.
    wd.config_path.write_text(
        FAST + section("ncc") + section("engine", "ncc", "--serve-after 0.1") + section("healthcheck", "engine")
    )
    t_reload = time.time()
    wd.signal(signal.SIGHUP)
    after = wd.wait_for(
        "the new config running",
        lambda s: (
            s["services"]
            if s["watchdog"]["ready"] and "ha" not in s["services"] and "healthcheck" in s["services"]
            else None
        ),
    )
    assert after["ncc"]["pid"] == before["ncc"]
    assert after["engine"]["pid"] != before["engine"] and after["engine"]["failures"] == 0
    assert not pid_alive(before["ha"])
    assert wd.first("healthcheck", "start") > wd.first("engine", "serving", after=t_reload)
    notes = wd.read_notifications()
    assert "RELOADING=1" in notes and notes.count("READY=1") >= 1
    assert wd.stop() == 0


def test_an_unusable_config_at_start_exits_78_and_says_where(watchdog):
    wd = watchdog("[ncc]\nbinary = ./child.py\npriority = 99\n")
    assert wd.proc.wait(20) == 78
    log = wd.log()
    assert "watchdog.cfg:3: [ncc] priority: '99' is not a nice value; use an integer -20..19" in log
    assert "Not starting: fix" in log
