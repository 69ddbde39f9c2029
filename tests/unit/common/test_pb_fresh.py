"""seesaw/pb must be exactly what scripts/gen_protos.py makes from proto/."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_generated_code_is_fresh():
    result = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "gen_protos.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_every_proto_has_generated_modules():
    protos = sorted(p.stem for p in (ROOT / "proto" / "seesaw" / "pb").glob("*.proto"))
    assert protos, "no .proto files found"
    for stem in protos:
        assert (ROOT / "seesaw" / "pb" / f"{stem}_pb2.py").exists(), stem
        assert (ROOT / "seesaw" / "pb" / f"{stem}_pb2_grpc.py").exists(), stem
