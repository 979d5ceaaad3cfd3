"""Runs compiled filters on alerts: the one evaluator behind Evaluate (live) and /test.

An alert passes a filter when the filter's pipeline, run on the packet the upstream stages
build, yields exactly one document (Kowalski's rule). A pipeline that fails at run time on one
alert (an EvaluationError, as MongoDB would raise, or any other exception of the engine) is
recorded for that filter version and alert and skipped; it never fails the batch or the other
filters. Autosave and auto_followup follow Kowalski's broker (alert_filter__user_defined).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from services.filters.compiled import CompiledFilter
from services.filters.engine import CompiledPipeline, EvaluationError
from services.filters.upstream import Document, Stream, build_packet

# Kowalski's defaults for what an auto_followup request carries.
DEFAULT_RADIUS_ARCSEC = 0.5
DEFAULT_VALIDITY_DAYS = 7


@dataclass(frozen=True)
class FilterPassed:
    candid: int
    object_id: Any
    filter: CompiledFilter
    # The pipeline's single output document (its `annotations` field is the annotation).
    output: Document
    # False, True, or the autosave decision {comment, ignore_group_ids[, saver_id]}.
    autosave: bool | dict[str, Any]
    # The follow-up request to make, or None.
    auto_followup: dict[str, Any] | None

    @property
    def annotations(self) -> Any:
        return self.output.get("annotations", {})


@dataclass(frozen=True)
class FilterFailed:
    candid: int
    filter: CompiledFilter
    message: str


@dataclass
class Outcome:
    passed: list[FilterPassed] = field(default_factory=list)
    failed: list[FilterFailed] = field(default_factory=list)
    # (alert, filter) pairs evaluated: the alert was visible to the filter.
    evaluated: int = 0


def _yields_one(pipeline: CompiledPipeline, packet: Document) -> Document | None:
    return pipeline.passes(packet)


def autosave_decision(filter_: CompiledFilter, packet: Document) -> bool | dict[str, Any]:
    settings = filter_.autosave
    if isinstance(settings, bool):
        return settings
    if not isinstance(settings, dict) or not settings.get("active", False):
        return False
    if (
        filter_.autosave_pipeline is not None
        and _yields_one(filter_.autosave_pipeline, packet) is None
    ):
        return False
    decision: dict[str, Any] = {
        "comment": settings.get("comment"),
        "ignore_group_ids": settings.get("ignore_group_ids") or [],
    }
    saver_id = settings.get("saver_id")
    if isinstance(saver_id, int) and not isinstance(saver_id, bool):
        decision["saver_id"] = saver_id
    return decision


def auto_followup_decision(
    filter_: CompiledFilter, packet: Document, object_id: Any
) -> dict[str, Any] | None:
    """The follow-up request of an autosaved alert, when the auto_followup pipeline passes."""
    settings = filter_.auto_followup
    if not settings.get("active", False) or filter_.auto_followup_pipeline is None:
        return None
    if settings.get("allocation_id") is None or settings.get("payload") is None:
        return None
    output = _yields_one(filter_.auto_followup_pipeline, packet)
    if output is None:
        return None
    payload = dict(settings["payload"])
    # The pipeline may tune values the configured payload already has, never add keys.
    if isinstance(output.get("payload"), dict):
        payload.update({k: v for k, v in output["payload"].items() if k in payload})
    comment = output.get("comment")
    return {
        "obj_id": object_id,
        "allocation_id": settings["allocation_id"],
        "comment": comment if isinstance(comment, str) else settings.get("comment"),
        "priority_order": settings.get("priority_order", "asc"),
        "payload": payload,
        "target_group_ids": sorted({filter_.group_id, *settings.get("target_group_ids", [])}),
        "source_group_ids": [filter_.group_id],
        "ignore_allocation_ids": settings.get("ignore_allocation_ids", []),
        "not_if_tns_reported": settings.get("not_if_tns_reported"),
        "radius": settings.get("radius", DEFAULT_RADIUS_ARCSEC),
        "validity_days": settings.get("validity_days", DEFAULT_VALIDITY_DAYS),
        "implements_update": settings.get("implements_update", True),
    }


def evaluate(
    stream: Stream,
    filters: Iterable[CompiledFilter],
    alerts: Iterable[Mapping[str, Any]],
    aux_by_object: Mapping[Any, Mapping[str, Any]],
    should_stop: Callable[[], bool] | None = None,
) -> Outcome:
    """Every alert against every filter allowed to see it.

    ``should_stop`` is checked between alerts (the /test time budget); when it answers true
    the evaluation raises TimeoutError.
    """
    filters = tuple(filters)
    outcome = Outcome()
    for alert in alerts:
        if should_stop is not None and should_stop():
            raise TimeoutError("filter evaluation ran past its time budget")
        object_id = stream.object_id(alert)
        aux = aux_by_object.get(object_id)
        candid = alert.get("candid")
        # Filters with the same permissions see the same packet: build it once.
        packets: dict[frozenset[int], Document | None] = {}
        for filter_ in filters:
            if filter_.permissions not in packets:
                packets[filter_.permissions] = build_packet(stream, alert, aux, filter_.permissions)
            packet = packets[filter_.permissions]
            if packet is None:
                continue
            outcome.evaluated += 1
            try:
                output = filter_.pipeline.passes(packet)
            except EvaluationError as exc:
                outcome.failed.append(FilterFailed(candid, filter_, str(exc)))
                continue
            except Exception as exc:  # an engine defect: fail this filter on this alert only
                message = f"internal error of the filter engine: {type(exc).__name__}: {exc}"
                outcome.failed.append(FilterFailed(candid, filter_, message))
                continue
            if output is None:
                continue
            autosave: bool | dict[str, Any] = False
            auto_followup = None
            try:
                autosave = autosave_decision(filter_, packet)
                if autosave is not False:
                    auto_followup = auto_followup_decision(filter_, packet, object_id)
            except Exception as exc:
                # The alert still passed the filter; only the extra decision is lost.
                message = f"autosave/auto_followup pipeline: {exc}"
                outcome.failed.append(FilterFailed(candid, filter_, message))
            outcome.passed.append(
                FilterPassed(candid, object_id, filter_, output, autosave, auto_followup)
            )
    return outcome
