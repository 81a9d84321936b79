"""callcoach: offline scoring and coaching reports for recorded phone calls.

Two entries: :func:`analyse_call` scores one recording and returns a
:class:`CallResult`; :func:`score_paths` scores files and folders into a
report folder and returns a :class:`RunSummary`. :class:`Models` holds the heavy models, loaded
once, for callers that score many calls through :func:`analyse_call`.
"""

from __future__ import annotations

from callcoach._version import __version__
from callcoach.batch.run import RunSummary, score_paths
from callcoach.errors import AudioError, CallcoachError, ModelError, RubricError, StageError, TemplateError, UsageError
from callcoach.pipeline import Models, analyse_call
from callcoach.records import SCHEMA_VERSION, CallResult, result_from_dict, result_to_dict
from callcoach.settings import EventThresholds, Settings

__all__ = [
    "AudioError",
    "RunSummary",
    "CallResult",
    "CallcoachError",
    "EventThresholds",
    "Models",
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
