"""The runners' contract, booted for real: exit status, output, environment, cwd, shared dirs, host safety, timeout,
and a planted inner failure coming back to the host with its name and message.

Each check boots a guest of its own, so they are opt-in (SEESAW_KERNEL_RUNNER_CHECKS=1, see README.md) and the
default run keeps to one boot per guest. Run them after changing scripts/run-in-uml or scripts/run-in-vm.
"""

from __future__ import annotations

import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from kernel_guest import QEMU, REPO, TIMED_OUT, UML, Guest, host_skip_reason, run_batch

pytestmark = [
    pytest.mark.kernel,
    pytest.mark.slow,
    pytest.mark.skipif(
        os.environ.get("SEESAW_KERNEL_RUNNER_CHECKS") != "1",
        reason="boots extra guests: set SEESAW_KERNEL_RUNNER_CHECKS=1 to check the runners themselves",
    ),
]
GUESTS = [pytest.param(UML, id="uml"), pytest.param(QEMU, id="qemu")]
# a guest writes here outside every shared dir; the host must never see it
UNSHARED = Path("/var/tmp")


def _runner(
    guest: Guest, tmp_path: Path, *args: str, env: dict[str, str] | None = None, timeout: int = 600
) -> subprocess.CompletedProcess[str]:
    if (reason := host_skip_reason(guest)) is not None:
        pytest.skip(reason)
    work_base = tmp_path / "work"
    work_base.mkdir()
    # -o: UML writes through only the -C dir, the -w dirs and its work dir (qemu always works that way)
    overlay = ("-o",) if guest is UML else ()
    return subprocess.run(
        [str(guest.runner), *overlay, *args],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {}), "TMPDIR": str(work_base)},
        timeout=timeout,
        check=False,
    )


def _guest_processes_of(work_base: Path) -> list[str]:
    """Command lines of live processes that mention `work_base` (linux.uml and qemu name their work dir)."""
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(work_base) in text and "pytest" not in text:
            found.append(text)
    return found


@pytest.mark.parametrize("guest", GUESTS)
def test_runner_returns_status_output_and_writes_only_shared_dirs(guest: Guest, tmp_path: Path) -> None:
    mark = uuid.uuid4().hex
    cwd, shared = tmp_path / "cwd", tmp_path / "shared dir, with comma"
    cwd.mkdir()
    shared.mkdir()
    script = (
        'echo "out $MARK $(pwd) $UML_GUEST$QVM_GUEST"; echo "err $MARK" >&2; '
        'touch "$SHARED/from-guest" ./in-cwd "$UNSHARED/seesaw-kernel-$MARK"; exit 7'
    )
    env = {"MARK": mark, "SHARED": str(shared), "UNSHARED": str(UNSHARED)}
    run = _runner(guest, tmp_path, "-C", str(cwd), "-w", str(shared), "--", "sh", "-c", script, env=env)
    assert run.returncode == 7, run.stderr
    assert run.stdout.splitlines()[0] == f"out {mark} {cwd} 1"
    assert f"err {mark}" in run.stderr
    assert (shared / "from-guest").is_file()
    assert (cwd / "in-cwd").is_file()
    assert not (UNSHARED / f"seesaw-kernel-{mark}").exists(), "the guest wrote outside its shared dirs"
    assert list((tmp_path / "work").iterdir()) == [], "the runner left its work dir behind"


@pytest.mark.parametrize("guest", GUESTS)
def test_runner_times_out_with_124_and_leaves_no_guest_behind(guest: Guest, tmp_path: Path) -> None:
    started = time.monotonic()
    run = _runner(guest, tmp_path, "-t", "20", "-C", str(REPO), "--", "sleep", "600", timeout=300)
    assert run.returncode == TIMED_OUT, run.stderr
    assert "timed out after 20s" in run.stderr
    assert time.monotonic() - started < 120
    assert _guest_processes_of(tmp_path / "work") == []
    assert list((tmp_path / "work").iterdir()) == []


PLANTED_SUITE = """
import os

def test_runs_in_the_guest():
    assert os.environ.get("UML_GUEST") == "1" or os.environ.get("QVM_GUEST") == "1"

def test_planted_failure():
    assert 6 * 7 == 43, "planted failure"
"""


@pytest.mark.parametrize("guest", GUESTS)
def test_a_failing_inner_test_fails_the_batch_with_its_name_and_message(guest: Guest, tmp_path: Path) -> None:
    if (reason := host_skip_reason(guest)) is not None:
        pytest.skip(reason)
    suite, junit_dir = tmp_path / "suite", tmp_path / "junit"
    suite.mkdir()
    junit_dir.mkdir()
    (suite / "test_planted_in_guest.py").write_text(PLANTED_SUITE)
    planted = Guest(guest.name, guest.runner, suite, guest.runner_args, guest.needs)

    result = run_batch(planted, junit_dir, timeout=600)

    assert result.returncode == 1, result.stderr
    assert (result.count("passed"), result.count("failed")) == (1, 1)
    problem = result.problem()
    assert problem is not None
    assert f"1 of 2 inner tests failed in the {guest.name} guest" in problem
    assert "FAILED test_planted_in_guest::test_planted_failure: AssertionError: planted failure" in problem
