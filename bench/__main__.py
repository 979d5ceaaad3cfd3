"""Runs every benchmark module of this package, or the ones named.

``python -m bench [--quick] [--out DIR] [name...]``: ``--quick`` and ``--out`` go to the
modules whose ``main`` takes them (the whole-mesh benchmark, bench/pipeline.py).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import pkgutil
import sys
import time
from pathlib import Path

import bench


def benchmark_names() -> list[str]:
    """Modules with a ``main``: the benchmarks (the others are their parts)."""
    names = []
    for module in pkgutil.iter_modules(bench.__path__):
        if module.name.startswith("_"):
            continue
        if hasattr(importlib.import_module(f"bench.{module.name}"), "main"):
            names.append(module.name)
    return sorted(names)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="small phases (a smoke run)")
    parser.add_argument("--out", type=Path, help="where reports are written")
    args = parser.parse_args(argv)
    available = benchmark_names()
    names = args.names or available
    unknown = sorted(set(names) - set(available))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(available)}")
        return 2
    options = {"quick": args.quick, "out": args.out}
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        accepted = inspect.signature(module.main).parameters
        given = {key: value for key, value in options.items() if value}
        if refused := sorted(set(given) - set(accepted)):
            print(f"bench.{name} has no --{' --'.join(refused)} option; skipped")
            continue
        summary = (module.__doc__ or "").strip().splitlines()[0] if module.__doc__ else ""
        print(f"== bench.{name}: {summary}", flush=True)
        started = time.perf_counter()
        module.main(**given)
        print(f"== bench.{name} done in {time.perf_counter() - started:.1f} s\n", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
