"""Finish setting up a private network+mount namespace, then run a command.

Run as `unshare --net --mount --propagation private -- python -m
seesaw.lab.isolate CMD ARGS...`: it mounts a private tmpfs on /run/netns (so
`ip netns` names are private to this run), a fresh /sys (so /sys/class/net
shows this namespace), brings `lo` up, and execs CMD. Everything made inside
disappears when CMD exits.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def _mount(fstype: str, target: str) -> None:
    try:
        Path(target).mkdir(parents=True, exist_ok=True)
    except PermissionError:
        sys.exit(f"{target} does not exist and only root can make it: run `sudo mkdir -p {target}` once, then again")
    subprocess.run(["mount", "-t", fstype, fstype, target], check=True)


def prepare() -> None:
    _mount("tmpfs", "/run/netns")
    _mount("sysfs", "/sys")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit("usage: unshare --net --mount --propagation private -- python -m seesaw.lab.isolate CMD [ARGS...]")
    prepare()
    os.execvp(sys.argv[1], sys.argv[1:])


if __name__ == "__main__":
    main()
