"""The last check before a filter is stored: its pipelines run on the newest alert it may see.

A pipeline that compiles can still fail on real data (``$size`` of a missing array, a division
by zero ...); Kowalski runs every new pipeline once on the newest alert of its catalog and
refuses it on error. We do the same with the live evaluator on the packet the filter would see.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from services.filters.archive import ArchiveReader
from services.filters.engine import CompiledPipeline, EvaluationError
from services.filters.upstream import Stream, build_packet
from services.filters.validation import FilterRefused


async def dry_run(
    archive: ArchiveReader,
    stream: Stream,
    permissions: Iterable[int],
    pipelines: Mapping[str, CompiledPipeline],
    filter_id: int,
) -> str:
    """Runs each named pipeline on the newest permitted alert; returns Kowalski's message.

    Raises FilterRefused naming the pipeline and the error when one fails.
    """
    allowed = frozenset(permissions)
    alert = await archive.newest_alert(stream, allowed)
    if alert is None:
        return (
            f"WARNING: No documents in {stream.catalog} collection, "
            f"cannot properly test pipeline for filter id {filter_id}"
        )
    object_id = stream.object_id(alert)
    aux = (await archive.aux(stream, [object_id])).get(object_id)
    packet = build_packet(stream, alert, aux, allowed)
    if packet is None:  # newest_alert already selects permitted alerts
        raise FilterRefused(f"newest alert {alert.get('candid')} is not visible to the filter")
    for name, pipeline in pipelines.items():
        try:
            pipeline.run([packet])
        except EvaluationError as exc:
            raise FilterRefused(
                f"{name} failed its test on the newest alert of {stream.catalog} "
                f"(candid {alert.get('candid')}): {exc}"
            ) from None
    return f"pipeline test for filter id {filter_id} successful"
