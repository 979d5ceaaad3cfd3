"""compile_pipeline: a MongoDB aggregation pipeline compiled once, run on many documents."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from .errors import EvaluationError, PipelineError
from .expressions.dates import mentions_now, with_now
from .stages import STAGE_COMPILERS, PerDocument, Stage

SUPPORTED_STAGES = frozenset(STAGE_COMPILERS)
# Stages refused with their reason; anything else unsupported is refused as "unsupported".
FORBIDDEN_STAGE_REASONS: dict[str, str] = {
    "$lookup": "filters may not read other collections",
    "$unionWith": "filters may not read other collections",
    "$out": "filters may not write to the database",
    "$merge": "filters may not write to the database",
    "$graphLookup": "filters may not read other collections",
    # Stages that read the server's state rather than the documents in front of them.
    "$collStats": "it reads the server's collection statistics",
    "$indexStats": "it reads the server's index statistics",
    "$planCacheStats": "it reads the server's query plan cache",
    "$currentOp": "it reads the server's running operations",
    "$listSessions": "it reads the server's sessions",
    "$listLocalSessions": "it reads the server's sessions",
    "$listSearchIndexes": "it reads the server's search indexes",
    "$listSampledQueries": "it reads the server's sampled queries",
    "$queryStats": "it reads the server's query statistics",
    "$shardedDataDistribution": "it reads the cluster's shard state",
    "$changeStream": "it reads the database's change stream",
    "$changeStreamSplitLargeEvent": "it belongs to a change stream",
    "$documents": "it replaces the input with literal documents (a database-level aggregation)",
    "$geoNear": "it needs a geospatial index on a collection",
    "$search": "it needs an Atlas Search index",
    "$searchMeta": "it needs an Atlas Search index",
    "$vectorSearch": "it needs an Atlas Vector Search index",
}
FORBIDDEN_STAGES = frozenset(FORBIDDEN_STAGE_REASONS)
# Stages refused because the engine does not implement them, with the reason.
UNSUPPORTED_STAGE_REASONS: dict[str, str] = {
    "$setWindowFields": (
        "window functions (partitions, sorted windows by documents or range, $rank, $shift, "
        "$derivative ...) are not implemented"
    ),
}


class CompiledPipeline:
    """A pipeline ready to run. Documents are read, never modified; a stage that passes a
    document through unchanged (e.g. $match) returns the same object, so treat results as
    read-only."""

    def __init__(self, pipeline: list[dict], stages: Sequence[Stage]) -> None:
        self.pipeline = pipeline
        self.stages = tuple(stages)
        chain = [stage.per_document for stage in self.stages]
        self._chain: tuple[PerDocument, ...] | None = (
            tuple(fn for fn in chain if fn is not None) if all(chain) else None
        )
        if mentions_now(pipeline):
            # MongoDB binds $$NOW once per aggregation: one clock reading per call, so a whole
            # batch given to passes_each sees the same $$NOW.
            self.run = with_now(self.run)  # type: ignore[method-assign]
            self.passes = with_now(self.passes)  # type: ignore[method-assign]
            self.passes_each = with_now(self.passes_each)  # type: ignore[method-assign]

    def run(self, documents: Iterable[dict]) -> list[dict]:
        """Run the stages in order over the documents, as an aggregation over a collection."""
        docs = list(documents)
        for index, stage in enumerate(self.stages, start=1):
            try:
                docs = stage.run(docs)
            except EvaluationError as exc:
                raise _located(exc, index, stage.name) from None
        return docs

    def passes(self, document: dict) -> dict | None:
        """The pipeline's only output for this document taken as a one-document collection, or
        None when it yields no document or several (a Kowalski filter passes an alert when its
        pipeline yields exactly one document)."""
        chain = self._chain
        if chain is None:
            out = self.run([document])
            return out[0] if len(out) == 1 else None
        current: dict | None = document
        for index, fn in enumerate(chain, start=1):
            try:
                current = fn(current)  # type: ignore[arg-type]
            except EvaluationError as exc:
                raise _located(exc, index, self.stages[index - 1].name) from None
            if current is None:
                return None
        return current

    def passes_each(self, documents: Iterable[dict]) -> list[dict | None]:
        """passes() for each document of a batch, in order."""
        return [self.passes(document) for document in documents]


def _located(exc: EvaluationError, index: int, name: str) -> EvaluationError:
    return EvaluationError(exc.message, exc.code, index, name)


def compile_pipeline(pipeline: Any) -> CompiledPipeline:
    """Compile a pipeline (a list of one-field stage objects), refusing anything unsupported
    with a PipelineError that names the stage (1-based), and the operator or path at fault."""
    if not isinstance(pipeline, list):
        raise PipelineError("a pipeline must be a list of stages")
    stages = []
    for index, stage_spec in enumerate(pipeline, start=1):
        if not isinstance(stage_spec, dict) or len(stage_spec) != 1:
            raise PipelineError(
                f"stage {index} must be an object with exactly one field, the stage name"
            )
        ((name, spec),) = stage_spec.items()
        if name in FORBIDDEN_STAGES:
            reason = FORBIDDEN_STAGE_REASONS[name]
            raise PipelineError(f"forbidden stage {name} in stage {index}: {reason}")
        compile_stage = STAGE_COMPILERS.get(name)
        if compile_stage is None:
            reason = UNSUPPORTED_STAGE_REASONS.get(name)
            detail = f": {reason}" if reason else ""
            raise PipelineError(f"unsupported stage {name} in stage {index}{detail}")
        try:
            stages.append(compile_stage(spec))
        except PipelineError as exc:
            raise PipelineError(f"{exc} in stage {index} ({name})") from None
    return CompiledPipeline(pipeline, stages)
