"""The surveys the broker knows. Adding one: a module with a `Survey` subclass, listed here."""

from __future__ import annotations

from services.broker.surveys.base import (
    DecodeError,
    MLInput,
    PhotometryPoint,
    PreparedAlert,
    Survey,
)
from services.broker.surveys.lsst import LSST
from services.broker.surveys.winter import WINTER
from services.broker.surveys.ztf import ZTF
from skymesh.config import Settings


def configured_surveys(settings: Settings) -> list[Survey]:
    return [
        ZTF(settings.ztf_topic_regex),
        WINTER(settings.winter_topic_regex),
        LSST(settings.lsst_topic_regex),
    ]


__all__ = [
    "LSST",
    "WINTER",
    "ZTF",
    "DecodeError",
    "MLInput",
    "PhotometryPoint",
    "PreparedAlert",
    "Survey",
    "configured_surveys",
]
