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
import configparser
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

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


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True)


def _make_interfaces(cfg: configparser.ConfigParser) -> None:
    node_if = cfg.get("interface", "node", fallback="eth0")
    lb_if = cfg.get("interface", "lb", fallback="eth1")
    for name in (node_if, lb_if):
        _ip("link", "add", name, "type", "veth", "peer", "name", f"{name[:10]}-peer")
        _ip("link", "set", f"{name[:10]}-peer", "up")
        _ip("link", "set", name, "up")
    node_ip = cfg.get("cluster", "node_ipv4", fallback="")
    vip = cfg.get("cluster", "vip_ipv4", fallback="")
    if node_ip:
        prefix = 24
        if vip:  # the smallest common subnet that holds both, at most /24
            a, b = int(ipaddress.ip_address(node_ip)), int(ipaddress.ip_address(vip))
            prefix = min(24, 32 - (a ^ b).bit_length())
        _ip("addr", "add", f"{node_ip}/{prefix}", "dev", node_if)
        gateway = ipaddress.ip_network(f"{node_ip}/{prefix}", strict=False).network_address + 254
        _ip("route", "add", "default", "via", str(gateway), "dev", node_if)


def _prepare_config(config_dir: Path) -> configparser.ConfigParser:
    shutil.copytree(EXAMPLES, config_dir)
    cfg_path = config_dir / "seesaw.cfg"
    cfg = configparser.ConfigParser()
    cfg.read(cfg_path)
    if not cfg.has_section("dataplane"):
        cfg.add_section("dataplane")
    cfg.set("dataplane", "backend", "sim")
    with cfg_path.open("w") as f:
        f.write("# Written by `make run`: the example config on the in-memory `sim` dataplane.\n")
        cfg.write(f)
    return cfg


def _cli(run_dir: Path, command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seesaw.cli", "--run-dir", str(run_dir), "-c", command],
        capture_output=True,
        text=True,
        check=False,
    )


def _wait_ready(run_dir: Path, watchdog: subprocess.Popen[bytes]) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT
    status_file = run_dir / "watchdog" / "status.json"
    while time.monotonic() < deadline:
        if watchdog.poll() is not None:
            return False
        try:
            status = json.loads(status_file.read_text())
        except (OSError, ValueError):
            status = {}
        services = status.get("services", {})
        if services and all(s.get("state") == "running" for s in services.values()):
            ha = _cli(run_dir, "show ha")
            if "LEADER" in ha.stdout:
                return True
        time.sleep(0.2)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-shell", action="store_true", help="print the state and stop, even on a terminal")
    args = parser.parse_args()
    if os.environ.get(MARKER) != "1":
        _isolate()
    work = Path(tempfile.mkdtemp(prefix="seesaw-demo-"))
    config_dir, run_dir, log_dir = work / "etc", work / "run", work / "log"
    cfg = _prepare_config(config_dir)
    _make_interfaces(cfg)
    env = dict(
        os.environ,
        SEESAW_CONFIG_DIR=str(config_dir),
        SEESAW_RUN_DIR=str(run_dir),
        SEESAW_LOG_DIR=str(log_dir),
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    )
    print(f"Starting one Seesaw node (sim dataplane) in a private network namespace; files in {work}")
    started = time.monotonic()
    watchdog = subprocess.Popen(
        [sys.executable, "-m", "seesaw.watchdog", "--config-dir", str(config_dir), "--run-dir", str(run_dir)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(work / "watchdog.log").open("wb"),
    )
    try:
        if not _wait_ready(run_dir, watchdog):
            print(f"The suite did not come up within {READY_TIMEOUT:.0f} s. Logs:", file=sys.stderr)
            for log in [*sorted(log_dir.glob("*.log")), work / "watchdog.log"]:
                print(f"--- {log}", file=sys.stderr)
                print(log.read_text(errors="replace")[-2000:], file=sys.stderr)
            return 1
        print(f"Serving after {time.monotonic() - started:.1f} s.\n")
        for command in ("show ha", "show vservers"):
            result = _cli(run_dir, command)
            print(f'$ seesaw -c "{command}"')
            print(result.stdout + result.stderr)
        if sys.stdin.isatty() and not args.no_shell:
            print("Opening the seesaw shell on this node (exit or Ctrl-D to stop the node).")
            subprocess.run([sys.executable, "-m", "seesaw.cli", "--run-dir", str(run_dir)], env=env, check=False)
        else:
            print("Next: `seesaw lab up` runs two nodes, backends and a client (see README).")
        return 0
    finally:
        watchdog.send_signal(signal.SIGTERM)
        try:
            watchdog.wait(timeout=30)
        except subprocess.TimeoutExpired:
            watchdog.kill()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
