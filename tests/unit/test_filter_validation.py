"""Filter validation (services/filters/validation.py): every forbidden or unsupported stage and
operator, and every bad autosave/auto_followup key, is refused with a message naming it."""

from __future__ import annotations

import json
from typing import Any

import pytest

from services.filters import upstream
from services.filters.engine import FORBIDDEN_OPERATORS, FORBIDDEN_STAGES
from services.filters.validation import (
    AUTO_FOLLOWUP_KEYS,
    AUTOSAVE_KEYS,
    FilterRefused,
    check_filter,
    check_permissions,
)

GOOD_PIPELINE = [{"$match": {"candidate.drb": {"$gt": 0.9}}}]
GOOD_FOLLOWUP = {
    "active": True,
    "allocation_id": 1,
    "payload": {"observation_type": "IFU"},
    "pipeline": GOOD_PIPELINE,
}

# Where each forbidden operator can be written, as a pipeline that uses it.
FORBIDDEN_OPERATOR_USES: dict[str, list[list[dict[str, Any]]]] = {
    "$where": [[{"$match": {"$where": "this.candidate.drb > 0.5"}}]],
    "$function": [
        [{"$match": {"$expr": {"$function": {"body": "x", "args": [], "lang": "js"}}}}],
        [{"$addFields": {"x": {"$function": {"body": "x", "args": [], "lang": "js"}}}}],
        [{"$project": {"x": {"$gt": [{"$function": {"body": "x", "args": []}}, 1]}}}],
    ],
    "$accumulator": [
        [{"$group": {"_id": None, "x": {"$accumulator": {"init": "function() {}"}}}}],
    ],
    "$rand": [[{"$match": {"$expr": {"$lt": [{"$rand": {}}, 0.5]}}}]],
    "$sampleRate": [[{"$match": {"$sampleRate": 0.33}}]],
    "$meta": [[{"$addFields": {"score": {"$meta": "textScore"}}}]],
    "$toHashedIndexKey": [[{"$addFields": {"k": {"$toHashedIndexKey": "$objectId"}}}]],
    "$text": [[{"$match": {"$text": {"$search": "star"}}}]],
    "$near": [[{"$match": {"coordinates.radec_geojson": {"$near": [0, 0]}}}]],
    "$nearSphere": [[{"$match": {"coordinates.radec_geojson": {"$nearSphere": [0, 0]}}}]],
    "$geoWithin": [
        [
            {
                "$match": {
                    "coordinates.radec_geojson": {"$geoWithin": {"$centerSphere": [[0, 0], 0.01]}}
                }
            }
        ]
    ],
    "$geoIntersects": [
        [{"$match": {"coordinates.radec_geojson": {"$geoIntersects": {"$geometry": {}}}}}]
    ],
    "$jsonSchema": [[{"$match": {"$jsonSchema": {"required": ["objectId"]}}}]],
}

# Stages and operators MongoDB has and the engine does not: refused by name, never ignored.
UNSUPPORTED_USES: list[tuple[str, list[dict[str, Any]]]] = [
    ("$setWindowFields", [{"$setWindowFields": {"sortBy": {"a": 1}, "output": {}}}]),
    ("$$CLUSTER_TIME", [{"$addFields": {"now": "$$CLUSTER_TIME"}}]),
]


def refusal(**parts: Any) -> str:
    arguments = {"pipeline": GOOD_PIPELINE, "autosave": None, "auto_followup": None, **parts}
    with pytest.raises(FilterRefused) as caught:
        check_filter(arguments["pipeline"], arguments["autosave"], arguments["auto_followup"])
    assert isinstance(caught.value, ValueError)  # HTTP 400 through grpc_errors
    return str(caught.value)


def test_a_good_filter_passes_and_is_stored_as_kowalski_does() -> None:
    parts = check_filter(GOOD_PIPELINE, {"active": True, "pipeline": GOOD_PIPELINE}, GOOD_FOLLOWUP)
    assert parts.pipeline is not None
    assert json.loads(parts.pipeline.text) == GOOD_PIPELINE
    assert isinstance(parts.autosave, dict)
    assert json.loads(parts.autosave["pipeline"]) == GOOD_PIPELINE  # a JSON string, as stored
    assert parts.auto_followup is not None
    assert set(parts.compiled) == {"pipeline", "autosave.pipeline", "auto_followup.pipeline"}


def test_a_pipeline_given_as_a_json_string_is_kept_as_given() -> None:
    text = json.dumps(GOOD_PIPELINE)
    parts = check_filter(text, None, None)
    assert parts.pipeline is not None and parts.pipeline.text == text
    assert parts.autosave is False and parts.auto_followup == {}


@pytest.mark.parametrize("stage", sorted(FORBIDDEN_STAGES))
@pytest.mark.parametrize("where", ["pipeline", "autosave.pipeline", "auto_followup.pipeline"])
def test_forbidden_stages_are_refused_by_name(stage: str, where: str) -> None:
    bad = [*GOOD_PIPELINE, {stage: {"from": "users"} if stage != "$out" else "copy"}]
    parts: dict[str, Any] = {"pipeline": bad}
    if where == "autosave.pipeline":
        parts = {"autosave": {"active": True, "pipeline": bad}}
    elif where == "auto_followup.pipeline":
        parts = {"autosave": True, "auto_followup": {**GOOD_FOLLOWUP, "pipeline": bad}}
    message = refusal(**parts)
    assert f"forbidden stage {stage}" in message
    assert "stage 2" in message
    assert message.startswith(f"invalid {where}:")


