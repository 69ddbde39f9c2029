"""systemd/seesaw.service: the directives the watchdog relies on, and systemd's own verdict."""

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT = Path(__file__).resolve().parents[3] / "systemd" / "seesaw.service"


def test_directives():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read(UNIT)
    service = unit["Service"]
    assert service["Type"] == "notify" and service["NotifyAccess"] == "main"
    assert service["ExecStart"].split()[0] == "/usr/local/bin/seesaw-watchdog"
    assert (service["Restart"], service["RestartSec"]) == ("on-failure", "2")
    assert (service["LimitNOFILE"], service["LimitNPROC"]) == ("8192", "8192")
    assert (service["KillMode"], service["TimeoutStopSec"]) == ("mixed", "60")
    assert service["RestartPreventExitStatus"] == "78"  # a bad watchdog.cfg is not retried every 2 s
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_systemd_analyze_verify_is_silent(tmp_path):
    # Verify checks that ExecStart exists; point it at this checkout's console script.
    script = Path(sys.executable).parent / "seesaw-watchdog"
    if not script.exists():
        pytest.skip("seesaw-watchdog is not installed next to this interpreter")
    unit = tmp_path / "seesaw.service"
    unit.write_text(UNIT.read_text().replace("/usr/local/bin/seesaw-watchdog", str(script)))
    result = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout + result.stderr == ""  # systemd reports bad values as warnings, not as failures
