#!/usr/bin/env python3
"""Regenerate seesaw/pb/ from proto/ (the only way generated code changes).

Usage: python scripts/gen_protos.py [--check]

--check regenerates into a temporary directory and exits 1 if seesaw/pb/
differs, which is what the staleness test runs.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO_ROOT = ROOT / "proto"
PB_DIR = ROOT / "seesaw" / "pb"
INIT_TEXT = '"""Generated protobuf and gRPC modules. Regenerate with scripts/gen_protos.py."""\n'


def generate(out_root: Path) -> Path:
    from grpc_tools import protoc  # imported here: only needed to regenerate

    protos = sorted(str(p.relative_to(PROTO_ROOT)) for p in (PROTO_ROOT / "seesaw" / "pb").glob("*.proto"))
    include = Path(protoc.__file__).parent / "_proto"
    args = [
        "protoc",
        f"-I{PROTO_ROOT}",
        f"-I{include}",
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *protos,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    pb = out_root / "seesaw" / "pb"
    (pb / "__init__.py").write_text(INIT_TEXT)
    return pb


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if seesaw/pb is stale")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = generate(Path(tmp))
        names = sorted(p.name for p in fresh.iterdir() if p.is_file())
        if args.check:
            current = sorted(p.name for p in PB_DIR.iterdir() if p.is_file() and p.suffix in (".py", ".pyi"))
            _, mismatch, errors = filecmp.cmpfiles(fresh, PB_DIR, names, shallow=False)
            stale = sorted(set(mismatch) | set(errors) | (set(current) ^ set(names)))
            if stale:
                print("seesaw/pb is stale; run: python scripts/gen_protos.py", file=sys.stderr)
                for name in stale:
                    print(f"  {name}", file=sys.stderr)
                return 1
            return 0
        for old in PB_DIR.glob("*"):
            if old.is_file() and old.suffix in (".py", ".pyi"):
                old.unlink()
        for name in names:
            shutil.copy2(fresh / name, PB_DIR / name)
    print(f"generated {len(names)} files in {PB_DIR.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
