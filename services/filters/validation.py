"""Checks a filter before anything is stored: pipelines, autosave and auto_followup.

Everything here is pure (no database, no archive); the dry run on the newest alert lives in
the service, which feeds the compiled pipelines of a :class:`CheckedParts` to it. Every refusal
is a :class:`FilterRefused` (a ValueError, so HTTP 400) whose message names the offending
stage, operator or key. Pipelines are parsed the way Kowalski parses them: as Extended JSON
(it stores ``bson.json_util.dumps(pipeline)`` and runs ``loads`` of it).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from services.filters.engine import CompiledPipeline, PipelineError, compile_pipeline
from services.filters.upstream import Stream
from skymesh.runtime.documents import DocumentError, from_json

# Kowalski's key sets (kowalski/api/handlers/filter.py), with the types its clients send.
_NUMBER = (int, float)
AUTOSAVE_KEYS: dict[str, tuple[type, ...]] = {
    "active": (bool,),
    "comment": (str,),
    "ignore_group_ids": (list,),
    "pipeline": (list, str),
    "saver_id": (int,),
}
AUTO_FOLLOWUP_KEYS: dict[str, tuple[type, ...]] = {
    "active": (bool,),
    "comment": (str,),
    "pipeline": (list, str),
    "allocation_id": (str, int),
    "payload": (dict,),
    "target_group_ids": (list,),
    "ignore_allocation_ids": (list,),
    "not_if_tns_reported": _NUMBER,  # hours
    "radius": _NUMBER,  # arcsec
    "validity_days": (int,),
    "priority_order": (str,),
    "implements_update": (bool,),
}
PRIORITY_ORDERS = ("asc", "desc")


class FilterRefused(ValueError):
    """A filter (or a change to one) is refused; the message says which part and why."""


@dataclass(frozen=True)
class CheckedPipeline:
    """A pipeline as stored (Kowalski's JSON string) and compiled."""

    text: str
    compiled: CompiledPipeline


@dataclass
class CheckedParts:
    """The validated parts of a filter request, ready to store and to dry-run."""

    pipeline: CheckedPipeline | None = None
    # The stored forms: autosave is a bool or an object whose pipeline is a JSON string.
    autosave: bool | dict[str, Any] | None = None
    auto_followup: dict[str, Any] | None = None
    # name ("pipeline", "autosave.pipeline", ...) -> compiled, for the dry run.
    compiled: dict[str, CompiledPipeline] = field(default_factory=dict)


def parse_pipeline(raw: Any, what: str = "pipeline") -> str:
    """The pipeline as Kowalski stores it: a JSON string of the list of stages."""
    if raw is None:
        raise FilterRefused(f"{what} is required: a list of at least one aggregation stage")
    if isinstance(raw, str):
        try:
            stages = from_json(raw, what)
        except DocumentError as exc:
            raise FilterRefused(str(exc)) from None
        text = raw
    elif isinstance(raw, list):
        stages, text = raw, json.dumps(raw)
    else:
        raise FilterRefused(f"{what} must be a list of aggregation stages")
    if not isinstance(stages, list):
        raise FilterRefused(f"{what} must be a list of aggregation stages")
    if not stages:
        raise FilterRefused(f"{what} must contain at least one stage")
    return text


def load_pipeline(text: str) -> list[Any]:
    """The stages of a stored pipeline, with Extended JSON types restored ($date, $oid ...)."""
    stages = from_json(text, "stored pipeline")
    if not isinstance(stages, list):
        raise FilterRefused("stored pipeline is not a list of stages")
    return stages


def check_pipeline(raw: Any, what: str = "pipeline") -> CheckedPipeline:
    """Parses and compiles; forbidden or unsupported stages and operators are refused by name."""
    text = parse_pipeline(raw, what)
    try:
        compiled = compile_pipeline(load_pipeline(text))
    except PipelineError as exc:
        raise FilterRefused(f"invalid {what}: {exc}") from None
    return CheckedPipeline(text=text, compiled=compiled)


def _check_keys(value: Mapping[str, Any], allowed: dict[str, tuple[type, ...]], what: str) -> None:
    unknown = sorted(set(value) - set(allowed))
    if unknown:
        raise FilterRefused(
            f"{what} has invalid key(s): {', '.join(unknown)}; "
            f"allowed keys: {', '.join(sorted(allowed))}"
        )
    for key, item in value.items():
        types = allowed[key]
        # bool is an int in Python; only a declared bool may be one.
        wrong_bool = isinstance(item, bool) and bool not in types
        if item is not None and (wrong_bool or not isinstance(item, types)):
            names = "a number" if types == _NUMBER else " or ".join(_TYPE_NAMES[t] for t in types)
            raise FilterRefused(f"{what}.{key} must be {names}, got {json.dumps(item)}")


_TYPE_NAMES = {
    bool: "a boolean",
    str: "a string",
    list: "a list",
    dict: "an object",
    int: "an integer",
}


def check_autosave(raw: Any, parts: CheckedParts) -> None:
    """autosave: a boolean, or {active, comment, ignore_group_ids, pipeline, saver_id}."""
    if raw is None or isinstance(raw, bool):
        parts.autosave = bool(raw)
        return
    if not isinstance(raw, dict):
        raise FilterRefused("autosave must be a boolean or an object")
    _check_keys(raw, AUTOSAVE_KEYS, "autosave")
    stored = dict(raw)
    if raw.get("pipeline") is not None:
        checked = check_pipeline(raw["pipeline"], "autosave.pipeline")
        stored["pipeline"] = checked.text
        parts.compiled["autosave.pipeline"] = checked.compiled
    parts.autosave = stored


def check_auto_followup(raw: Any, parts: CheckedParts) -> None:
    """auto_followup: {} (none) or an object with Kowalski's keys and a pipeline."""
    if raw is None:
        parts.auto_followup = {}
        return
    if not isinstance(raw, dict):
        raise FilterRefused("auto_followup must be an object")
    _check_keys(raw, AUTO_FOLLOWUP_KEYS, "auto_followup")
    stored = dict(raw)
    if raw:
        order = raw.get("priority_order")
        if order is not None and order not in PRIORITY_ORDERS:
            raise FilterRefused(
                f"auto_followup.priority_order must be 'asc' or 'desc', got {json.dumps(order)}"
            )
        if raw.get("pipeline") is None:
            raise FilterRefused("auto_followup.pipeline is required when auto_followup is set")
        checked = check_pipeline(raw["pipeline"], "auto_followup.pipeline")
        stored["pipeline"] = checked.text
        parts.compiled["auto_followup.pipeline"] = checked.compiled
    parts.auto_followup = stored


def autosave_enabled(autosave: Any) -> bool:
    """As Kowalski's broker reads it: true, or an object with active true."""
    if isinstance(autosave, dict):
        return autosave.get("active") is True
    return autosave is True


def check_followup_needs_autosave(auto_followup: Any, autosave: Any) -> None:
    if auto_followup and not autosave_enabled(autosave):
        raise FilterRefused(
            "auto_followup needs autosave: cannot set up auto_followup without autosave enabled"
        )


def check_filter(pipeline: Any, autosave: Any, auto_followup: Any) -> CheckedParts:
    """Everything a new filter version brings (POST /api/filters), checked and compiled."""
    parts = CheckedParts()
    checked = check_pipeline(pipeline)
    parts.pipeline = checked
    parts.compiled["pipeline"] = checked.compiled
    check_autosave(autosave, parts)
    check_auto_followup(auto_followup, parts)
    check_followup_needs_autosave(parts.auto_followup, parts.autosave)
    return parts


def check_permissions(permissions: list[int], stream: Stream) -> list[int]:
    if stream.programid_path is None:
        if permissions:
            raise FilterRefused(
                f"{stream.catalog} has no programids (its data rights are by stream): "
                "leave permissions empty"
            )
        return []
    if not permissions:
        raise FilterRefused(
            "permissions is required: the programids the filter may see "
            "(1 public, 2 partnership, 3 Caltech)"
        )
    if any(p < 0 for p in permissions):
        raise FilterRefused("permissions must be programids (non-negative integers)")
    return sorted(set(permissions))
