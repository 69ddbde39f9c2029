"""The host side of the kernel tests: boot one guest for a batch of inner tests and read back what they did.

A batch is `python -m pytest <tests/kernel/GUEST>` run by the guest's runner (scripts/run-in-uml or
scripts/run-in-vm) with a junit XML written into a directory shared read-write with the host. `run_batch` boots
the guest once and returns the runner's status and output and the inner test cases; `BatchResult.problem` says,
with the inner failures' names and messages, why the batch must fail the host test (or None when it passed).
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
JUNIT_NAME = "junit.xml"
TIMED_OUT = 124  # the runners' status when their -t limit expired
GUEST_FAILED = 125  # the runners' status when the guest died before reporting the command's status
# variables of the host pytest that must not steer the inner one
_HOST_ONLY_ENV = ("PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS", "PYTEST_PLUGINS", "PYTEST_XDIST_WORKER")


@dataclass(frozen=True)
class Guest:
    """One kind of guest: its runner, the directory of its inner tests, and what the host must have."""

    name: str
    runner: Path
    tests: Path
    runner_args: tuple[str, ...]
    needs: tuple[tuple[str, str], ...]  # (file or command, Debian package providing it)

    def missing_packages(self) -> list[str]:
        missing = []
        for need, package in self.needs:
            found = os.access(need, os.X_OK) if need.startswith("/") else shutil.which(need) is not None
            if not found and package not in missing:
                missing.append(package)
        return missing


UML = Guest(
    name="uml",
    runner=REPO / "scripts" / "run-in-uml",
    tests=REPO / "tests" / "kernel" / "uml",
    # -o: the host's files are copy-on-write in the guest; only the checkout and the junit dir are written through
    runner_args=("-o",),
    needs=(("/usr/bin/linux.uml", "user-mode-linux"),),  # without kmod the runner loads modules itself
)
QEMU = Guest(
    name="qemu",
    runner=REPO / "scripts" / "run-in-vm",
    tests=REPO / "tests" / "kernel" / "qemu",
    runner_args=(),
    needs=(
        ("qemu-system-x86_64", "qemu-system-x86"),
        ("/bin/busybox", "busybox-static"),
        ("modprobe", "kmod"),
        ("depmod", "kmod"),
    ),
)


def host_skip_reason(guest: Guest) -> str | None:
    """Why `guest` cannot be booted from here, or None when it can."""
    if os.environ.get("UML_GUEST") == "1" or os.environ.get("QVM_GUEST") == "1":
        return "already inside a guest: the inner tests run directly here"
    if os.geteuid() != 0:
        return f"booting the {guest.name} guest needs root (run scripts/run-tests kernel as root)"
    if missing := guest.missing_packages():
        packages = " ".join(missing)
        install = f"apt-get install --no-install-recommends {packages}"
        return f"the {guest.name} runner needs {packages}: run scripts/system-deps as root, or {install}"
    return None


@dataclass(frozen=True)
class InnerCase:
    """One test case of the inner run, as its junit XML reports it."""

    name: str
    outcome: str  # passed | failed | error | skipped
    message: str = ""
    details: str = ""


def read_junit(path: Path, rootdir: Path = REPO) -> list[InnerCase]:
    """The test cases of a pytest junit XML file (xunit1 or xunit2), named by node id where it can be found."""
    cases = []
    for case in ET.parse(path).getroot().iter("testcase"):
        full_name = _node_id(case.get("classname", ""), case.get("name", ""), rootdir)
        outcome, message, details = "passed", "", ""
        for kind in ("failure", "error", "skipped"):
            element = case.find(kind)
            if element is not None:
                outcome = {"failure": "failed"}.get(kind, kind)
                message, details = element.get("message", ""), (element.text or "").strip()
                break
        cases.append(InnerCase(full_name, outcome, message, details))
    return cases


@dataclass(frozen=True)
class BatchResult:
    """What one guest boot produced: the runner's status and output, and the inner test cases."""

    guest: str
    returncode: int
    stdout: str
    stderr: str
    cases: tuple[InnerCase, ...] | None  # None: the guest wrote no junit XML
    seconds: float

    def count(self, outcome: str) -> int:
        return sum(case.outcome == outcome for case in self.cases or ())

    def summary(self) -> str:
        counts = ", ".join(f"{self.count(o)} {o}" for o in ("passed", "failed", "error", "skipped"))
        return f"{self.guest} guest: {counts} in {self.seconds:.1f} s (runner exit status {self.returncode})"

    def problem(self) -> str | None:
        """Why this batch fails the host test, naming the inner failures; None when it passed."""
        tail = _tail(self.stderr)
        if self.returncode == TIMED_OUT:
            return f"the {self.guest} guest timed out (runner exit status {TIMED_OUT}); its stderr ends with:\n{tail}"
        if self.cases is None:
            why = "the guest died before reporting" if self.returncode == GUEST_FAILED else "the inner pytest crashed"
            return (
                f"the {self.guest} guest wrote no junit XML ({why}; runner exit status {self.returncode}); "
                f"rerun by hand with -v (tests/kernel/README.md). Its stderr ends with:\n{tail}"
            )
        bad = [case for case in self.cases if case.outcome in ("failed", "error")]
        if bad:
            lines = [f"{len(bad)} of {len(self.cases)} inner tests failed in the {self.guest} guest:"]
            for case in bad:
                headline = case.message.splitlines()[0] if case.message else "(no message)"
                lines.append(f"  {case.outcome.upper()} {case.name}: {headline}")
                lines.extend(f"      {line}" for line in _tail(case.details, 12).splitlines())
            return "\n".join(lines)
        if self.returncode != 0:
            return (
                f"the inner pytest in the {self.guest} guest exited with status {self.returncode} although no test "
                f"failed (no tests collected, usage error or internal error?); its output ends with:\n"
                f"{_tail(self.stdout)}\n{tail}"
            )
        if self.count("passed") == 0:
            skips = "\n".join(f"  {case.name}: {case.message}" for case in self.cases)
            return f"no inner test passed in the {self.guest} guest, so it proved nothing; skips:\n{skips or '  none'}"
        return None


