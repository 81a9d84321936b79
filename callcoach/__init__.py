"""callcoach: offline scoring and coaching reports for recorded phone calls.

Two entries: :func:`analyse_call` scores one recording and returns a
:class:`CallResult`; :func:`score_paths` scores files and folders into a
report folder and returns a :class:`RunSummary`.
"""

from __future__ import annotations

__version__ = "0.1.0"

from .errors import AudioError, CallcoachError, ModelError, RubricError, StageError, TemplateError, UsageError
from .records import SCHEMA_VERSION, CallResult, result_from_dict, result_to_dict
from .settings import EventThresholds, Settings

from .pipeline import analyse_call  # noqa: E402
from .batch import RunSummary, score_paths  # noqa: E402


__all__ = [
    "AudioError",
    "RunSummary",
    "CallResult",
    "CallcoachError",
    "EventThresholds",
    "ModelError",
    "RubricError",
    "SCHEMA_VERSION",
    "Settings",
    "StageError",
    "TemplateError",
    "UsageError",
    "__version__",
    "analyse_call",
    "result_from_dict",
    "result_to_dict",
    "score_paths",
]
