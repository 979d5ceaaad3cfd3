"""Code generated from proto/: the mesh's own and the clients' in other languages.

- ``gen/`` (ignored by git): the Python stubs (gen/skymesh/...) and Envoy's descriptor set
  (gen/descriptor.pb). ``python -m skymesh.protogen`` (``make setup``) writes only these.
- ``clients/go/gen/`` and ``clients/typescript/src/gen/`` (committed, so that the clients build
  from a checkout): Go messages and gRPC stubs (protoc-gen-go, protoc-gen-go-grpc, built from
  the Go module proxy) and TypeScript messages and service descriptors (protoc-gen-es, from
  the client's npm dependencies). ``--clients`` (``make proto``) writes these too; a unit
  test regenerates them and compares with the checkout.

Each output is a pure function of proto/ and the pinned plugins: its folder is wiped and
rewritten each time.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

from skymesh import gotools
from skymesh.config import REPO_ROOT
from skymesh.gotools import GoTool

PROTO_DIR = REPO_ROOT / "proto"
GEN_DIR = REPO_ROOT / "gen"
DESCRIPTOR_SET = GEN_DIR / "descriptor.pb"

GO_CLIENT_DIR = REPO_ROOT / "clients" / "go"
GO_MODULE = "github.com/skymesh/skymesh/clients/go"
GO_GEN_DIR = GO_CLIENT_DIR / "gen"
PROTOC_GEN_GO = GoTool("google.golang.org/protobuf/cmd/protoc-gen-go", "v1.36.12")
PROTOC_GEN_GO_GRPC = GoTool("google.golang.org/grpc/cmd/protoc-gen-go-grpc", "v1.6.2")

TS_CLIENT_DIR = REPO_ROOT / "clients" / "typescript"
TS_GEN_DIR = TS_CLIENT_DIR / "src" / "gen"
# The googleapis files our protos import: protoc-gen-es writes only the files it is given,
# and the generated code imports these by relative path (Go has them in genproto).
GOOGLE_API_PROTOS = (
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/api/httpbody.proto",
)


def _googleapis_dir() -> Path:
    import google.api.annotations_pb2 as annotations  # from googleapis-common-protos

    return Path(annotations.__file__).resolve().parent.parent.parent


def proto_files() -> list[str]:
    return sorted(str(p.relative_to(PROTO_DIR)) for p in PROTO_DIR.rglob("*.proto"))


def _includes() -> list[str]:
    return [
        f"-I{PROTO_DIR}",
        f"-I{_googleapis_dir()}",
        f"-I{Path(grpc_tools.__file__).parent / '_proto'}",
    ]


def _protoc(*args: str) -> None:
    if protoc.main(["grpc_tools.protoc", *_includes(), *args]) != 0:
        sys.exit("protoc failed; see the messages above")


def _replace_folder(staged: Path, out: Path) -> None:
    shutil.rmtree(out, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(str(staged), str(out))


def generate(out: Path = GEN_DIR) -> None:
    """The Python stubs and Envoy's descriptor set."""
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    files = proto_files()
    for args in (
        [f"--python_out={out}", f"--pyi_out={out}", f"--grpc_python_out={out}"],
        [
            "--include_imports",
            "--include_source_info",
            f"--descriptor_set_out={out / DESCRIPTOR_SET.name}",
        ],
    ):
        _protoc(*args, *files)
    print(f"generated {len(files)} protos into {out}/")


def go_package(proto: str) -> str:
    """``skymesh/portal/v1/portal.proto`` -> ``<module>/gen/skymesh/portal/v1;portalv1``."""
    folder = Path(proto).parent
    return f"{GO_MODULE}/gen/{folder.as_posix()};{folder.parent.name}{folder.name}"


def generate_go(out: Path = GO_GEN_DIR, cache_dir: Path | None = None) -> None:
    """Go messages and gRPC client/server stubs, one package per proto package.

    The protos name no Go package (they are the mesh's, not Go's): it is given here."""
    cache = cache_dir or gotools.default_cache_dir()
    plugins = {
        "go": gotools.ensure(cache, PROTOC_GEN_GO),
        "go-grpc": gotools.ensure(cache, PROTOC_GEN_GO_GRPC),
    }
    files = proto_files()
    with tempfile.TemporaryDirectory() as staging:
        args = []
        for name, plugin in plugins.items():
            args += [f"--plugin=protoc-gen-{name}={plugin}", f"--{name}_out={staging}"]
            args += [f"--{name}_opt=module={GO_MODULE}"]
            args += [f"--{name}_opt=M{proto}={go_package(proto)}" for proto in files]
        _protoc(*args, *files)
        _replace_folder(Path(staging) / "gen", out)
    print(f"generated {len(files)} protos into {out}/ (Go)")


def generate_typescript(out: Path = TS_GEN_DIR) -> None:
    """TypeScript messages and service descriptors (protobuf-es), for Connect's clients."""
    plugin = TS_CLIENT_DIR / "node_modules" / ".bin" / "protoc-gen-es"
    if not plugin.exists():
        sys.exit(f"{plugin} is missing: run `npm ci` in {TS_CLIENT_DIR} (make setup does)")
    files = [*GOOGLE_API_PROTOS, *proto_files()]
    with tempfile.TemporaryDirectory() as staging:
        written = Path(staging) / "ts"
        written.mkdir()
        _protoc(
            f"--plugin=protoc-gen-es={plugin}",
            f"--es_out={written}",
            # Node's ES modules need the extension of the file an import names.
            "--es_opt=target=ts,import_extension=js",
            *files,
        )
        _replace_folder(written, out)
    print(f"generated {len(files)} protos into {out}/ (TypeScript)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clients", action="store_true", help="also the Go and TypeScript clients' code"
    )
    args = parser.parse_args(argv)
    generate()
    if args.clients:
        generate_go()
        generate_typescript()


if __name__ == "__main__":
    main()
