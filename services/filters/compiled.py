"""A filter version compiled for evaluation: its pipelines and the settings that go with it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.filters.engine import CompiledPipeline, compile_pipeline
from services.filters.store import version_of
from services.filters.validation import load_pipeline


@dataclass(frozen=True)
class CompiledFilter:
    filter_id: int
    group_id: int
    catalog: str
    fid: str
    permissions: frozenset[int]
    pipeline: CompiledPipeline
    # As stored: a bool, or {active, comment, ignore_group_ids, pipeline, saver_id}.
    autosave: bool | dict[str, Any]
    autosave_pipeline: CompiledPipeline | None
    auto_followup: dict[str, Any]
    auto_followup_pipeline: CompiledPipeline | None
    update_annotations: bool


def _optional_pipeline(settings: Any) -> CompiledPipeline | None:
    if not isinstance(settings, dict) or settings.get("pipeline") is None:
        return None
    pipeline = settings["pipeline"]
    return compile_pipeline(load_pipeline(pipeline) if isinstance(pipeline, str) else pipeline)


def compile_filter(document: dict[str, Any], fid: str | None = None) -> CompiledFilter:
    """Compiles version ``fid`` (default: the active one) of a stored filter document.

    Raises LookupError when the version does not exist, PipelineError when it does not compile.
    """
    version = version_of(document, fid)
    if version is None:
        wanted = fid or document.get("active_fid")
        raise LookupError(f"Filter version {wanted} not found")
    auto_followup = document.get("auto_followup") or {}
    return CompiledFilter(
        filter_id=document["filter_id"],
        group_id=document["group_id"],
        catalog=document["catalog"],
        fid=version["fid"],
        permissions=frozenset(document.get("permissions") or ()),
        pipeline=compile_pipeline(load_pipeline(version["pipeline"])),
        autosave=document.get("autosave", False),
        autosave_pipeline=_optional_pipeline(document.get("autosave")),
        auto_followup=auto_followup,
        auto_followup_pipeline=_optional_pipeline(auto_followup),
        update_annotations=bool(document.get("update_annotations", False)),
    )
