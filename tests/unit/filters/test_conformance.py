"""The conformance table run through the in-process engine, plus coverage and refusal checks."""

from __future__ import annotations

import copy

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
from tests.unit.filters.operators_used import Used

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


@pytest.fixture(scope="module")
def used() -> Used:
    found = Used()
    for c in CASES:
        found.pipeline(c.pipeline)
    return found


def test_every_stage_is_covered(used: Used) -> None:
    assert sorted(SUPPORTED_STAGES - used.stages) == []


def test_every_query_operator_is_covered(used: Used) -> None:
    assert sorted(SUPPORTED_QUERY_OPERATORS - used.query) == []


def test_every_expression_operator_is_covered(used: Used) -> None:
    assert sorted(SUPPORTED_EXPRESSION_OPERATORS - used.expressions) == []


def test_every_accumulator_is_covered(used: Used) -> None:
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
    ([{"$match": {"loc": {"$geoWithin": {"$centerSphere": [[0, 0], 1]}}}}], "$geoWithin"),
    ([{"$match": {"$text": {"$search": "x"}}}], "$text"),
    ([{"$project": {"r": {"$rand": {}}}}], "$rand"),
    ([{"$match": {"$sampleRate": 0.33}}], "$sampleRate"),
    ([{"$project": {"score": {"$meta": "textScore"}}}], "$meta"),
    ([{"$project": {"k": {"$toHashedIndexKey": "$a"}}}], "$toHashedIndexKey"),
    ([{"$match": {"loc": {"$near": [0, 0]}}}], "$near"),
    ([{"$match": {"loc": {"$nearSphere": [0, 0]}}}], "$nearSphere"),
    (
        [{"$match": {"loc": {"$geoIntersects": {"$geometry": {"type": "Point"}}}}}],
        "$geoIntersects",
    ),
    ([{"$match": {"$jsonSchema": {"required": ["a"]}}}], "$jsonSchema"),
    ([{"$match": {"$expr": {"$lt": [0.5, {"$rand": {}}]}}}], "$rand"),
    # Stages that read the server's state instead of the documents are refused by name.
    ([{"$geoNear": {"near": [0, 0], "distanceField": "d"}}], "$geoNear"),
    ([{"$collStats": {"count": {}}}], "$collStats"),
    ([{"$indexStats": {}}], "$indexStats"),
    ([{"$planCacheStats": {}}], "$planCacheStats"),
    ([{"$currentOp": {}}], "$currentOp"),
    ([{"$listSessions": {}}], "$listSessions"),
    ([{"$listLocalSessions": {}}], "$listLocalSessions"),
    ([{"$listSearchIndexes": {}}], "$listSearchIndexes"),
    ([{"$listSampledQueries": {}}], "$listSampledQueries"),
    ([{"$queryStats": {}}], "$queryStats"),
    ([{"$shardedDataDistribution": {}}], "$shardedDataDistribution"),
    ([{"$changeStream": {}}], "$changeStream"),
    ([{"$changeStreamSplitLargeEvent": {}}], "$changeStreamSplitLargeEvent"),
    ([{"$documents": [{"a": 1}]}], "$documents"),
    ([{"$search": {"text": {"query": "x", "path": "a"}}}], "$search"),
    ([{"$searchMeta": {"text": {"query": "x", "path": "a"}}}], "$searchMeta"),
    ([{"$vectorSearch": {"path": "v", "queryVector": [0.0], "limit": 1}}], "$vectorSearch"),
    (
        [{"$setWindowFields": {"sortBy": {"a": 1}, "output": {"r": {"$rank": {}}}}}],
        "$setWindowFields",
    ),
    # Inside $facet, the stages the manual excludes are refused, and forbidden ones stay so.
    ([{"$facet": {"a": [{"$out": "other"}]}}], "$out"),
    (
        [{"$facet": {"a": [{"$facet": {"b": [{"$match": {}}]}}]}}],
        "is not allowed to be used within",
    ),
    (
        [
            {
                "$facet": {
                    "a": [
                        {
                            "$lookup": {
                                "from": "o",
                                "localField": "a",
                                "foreignField": "b",
                                "as": "c",
                            }
                        }
                    ]
                }
            }
        ],
        "filters may not read other collections",
    ),
    ([{"$facet": {"a": [{"$facet": {}}]}}], "$facet"),
    # Accumulator-only operators are not expressions.
    ([{"$project": {"t": {"$topN": {"n": 1, "sortBy": {"a": 1}, "output": "$a"}}}}], "$topN"),
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


@pytest.mark.parametrize(
    ("pipeline", "reason"),
    [
        ([{"$project": {"r": {"$rand": {}}}}], "filters must be deterministic"),
        ([{"$match": {"$sampleRate": 0.5}}], "a replayed alert must pass the same filters"),
        ([{"$project": {"s": {"$meta": "textScore"}}}], "text search scores need a text index"),
        ([{"$project": {"k": {"$toHashedIndexKey": 1}}}], "the server's hash internals"),
        ([{"$match": {"$text": {"$search": "x"}}}], "it needs a text index"),
        ([{"$match": {"loc": {"$near": [0, 0]}}}], "it needs a geospatial index"),
        ([{"$match": {"loc": {"$geoWithin": {"$box": [[0, 0], [1, 1]]}}}}], "spherical"),
        ([{"$match": {"$jsonSchema": {}}}], "schema validation is not filtering"),
    ],
)
def test_a_refusal_gives_its_reason(pipeline: list[dict], reason: str) -> None:
    with pytest.raises(PipelineError) as raised:
        compile_pipeline(pipeline)
    assert "forbidden" in str(raised.value)
    assert reason in str(raised.value)


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


@pytest.mark.parametrize("top", [float("inf"), 1e308])
def test_powers_of_two_bounds_overflow_to_infinity_as_pow_does(top: float) -> None:
    stage = {"$bucketAuto": {"groupBy": "$a", "buckets": 2, "granularity": "POWERSOF2"}}
    documents = [{"_id": i, "a": value} for i, value in enumerate([1.0, top, 3.0])]
    last = compile_pipeline([stage]).run(documents)[-1]
    assert last["_id"]["max"] == float("inf") and last["count"] == 1