def test_every_forbidden_operator_has_a_case() -> None:
    assert set(FORBIDDEN_OPERATOR_USES) == set(FORBIDDEN_OPERATORS)


@pytest.mark.parametrize(
    ("operator", "pipeline"),
    [(op, pipeline) for op, uses in FORBIDDEN_OPERATOR_USES.items() for pipeline in uses],
)
def test_forbidden_operators_are_refused_by_name(operator: str, pipeline: list) -> None:
    message = refusal(pipeline=pipeline)
    assert operator in message
    assert "forbidden" in message
    assert "stage 1" in message


@pytest.mark.parametrize(("name", "pipeline"), UNSUPPORTED_USES)
def test_unsupported_stages_and_operators_are_refused_by_name(name: str, pipeline: list) -> None:
    message = refusal(pipeline=pipeline)
    assert name in message
    assert "unsupported" in message


@pytest.mark.parametrize(
    ("pipeline", "expected"),
    [
        ([], "pipeline must contain at least one stage"),
        ("[]", "pipeline must contain at least one stage"),
        (None, "pipeline is required"),
        ({"$match": {}}, "pipeline must be a list of aggregation stages"),
        ('{"$match": {}}', "pipeline must be a list of aggregation stages"),
        ("[{'$match': }]", "pipeline is not valid JSON"),
        ([{"$match": {}, "$limit": 1}], "stage 1 must be an object with exactly one field"),
        ([{"$match": {}}, "not a stage"], "stage 2 must be an object with exactly one field"),
    ],
)
def test_malformed_pipelines_are_refused(pipeline: Any, expected: str) -> None:
    assert expected in refusal(pipeline=pipeline)


@pytest.mark.parametrize("key", ["foo", "group_id", "filter"])
def test_unknown_autosave_keys_are_refused_by_name(key: str) -> None:
    message = refusal(autosave={"active": True, key: 1})
    assert f"autosave has invalid key(s): {key}" in message
    assert ", ".join(sorted(AUTOSAVE_KEYS)) in message


@pytest.mark.parametrize("key", ["bar", "allocation", "priority"])
def test_unknown_auto_followup_keys_are_refused_by_name(key: str) -> None:
    message = refusal(autosave=True, auto_followup={**GOOD_FOLLOWUP, key: 1})
    assert f"auto_followup has invalid key(s): {key}" in message
    assert ", ".join(sorted(AUTO_FOLLOWUP_KEYS)) in message


@pytest.mark.parametrize(
    ("autosave", "auto_followup", "expected"),
    [
        ("yes", None, "autosave must be a boolean or an object"),
        ({"active": "yes"}, None, "autosave.active must be a boolean"),
        ({"active": True, "saver_id": "me"}, None, "autosave.saver_id must be an integer"),
        ({"active": True, "saver_id": True}, None, "autosave.saver_id must be an integer"),
        ({"active": True, "comment": 3}, None, "autosave.comment must be a string"),
        ({"active": True, "ignore_group_ids": 3}, None, "autosave.ignore_group_ids must be a list"),
        (True, [1], "auto_followup must be an object"),
        (True, {**GOOD_FOLLOWUP, "priority_order": "up"}, "auto_followup.priority_order"),
        (True, {**GOOD_FOLLOWUP, "radius": "far"}, "auto_followup.radius must be a number"),
        (True, {**GOOD_FOLLOWUP, "payload": []}, "auto_followup.payload must be an object"),
        (True, {"active": True, "allocation_id": 1}, "auto_followup.pipeline is required"),
        (None, GOOD_FOLLOWUP, "auto_followup needs autosave"),
        (False, GOOD_FOLLOWUP, "auto_followup needs autosave"),
        ({"active": False}, GOOD_FOLLOWUP, "auto_followup needs autosave"),
    ],
)
def test_bad_autosave_and_auto_followup_values_are_refused(
    autosave: Any, auto_followup: Any, expected: str
) -> None:
    assert expected in refusal(autosave=autosave, auto_followup=auto_followup)


def test_priority_orders_asc_and_desc_are_accepted() -> None:
    for order in ("asc", "desc"):
        parts = check_filter(GOOD_PIPELINE, True, {**GOOD_FOLLOWUP, "priority_order": order})
        assert parts.auto_followup is not None
        assert parts.auto_followup["priority_order"] == order


def test_autosave_and_auto_followup_pipelines_are_checked_like_the_main_one() -> None:
    message = refusal(autosave={"active": True, "pipeline": [{"$match": {"$where": "1"}}]})
    assert message.startswith("invalid autosave.pipeline:") and "$where" in message
    message = refusal(autosave=True, auto_followup={**GOOD_FOLLOWUP, "pipeline": []})
    assert "auto_followup.pipeline must contain at least one stage" in message


def test_permissions_are_required() -> None:
    with pytest.raises(FilterRefused, match="permissions is required"):
        check_permissions([], upstream.ZTF)
    assert check_permissions([3, 1, 1], upstream.ZTF) == [1, 3]


def test_a_survey_without_programids_takes_no_permissions() -> None:
    """Rubin's data rights are by stream: an LSST filter reads every alert of its stream."""
    assert check_permissions([], upstream.LSST) == []
    with pytest.raises(FilterRefused, match="LSST_alerts has no programids"):
        check_permissions([1], upstream.LSST)
