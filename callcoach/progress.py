"""Progress hooks: the library never prints, it reports progress through a callback.

Two kinds, one name each: a call's :class:`ProgressEvent` (stage, share of the call done) for
:func:`callcoach.analyse_call`'s caller, and a bare fraction 0..1 (:data:`FractionFn`) from inside one
stage (diarization, transcription) to the pipeline, which places it within the call.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ProgressEvent:
    """One progress report: ``fraction`` of the current call's ``stage`` done."""

    call_id: str
    stage: str
    fraction: float
    call_index: int = 0
    calls_total: int = 1
    audio_s: float = 0.0


ProgressFn = Callable[[ProgressEvent], None]
FractionFn = Callable[[float], None]  # 0..1 of one stage
