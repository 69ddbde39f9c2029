"""One Seesaw node run by its own watchdog, with its own config and run dirs.

Used by the lab (seesaw.lab.lab: each LB node's dirs, watchdog command and
CLI) and by the suite-level tests: copy a config dir, give the node the
interfaces its seesaw.cfg names (inside a network namespace when one is
given), start `seesaw-watchdog`, wait until every daemon serves, talk to it
with the CLI, stop it.
"""

from __future__ import annotations

import configparser
import ipaddress
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path


def _ip(netns: str | None, *args: str) -> None:
    prefix = ["ip", "-n", netns] if netns else ["ip"]
    subprocess.run([*prefix, *args], check=True)


def prepare_config(source: Path, dest: Path, settings: dict[str, dict[str, str]]) -> configparser.ConfigParser:
    """Copy the config dir `source` to `dest`, overriding seesaw.cfg keys with `settings`."""
    shutil.copytree(source, dest)
    cfg_path = dest / "seesaw.cfg"
    cfg = configparser.ConfigParser()
    cfg.read(cfg_path)
    for section, values in settings.items():
        if not cfg.has_section(section):
            cfg.add_section(section)
        for key, value in values.items():
            cfg.set(section, key, value)
    with cfg_path.open("w") as f:
        f.write("# Written by seesaw.lab.node from the example config.\n")
        cfg.write(f)
    return cfg


def make_interfaces(cfg: configparser.ConfigParser, netns: str | None = None) -> None:
    """Give a node the node and LB interfaces its seesaw.cfg names: each one end of a veth pair.

    The node interface gets node_ipv4 in a subnet that also holds the
    cluster VIP, and a default route, as on a real LB host.
    """
    node_if = cfg.get("interface", "node", fallback="eth0")
    lb_if = cfg.get("interface", "lb", fallback="eth1")
    for name in (node_if, lb_if):
        peer = f"{name[:10]}-peer"
        _ip(netns, "link", "add", name, "type", "veth", "peer", "name", peer)
        _ip(netns, "link", "set", peer, "up")
        _ip(netns, "link", "set", name, "up")
    node_ip = cfg.get("cluster", "node_ipv4", fallback="")
    vip = cfg.get("cluster", "vip_ipv4", fallback="")
    if node_ip:
        prefix = 24
        if vip:  # the smallest common subnet that holds both, at most /24
            a, b = int(ipaddress.ip_address(node_ip)), int(ipaddress.ip_address(vip))
            prefix = min(24, 32 - (a ^ b).bit_length())
        _ip(netns, "addr", "add", f"{node_ip}/{prefix}", "dev", node_if)
        gateway = ipaddress.ip_network(f"{node_ip}/{prefix}", strict=False).network_address + 254
        _ip(netns, "route", "add", "default", "via", str(gateway), "dev", node_if)


class Node:
    """A node's directories and its running watchdog."""

    def __init__(self, work: Path, netns: str | None = None) -> None:
        self.work = work
        self.netns = netns
        self.config_dir = work / "etc"
        self.run_dir = work / "run"
        self.log_dir = work / "log"
        self.watchdog: subprocess.Popen[bytes] | None = None

    def env(self) -> dict[str, str]:
        return dict(
            os.environ,
            SEESAW_CONFIG_DIR=str(self.config_dir),
            SEESAW_RUN_DIR=str(self.run_dir),
            SEESAW_LOG_DIR=str(self.log_dir),
            PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
        )

    @property
    def watchdog_log(self) -> Path:
        return self.work / "watchdog.log"

    def argv(self) -> list[str]:
        """The command that runs this node's watchdog (inside its namespace, if it has one)."""
        cmd: Sequence[str] = [
            sys.executable,
            "-m",
            "seesaw.watchdog",
            "--config-dir",
            str(self.config_dir),
            "--run-dir",
            str(self.run_dir),
            "--log-dir",
            str(self.log_dir),
        ]
        return ["ip", "netns", "exec", self.netns, *cmd] if self.netns else list(cmd)

    def start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        with self.watchdog_log.open("ab") as log:
            self.watchdog = subprocess.Popen(self.argv(), env=self.env(), stdout=subprocess.DEVNULL, stderr=log)

    def status(self) -> dict[str, dict[str, object]]:
        """The watchdog's per-service status (pid, state, restarts, ...), or {} before it wrote one."""
        try:
            data = json.loads((self.run_dir / "watchdog" / "status.json").read_text())
        except (OSError, ValueError):
            return {}
        services: dict[str, dict[str, object]] = data.get("services", {})
        return services

    def all_running(self) -> bool:
        services = self.status()
        return bool(services) and all(s.get("state") == "running" for s in services.values())

    def cli(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "seesaw.cli", "--run-dir", str(self.run_dir), "-c", command],
            capture_output=True,
            text=True,
            check=False,
        )

    def wait(self, predicate: object, timeout: float, what: str) -> None:
        """Poll `predicate()` until true; raise TimeoutError naming `what` and showing the logs."""
        assert callable(predicate)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.watchdog is not None and self.watchdog.poll() is not None:
                raise RuntimeError(
                    f"the watchdog exited ({self.watchdog.returncode}) while waiting for {what}\n" + self.logs()
                )
            if predicate():
                return
            time.sleep(0.1)
        raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}\n" + self.logs())

    def wait_leader(self, timeout: float = 30.0) -> None:
        self.wait(lambda: self.all_running() and "LEADER" in self.cli("show ha").stdout, timeout, "a serving LEADER")

    def logs(self, tail: int = 2000) -> str:
        parts = []
        for log in [*sorted(self.log_dir.glob("*.log")), self.watchdog_log]:
            if log.exists():
                parts.append(f"--- {log}\n{log.read_text(errors='replace')[-tail:]}")
        return "\n".join(parts)

    def stop(self, timeout: float = 30.0) -> int | None:
        if self.watchdog is None:
            return None
        if self.watchdog.poll() is None:
            self.watchdog.send_signal(signal.SIGTERM)
            try:
                self.watchdog.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.watchdog.kill()
                self.watchdog.wait()
        return self.watchdog.returncode
