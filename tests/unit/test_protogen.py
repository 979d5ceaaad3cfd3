from pathlib import Path

from skymesh.protogen import GEN_DIR, generate


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
