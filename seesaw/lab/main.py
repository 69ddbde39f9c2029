"""`seesaw lab up|status|traffic|failover|shell|down`: a two-node Seesaw lab in network namespaces.

    seesaw lab up              client, lb1 + lb2 (each its own watchdog, config and run dir), be1 + be2
    seesaw lab status          each node's dataplane, `show ha`, `show vservers`, `show destinations`
    seesaw lab traffic -n 100  requests through every VIP from the client, and where they went
    seesaw lab failover        the master hands over; the client's neighbour entry for the VIP moves
    seesaw lab shell lb1       the seesaw shell on lb1 (or: seesaw lab shell lb1 -c "show ha")
    seesaw lab down            stop everything it started, delete its namespaces

With root it makes named namespaces (`<prefix>lb1`, ...; the bridge is in
`<prefix>lan`, so no host interface is touched). Without root, or when asked
with `--unshare`, the lab lives in a private network and mount namespace
(unshare.py) that nothing on the host can see.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from seesaw.lab import processes, query, state, unshare
from seesaw.lab.lab import UP_TIMEOUT, Lab
from seesaw.lab.netns import LabError
from seesaw.lab.topology import LAYOUTS

DATAPLANES = ("auto", "nftables", "ipvs", "sim")


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--dir", type=Path, default=None, help="the lab's state dir (default: $SEESAW_LAB_DIR or /run/seesaw-lab)"
    )
    p = argparse.ArgumentParser(
        prog="seesaw lab",
        description="A Seesaw lab in network namespaces: two LB nodes, two backends, a client.",
        epilog=__doc__.split("\n\n")[1] + "\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")
    up = sub.add_parser("up", parents=[common], help="build the lab and start it (nothing happens if it is up)")
    up.add_argument("--unshare", action="store_true", help="inside a private network+mount namespace (no root needed)")
    up.add_argument("--dataplane", choices=DATAPLANES, default="auto", help="the nodes' dataplane (default: auto)")
    up.add_argument("--layout", choices=sorted(LAYOUTS), default="pair", help="pair (default) or tutorial (1 node)")
    up.add_argument("--prefix", default=None, help="namespace name prefix (default: sslab- for pair)")
    up.add_argument("--timeout", type=float, default=UP_TIMEOUT, help="seconds to wait until it serves")
    sub.add_parser("status", parents=[common], help="each node's dataplane, HA state and vservers")
    traffic = sub.add_parser("traffic", parents=[common], help="requests through the VIPs, and where they went")
    traffic.add_argument("-n", "--count", type=int, default=100, help="requests per service (default: 100)")
    traffic.add_argument("--vserver", default=None, help="only this vserver's services")
    sub.add_parser("failover", parents=[common], help="make the master hand over to the other node")
    shell = sub.add_parser("shell", parents=[common], help="the seesaw CLI on one node (interactive, or -c)")
    shell.add_argument("node", help="lb1, lb2, ...")
    shell.add_argument("cli_args", nargs=argparse.REMAINDER, help="arguments for seesaw, e.g. -c 'show ha'")
    sub.add_parser("down", parents=[common], help="stop the lab and delete its namespaces")
    return p


def _say(text: str) -> None:
    print(text, flush=True)


def up(args: argparse.Namespace, lab_dir: Path, argv: Sequence[str]) -> int:
    found = state.load(lab_dir)
    if found is not None and (found.processes or not unshare.inside()):
        dead = [name for name, proc in found.processes.items() if not processes.alive(proc)]
        if found.holder is not None and not processes.alive(found.holder):
            dead.append("the namespace holder")
        if dead:
            raise LabError(f"a lab in {lab_dir} is broken ({', '.join(dead)} not running): `seesaw lab down`, then up")
        _say(f"The lab in {lab_dir} is already up ({found.layout}, {found.dataplane} dataplane): `seesaw lab status`.")
        return 0
    if args.unshare and not unshare.inside():
        lab_dir.mkdir(parents=True, exist_ok=True)
        holder, user_namespace = unshare.start_holder(lab_dir)
        state.save(lab_dir, state.LabState(args.layout, "", args.dataplane, holder, user_namespace))
        inner = [a for a in argv if a != "--unshare"]
        status = unshare.run_inside(holder, user_namespace, lab_dir, inner)
        if status != 0:
            processes.stop(holder)
            state.remove(lab_dir)
        return status
    if os.geteuid() != 0:
        raise LabError("`seesaw lab up` needs root for named network namespaces; without root: seesaw lab up --unshare")
    topo = LAYOUTS[args.layout](*([args.prefix] if args.prefix else []))
    lab = Lab(lab_dir, topo, args.dataplane)
    if found is not None:  # made by `up --unshare` outside: keep its holder
        lab.state.holder, lab.state.user_namespace = found.holder, found.user_namespace
    started = time.monotonic()
    lab.up(args.timeout, progress=_say)
    seconds = time.monotonic() - started
    where = "in a private network namespace" if unshare.inside() else "in named network namespaces"
    _say(f"The {topo.name} lab is serving {where} after {seconds:.1f} s (state in {lab_dir}).")
    ncc = query.ncc_status(next(iter(lab.nodes.values())).run_dir)
    if ncc is not None:
        _say(f"Dataplane: {ncc.dataplane} ({ncc.reason})")
    return 0


def down(lab_dir: Path) -> int:
    found = state.load(lab_dir)
    if found is None:
        _say(f"No lab is up in {lab_dir}.")
        return 0
    if found.holder is not None and not unshare.inside():
        if processes.alive(found.holder):
            unshare.run_inside(found.holder, found.user_namespace, lab_dir, ["down"])
            processes.stop(found.holder)
            _say(f"stopped the namespace holder (pid {found.holder.pid}): its namespaces are gone")
        state.remove(lab_dir)
        return 0
    for line in Lab.open(lab_dir).down():
        _say(line)
    return 0


def shell(lab: Lab, node: str, cli_args: Sequence[str]) -> int:
    if node not in lab.nodes:
        raise LabError(f"no node {node!r} in this lab: use one of {', '.join(lab.nodes)}")
    run_dir = str(lab.nodes[node].run_dir)
    os.execv(sys.executable, [sys.executable, "-m", "seesaw.cli", "--run-dir", run_dir, *cli_args])


def dispatch(args: argparse.Namespace, lab_dir: Path, argv: Sequence[str]) -> int:
    if args.command == "up":
        return up(args, lab_dir, argv)
    if args.command == "down":
        return down(lab_dir)
    found = state.load(lab_dir)
    if found is not None and found.holder is not None and not unshare.inside():
        return unshare.run_inside(found.holder, found.user_namespace, lab_dir, argv)
    lab = Lab.open(lab_dir)
    if args.command == "status":
        _say(lab.status())
    elif args.command == "traffic":
        _say(lab.traffic(args.count, args.vserver))
    elif args.command == "failover":
        moved = lab.failover()
        _say(f"{moved.old} -> {moved.new}: the new master took over {moved.seconds:.2f} s after the request.")
        vip = lab.topo.vservers[0].vip.ip
        _say(f"client's neighbour entry for {vip}: {moved.neighbour_before} -> {moved.neighbour_after}")
    elif args.command == "shell":
        return shell(lab, args.node, args.cli_args)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = parser().parse_args(argv)
    lab_dir = args.dir or state.default_dir()
    try:
        return dispatch(args, lab_dir, argv)
    except (LabError, TimeoutError, KeyError) as err:
        message = err.args[0] if isinstance(err, KeyError) and err.args else str(err)
        sys.stderr.write(f"seesaw lab {args.command}: {message}\n")
        return 1
    except KeyboardInterrupt:
        return 130
