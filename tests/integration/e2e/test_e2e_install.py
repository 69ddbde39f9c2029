"""`make install`: the package in its own venv, its commands on PATH, /etc/seesaw examples, the systemd unit.

Installed into a scratch root (SEESAW_HOME, PREFIX, SYSCONFDIR and UNITDIR point there) from
this checkout, offline (PIP_FLAGS="--no-deps --no-index": the test namespace has no network, so
the dependencies are not fetched; the wheel itself is built without network). The unit must pass
`systemd-analyze verify` as installed, ExecStart pointing at the installed watchdog.
"""

from __future__ import annotations

import configparser
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]


def make_install(root: Path) -> subprocess.CompletedProcess[str]:
    places = {
        "SEESAW_HOME": root / "opt" / "seesaw",
        "PREFIX": root / "usr" / "local",
        "SYSCONFDIR": root / "etc",
        "UNITDIR": root / "etc" / "systemd" / "system",
    }
    cmd = ["make", "-s", "-C", str(ROOT), "-o", ".venv/.installed-stamp", "install"]
    cmd += [f"{k}={v}" for k, v in places.items()] + ["PIP_FLAGS=--no-deps --no-index"]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    root = tmp_path_factory.mktemp("root")
    done = make_install(root)
    assert done.returncode == 0, done.stdout + done.stderr
    return root


def unit(root: Path) -> configparser.ConfigParser:
    parsed = configparser.ConfigParser(strict=False, interpolation=None)
    parsed.optionxform = str  # type: ignore[assignment,method-assign]
    parsed.read(root / "etc" / "systemd" / "system" / "seesaw.service")
    return parsed


def test_every_command_is_linked_into_prefix_bin(installed: Path):
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    for name in scripts:
        link = installed / "usr" / "local" / "bin" / name
        assert link.resolve().parent == installed / "opt" / "seesaw" / "bin", name
        assert os.access(link, os.X_OK), name
    python = installed / "opt" / "seesaw" / "bin" / "python"
    code = "import seesaw; print(seesaw.__file__)"  # from elsewhere than this checkout, which -c would find first
    where = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=installed)
    assert where.stdout.startswith(str(installed / "opt" / "seesaw")), where.stderr


def test_examples_are_installed_and_an_edited_config_is_kept(installed: Path):
    etc = installed / "etc" / "seesaw"
    for name in ("cluster.pb", "seesaw.cfg", "watchdog.cfg"):
        assert (etc / name).read_text() == (ROOT / "etc" / "seesaw" / name).read_text()
    check = subprocess.run(
        [sys.executable, "-m", "seesaw.cli", "--config-dir", str(etc), "config", "check"],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    edited = (etc / "seesaw.cfg").read_text() + "# edited by the operator\n"
    (etc / "seesaw.cfg").write_text(edited)
    again = make_install(installed)
    assert again.returncode == 0, again.stderr
    assert (etc / "seesaw.cfg").read_text() == edited


def test_unit_runs_the_installed_watchdog_as_a_notify_service(installed: Path):
    service = unit(installed)["Service"]
    exec_start = service["ExecStart"].split()
    assert exec_start[0] == str(installed / "usr" / "local" / "bin" / "seesaw-watchdog")
    assert exec_start[exec_start.index("--config-dir") + 1] == str(installed / "etc" / "seesaw")
    assert service["Type"] == "notify"
    assert service["Restart"] == "on-failure"
    assert service["LimitNOFILE"] == "8192"


def test_installed_unit_passes_systemd_analyze_verify(installed: Path):
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is missing: scripts/system-deps installs Debian's systemd package")
    path = installed / "etc" / "systemd" / "system" / "seesaw.service"
    result = subprocess.run(["systemd-analyze", "verify", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""  # systemd reports bad values as warnings, not as failures
