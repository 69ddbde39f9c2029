"""`seesaw doctor`, and the same checks when NCC starts.

    run_doctor(config_dir, out) -> exit status (0: no FAIL)
    startup_checks(config_dir, backend) -> results NCC logs; any FAIL refuses the start

The doctor also checks the BGP speaker anycast needs, on the VTY socket NCC
is given (--bgpd-vty in [ncc] args of <config_dir>/watchdog.cfg, else FRR's
default); NCC's start does not wait for it (bgpd may start after Seesaw, and
NCC serves everything else without it).

Reads <config_dir>/seesaw.cfg and cluster.pb (through seesaw.config), gathers
the facts of this network namespace once (facts.py) and runs the checks
(checks.py). A config that does not load is one FAIL naming file:line:col,
and the checks that need it are left out.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from seesaw.config.cluster import read_cluster_file
from seesaw.config.errors import ConfigError
from seesaw.config.model import Cluster
from seesaw.config.seesaw_cfg import read_settings_file
from seesaw.config.settings import Settings
from seesaw.ncc.bgp import DEFAULT_VTY
from seesaw.preflight import checks
from seesaw.preflight.facts import Facts, System
from seesaw.preflight.result import Result, Status, fail, failed, format_report, ok, warn

log = logging.getLogger("seesaw.preflight")


@dataclass(frozen=True)
class Config:
    settings: Settings | None
    cluster: Cluster | None
    results: tuple[Result, ...]  # what loading said


def load_config(config_dir: Path, required: bool = True) -> Config:
    cfg_path, cluster_path = config_dir / "seesaw.cfg", config_dir / "cluster.pb"
    if not cfg_path.exists():
        fix = f"copy etc/seesaw/seesaw.cfg to {cfg_path} and set [cluster] and [interface] for this node"
        if required:
            return Config(None, None, (fail("config", f"there is no {cfg_path}", fix),))
        return Config(None, None, (warn("config", f"no {cfg_path}: the host checks are skipped", fix),))
    try:
        settings = read_settings_file(cfg_path).settings
    except ConfigError as err:
        return Config(None, None, (fail("config", _first(err), f"seesaw config check {cfg_path}"),))
    if not cluster_path.exists():
        detail = f"there is no {cluster_path}: the engine has no cluster to load"
        fix = f"copy etc/seesaw/cluster.pb to {cluster_path} and describe this cluster"
        return Config(settings, None, ((fail if required else warn)("config", detail, fix),))
    try:
        cluster = read_cluster_file(cluster_path, settings.cluster_name).cluster
    except ConfigError as err:
        return Config(settings, None, (fail("config", _first(err), f"seesaw config check {cluster_path}"),))
    return Config(settings, cluster, (ok("config", f"{cfg_path} and {cluster_path} load"),))


def _first(err: ConfigError) -> str:
    errors = [p for p in err.problems if p.is_error] or list(err.problems)
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{errors[0]}{more}" if errors else str(err)


def diagnose(
    config_dir: Path,
    facts: Facts,
    required: bool = True,
    backend: str | None = None,
    source: str = "--dataplane",
) -> list[Result]:
    """Every check of this host against the config in `config_dir`, in report order."""
    config = load_config(config_dir, required)
    results = list(config.results)
    if backend is not None:
        chosen = backend
    elif config.settings is not None:
        chosen, source = config.settings.dataplane, f"[dataplane] backend in {config_dir / 'seesaw.cfg'}"
    else:
        chosen, source = "auto", "the default"
    results += checks.kernel(facts, chosen, source)
    if config.settings is not None and chosen != "sim":
        results += checks.host(facts, config.settings, config.cluster)
    return results


def ncc_bgpd_vty(config_dir: Path) -> Path:
    """The VTY socket seesaw-ncc talks to bgpd on: --bgpd-vty in [ncc] args of watchdog.cfg, else FRR's default."""
    from seesaw.watchdog.config import ConfigError as WatchdogConfigError
    from seesaw.watchdog.config import load

    try:
        ncc = load(config_dir / "watchdog.cfg").services.get("ncc")
    except WatchdogConfigError:
        return DEFAULT_VTY
    args = list(ncc.args) if ncc is not None else []
    for i, arg in enumerate(args):
        if arg == "--bgpd-vty" and i + 1 < len(args):
            return Path(args[i + 1])
        if arg.startswith("--bgpd-vty="):
            return Path(arg.partition("=")[2])
    return DEFAULT_VTY


def run_doctor(config_dir: Path, out: TextIO, system: System | None = None) -> int:
    """Check this host for everything Seesaw needs; print one line per check and the fixes. 0 when nothing FAILs."""
    results = diagnose(config_dir, (system or System()).gather(bgpd_vty=ncc_bgpd_vty(config_dir)))
    out.write(format_report(results))
    return 1 if failed(results) else 0


def startup_checks(
    config_dir: Path, backend: str, source: str = "--dataplane", system: System | None = None
) -> list[Result]:
    """The doctor's checks as NCC runs them at start, each logged; NCC refuses to start on any FAIL.

    seesaw.cfg is optional there (NCC gets its LB interface from the engine), and
    the sim dataplane touches no kernel, so it is not checked.
    """
    if backend == "sim":
        return []
    facts = (system or System()).gather()
    results = diagnose(config_dir, facts, required=False, backend=backend, source=source)
    for result in results:
        level = {Status.OK: logging.INFO, Status.WARN: logging.WARNING, Status.FAIL: logging.ERROR}[result.status]
        fixes = "".join(f"\n    fix: {fix}" for fix in result.fixes)
        log.log(level, "preflight %s%s", result.line(), fixes)
    return results
