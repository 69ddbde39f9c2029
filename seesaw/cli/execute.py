"""Run one command line: match it, ask the engine, render the answer.

`Executor.run(line)` returns an `Outcome` (text for stdout, an exit status,
whether to leave the shell) or raises `CliError`. It knows nothing about
terminals or argv: the one-shot mode (`seesaw.cli.main`) and the shell
(`seesaw.cli.shell`) both drive it. The engine is reached through the
`Engine` protocol (implemented by `seesaw.cli.client.EngineClient`), created
only when a command needs it.

Write commands print what the original printed ("Configuration reload
requested.", "Failover requested.", nothing for an override), followed by the
engine's own reply message when it sends one.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple, Protocol, TextIO

from seesaw import __version__
from seesaw.cli import commands, select
from seesaw.cli import format as fmt
from seesaw.cli.commands import Action, Command
from seesaw.cli.errors import CliError
from seesaw.common.clock import Clock
from seesaw.pb import common_pb2, engine_pb2, ha_pb2

HELP_TEXT = "Use ? for context-aware command completions."

_OVERRIDE_TARGETS = {
    "vserver": engine_pb2.OverrideRequest.VSERVER,
    "backend": engine_pb2.OverrideRequest.BACKEND,
    "destination": engine_pb2.OverrideRequest.DESTINATION,
}
_OVERRIDE_STATES = {
    "default": common_pb2.OVERRIDE_DEFAULT,
    "disabled": common_pb2.OVERRIDE_DISABLED,
    "enabled": common_pb2.OVERRIDE_ENABLED,
}


class Engine(Protocol):
    """The engine calls the CLI makes (seesaw.cli.client.EngineClient)."""

    def cluster_status(self) -> engine_pb2.ClusterStatus: ...
    def ha_status(self) -> ha_pb2.HAStatus: ...
    def config_status(self) -> engine_pb2.ConfigStatus: ...
    def vservers(self, counters: bool = True) -> engine_pb2.VserverList: ...
    def vlans(self) -> engine_pb2.VLANList: ...
    def bgp_neighbors(self) -> engine_pb2.BGPNeighborList: ...
    def version(self) -> engine_pb2.Version: ...
    def reload_config(self, force: bool = False) -> engine_pb2.ReloadReply: ...
    def set_config_source(self, source: str) -> engine_pb2.ConfigSourceReply: ...
    def override(self, target: int, name: str, state: int) -> engine_pb2.OverrideReply: ...
    def failover(self) -> engine_pb2.FailoverReply: ...
    def whoami(self) -> Any: ...
    def dataplane(self) -> engine_pb2.DataplaneView: ...
    def config_diff(self) -> engine_pb2.ConfigDiff: ...
    def close(self) -> None: ...


class Outcome(NamedTuple):
    output: str = ""
    status: int = 0
    leave: bool = False  # `exit` / `quit`


def _config_check(file: str | None, config_dir: Path) -> int:
    """seesaw.config.check.run_config_check, imported only when asked for (it loads the config model)."""
    try:
        from seesaw.config.check import run_config_check
    except ImportError as err:
        raise CliError(f"config check is not available in this installation: {err}") from None
    return run_config_check(file, config_dir)


def _doctor(config_dir: Path) -> int:
    """seesaw.preflight.run_doctor: this host's readiness for Seesaw, imported only when asked for."""
    try:
        from seesaw.preflight import run_doctor
    except ImportError as err:
        raise CliError(f"doctor is not available in this installation: {err}") from None
    return run_doctor(config_dir, sys.stdout)


