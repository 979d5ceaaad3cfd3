"""Runs every benchmark module of this package, or the ones named: ``python -m bench [name...]``."""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time

import bench


def benchmark_names() -> list[str]:
    return sorted(
        module.name
        for module in pkgutil.iter_modules(bench.__path__)
        if not module.name.startswith("_")
    )


def main(argv: list[str]) -> int:
    available = benchmark_names()
    names = argv or available
    unknown = sorted(set(names) - set(available))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
        print(f"== bench.{name}: {summary}", flush=True)
        started = time.perf_counter()
        module.main()
        print(f"== bench.{name} done in {time.perf_counter() - started:.1f} s\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
