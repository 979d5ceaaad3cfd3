"""The ml service's gRPC API: Score (alert batches through Triton) and ListModels."""

from __future__ import annotations

import asyncio
import logging

import grpc
import numpy as np

from services.ml.inputs import InputKind, batch_arrays
from services.ml.registry import ENSEMBLES, ModelSpec, Registry
from services.ml.triton_client import TritonScorer, TritonUnavailable
from skymesh.config import Settings
from skymesh.ml.v1 import ml_pb2, ml_pb2_grpc
from skymesh.runtime.errors import grpc_errors
from skymesh.runtime.readiness import triton_ready
from skymesh.runtime.server import Service

log = logging.getLogger(__name__)

SERVICE = ml_pb2.DESCRIPTOR.services_by_name["MLService"].full_name


class MLServicer(ml_pb2_grpc.MLServiceServicer):
    def __init__(self, registry: Registry, scorer: TritonScorer) -> None:
        self.registry = registry
        self.scorer = scorer

    @grpc_errors
    async def Score(
        self, request: ml_pb2.ScoreRequest, context: grpc.aio.ServicerContext
    ) -> ml_pb2.ScoreResponse:
        specs = self.registry.select(request.survey, list(request.models))
        alerts = request.alerts
        versions = {spec.name: spec.version for spec in specs}
        if not alerts:
            return ml_pb2.ScoreResponse(versions=versions)
        arrays = batch_arrays(alerts, {kind for spec in specs for kind in spec.inputs})
        columns = {
            name: column.tolist()
            for name, column in (await self._scores(request.survey, specs, arrays)).items()
        }
        results = [
            ml_pb2.AlertScores(
                candid=alert.candid, scores={name: column[i] for name, column in columns.items()}
            )
            for i, alert in enumerate(alerts)
        ]
        return ml_pb2.ScoreResponse(results=results, versions=versions)

    async def _scores(
        self, survey: str, specs: list[ModelSpec], arrays: dict[InputKind, np.ndarray]
    ) -> dict[str, np.ndarray]:
        """Model -> float32 [N]: through the survey's ensemble when it covers ``specs`` (the
        inputs cross to Triton once per chunk), else one model at a time."""
        if (name := self.registry.ensembles.get(survey)) is not None:
            ensemble = await self.scorer.ensemble_binding(name, self.registry.of_survey(survey))
            if ensemble.covers(specs):
                return await self.scorer.score_ensemble(ensemble, specs, arrays)
        # Every model at once; each waits for all, so no call is left running on failure.
        outcomes = await asyncio.gather(
            *(self.scorer.score(spec, {k: arrays[k] for k in spec.inputs}) for spec in specs),
            return_exceptions=True,
        )
        failures = [outcome for outcome in outcomes if isinstance(outcome, BaseException)]
        # Not the alerts' fault when Triton is away: UNAVAILABLE, so the broker waits it out.
        unavailable = [f for f in failures if isinstance(f, TritonUnavailable)]
        if unavailable:
            raise TritonUnavailable("; ".join(map(str, unavailable)))
        if failures:
            raise failures[0]
        return {spec.name: outcome for spec, outcome in zip(specs, outcomes, strict=True)}

    @grpc_errors
    async def ListModels(
        self, request: ml_pb2.ListModelsRequest, context: grpc.aio.ServicerContext
    ) -> ml_pb2.ListModelsResponse:
        models = self.registry.models
        ready = await asyncio.gather(*(self.scorer.ready(spec.name) for spec in models))
        return ml_pb2.ListModelsResponse(
            models=[
                ml_pb2.Model(
                    name=spec.name,
                    version=spec.version,
                    survey=spec.survey,
                    ready=is_ready,
                    inputs=[kind.name for kind in spec.inputs],
                )
                for spec, is_ready in zip(models, ready, strict=True)
            ]
        )


def build(settings: Settings) -> Service:
    # Without ensembles (SKYMESH_ML_ENSEMBLES=0) every model is sent its own request, as a
    # Triton whose repository lacks them needs.
    registry = Registry(ensembles=ENSEMBLES if settings.ml_ensembles else {})
    scorer = TritonScorer(settings.address("triton_grpc"))
    servicer = MLServicer(registry, scorer)

    async def read_model_configs() -> None:
        # Early, so a config that does not fit the registry shows in the log at once; a Triton
        # that is not up yet is no reason to refuse to start (Score answers UNAVAILABLE).
        reads = {spec.name: scorer.binding(spec) for spec in registry.models}
        for survey, name in registry.ensembles.items():
            reads[name] = scorer.ensemble_binding(name, registry.of_survey(survey))
        outcomes = await asyncio.gather(*reads.values(), return_exceptions=True)
        for model, outcome in zip(reads, outcomes, strict=True):
            if isinstance(outcome, Exception):
                fields = {"model": model, "error": str(outcome)}
                log.warning("model config not read", extra={"fields": fields})

    return Service(
        name="ml",
        service_names=[SERVICE],
        register=lambda server: ml_pb2_grpc.add_MLServiceServicer_to_server(servicer, server),
        on_start=read_model_configs,
        on_stop=scorer.close,
        ready=triton_ready(settings.address("triton_grpc")),
    )