class Executor:
    def __init__(
        self,
        engine: Callable[[], Engine],
        clock: Clock,
        config_dir: Path,
        json_output: bool = False,
    ) -> None:
        self._engine_factory = engine
        self._engine: Engine | None = None
        self.clock = clock
        self.config_dir = config_dir
        self.json_output = json_output

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = self._engine_factory()
        return self._engine

    def close(self) -> None:
        """Close the engine connection, if one was made."""
        if self._engine is not None:
            self._engine.close()
            self._engine = None

    def run(self, line: str) -> Outcome:
        match = commands.find_command(line)
        if match.command is None:
            raise CliError(match.error or commands.UNKNOWN_COMMAND)
        command = match.command
        args, as_json = commands.split_json_flag(match.args) if command.json else (match.args, False)
        if not command.min_args <= len(args) <= command.max_args:
            raise CliError(commands.INCORRECT_ARGUMENTS, usage=command.usage)
        return self._dispatch(command, args, as_json or (self.json_output and command.json))

    def _dispatch(self, command: Command, args: tuple[str, ...], as_json: bool) -> Outcome:
        action = command.action
        arg = args[0] if args else ""
        if action is Action.EXIT:
            return Outcome(leave=True)
        if action is Action.HELP:
            return Outcome(self.help())
        if action is Action.CONFIG_CHECK:
            return Outcome(status=_config_check(arg or None, self.config_dir))
        if action is Action.DOCTOR:
            return Outcome(status=_doctor(self.config_dir))
        if action is Action.OVERRIDE:
            return Outcome(self.override(command.params[0], command.params[1], arg))
        return Outcome(_HANDLERS[action](self, arg, as_json))

    # -- commands -------------------------------------------------------------------------------------------------

    def help(self) -> str:
        lines = "".join(f"  {usage}\n" for usage in commands.usage_lines())
        return f"{HELP_TEXT}\n\nCommands (any unique prefix will do, e.g. 'sh vs'):\n{lines}"

    def config_reload(self, arg: str, _as_json: bool) -> str:
        if arg not in ("", "force"):
            raise CliError(commands.INCORRECT_ARGUMENTS, usage="config reload [force]")
        reply = self.engine.reload_config(force=True) if arg else self.engine.reload_config()
        return "Configuration reload requested.\n" + fmt.reply_message(reply.message)

    def config_status(self, _arg: str, as_json: bool) -> str:
        status = self.engine.config_status()
        return fmt.to_json(status) if as_json else fmt.config_status(status)

    def config_diff(self, _arg: str, as_json: bool) -> str:
        diff = self.engine.config_diff()
        return fmt.to_json(diff) if as_json else fmt.config_diff(diff)

    def config_source(self, source: str, _as_json: bool) -> str:
        return fmt.config_source(self.engine.set_config_source(source), source)

    def failover(self, _arg: str, _as_json: bool) -> str:
        reply = self.engine.failover()
        return "Failover requested.\n" + fmt.reply_message(reply.message)

    def override(self, target: str, state: str, name: str) -> str:
        vservers = self.engine.vservers(counters=False).vservers
        if target == "vserver":
            known = {v.name for v in vservers}
        elif target == "backend":
            known = {d.backend for d in select.all_destinations(vservers)}
        else:
            known = {d.name for d in select.all_destinations(vservers)}
        if name not in known:
            raise CliError(f"No such {target} - {name}")
        reply = self.engine.override(_OVERRIDE_TARGETS[target], name, _OVERRIDE_STATES[state])
        return fmt.reply_message(reply.message)

    def show_bgp_neighbors(self, arg: str, as_json: bool) -> str:
        neighbors = self.engine.bgp_neighbors()
        if arg:
            neighbor = select.bgp_neighbor(neighbors, arg)
            return fmt.to_json(neighbor) if as_json else fmt.bgp_neighbor(neighbor)
        return fmt.to_json(neighbors) if as_json else fmt.bgp_neighbors(neighbors.neighbors)

    def show_backends(self, arg: str, as_json: bool) -> str:
        vservers = self.engine.vservers(counters=as_json).vservers
        backends = select.backends(vservers, arg)
        if as_json:
            listed = [{"hostname": b.hostname, "destinations": b.destinations} for b in backends]
            return fmt.to_json({"backends": listed})
        return fmt.backends(backends, {v.name: v for v in vservers}, now=self.clock.wall())

    def show_checks(self, arg: str, as_json: bool) -> str:
        rows = select.checks(self.engine.vservers(counters=False).vservers, arg)
        if as_json:
            listed = [
                {"destination": r.destination.name, "backend": r.destination.backend, "check": r.check} for r in rows
            ]
            return fmt.to_json({"checks": listed})
        return fmt.checks(rows, filtered=bool(arg), now=self.clock.wall())

    def show_ipvs(self, _arg: str, as_json: bool) -> str:
        from seesaw.cli import ipvsadm

        view = self.engine.dataplane()
        if not view.connected:
            raise CliError(f"The engine cannot read the dataplane: {view.error}")
        return fmt.to_json(view) if as_json else ipvsadm.dataplane(view)

    def show_destinations(self, arg: str, as_json: bool) -> str:
        vservers = self.engine.vservers(counters=as_json).vservers
        dests = select.destinations(vservers, arg)
        if as_json:
            return fmt.to_json({"destinations": dests})
        return fmt.destinations(dests, {v.name: v for v in vservers}, now=self.clock.wall())

    def show_ha(self, _arg: str, as_json: bool) -> str:
        status = self.engine.ha_status()
        return fmt.to_json(status) if as_json else fmt.ha_status(status, now=self.clock.wall())

    def show_nodes(self, arg: str, as_json: bool) -> str:
        cluster = self.engine.cluster_status()
        if arg:
            node = select.node(cluster, arg)
            return fmt.to_json(node) if as_json else fmt.node_detail(cluster, node)
        return fmt.to_json(cluster) if as_json else fmt.nodes(select.nodes(cluster))

    def show_version(self, _arg: str, as_json: bool) -> str:
        reply = self.engine.version()
        if as_json:
            return fmt.to_json({"cli_version": __version__, "engine": reply})
        return fmt.version(reply, __version__)

    def show_vlans(self, arg: str, as_json: bool) -> str:
        vlans = self.engine.vlans()
        if arg:
            vlan = select.vlan(vlans, arg)
            return fmt.to_json(vlan) if as_json else fmt.vlan_detail(vlan)
        ordered = select.vlans(vlans)
        return fmt.to_json(engine_pb2.VLANList(vlans=ordered)) if as_json else fmt.vlans(ordered)

    def show_vservers(self, arg: str, as_json: bool) -> str:
        selected = select.vservers(self.engine.vservers(counters=as_json).vservers, arg)
        if as_json:
            return fmt.to_json(engine_pb2.VserverList(vservers=selected))
        return fmt.vservers(selected, filtered=bool(arg))

    def show_warnings(self, _arg: str, as_json: bool) -> str:
        status = self.engine.config_status()
        return fmt.to_json({"warnings": list(status.warnings)}) if as_json else fmt.warnings(status)

    def whoami(self, _arg: str, as_json: bool) -> str:
        caller = self.engine.whoami()
        return fmt.to_json(caller) if as_json else fmt.whoami(caller)