def _node_id(classname: str, name: str, rootdir: Path) -> str:
    """pytest's node id (`tests/kernel/uml/test_x.py::TestY::test_z`), so a failure can be rerun by copy and paste.

    junit gives the module as a dotted classname (`tests.kernel.uml.test_x.TestY`); the longest prefix that names a
    file under `rootdir` is the module, the rest are classes. Without such a file the dotted name is kept.
    """
    parts = classname.split(".") if classname else []
    for cut in range(len(parts), 0, -1):
        module = rootdir.joinpath(*parts[:cut]).with_suffix(".py")
        if module.is_file():
            return "::".join([module.relative_to(rootdir).as_posix(), *parts[cut:], name])
    return f"{classname}::{name}" if classname else name


def _tail(text: str, lines: int = 40) -> str:
    return "\n".join(text.rstrip().splitlines()[-lines:])


def batch_command(guest: Guest, junit_dir: Path, timeout: int, pytest_args: tuple[str, ...] = ()) -> list[str]:
    """The host command that boots `guest` once and runs its inner tests, writing junit_dir/junit.xml."""
    return [
        str(guest.runner),
        "-t",
        str(timeout),
        *guest.runner_args,
        "-C",
        str(REPO),
        "-w",
        str(junit_dir),
        "--",
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        # hypothesis' plugin costs ~15 s of imports under qemu's software CPU, and guest tests do not need it
        "-p",
        "no:hypothesispytest",
        f"--junitxml={junit_dir / JUNIT_NAME}",
        "-o",
        "junit_family=xunit2",
        *pytest_args,
        str(guest.tests),
    ]


def run_batch(guest: Guest, junit_dir: Path, timeout: int, pytest_args: tuple[str, ...] = ()) -> BatchResult:
    """Boot `guest` once, run its inner tests there, and return what came back.

    The runner enforces `timeout` on the guest itself. If this process is interrupted (Ctrl-C, a pytest-timeout)
    or dies, the runner gets SIGTERM, which it forwards to the guest's process group, so no linux.uml or qemu is
    left over.
    """
    (junit_dir / JUNIT_NAME).unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if key not in _HOST_ONLY_ENV}
    started = time.monotonic()
    command = batch_command(guest, junit_dir, timeout, pytest_args)
    if setpriv := shutil.which("setpriv"):  # util-linux: SIGTERM to the runner if this process dies (SIGKILL, ...)
        command = [setpriv, "--pdeathsig", "TERM", "--", *command]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # the runner's own limit plus time to prepare a kernel (first qemu run) and to tear the guest down
        stdout, stderr = process.communicate(timeout=timeout + 900)
    except BaseException:
        _stop(process)
        raise
    return BatchResult(
        guest=guest.name,
        returncode=process.returncode,
        stdout=stdout,
        stderr=stderr,
        cases=_read_junit_if_complete(junit_dir / JUNIT_NAME),
        seconds=time.monotonic() - started,
    )


def _read_junit_if_complete(path: Path) -> tuple[InnerCase, ...] | None:
    try:
        return tuple(read_junit(path))
    except (OSError, ET.ParseError):  # missing, or cut short by a timeout
        return None


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
