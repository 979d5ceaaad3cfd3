"""The two ways a pipeline fails: refused when compiled, or failing on a document."""

from __future__ import annotations


class PipelineError(ValueError):
    """The pipeline is malformed or uses something the engine refuses (caught at compile time).

    The message names the offending stage, operator or path, so it can go back to the user as is.
    """


class EvaluationError(Exception):
    """MongoDB would raise this error while running the pipeline on a document.

    `code` is MongoDB's error code where there is one (e.g. 17124 for $size of a non-array), so
    callers can report the same error MongoDB would.
    """

    def __init__(
        self,
        message: str,
        code: int | None = None,
        stage_index: int | None = None,
        stage_name: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.stage_index = stage_index  # 1-based position of the failing stage, once known
        self.stage_name = stage_name

    def __str__(self) -> str:
        text = self.message if self.code is None else f"{self.message} (code {self.code})"
        if self.stage_index is not None:
            text += f" in stage {self.stage_index} ({self.stage_name})"
        return text
