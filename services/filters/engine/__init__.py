"""In-process evaluator of MongoDB aggregation pipelines for Kowalski filters.

A pipeline compiles once (`compile_pipeline`) into Python closures and then runs on many
documents (alerts as pymongo decodes them) with MongoDB's semantics. See README.md.
"""

from __future__ import annotations

from .accumulators import SUPPORTED_ACCUMULATORS
from .errors import EvaluationError, PipelineError
from .expressions import (
    FORBIDDEN_EXPRESSION_OPERATORS,
    SUPPORTED_EXPRESSION_OPERATORS,
    compile_expression,
)
from .pipeline import FORBIDDEN_STAGES, SUPPORTED_STAGES, CompiledPipeline, compile_pipeline
from .query import FORBIDDEN_QUERY_OPERATORS, SUPPORTED_QUERY_OPERATORS, compile_query
from .values import MISSING

# Operators refused by name with a reason (server-side JavaScript, randomness, indexes ...).
FORBIDDEN_OPERATORS = frozenset(
    set(FORBIDDEN_EXPRESSION_OPERATORS) | set(FORBIDDEN_QUERY_OPERATORS) | {"$accumulator"}
)

__all__ = [
    "FORBIDDEN_EXPRESSION_OPERATORS",
    "FORBIDDEN_OPERATORS",
    "FORBIDDEN_QUERY_OPERATORS",
    "FORBIDDEN_STAGES",
    "MISSING",
    "SUPPORTED_ACCUMULATORS",
    "SUPPORTED_EXPRESSION_OPERATORS",
    "SUPPORTED_QUERY_OPERATORS",
    "SUPPORTED_STAGES",
    "CompiledPipeline",
    "EvaluationError",
    "PipelineError",
    "compile_expression",
    "compile_pipeline",
    "compile_query",
]
