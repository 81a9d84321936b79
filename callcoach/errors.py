"""The package's exceptions: one root, a few specific kinds."""

from __future__ import annotations


class CallcoachError(Exception):
    """Root of every error callcoach raises on purpose."""


class AudioError(CallcoachError):
    """A recording that cannot be read or cannot be scored (empty, silent, too short)."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}")


class ModelError(CallcoachError):
    """A model that is missing or fails to load."""


class RubricError(CallcoachError):
    """A rubric file that is not valid: names the file, key path, bad value and what is allowed."""

    def __init__(self, file: str, key_path: str, problem: str) -> None:
        self.file = file
        self.key_path = key_path
        self.problem = problem
        super().__init__(f"{file}: {key_path}: {problem}")


class TemplateError(CallcoachError):
    """A report template that is missing or broken."""


class StageError(CallcoachError):
    """A pipeline stage failed on one call for a reason other than its input."""

    def __init__(self, stage: str, path: str, problem: str) -> None:
        self.stage = stage
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {stage} failed: {problem}")


class UsageError(CallcoachError):
    """Options that do not fit together, or an output location that cannot be used."""
