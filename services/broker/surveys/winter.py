"""WINTER, the infrared survey at Palomar: its own schema (`objectid`, `cutout_*` bytes)."""

from __future__ import annotations

from services.broker.surveys.base import Survey


class WINTER(Survey):
    # Kowalski's collection prefix for WINTER.
    name = "WNTR"
    object_id_field = "objectid"

    def __init__(self, topic_pattern: str) -> None:
        self.topic_pattern = topic_pattern
