"""FRR's bgpd (and zebra) for the lab and the tests, in a private directory, never the system's.

Two shapes:

* `standalone`: bgpd alone, as the calling user, with no zebra, no BGP
  listener, no kernel routes and no TCP VTY. It forms no session unless
  given a reachable neighbour; unit tests give it loopback ones only.
* full (default): zebra and bgpd as Debian's `frr` user (as the packaged
  service runs them), inside a network namespace, so bgpd learns the
  interfaces and addresses and peers for real.

Every daemon runs in the foreground as a child and is stopped by its PID;
the VTY sockets, pid files and logs live in `directory`, which the frr user
must be able to reach (`private_directory()` makes one). Neither
/etc/frr nor the frr service is ever touched.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

FRR_LIBEXEC = Path("/usr/lib/frr")
USER = "frr"


def missing() -> str:
    """Why FRR's daemons cannot be run here ("" when they can)."""
    for daemon in ("zebra", "bgpd"):
        if not os.access(FRR_LIBEXEC / daemon, os.X_OK):
            return f"FRR's {daemon} is not installed: apt-get install frr (scripts/system-deps)"
    try:
        pwd.getpwnam(USER)
    except KeyError:
        return f"there is no {USER!r} user (Debian's frr package creates it)"
    return ""


def private_directory() -> Path:
    """A fresh directory the frr user owns, outside any 0700 parent (pytest's tmp_path is one)."""
    user = pwd.getpwnam(USER)
    directory = Path(tempfile.mkdtemp(prefix="seesaw-frr-"))
    os.chown(directory, user.pw_uid, user.pw_gid)
    return directory


class FRR:
    def __init__(self, directory: Path, netns: str | None = None, standalone: bool = False) -> None:
        self.directory = directory
        self.netns = netns
        self.standalone = standalone
        self.processes: dict[str, subprocess.Popen[bytes]] = {}

    @property
    def bgpd_vty(self) -> Path:
        return self.directory / "bgpd.vty"

    def start(self) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        (self.directory / "frr.conf").touch()
        if not self.standalone:
            self._spawn("zebra")
            self._wait(self.directory / "zserv.api", "zebra")
        self.start_bgpd()

    def start_bgpd(self) -> None:
        self.bgpd_vty.unlink(missing_ok=True)
        self._spawn("bgpd")
        self._wait(self.bgpd_vty, "bgpd")

    def stop_bgpd(self) -> None:
        self._stop("bgpd")

    def stop(self) -> None:
        for name in ("bgpd", "zebra"):
            self._stop(name)

    def log(self, tail: int = 3000) -> str:
        parts = []
        for name in ("zebra", "bgpd"):
            with contextlib.suppress(OSError):
                parts.append(f"--- {name}.log\n{(self.directory / f'{name}.log').read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    def _argv(self, daemon: str) -> list[str]:
        argv = [str(FRR_LIBEXEC / daemon)]
        if self.standalone:  # bgpd only: stay who we are, no zebra, no kernel, no listener
            argv += ["-S", "-Z", "-n", "-p", "0"]
        else:
            argv += ["-u", USER, "-g", USER, "-z", str(self.directory / "zserv.api")]
        argv += ["-P", "0", "--vty_socket", str(self.directory), "-f", str(self.directory / "frr.conf")]
        argv += ["-i", str(self.directory / f"{daemon}.pid"), "--log", f"file:{self.directory / daemon}.log"]
        return ["ip", "netns", "exec", self.netns, *argv] if self.netns else argv

    def _spawn(self, daemon: str) -> None:
        self.processes[daemon] = subprocess.Popen(
            self._argv(daemon), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def _wait(self, path: Path, daemon: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        proc = self.processes[daemon]
        while not path.exists():
            if proc.poll() is not None or time.monotonic() > deadline:
                self._stop(daemon)
                raise RuntimeError(f"{daemon} did not start (exit {proc.returncode}); its log:\n{self.log()}")
            time.sleep(0.02)

    def _stop(self, daemon: str) -> None:
        terminate(self.processes.pop(daemon, None))


def terminate(proc: subprocess.Popen[bytes] | None, timeout: float = 10.0) -> None:
    """Stop a child we started (if still running): SIGTERM, SIGKILL after `timeout` seconds; reaped either way."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def running(directory: Path | None = None, netns: str | None = None, standalone: bool = False) -> Iterator[FRR]:
    """An `FRR` started in `directory` (a fresh private one if None, removed afterwards), stopped on exit."""
    owned = directory is None
    frr = FRR(directory or private_directory(), netns, standalone)
    try:
        frr.start()
        yield frr
    finally:
        frr.stop()
        if owned:
            shutil.rmtree(frr.directory, ignore_errors=True)
