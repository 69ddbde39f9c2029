"""Host side of the kernel tests: one UML boot runs tests/kernel/uml, one qemu boot runs tests/kernel/qemu.

Each batch writes a junit XML back through a directory shared read-write with the host; a batch fails this test
with the inner failures' names and messages. The batches skip, saying what to install, when the runner's packages
are missing, when not root, or when already inside a guest. The junit reading and the verdict are checked here too,
against a real pytest run, so they are trusted before a guest is ever booted.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest
from kernel_guest import (
    GUEST_FAILED,
    QEMU,
    TIMED_OUT,
    UML,
    BatchResult,
    Guest,
    InnerCase,
    host_skip_reason,
    read_junit,
    run_batch,
)

# the runner's limit on one guest; the first qemu run also downloads and unpacks the kernel before it starts
GUEST_TIMEOUT = 900


def _run_guest_batch(guest: Guest, junit_dir: Path, record_property: Callable[[str, object], None]) -> None:
    if (reason := host_skip_reason(guest)) is not None:
        pytest.skip(reason)
    result = run_batch(guest, junit_dir, GUEST_TIMEOUT)
    record_property("kernel_batch", result.summary())  # conftest.py prints it at the end of the run
    print(result.stdout)
    print(result.stderr, file=sys.stderr)
    if (problem := result.problem()) is not None:
        pytest.fail(problem, pytrace=False)


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.timeout(GUEST_TIMEOUT + 300)
def test_uml_guest_batch(tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    _run_guest_batch(UML, tmp_path, record_property)


@pytest.mark.kernel
@pytest.mark.slow
@pytest.mark.timeout(GUEST_TIMEOUT + 900)
def test_qemu_guest_batch(tmp_path: Path, record_property: Callable[[str, object], None]) -> None:
    _run_guest_batch(QEMU, tmp_path, record_property)


# --- the junit reading and the verdict, against a real pytest run (no guest needed) ---

INNER_SUITE = """
    import pytest

    @pytest.fixture
    def broken():
        raise RuntimeError("fixture blew up")

    def test_good():
        pass

    def test_bad():
        assert 1 + 1 == 3, "arithmetic is off"

    def test_skipped():
        pytest.skip("no ipvsadm here")

    def test_broken_setup(broken):
        pass

    class TestGroup:
        def test_in_class(self):
            pass
"""


@pytest.fixture(scope="module")
def inner_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A real pytest run of INNER_SUITE: its rootdir and its junit XML."""
    root = tmp_path_factory.mktemp("inner")
    (root / "test_inner_sample.py").write_text(textwrap.dedent(INNER_SUITE))
    junit = root / "junit.xml"
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", "-o",
         "junit_family=xunit2", "--rootdir", str(root), str(root)],
        cwd=root, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert run.returncode == 1, run.stdout + run.stderr
    return root, junit


@pytest.fixture(scope="module")
def inner_cases(inner_run: tuple[Path, Path]) -> list[InnerCase]:
    root, junit = inner_run
    return read_junit(junit, rootdir=root)


def _batch(cases: list[InnerCase] | None, returncode: int = 0, stderr: str = "", stdout: str = "") -> BatchResult:
    return BatchResult("uml", returncode, stdout, stderr, None if cases is None else tuple(cases), 1.0)


def test_read_junit_gives_each_case_its_outcome_and_message(inner_cases: list[InnerCase]) -> None:
    by_name = {case.name.rsplit("::", 1)[1]: case for case in inner_cases}
    assert {name: case.outcome for name, case in by_name.items()} == {
        "test_good": "passed",
        "test_bad": "failed",
        "test_skipped": "skipped",
        "test_broken_setup": "error",
        "test_in_class": "passed",
    }
    assert "arithmetic is off" in by_name["test_bad"].message
    assert "no ipvsadm here" in by_name["test_skipped"].message
    assert "fixture blew up" in by_name["test_broken_setup"].details


def test_read_junit_names_cases_by_node_id_when_the_module_is_under_rootdir(inner_run: tuple[Path, Path]) -> None:
    root, junit = inner_run
    assert {case.name for case in read_junit(junit, rootdir=root) if case.outcome == "passed"} == {
        "test_inner_sample.py::test_good",
        "test_inner_sample.py::TestGroup::test_in_class",
    }
    elsewhere = {case.name for case in read_junit(junit, rootdir=root / "nowhere") if case.outcome == "passed"}
    assert elsewhere == {"test_inner_sample::test_good", "test_inner_sample.TestGroup::test_in_class"}


def test_a_batch_with_failures_names_them_and_their_messages(inner_cases: list[InnerCase]) -> None:
    problem = _batch(inner_cases, returncode=1).problem()
    assert problem is not None
    assert problem.startswith("2 of 5 inner tests failed in the uml guest:")
    assert "FAILED test_inner_sample.py::test_bad: AssertionError: arithmetic is off" in problem
    assert "ERROR test_inner_sample.py::test_broken_setup" in problem
    assert "fixture blew up" in problem
    assert "test_good" not in problem


def test_a_clean_batch_passes_and_counts_its_cases(inner_cases: list[InnerCase]) -> None:
    clean = [case for case in inner_cases if case.outcome in ("passed", "skipped")]
    result = _batch(clean)
    assert result.problem() is None
    assert result.summary() == "uml guest: 2 passed, 0 failed, 0 error, 1 skipped in 1.0 s (runner exit status 0)"


@pytest.mark.parametrize(
    ("returncode", "cases", "expected"),
    [
        (TIMED_OUT, None, "the uml guest timed out"),
        (TIMED_OUT, [InnerCase("t::a", "passed")], "the uml guest timed out"),
        (GUEST_FAILED, None, "the guest died before reporting"),
        (1, None, "the inner pytest crashed"),
        (5, [], "exited with status 5 although no test failed"),
        (0, [InnerCase("t::a", "skipped", "only inside the uml guest")], "no inner test passed"),
        (0, [InnerCase("t::a", "failed", "boom")], "1 of 1 inner tests failed"),
    ],
)
def test_a_batch_that_proved_nothing_fails_with_the_reason(
    returncode: int, cases: list[InnerCase] | None, expected: str
) -> None:
    problem = _batch(cases, returncode=returncode, stderr="run-in-uml: last words").problem()
    assert problem is not None
    assert expected in problem
    if cases is None or returncode == TIMED_OUT:
        assert "run-in-uml: last words" in problem


def test_skips_say_what_to_install_when_a_runner_package_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UML_GUEST", raising=False)
    monkeypatch.delenv("QVM_GUEST", raising=False)
    monkeypatch.setattr("os.geteuid", lambda: 0)
    absent = Guest("uml", UML.runner, UML.tests, (), (("/nonexistent/linux.uml", "user-mode-linux"),))
    reason = host_skip_reason(absent)
    assert reason is not None
    assert "apt-get install --no-install-recommends user-mode-linux" in reason


def test_skips_inside_a_guest(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("QVM_GUEST", "1")
    assert host_skip_reason(UML) == "already inside a guest: the inner tests run directly here"


def test_skips_when_not_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("UML_GUEST", raising=False)
    monkeypatch.delenv("QVM_GUEST", raising=False)
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    assert host_skip_reason(QEMU) == "booting the qemu guest needs root (run scripts/run-tests kernel as root)"
