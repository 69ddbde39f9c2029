"""`seesaw`: the operator's command line.

    seesaw -c "show vservers"      one command: output on stdout, errors on stderr, exit 0 or 1
    seesaw show vservers           the same, without the quotes
    seesaw                         the interactive shell
    seesaw lab up|status|...       a two-node lab in network namespaces (see `seesaw lab --help`)
    seesaw --ecu lb1 -c "..."      through a node's ECU (TLS, client certificate)
    seesaw --ssh ops@lb1 -c "..."  through SSH to a node's engine socket

The engine socket is `<run-dir>/engine/engine.sock` unless `--engine` names
another one (with --ssh: on the remote node). Only what a command needs is
imported: the CLI must start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import NoReturn

from seesaw import __version__
from seesaw.cli import commands
from seesaw.cli.execute import Engine, Executor, run_and_print
from seesaw.common import paths
from seesaw.common.clock import Clock, SystemClock

EPILOG = "commands (any unique prefix will do, e.g. 'sh vs'):\n" + "".join(
    f"  {usage}\n" for usage in commands.usage_lines()
)


def terminal_width() -> int:
    """The columns shutil.get_terminal_size reports, without importing shutil (and the compressors it loads)."""
    try:
        columns = int(os.environ.get("COLUMNS", "0"))
    except ValueError:
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno() if sys.__stdout__ else 1).columns
        except (OSError, ValueError):
            columns = 0
    return columns or 80


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's layout for --help; argparse makes one of these for every add_argument."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, width=terminal_width() - 2)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seesaw",
        description="Show and steer a Seesaw load balancer through its engine.",
        epilog=EPILOG,
        formatter_class=HelpFormatter,
    )
    p.add_argument("-c", dest="command", metavar="COMMAND", help='run one command line, e.g. -c "show vservers"')
    p.add_argument("words", nargs="*", metavar="WORD", help="a command given as words instead of -c")
    p.add_argument(
        "--engine",
        "-engine",
        type=Path,
        default=None,
        metavar="SOCKET",
        help="the engine's socket (default: <run-dir>/engine/engine.sock)",
    )
    p.add_argument(
        "--run-dir",
        type=Path,
        default=paths.default_run_dir(),
        help="the suite's run directory (default: %(default)s, or $SEESAW_RUN_DIR)",
    )
    p.add_argument(
        "--config-dir",
        type=Path,
        default=paths.default_config_dir(),
        help="where `config check` looks for cluster.pb (default: %(default)s, or $SEESAW_CONFIG_DIR)",
    )
    p.add_argument("--json", action="store_true", help="print what show commands return as JSON")
    remote = p.add_argument_group("remote nodes")
    where = remote.add_mutually_exclusive_group()
    where.add_argument("--ecu", metavar="HOST[:PORT]", help="talk to the ECU of HOST over TLS (port 10256)")
    where.add_argument("--ssh", metavar="[USER@]HOST[:PORT]", help="talk to HOST's engine socket over SSH")
    remote.add_argument("--ca", type=Path, default=None, help="--ecu: CA certificate (default: ~/.seesaw/ca.crt)")
    remote.add_argument("--cert", type=Path, default=None, help="--ecu: client certificate (~/.seesaw/client.crt)")
    remote.add_argument("--key", type=Path, default=None, help="--ecu: client key (default: ~/.seesaw/client.key)")
    remote.add_argument("--server-name", default="", help="--ecu: the name in the ECU's certificate, if not HOST")
    remote.add_argument("--ssh-key", type=Path, default=None, help="--ssh: private key (default: agent, ~/.ssh)")
    remote.add_argument(
        "--known-hosts", type=Path, default=None, help="--ssh: known hosts file (default: ~/.ssh/known_hosts)"
    )
    p.add_argument("--version", action="version", version=f"seesaw {__version__}")
    return p


def engine_socket(args: argparse.Namespace) -> Path:
    return Path(args.engine) if args.engine is not None else paths.socket_path(args.run_dir, "engine")


def _connect(args: argparse.Namespace) -> Engine:
    """The engine client for where the flags point; grpc (and paramiko) load only when a command needs them."""
    # gRPC's C core would print its own lines about a failed TLS handshake on stderr: the CLI says it in one.
    os.environ.setdefault("GRPC_VERBOSITY", "NONE")
    from seesaw.cli.client import EngineClient

    if args.ecu:
        from seesaw.cli.remote_ecu import ClientTLS, ECUConnector

        defaults = ClientTLS.defaults()
        tls = ClientTLS(
            ca=args.ca or defaults.ca,
            cert=args.cert or defaults.cert,
            key=args.key or defaults.key,
            server_name=args.server_name,
        )
        return EngineClient(ECUConnector(args.ecu, tls))
    if args.ssh:
        from seesaw.cli.remote_ssh import SSHConnector

        remote_socket = Path(args.engine) if args.engine is not None else paths.socket_path(args.run_dir, "engine")
        return EngineClient(SSHConnector(args.ssh, remote_socket, args.ssh_key, args.known_hosts))
    return EngineClient(engine_socket(args))


def main(argv: list[str] | None = None, clock: Clock | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["lab"]:  # `seesaw lab ...`: the namespace lab has its own parser (imported only here)
        from seesaw.lab.main import main as lab_main

        return lab_main(argv[1:])
    args = parser().parse_args(argv)
    if args.command is not None and args.words:
        sys.stderr.write("Give the command either with -c or as words, not both.\n")
        return 2
    line = args.command if args.command is not None else " ".join(args.words) if args.words else None
    executor = Executor(
        lambda: _connect(args),
        clock=clock or SystemClock(),
        config_dir=args.config_dir,
        json_output=args.json,
    )
    try:
        if line is not None:
            return run_and_print(executor, line, sys.stdout, sys.stderr).status
        from seesaw.cli import shell

        return shell.run(executor)
    except KeyboardInterrupt:
        sys.stderr.write("\n")
        return 130
    except BrokenPipeError:
        # The reader went away (`seesaw -c ... | head`): stop quietly, and keep Python from complaining at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    finally:
        executor.close()


def run(argv: list[str] | None = None) -> NoReturn:
    """The `seesaw` command's process (and `python -m seesaw.cli`): `main`, its output flushed, then gone at once.

    Python's own shutdown (every module torn down: protobuf's descriptors and the rest) costs ~35 ms of CPU
    after the answer is out. After `failover` that lands on the node's CPUs exactly while the VIPs move, its
    NCC takes the LB interface down and the peer's raises it. The CLI needs none of it: it registers no
    exit work, its output is stdout and stderr (flushed here; the shell writes its history itself).
    `seesaw lab` exits the usual way (its logging and its child processes).
    """
    argv = sys.argv[1:] if argv is None else argv
    status = main(argv)
    if argv[:1] == ["lab"]:
        raise SystemExit(status)
    try:
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (`seesaw -c ... | head`): as main does
        status = status or 1
    try:
        sys.stderr.flush()
    except OSError:
        pass
    os._exit(status)
