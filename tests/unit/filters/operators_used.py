"""Which stages and operators a pipeline uses, by kind: the conformance table's coverage check
and the engine README's operator table read it."""

from __future__ import annotations

from typing import Any

# Stages whose whole specification is an expression (or an object of them).
_EXPRESSION_STAGES = ("$project", "$addFields", "$set", "$replaceWith", "$sortByCount", "$redact")


class Used:
    def __init__(self) -> None:
        self.stages: set[str] = set()
        self.query: set[str] = set()
        self.expressions: set[str] = set()
        self.accumulators: set[str] = set()

    def pipeline(self, pipeline: list[dict]) -> None:
        for stage in pipeline:
            if not isinstance(stage, dict) or len(stage) != 1:
                continue  # a malformed stage of an error case
            ((name, spec),) = stage.items()
            self.stages.add(name)
            if name == "$match":
                self.query_document(spec)
            elif name == "$group":
                for field, value in spec.items():
                    if field == "_id":
                        self.expression(value)
                    else:
                        self.accumulator(value)
            elif name in ("$bucket", "$bucketAuto"):
                self.expression(spec.get("groupBy"))
                for value in spec.get("output", {}).values():
                    self.accumulator(value)
            elif name == "$facet":
                for sub_pipeline in spec.values():
                    if isinstance(sub_pipeline, list):
                        self.pipeline(sub_pipeline)
            elif name in _EXPRESSION_STAGES:
                self.expression(spec)
            elif name == "$fill":
                self.expression(spec.get("partitionBy"))
                for how in spec.get("output", {}).values():
                    self.expression(how.get("value") if isinstance(how, dict) else None)
            elif name == "$replaceRoot":
                self.expression(spec["newRoot"])

    def accumulator(self, value: dict) -> None:
        ((accumulator, argument),) = value.items()
        self.accumulators.add(accumulator)
        self.expression(argument)

    def query_document(self, value: Any) -> None:
        self._walk(value, self.query)

    def expression(self, value: Any) -> None:
        self._walk(value, self.expressions)

    def _walk(self, value: Any, names: set[str]) -> None:
        """Collect the $-keys of a query or an expression into `names`; a query's $expr holds an
        expression, an expression's $literal holds data."""
        if isinstance(value, dict):
            for key, item in value.items():
                if key.startswith("$"):
                    names.add(key)
                    if key == "$literal" and names is self.expressions:
                        continue
                    if key == "$expr" and names is self.query:
                        self.expression(item)
                        continue
                self._walk(item, names)
        elif isinstance(value, list):
            for item in value:
                self._walk(item, names)

    def by_kind(self) -> dict[str, set[str]]:
        return {
            "stage": self.stages,
            "query": self.query,
            "expression": self.expressions,
            "accumulator": self.accumulators,
        }
