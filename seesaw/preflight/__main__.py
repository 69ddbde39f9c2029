"""`python -m seesaw.preflight [--config-dir DIR]`: the doctor, until `seesaw doctor` calls it."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seesaw.preflight.doctor import run_doctor


def main() -> None:
    parser = argparse.ArgumentParser(prog="seesaw doctor", description="check this host for what Seesaw needs")
    parser.add_argument("--config-dir", type=Path, default=Path("/etc/seesaw"), help="default: %(default)s")
    args = parser.parse_args()
    sys.exit(run_doctor(args.config_dir, sys.stdout))


if __name__ == "__main__":
    main()
