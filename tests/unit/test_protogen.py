from pathlib import Path

from skymesh.protogen import (
    GEN_DIR,
    GO_GEN_DIR,
    TS_GEN_DIR,
    generate,
    generate_go,
    generate_typescript,
)


def tree(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "__pycache__" not in p.parts
    }


def test_generation_is_reproducible_and_matches_the_checkout(tmp_path: Path) -> None:
    generate(tmp_path / "a")
    generate(tmp_path / "b")
    first, second = tree(tmp_path / "a"), tree(tmp_path / "b")
    assert first == second
    assert "descriptor.pb" in first
    assert "skymesh/archive/v1/archive_pb2_grpc.py" in first
    # `make proto` output in gen/ is what the sources produce now (nothing stale).
    assert tree(GEN_DIR) == first


def test_the_clients_generated_code_is_current(tmp_path: Path) -> None:
    """`make proto` writes clients/go/gen and clients/typescript/src/gen, which are committed:
    regenerating them from proto/ with the pinned plugins gives the checkout's bytes."""
    generate_go(tmp_path / "go")
    generate_typescript(tmp_path / "ts")
    go, ts = tree(tmp_path / "go"), tree(tmp_path / "ts")
    assert "skymesh/portal/v1/portal_grpc.pb.go" in go
    assert "skymesh/portal/v1/portal_pb.ts" in ts
    assert "google/api/httpbody_pb.ts" in ts
    stale = "stale: run `make proto` and commit clients/"
    assert tree(GO_GEN_DIR) == go, stale
    assert tree(TS_GEN_DIR) == ts, stale
