"""The conformance table run through the in-process engine, plus coverage and refusal checks."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

import pytest

from services.filters.engine import (
    FORBIDDEN_OPERATORS,
    FORBIDDEN_STAGES,
    SUPPORTED_ACCUMULATORS,
    SUPPORTED_EXPRESSION_OPERATORS,
    SUPPORTED_QUERY_OPERATORS,
    SUPPORTED_STAGES,
    EvaluationError,
    PipelineError,
    compile_pipeline,
)
from tests.unit.filters.compare import same_documents
from tests.unit.filters.conformance_cases import CASES, MANUAL, Case

RESULT_CASES = [c for c in CASES if c.error is None]
ERROR_CASES = [c for c in CASES if c.error is not None]


def _ids(cases: list[Case]) -> list[str]:
    return [c.name for c in cases]


def test_the_table_is_large_and_sourced() -> None:
    assert len(CASES) >= 150
    names = [c.name for c in CASES]
    assert len(names) == len(set(names)), "case names must be unique"
    for c in CASES:
        assert c.source.startswith(MANUAL), f"{c.name}: cite a page of the MongoDB manual"
        assert (c.expected is None) != (c.error is None), f"{c.name}: expected XOR error"
        for document in c.documents:
            assert "_id" in document, f"{c.name}: every document needs an _id (MongoDB adds one)"


@pytest.mark.parametrize("case", RESULT_CASES, ids=_ids(RESULT_CASES))
def test_case(case: Case) -> None:
    documents = copy.deepcopy(case.documents)
    output = compile_pipeline(case.pipeline).run(documents)
    assert same_documents(output, case.expected, ordered=case.ordered, approx=case.approx), (
        f"{case.name}\n  got:      {output}\n  expected: {case.expected}\n  see {case.source}"
    )
    assert documents == case.documents, "the engine must not modify its input documents"


@pytest.mark.parametrize("case", ERROR_CASES, ids=_ids(ERROR_CASES))
def test_error_case(case: Case) -> None:
    with pytest.raises((PipelineError, EvaluationError)) as raised:
        compile_pipeline(case.pipeline).run(copy.deepcopy(case.documents))
    assert case.error in str(raised.value), f"see {case.source}"


@pytest.mark.parametrize("case", RESULT_CASES, ids=_ids(RESULT_CASES))
def test_per_document_path_agrees_with_run(case: Case) -> None:
    """passes(doc) is what run() gives for doc as a one-document collection, if one document."""
    pipeline = compile_pipeline(case.pipeline)
    for document in case.documents:
        try:
            alone = pipeline.run([copy.deepcopy(document)])
        except EvaluationError:
            with pytest.raises(EvaluationError):
                pipeline.passes(copy.deepcopy(document))
            continue
        expected = alone[0] if len(alone) == 1 else None
        assert pipeline.passes(copy.deepcopy(document)) == expected


# --- coverage: every operator the engine accepts appears in the table ------------------------


def _dollar_keys(value: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
    elif isinstance(value, list):
        for item in value:
            yield from _dollar_keys(item)


class _Used:
    def __init__(self) -> None:
        self.stages: set[str] = set()
        self.query: set[str] = set()
        self.expressions: set[str] = set()
        self.accumulators: set[str] = set()

    def pipeline(self, pipeline: list[dict]) -> None:
        for stage in pipeline:
            ((name, spec),) = stage.items()
            self.stages.add(name)
            if name == "$match":
                self.query_document(spec)
            elif name == "$group":
                for field, value in spec.items():
                    if field == "_id":
                        self.expression(value)
                    else:
                        ((accumulator, argument),) = value.items()
                        self.accumulators.add(accumulator)
                        self.expression(argument)
            elif name in ("$project", "$addFields", "$set", "$replaceWith"):
                self.expression(spec)
            elif name == "$replaceRoot":
                self.expression(spec["newRoot"])

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


@pytest.fixture(scope="module")
def used() -> _Used:
    found = _Used()
    for c in CASES:
        found.pipeline(c.pipeline)
    return found


def test_every_stage_is_covered(used: _Used) -> None:
    assert sorted(SUPPORTED_STAGES - used.stages) == []


def test_every_query_operator_is_covered(used: _Used) -> None:
    assert sorted(SUPPORTED_QUERY_OPERATORS - used.query) == []


def test_every_expression_operator_is_covered(used: _Used) -> None:
    assert sorted(SUPPORTED_EXPRESSION_OPERATORS - used.expressions) == []


def test_every_accumulator_is_covered(used: _Used) -> None:
    assert sorted(SUPPORTED_ACCUMULATORS - used.accumulators) == []


# --- refusals: forbidden and unsupported names are refused at compile time, by name ----------

REFUSED = [
    (
        [{"$lookup": {"from": "other", "localField": "a", "foreignField": "b", "as": "c"}}],
        "$lookup",
    ),
    ([{"$unionWith": "other"}], "$unionWith"),
    ([{"$out": "other"}], "$out"),
    ([{"$merge": {"into": "other"}}], "$merge"),
    ([{"$match": {"$where": "this.a > 1"}}], "$where"),
    (
        [{"$project": {"x": {"$function": {"body": "function() {}", "args": [], "lang": "js"}}}}],
        "$function",
    ),
    ([{"$match": {"$expr": {"$function": {"body": "f", "args": [], "lang": "js"}}}}], "$function"),
    ([{"$group": {"_id": None, "x": {"$accumulator": {"init": "f"}}}}], "$accumulator"),
    ([{"$facet": {"a": [{"$match": {}}]}}], "$facet"),
    ([{"$bucket": {"groupBy": "$a", "boundaries": [0, 1]}}], "$bucket"),
    ([{"$geoNear": {"near": [0, 0], "distanceField": "d"}}], "$geoNear"),
    (
        [
            {
                "$graphLookup": {
                    "from": "o",
                    "startWith": "$a",
                    "connectFromField": "a",
                    "connectToField": "b",
                    "as": "c",
                }
            }
        ],
        "$graphLookup",
    ),
    ([{"$sample": {"size": 1}}], "$sample"),
    ([{"$addFields": {"m": {"$mergeObjects": ["$a", "$b"]}}}], "$mergeObjects"),
    ([{"$match": {"loc": {"$geoWithin": {"$centerSphere": [[0, 0], 1]}}}}], "$geoWithin"),
    ([{"$match": {"$text": {"$search": "x"}}}], "$text"),
    ([{"$group": {"_id": None, "s": {"$stdDevPop": "$a"}}}], "$stdDevPop"),
    ([{"$project": {"x": "$$CLUSTER_TIME"}}], "$$CLUSTER_TIME"),
]


@pytest.mark.parametrize(("pipeline", "name"), REFUSED, ids=[name for _, name in REFUSED])
def test_refused_with_its_name(pipeline: list[dict], name: str) -> None:
    with pytest.raises(PipelineError) as raised:
        compile_pipeline(pipeline)
    assert name in str(raised.value)


def test_every_forbidden_name_is_refused() -> None:
    refused = {name for _, name in REFUSED}
    assert set(FORBIDDEN_STAGES) <= refused
    assert set(FORBIDDEN_OPERATORS) <= refused


def test_a_refusal_names_the_stage_and_its_position() -> None:
    with pytest.raises(PipelineError) as raised:
        compile_pipeline([{"$match": {}}, {"$project": {"x": {"$function": {}}}}])
    assert "$function" in str(raised.value)
    assert "stage 2 ($project)" in str(raised.value)


def test_a_runtime_error_carries_mongodb_code_and_stage() -> None:
    pipeline = compile_pipeline([{"$match": {}}, {"$project": {"n": {"$size": "$missing"}}}])
    with pytest.raises(EvaluationError) as raised:
        pipeline.passes({"_id": 1})
    assert raised.value.code == 17124
    assert raised.value.stage_index == 2
