"""Conformance cases for arrays, sets and objects.

Same conventions as conformance_cases.py: each case reproduces an example or a stated rule of
the MongoDB manual page it cites.
"""

from __future__ import annotations

from tests.unit.filters.conformance_cases import agg, case, expression, project  # noqa: F401
