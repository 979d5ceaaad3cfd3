"""Regenerates the Python stubs (gen/skymesh/...) and Envoy's descriptor set (gen/descriptor.pb).

Run as ``python -m skymesh.protogen`` (``make proto``). Output is a pure function of proto/:
the folder is wiped and rewritten each time.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

from skymesh.config import REPO_ROOT

PROTO_DIR = REPO_ROOT / "proto"
GEN_DIR = REPO_ROOT / "gen"
DESCRIPTOR_SET = GEN_DIR / "descriptor.pb"


def _googleapis_dir() -> Path:
    import google.api.annotations_pb2 as annotations  # from googleapis-common-protos

    return Path(annotations.__file__).resolve().parent.parent.parent


def proto_files() -> list[str]:
    return sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))


def generate(out: Path = GEN_DIR) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    includes = [
        f"-I{PROTO_DIR}",
        f"-I{_googleapis_dir()}",
        f"-I{Path(grpc_tools.__file__).parent / '_proto'}",
    ]
    files = proto_files()
    for args in (
        [f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}"],
        [
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={out / DESCRIPTOR_SET.name}",
        ],
    ):
        if protoc.main(["grpc_tools.protoc", *includes, *args, *files]) != 0:
            sys.exit("protoc failed; see the messages above")
    print(f"generated {len(files)} protos into {out}/")


if __name__ == "__main__":
    generate()
