"""Benchmarks (``make bench``): figures, not tests.

Each module here is one benchmark with a ``main() -> None`` that prints what it measured;
``python -m bench`` runs them all (or the ones named on the command line). Add a benchmark by
adding a module.
"""
