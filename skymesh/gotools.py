"""Go programs the build needs (protoc plugins, kustomize), built once from the Go module proxy.

Each tool is ``go install``-ed at a pinned version into ``<cache>/gotools/<name>/bin`` with a
version marker, so that a second run builds nothing and a changed pin rebuilds. Module files
live in ``<cache>/go/mod`` (writable, so that removing .cache needs no chmod) and compiled
packages in ``<cache>/go/build``, shared by every tool and by the Go client's tests, so that
a package both need (protobuf, gRPC) is compiled once.
"""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path


def default_cache_dir() -> Path:
    """The build's cache (make setup's): SKYMESH_CACHE_DIR, else .cache in the repository."""
    from skymesh.config import REPO_ROOT

    return Path(os.environ.get("SKYMESH_CACHE_DIR", str(REPO_ROOT / ".cache")))


# The Go that a go older than 1.21 (which cannot switch toolchains itself) fetches.
FALLBACK_TOOLCHAIN = "go1.24.6"


@dataclass(frozen=True)
class GoTool:
    """A program of a Go module: ``go install <package>@<version>`` writes ``<binary>``."""

    package: str
    version: str

    @property
    def binary(self) -> str:
        # go install names a program after its package, less a major-version suffix (/v5).
        parts = self.package.rstrip("/").split("/")
        return parts[-2] if re.fullmatch(r"v\d+", parts[-1]) else parts[-1]


def go() -> str:
    for candidate in (shutil.which("go"), "/usr/local/go/bin/go", "/usr/lib/go/bin/go"):
        if candidate and Path(candidate).exists():
            return candidate
    raise RuntimeError(
        "go not found: Go (1.21 or newer) builds the protoc plugins and kustomize once "
        "(scripts/install-system-packages.sh installs it)"
    )


def go_env(cache_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of every go command of the build: modules and builds under
    ``<cache>/go``, from the Go module proxy only."""
    go_dir = cache_dir.resolve() / "go"
    return {
        **{k: v for k, v in os.environ.items() if k != "GOROOT"},
        "GOPATH": str(go_dir),
        "GOMODCACHE": str(go_dir / "mod"),
        "GOCACHE": str(go_dir / "build"),
        "GOFLAGS": "-modcacherw",
        # A go older than a module's go.mod asks fetches that toolchain from the proxy
        # (Debian's go sets GOTOOLCHAIN=local, which would refuse).
        "GOTOOLCHAIN": "auto",
        "CGO_ENABLED": "0",
        **extra,
    }


def _go_version(go_binary: str, env: dict[str, str]) -> tuple[int, ...]:
    text = subprocess.run(
        [go_binary, "env", "GOVERSION"], env=env, capture_output=True, text=True, check=True
    ).stdout
    found = re.match(r"go(\d+)\.(\d+)", text.strip())
    if found is None:
        raise RuntimeError(f"{go_binary}: cannot read its version from {text!r}")
    return tuple(int(part) for part in found.groups())


def toolchain(go_binary: str, env: dict[str, str]) -> str:
    """A go that can build the tools: this one if it switches toolchains itself (1.21+),
    else the toolchain module that it downloads (Debian 12's go is 1.19)."""
    if _go_version(go_binary, env) >= (1, 21):
        return go_binary
    arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    module = f"golang.org/toolchain@v0.0.1-{FALLBACK_TOOLCHAIN}.linux-{arch}"
    result = subprocess.run(
        [go_binary, "mod", "download", "-json", module], env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        raise RuntimeError(f"downloading {module} failed:\n{result.stdout}{result.stderr}")
    root = Path(json.loads(result.stdout)["Dir"])
    # Module files carry no modes; the toolchain's programs must run.
    for program in [*root.glob("bin/*"), *root.glob("pkg/tool/*/*")]:
        program.chmod(0o755)
    return str(root / "bin" / "go")


def tool_path(cache_dir: Path, tool: GoTool) -> Path:
    return cache_dir.resolve() / "gotools" / tool.binary / "bin" / tool.binary


def ensure(cache_dir: Path, tool: GoTool, go_binary: str | None = None) -> Path:
    """Builds ``tool`` once per version; returns the program's path."""
    binary = tool_path(cache_dir, tool)
    bin_dir = binary.parent
    marker = bin_dir / ".version"
    if binary.exists() and marker.exists() and marker.read_text().strip() == tool.version:
        return binary
    print(f"building {tool.package}@{tool.version} into {bin_dir} (once)", flush=True)
    staging = bin_dir.with_name("bin.partial")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    env = go_env(cache_dir, GOBIN=str(staging))
    result = subprocess.run(
        [toolchain(go_binary or go(), env), "install", f"{tool.package}@{tool.version}"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not (staging / binary.name).exists():
        raise RuntimeError(
            f"building {tool.package} failed (exit {result.returncode}):\n"
            f"{result.stdout[-3000:]}{result.stderr[-3000:]}"
        )
    shutil.rmtree(bin_dir, ignore_errors=True)
    staging.rename(bin_dir)
    marker.write_text(tool.version + "\n")
    return binary


def download(cache_dir: Path, module_dir: Path) -> None:
    """Fetches the modules that the Go module in ``module_dir`` needs (go.sum checks them)."""
    env = go_env(cache_dir)
    result = subprocess.run(
        [toolchain(go(), env), "mod", "download"],
        cwd=module_dir,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"go mod download in {module_dir} failed:\n{result.stderr[-3000:]}")


if __name__ == "__main__":
    import sys

    # python -m skymesh.gotools download DIR (make setup: the Go client's modules)
    if len(sys.argv) != 3 or sys.argv[1] != "download":
        sys.exit("usage: python -m skymesh.gotools download MODULE_DIR")
    download(default_cache_dir(), Path(sys.argv[2]))
