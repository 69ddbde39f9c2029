"""`seesaw lab up --unshare`: the lab inside a private network and mount namespace (a user namespace too, without root).

A holder process (`unshare ... python -m seesaw.lab.isolate sleep infinity`)
owns the namespaces: isolate.py gives it a private /run/netns and /sys, so
the lab's named namespaces live there and nothing can reach the host's
network. Every later `seesaw lab` command runs inside it through `nsenter`;
`down` stops the lab inside, then the holder, and everything it held goes.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from seesaw.lab import processes
from seesaw.lab.netns import LabError
from seesaw.lab.processes import Proc
from seesaw.lab.state import ENV_LAB_DIR

ENV_INSIDE = "SEESAW_LAB_INSIDE"  # set for a command already running inside the holder's namespaces
READY_TIMEOUT = 10.0


def inside() -> bool:
    return os.environ.get(ENV_INSIDE) == "1"


def holder_argv(user_namespace: bool) -> list[str]:
    unshare = ["unshare", "--net", "--mount", "--propagation", "private"]
    if user_namespace:
        unshare[1:1] = ["--user", "--map-root-user"]
    return [*unshare, "--", sys.executable, "-m", "seesaw.lab.isolate", "sleep", "infinity"]


def start_holder(lab_dir: Path) -> tuple[Proc, bool]:
    """Start the holder; (its process, whether it made a user namespace) once its namespaces are ready."""
    user_namespace = os.geteuid() != 0
    log = lab_dir / "holder.log"
    proc = processes.spawn(holder_argv(user_namespace), log)
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if not processes.alive(proc):
            why = log.read_text(errors="replace").strip() if log.exists() else ""
            hint = (
                " (user namespaces may be off: sysctl kernel.unprivileged_userns_clone=1, or run as root)"
                if user_namespace
                else ""
            )
            raise LabError(f"could not make the lab's private namespaces{hint}: {why or 'unshare exited'}")
        try:
            if Path(f"/proc/{proc.pid}/comm").read_text().strip() == "sleep":  # isolate.py is done and exec'd
                return proc, user_namespace
        except OSError:
            pass
        time.sleep(0.02)
    processes.stop(proc)
    raise LabError(f"the lab's namespace holder did not get ready within {READY_TIMEOUT:.0f} s; see {log}")


def run_inside(holder: Proc, user_namespace: bool, lab_dir: Path, argv: Sequence[str]) -> int:
    """Run `seesaw lab ARGV` inside the holder's namespaces; its exit status."""
    if not processes.alive(holder):
        raise LabError(
            f"the process holding the lab's namespaces (pid {holder.pid}) is gone, and the lab with it: "
            f"`seesaw lab down --dir {lab_dir}` clears what is left, then `seesaw lab up --unshare`"
        )
    enter = ["nsenter", "--target", str(holder.pid), "--net", "--mount"]
    if user_namespace:
        enter.append("--user")
    env = dict(os.environ, **{ENV_INSIDE: "1", ENV_LAB_DIR: str(lab_dir)})
    command = [*enter, "--", sys.executable, "-m", "seesaw.lab", *argv]
    return subprocess.run(command, env=env, check=False).returncode
