"""What a running lab is, kept in `<lab dir>/state.json` so every `seesaw lab` command finds it.

The lab dir is `--dir`, else $SEESAW_LAB_DIR, else /run/seesaw-lab for root
and $XDG_RUNTIME_DIR/seesaw-lab (or /tmp/seesaw-lab-<uid>) otherwise. It
also holds each node's config, run and log dirs and the backends' logs.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

from seesaw.lab.processes import Proc

ENV_LAB_DIR = "SEESAW_LAB_DIR"
STATE_FILE = "state.json"


def default_dir() -> Path:
    if os.environ.get(ENV_LAB_DIR):
        return Path(os.environ[ENV_LAB_DIR])
    if os.geteuid() == 0:
        return Path("/run/seesaw-lab")
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    return Path(runtime) / "seesaw-lab" if runtime else Path(f"/tmp/seesaw-lab-{os.getuid()}")


@dataclass
class LabState:
    layout: str  # a key of topology.LAYOUTS
    prefix: str  # namespace name prefix
    dataplane: str  # the nodes' [dataplane] backend
    holder: Proc | None = None  # --unshare: the process that holds the lab's namespaces
    user_namespace: bool = False  # --unshare without root: the holder is in a user namespace of its own
    processes: dict[str, Proc] = field(default_factory=dict)  # "lb1" (its watchdog), "be1" (its servers)

    def to_json(self) -> dict[str, object]:
        return {
            "layout": self.layout,
            "prefix": self.prefix,
            "dataplane": self.dataplane,
            "holder": self.holder.to_json() if self.holder else None,
            "user_namespace": self.user_namespace,
            "processes": {name: proc.to_json() for name, proc in self.processes.items()},
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> LabState:
        holder = data.get("holder")
        processes = data.get("processes") or {}
        assert isinstance(processes, dict)
        return cls(
            layout=str(data["layout"]),
            prefix=str(data["prefix"]),
            dataplane=str(data["dataplane"]),
            holder=Proc.from_json(holder) if isinstance(holder, dict) else None,
            user_namespace=bool(data.get("user_namespace")),
            processes={name: Proc.from_json(proc) for name, proc in processes.items()},
        )


def load(lab_dir: Path) -> LabState | None:
    try:
        text = (lab_dir / STATE_FILE).read_text()
    except FileNotFoundError:
        return None
    return LabState.from_json(json.loads(text))


def save(lab_dir: Path, state: LabState) -> None:
    lab_dir.mkdir(parents=True, exist_ok=True)
    tmp = lab_dir / f"{STATE_FILE}.tmp"
    tmp.write_text(json.dumps(state.to_json(), indent=2) + "\n")
    tmp.replace(lab_dir / STATE_FILE)


def remove(lab_dir: Path) -> None:
    (lab_dir / STATE_FILE).unlink(missing_ok=True)
