"""Which models score which survey's alerts, and the version each stores.

The version strings are Kowalski's, stored as ``classifications.<model>_version``; the model
files and their provenance are in models/ (see models/README.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from services.ml.inputs import FEATURES, TRIPLET, InputKind


@dataclass(frozen=True)
class ModelSpec:
    # The model's name in Triton's repository, and its key in ``classifications``.
    name: str
    version: str
    survey: str
    inputs: tuple[InputKind, ...]


ZTF = "ZTF"
BRAAI_VERSION = "d6_m9"
ACAI_VERSION = "d1_dnn_20201130"
# ACAI's five classes: hosted, variable star, orphan, nuclear, bogus.
ACAI_CLASSES = ("h", "v", "o", "n", "b")

MODELS: tuple[ModelSpec, ...] = (
    ModelSpec("braai", BRAAI_VERSION, ZTF, (TRIPLET,)),
    *(ModelSpec(f"acai_{c}", ACAI_VERSION, ZTF, (TRIPLET, FEATURES)) for c in ACAI_CLASSES),
)

# Survey -> the Triton ensemble that takes its alerts' inputs once and answers every member's
# score. Which models it runs (its steps) and its tensors are read from its Triton config
# (models/triton/<name>/config.pbtxt), nowhere else.
ENSEMBLES: Mapping[str, str] = {ZTF: "ztf_scores"}


class Registry:
    def __init__(
        self, models: Iterable[ModelSpec] = MODELS, ensembles: Mapping[str, str] = ENSEMBLES
    ) -> None:
        self.models = tuple(models)
        self.surveys = tuple(dict.fromkeys(model.survey for model in self.models))
        self.ensembles = dict(ensembles)

    def of_survey(self, survey: str) -> list[ModelSpec]:
        return [model for model in self.models if model.survey == survey]

    def select(self, survey: str, requested: Sequence[str]) -> list[ModelSpec]:
        """The survey's models named in ``requested`` (all of them when it is empty)."""
        if not survey:
            raise ValueError("survey is required")
        available = self.of_survey(survey)
        if not available:
            raise ValueError(
                f"no models are configured for survey {survey!r} "
                f"(surveys with models: {', '.join(self.surveys)})"
            )
        if not requested:
            return available
        by_name = {model.name: model for model in available}
        wanted = list(dict.fromkeys(requested))
        unknown = [name for name in wanted if name not in by_name]
        if unknown:
            raise ValueError(
                f"unknown model(s) for survey {survey}: {', '.join(map(repr, unknown))} "
                f"(known: {', '.join(by_name)})"
            )
        return [by_name[name] for name in wanted]
