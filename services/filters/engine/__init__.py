"""In-process evaluator of MongoDB aggregation pipelines for Kowalski filters.

A pipeline compiles once (`compile_pipeline`) into Python closures and then runs on many
documents (alerts as pymongo decodes them) with MongoDB's semantics. See README.md.
"""

from __future__ import annotations

from .accumulators import FORBIDDEN_ACCUMULATORS, SUPPORTED_ACCUMULATORS
from .errors import EvaluationError, PipelineError
from .expressions import (
    FORBIDDEN_EXPRESSION_OPERATORS,
    SUPPORTED_EXPRESSION_OPERATORS,
    compile_expression,
)
from .expressions.core import REFUSED_SYSTEM_VARIABLES
from .pipeline import (
    FORBIDDEN_STAGE_REASONS,
    FORBIDDEN_STAGES,
    SUPPORTED_STAGES,
    UNSUPPORTED_STAGE_REASONS,
    CompiledPipeline,
    compile_pipeline,
)
from .query import FORBIDDEN_QUERY_OPERATORS, SUPPORTED_QUERY_OPERATORS, compile_query
from .values import MISSING

# Operators refused by name with a reason (server-side JavaScript, randomness, indexes ...).
FORBIDDEN_OPERATORS = frozenset(
    set(FORBIDDEN_EXPRESSION_OPERATORS) | set(FORBIDDEN_QUERY_OPERATORS) | {"$accumulator"}
)

# Everything refused by name, with its reason: (kind, name) -> reason. The README's operator
# table lists these beside what is supported.
REFUSED: dict[tuple[str, str], str] = {
    **{("stage", name): reason for name, reason in FORBIDDEN_STAGE_REASONS.items()},
    **{("stage", name): reason for name, reason in UNSUPPORTED_STAGE_REASONS.items()},
    **{("query", name): reason for name, reason in FORBIDDEN_QUERY_OPERATORS.items()},
    **{("expression", name): reason for name, reason in FORBIDDEN_EXPRESSION_OPERATORS.items()},
    **{("accumulator", name): reason for name, reason in FORBIDDEN_ACCUMULATORS.items()},
    **{("variable", f"$${name}"): reason for name, reason in REFUSED_SYSTEM_VARIABLES.items()},
}

__all__ = [
    "FORBIDDEN_EXPRESSION_OPERATORS",
    "FORBIDDEN_OPERATORS",
    "FORBIDDEN_QUERY_OPERATORS",
    "FORBIDDEN_STAGES",
    "MISSING",
    "REFUSED",
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