def run_and_print(executor: Executor, line: str, out: TextIO, err: TextIO) -> Outcome:
    """Run one line and print the result as Seesaw does: output and any usage on `out`, an error on `err`.

    A failed command comes back as an Outcome with status 1.
    """
    try:
        outcome = executor.run(line)
    except CliError as failure:
        if failure.usage:
            out.write(f"{failure.usage}\n")
        out.flush()
        err.write(f"{failure}\n")
        err.flush()
        return Outcome(status=1)
    out.write(outcome.output)
    out.flush()
    return outcome


# The Executor method behind each action: (argument, as_json) -> the text to print.
_HANDLERS: dict[Action | None, Callable[[Executor, str, bool], str]] = {
    Action.CONFIG_DIFF: Executor.config_diff,
    Action.CONFIG_RELOAD: Executor.config_reload,
    Action.CONFIG_SOURCE: Executor.config_source,
    Action.CONFIG_STATUS: Executor.config_status,
    Action.FAILOVER: Executor.failover,
    Action.SHOW_BGP_NEIGHBORS: Executor.show_bgp_neighbors,
    Action.SHOW_BACKENDS: Executor.show_backends,
    Action.SHOW_CHECKS: Executor.show_checks,
    Action.SHOW_IPVS: Executor.show_ipvs,
    Action.SHOW_DESTINATIONS: Executor.show_destinations,
    Action.SHOW_HA: Executor.show_ha,
    Action.SHOW_NODES: Executor.show_nodes,
    Action.SHOW_VERSION: Executor.show_version,
    Action.SHOW_VLANS: Executor.show_vlans,
    Action.SHOW_VSERVERS: Executor.show_vservers,
    Action.SHOW_WARNINGS: Executor.show_warnings,
    Action.WHOAMI: Executor.whoami,
}
