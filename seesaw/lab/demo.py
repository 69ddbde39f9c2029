"""`make run` (single-node form): one Seesaw node on the `sim` dataplane.

It re-executes itself inside a private network and mount namespace (nothing
it does reaches the host network), gives the node the interfaces its
seesaw.cfg names (a veth pair each, since this kernel has no dummy links),
copies etc/seesaw/ into a temporary config dir with `[dataplane] backend =
sim`, starts `seesaw-watchdog` with a temporary run dir, waits for the suite
to serve, and prints `show ha` and `show vservers`. On a terminal it then
opens the interactive `seesaw` shell on that node; the node is torn down
when the shell (or the script) exits.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from seesaw.lab.node import Node, make_interfaces, prepare_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "etc" / "seesaw"
MARKER = "SEESAW_DEMO_ISOLATED"
READY_TIMEOUT = 30.0


def _isolate() -> None:
    """Re-run this module under unshare in a fresh network+mount namespace."""
    env = dict(os.environ, **{MARKER: "1"})
    cmd = [sys.executable, "-m", "seesaw.lab.isolate", sys.executable, "-m", "seesaw.lab.demo", *sys.argv[1:]]
    unshare = ["unshare", "--net", "--mount", "--propagation", "private"]
    if os.geteuid() != 0:
        unshare.insert(1, "--map-root-user")
    os.execvpe(unshare[0], [*unshare, "--", *cmd], env)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-shell", action="store_true", help="print the state and stop, even on a terminal")
    args = parser.parse_args()
    if os.environ.get(MARKER) != "1":
        _isolate()
    node = Node(Path(tempfile.mkdtemp(prefix="seesaw-demo-")))
    cfg = prepare_config(EXAMPLES, node.config_dir, {"dataplane": {"backend": "sim"}})
    make_interfaces(cfg)
    print(f"Starting one Seesaw node (sim dataplane) in a private network namespace; files in {node.work}")
    started = time.monotonic()
    node.start()
    try:
        try:
            node.wait_leader(READY_TIMEOUT)
        except (TimeoutError, RuntimeError) as err:
            print(f"The suite did not come up: {err}", file=sys.stderr)
            return 1
        print(f"Serving after {time.monotonic() - started:.1f} s.\n")
        for command in ("show ha", "show vservers"):
            result = node.cli(command)
            print(f'$ seesaw -c "{command}"')
            print(result.stdout + result.stderr)
        if sys.stdin.isatty() and not args.no_shell:
            print("Opening the seesaw shell on this node (exit or Ctrl-D to stop the node).")
            shell = [sys.executable, "-m", "seesaw.cli", "--run-dir", str(node.run_dir)]
            subprocess.run(shell, env=node.env(), check=False)
        else:
            print("Next: `seesaw lab up` runs two nodes, backends and a client (see README).")
        return 0
    finally:
        node.stop()
        shutil.rmtree(node.work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
