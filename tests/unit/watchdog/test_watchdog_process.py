"""Spawning a child for real: argv[0], process group, nice, environment, stdio, log files, user."""

import asyncio
import os
import pwd
import signal
import sys
import time
from pathlib import Path

import pytest

from seesaw.common import paths
from seesaw.watchdog.config import ServiceConfig
from seesaw.watchdog.process import Dirs, SpawnError, log_file_name, open_log, resolve_binary, spawn


def dirs(tmp_path: Path) -> Dirs:
    return Dirs(config_dir=tmp_path / "etc", run_dir=tmp_path / "run", log_dir=tmp_path / "log" / "nested")


async def cmdline(pid: int) -> list[bytes]:
    """The process's argv from /proc, once the kernel has set it: the spawner returns when the exec has
    begun (the child's close-on-exec pipe closed), a moment before the new program's arguments are in
    place, and a read then finds none."""
    for _ in range(200):
        found = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[:-1]
        if found:
            return found
        await asyncio.sleep(0.005)
    return []


def inspect(service: ServiceConfig, d: Dirs, config_path: Path) -> dict:
    """Spawn `service` (a long sleep), look at the live process through /proc, then kill it."""

    async def go() -> dict:
        proc = await spawn(service, d, config_path)
        try:
            pid = proc.pid
            return {
                "cmdline": await cmdline(pid),
                "pgid": os.getpgid(pid),
                "pid": pid,
                "nice": os.getpriority(os.PRIO_PROCESS, pid),
                "environ": dict(
                    item.split(b"=", 1) for item in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0") if item
                ),
                "stdin": os.readlink(f"/proc/{pid}/fd/0"),
                "stdout": os.readlink(f"/proc/{pid}/fd/1"),
                "stderr": os.readlink(f"/proc/{pid}/fd/2"),
                "cwd": os.readlink(f"/proc/{pid}/cwd"),
                "status": Path(f"/proc/{pid}/status").read_text(),
            }
        finally:
            os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()

    return asyncio.run(go())


def test_child_gets_seesaws_process_setup(tmp_path, monkeypatch):
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.setenv("WATCHDOG_USEC", "1000000")
    d = dirs(tmp_path)
    service = ServiceConfig(name="ncc", binary="/bin/sleep", args=("30",), priority=7)
    seen = inspect(service, d, tmp_path / "watchdog.cfg")
    assert seen["cmdline"] == [b"seesaw_ncc", b"30"]  # argv[0] as Seesaw set it
    assert seen["pgid"] == seen["pid"]  # leads its own process group
    assert seen["nice"] == 7
    env = seen["environ"]
    assert env[paths.ENV_CONFIG_DIR.encode()] == str(d.config_dir).encode()
    assert env[paths.ENV_RUN_DIR.encode()] == str(d.run_dir).encode()
    assert env[paths.ENV_LOG_DIR.encode()] == str(d.log_dir).encode()
    assert b"NOTIFY_SOCKET" not in env and b"WATCHDOG_USEC" not in env  # systemd talks to the watchdog only
    assert seen["stdin"] == "/dev/null"
    link = d.log_dir / "seesaw_ncc.log"
    assert seen["stdout"] == seen["stderr"] == str(link.resolve())
    assert seen["cwd"] == "/"


def test_output_lands_in_the_log_file_behind_the_symlink(tmp_path):
    d = dirs(tmp_path)
    service = ServiceConfig(name="engine", binary="/bin/sh", args=("-c", "echo to-stdout; echo to-stderr >&2"))

    async def go() -> int:
        proc = await spawn(service, d, tmp_path / "watchdog.cfg")
        return await proc.wait()

    assert asyncio.run(go()) == 0
    link = d.log_dir / "seesaw_engine.log"
    assert link.is_symlink() and not os.readlink(link).startswith("/")  # relative, like Seesaw's
    text = link.read_text()
    assert text.startswith("Log file for seesaw_engine (stdout/stderr)\nCreated at: ")
    assert "to-stdout\nto-stderr\n" in text


def test_log_file_name_and_symlink_follow_the_newest_run(tmp_path):
    when = time.mktime((2026, 3, 4, 5, 6, 7, 0, 0, -1))
    assert log_file_name("ha", when) == "seesaw_ha.log.20260304-050607"
    fd1, first = open_log(tmp_path / "a" / "b", "ha", when)
    fd2, same = open_log(tmp_path / "a" / "b", "ha", when)  # same second: appended, not clobbered
    fd3, later = open_log(tmp_path / "a" / "b", "ha", when + 61)
    for fd in (fd1, fd2, fd3):
        os.close(fd)
    assert first == same != later
    assert first.read_text().count("Log file for seesaw_ha") == 2
    assert os.readlink(tmp_path / "a" / "b" / "seesaw_ha.log") == later.name
    assert sorted(p.name for p in (tmp_path / "a" / "b").iterdir()) == [
        "seesaw_ha.log",
        "seesaw_ha.log.20260304-050607",
        "seesaw_ha.log.20260304-050708",
    ]


def test_an_unusable_log_dir_says_what_to_do(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(SpawnError, match=r"cannot create log file in .*--log-dir or log_dir in \[default\]"):
        open_log(blocker / "log", "ncc")


def test_binary_resolution(tmp_path):
    cfg = tmp_path / "etc" / "watchdog.cfg"
    tool = tmp_path / "etc" / "bin" / "tool"
    tool.parent.mkdir(parents=True)
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    plain = tmp_path / "etc" / "bin" / "plain"
    plain.write_text("")
    assert resolve_binary("/bin/sh", cfg, None) == "/bin/sh"
    assert resolve_binary("bin/tool", cfg, None) == str(tool)  # relative to watchdog.cfg
    assert resolve_binary("tool", cfg, str(tool.parent)) == str(tool)  # through PATH
    own = Path(sys.executable).parent
    assert resolve_binary("python", cfg, "/nonexistent") == str(own / "python")  # next to our interpreter
    with pytest.raises(SpawnError, match=r"not found in PATH .*install seesaw there or give an absolute path"):
        resolve_binary("seesaw-no-such-thing", cfg, "/nonexistent")
    with pytest.raises(SpawnError, match=r"no such file .*install it or correct the path"):
        resolve_binary("/usr/local/seesaw/seesaw_ncc", cfg, None)
    with pytest.raises(SpawnError, match=r"not executable .*chmod \+x"):
        resolve_binary("bin/plain", cfg, None)


def test_spawn_of_a_missing_binary_is_a_spawn_error(tmp_path):
    service = ServiceConfig(name="ncc", binary="/usr/local/seesaw/seesaw_ncc")
    with pytest.raises(SpawnError, match="seesaw_ncc: no such file"):
        asyncio.run(spawn(service, dirs(tmp_path), tmp_path / "watchdog.cfg"))


@pytest.mark.skipif(os.geteuid() != 0, reason="switching users needs root")
def test_child_runs_as_the_configured_user(tmp_path):
    nobody = pwd.getpwnam("nobody")
    service = ServiceConfig(
        name="ecu", binary="/bin/sleep", args=("30",), user="nobody", uid=nobody.pw_uid, gid=nobody.pw_gid
    )
    status = inspect(service, dirs(tmp_path), tmp_path / "watchdog.cfg")["status"]
    fields = dict(line.split(":", 1) for line in status.splitlines())
    assert fields["Uid"].split()[:2] == [str(nobody.pw_uid)] * 2
    assert fields["Gid"].split()[:2] == [str(nobody.pw_gid)] * 2
    assert "0" not in fields["Groups"].split()  # root's groups are dropped
