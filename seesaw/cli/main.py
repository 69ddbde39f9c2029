"""`seesaw`: the operator's command line.

    seesaw -c "show vservers"      one command: output on stdout, errors on stderr, exit 0 or 1
    seesaw show vservers           the same, without the quotes
    seesaw                         the interactive shell

The engine socket is `<run-dir>/engine/engine.sock` unless `--engine` names
another one. Only what a command needs is imported: the CLI must start fast.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from seesaw import __version__
from seesaw.cli import commands
from seesaw.cli.execute import Engine, Executor, run_and_print
from seesaw.common import paths
from seesaw.common.clock import Clock, SystemClock

EPILOG = "commands (any unique prefix will do, e.g. 'sh vs'):\n" + "".join(
    f"  {usage}\n" for usage in commands.usage_lines()
)


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="seesaw",
        description="Show and steer a Seesaw load balancer through its engine.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
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
    p.add_argument("--version", action="version", version=f"seesaw {__version__}")
    return p


def engine_socket(args: argparse.Namespace) -> Path:
    return Path(args.engine) if args.engine is not None else paths.socket_path(args.run_dir, "engine")


def _connect(socket: Path) -> Engine:
    from seesaw.cli.client import EngineClient  # grpc is imported only when a command needs the engine

    return EngineClient(socket)


def main(argv: list[str] | None = None, clock: Clock | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command is not None and args.words:
        sys.stderr.write("Give the command either with -c or as words, not both.\n")
        return 2
    line = args.command if args.command is not None else " ".join(args.words) if args.words else None
    socket = engine_socket(args)
    executor = Executor(
        lambda: _connect(socket),
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
