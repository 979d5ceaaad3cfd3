"""The surveys the broker knows, by name."""

from __future__ import annotations

from services.broker.surveys.base import DecodeError, PreparedAlert, Survey
from services.broker.surveys.ztf import ZTF
from skymesh.config import Settings


def configured_surveys(settings: Settings) -> list[Survey]:
    return [ZTF(settings.ztf_topic_regex)]


__all__ = ["ZTF", "DecodeError", "PreparedAlert", "Survey", "configured_surveys"]
