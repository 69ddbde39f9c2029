"""`seesaw lab ...` as the CLI dispatches it, where no namespace is needed: errors that say what to do next."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from seesaw.lab import main as lab_main
from seesaw.lab import state


def seesaw(tmp_path, *args):
    env = dict(os.environ, SEESAW_LAB_DIR=str(tmp_path))
    return subprocess.run([sys.executable, "-m", "seesaw.cli", *args], env=env, capture_output=True, text=True)


def test_lab_commands_are_listed():
    out = subprocess.run([sys.executable, "-m", "seesaw.cli", "lab", "--help"], capture_output=True, text=True).stdout
    for command in ("up", "status", "traffic", "failover", "shell", "down"):
        assert f"    {command} " in out


def test_without_a_lab_status_says_how_to_start_one(tmp_path):
    result = seesaw(tmp_path, "lab", "status")
    assert result.returncode == 1
    assert result.stderr == f"seesaw lab status: no lab is up in {tmp_path}: start one with `seesaw lab up`\n"


def test_down_without_a_lab_is_fine(tmp_path):
    result = seesaw(tmp_path, "lab", "down")
    assert (result.returncode, result.stdout) == (0, f"No lab is up in {tmp_path}.\n")


def test_up_without_root_points_at_unshare(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert lab_main.main(["up", "--dir", str(tmp_path)]) == 1
    assert "without root: seesaw lab up --unshare" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["shell", "lb9"], "no node 'lb9' in this lab: use one of lb1, lb2"),
        (["traffic", "--vserver", "nope"], "no vserver 'nope' in this lab (vservers: web-dsr, web-nat)"),
        (["failover"], "no single master to fail over from"),
    ],
)
def test_names_that_are_not_in_the_lab(tmp_path, capsys, args, message):
    state.save(tmp_path, state.LabState("pair", "sslab-", "auto"))
    assert lab_main.main([args[0], "--dir", str(tmp_path), *args[1:]]) == 1
    assert message in capsys.readouterr().err


def test_the_plain_cli_does_not_import_the_lab():
    code = "import sys; from seesaw.cli.main import main; main(['-c', 'help']); print('seesaw.lab' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.splitlines()[-1] == "False"
