"""Start one service's process the way Seesaw's watchdog did, minus its traps.

* argv[0] is `seesaw_<name>`; stdin is /dev/null; stdout and stderr go to
  `<log_dir>/seesaw_<name>.log.<YYYYMMDD-HHMMSS>`, with the symlink
  `seesaw_<name>.log` pointing at the newest. The log dir is created if
  missing (Seesaw logged "failed to create log file" every 2 s instead).
* The child leads a new process group, so SIGKILL reaches its own children.
* It runs as the configured user (when we are root) at the configured nice.
* Its environment carries SEESAW_CONFIG_DIR / SEESAW_RUN_DIR / SEESAW_LOG_DIR
  so it finds the same directories as the watchdog, and not NOTIFY_SOCKET:
  only the watchdog talks to systemd.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from seesaw.common import paths
from seesaw.watchdog.config import ServiceConfig

log = logging.getLogger(__name__)

# systemd's variables are for the watchdog alone.
_PRIVATE_ENV = ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS", "LISTEN_PID", "LISTEN_FDNAMES")


class SpawnError(Exception):
    """The process could not be started; the message says what to do."""


@dataclass(frozen=True)
class Dirs:
    """The directories the watchdog runs with, handed on to its children."""

    config_dir: Path
    run_dir: Path
    log_dir: Path


def child_environment(dirs: Dirs, base: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in (os.environ if base is None else base).items() if k not in _PRIVATE_ENV}
    env[paths.ENV_CONFIG_DIR] = str(dirs.config_dir)
    env[paths.ENV_RUN_DIR] = str(dirs.run_dir)
    env[paths.ENV_LOG_DIR] = str(dirs.log_dir)
    return env


def resolve_binary(binary: str, config_path: Path, search_path: str | None) -> str:
    """An executable's path: absolute as is; relative to watchdog.cfg's directory; else PATH, then our own bin dir."""
    where = f"binary = {binary} in {config_path}"
    if "/" in binary:
        candidate = Path(binary) if binary.startswith("/") else config_path.parent / binary
        if not candidate.is_file():
            raise SpawnError(f"{candidate}: no such file ({where}); install it or correct the path")
        if not os.access(candidate, os.X_OK):
            raise SpawnError(f"{candidate}: not executable ({where}); chmod +x it")
        return str(candidate.absolute())
    found = shutil.which(binary, path=search_path)
    if found is None:
        own_bin = Path(sys.executable).parent / binary  # console scripts sit next to our interpreter
        if own_bin.is_file() and os.access(own_bin, os.X_OK):
            return str(own_bin)
        raise SpawnError(
            f"{binary}: not found in PATH ({search_path or os.defpath}) nor in {own_bin.parent} ({where}); "
            "install seesaw there or give an absolute path"
        )
    return found


def log_file_name(name: str, wall: float) -> str:
    return f"seesaw_{name}.log.{time.strftime('%Y%m%d-%H%M%S', time.localtime(wall))}"


def open_log(log_dir: Path, name: str, wall: float | None = None) -> tuple[int, Path]:
    """Open (append) this run's log file, point `seesaw_<name>.log` at it; returns (fd, path)."""
    wall = time.time() if wall is None else wall
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        path = log_dir / log_file_name(name, wall)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC, 0o640)
    except OSError as exc:
        raise SpawnError(
            f"cannot create log file in {log_dir}: {exc.strerror}; fix the directory's permissions "
            "or choose another with --log-dir or log_dir in [default]"
        ) from None
    stamp = time.strftime("%Y/%m/%d %H:%M:%S", time.localtime(wall))
    os.write(fd, f"Log file for seesaw_{name} (stdout/stderr)\nCreated at: {stamp}\n".encode())
    link = log_dir / f"seesaw_{name}.log"
    temp = log_dir / f".seesaw_{name}.log.{os.getpid()}"
    try:
        if temp.is_symlink() or temp.exists():
            temp.unlink()
        temp.symlink_to(path.name)
        temp.replace(link)
    except OSError as exc:
        log.warning("Service %s: cannot update symlink %s: %s", name, link, exc.strerror)
    return fd, path


@dataclass(frozen=True)
class Credentials:
    """Who the child runs as; all None: as the watchdog itself."""

    user: int | None = None
    group: int | None = None
    extra_groups: list[int] | None = None


def credentials(service: ServiceConfig) -> Credentials:
    if service.user is None or os.geteuid() == service.uid:
        return Credentials()
    if os.geteuid() != 0:
        raise SpawnError(f"cannot run as user {service.user}: the watchdog is not root; run it as root or drop user=")
    return Credentials(service.uid, service.gid, os.getgrouplist(service.user, service.gid))


async def spawn(service: ServiceConfig, dirs: Dirs, config_path: Path) -> asyncio.subprocess.Process:
    """Start the service; SpawnError (with what to do) if it cannot be started."""
    env = child_environment(dirs)
    executable = resolve_binary(service.binary, config_path, env.get("PATH"))
    who = credentials(service)
    fd, log_path = open_log(dirs.log_dir, service.name)
    try:
        proc = await asyncio.create_subprocess_exec(
            service.argv0,
            *service.args,
            executable=executable,
            stdin=subprocess.DEVNULL,
            stdout=fd,
            stderr=fd,
            env=env,
            cwd="/",
            process_group=0,
            user=who.user,
            group=who.group,
            extra_groups=who.extra_groups,
        )
    except OSError as exc:
        os.write(fd, f"watchdog: exec {executable} failed: {exc}\n".encode())
        raise SpawnError(f"exec {executable}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if service.priority:
        try:
            os.setpriority(os.PRIO_PROCESS, proc.pid, service.priority)
        except OSError as exc:
            log.warning("Service %s: cannot set priority %d: %s", service.name, service.priority, exc.strerror)
    log.info("Service %s started: pid %d, %s, log %s", service.name, proc.pid, executable, log_path)
    return proc
