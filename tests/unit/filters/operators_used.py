"""Which stages and operators a pipeline uses, by kind: the conformance table's coverage check
and the engine README's operator table read it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def _dollar_keys(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
    elif isinstance(value, list):
        for item in value:
            yield from _dollar_keys(item)


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
            elif name in ("$project", "$addFields", "$set", "$replaceWith", "$sortByCount"):
                self.expression(spec)
            elif name == "$redact":
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
        if isinstance(value, dict):
            for key, item in value.items():
                if key.startswith("$"):
                    self.query.add(key)
                if key == "$expr":
                    self.expression(item)
                else:
                    self.query_document(item)
        elif isinstance(value, list):
            for item in value:
                self.query_document(item)

    def expression(self, value: Any) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                if key.startswith("$"):
                    self.expressions.add(key)
                    if key == "$literal":
                        continue
                self.expression(item)
        elif isinstance(value, list):
            for item in value:
                self.expression(item)

    def by_kind(self) -> dict[str, set[str]]:
        return {
            "stage": self.stages,
            "query": self.query,
            "expression": self.expressions,
            "accumulator": self.accumulators,
        }
