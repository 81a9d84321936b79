"""What every diarizer shares: the protocol, speaker names, activity masks to segments, renumbering by first speech."""

from __future__ import annotations

from typing import Protocol

import numpy as np

from callcoach.progress import FractionFn
from callcoach.records import Audio, Diarization, SpeechSegment
from callcoach.speech.frames import mask_runs

FRAME_S = 0.02


class Diarizer(Protocol):
    name: str

    def diarize(self, audio: Audio, *, progress: FractionFn | None = None) -> Diarization: ...


def speaker_name(index: int) -> str:
    return f"S{index + 1}"


BLOCK_FRAMES = 3000  # 60 s of 20 ms frames: long calls are processed block by block


def mask_to_segments(mask: np.ndarray, step_s: float, speaker: str, *, min_on_s: float, min_off_s: float, pad_s: float = 0.0) -> list[SpeechSegment]:
    """Boolean activity per frame -> segments, gaps shorter than ``min_off_s`` filled first."""
    runs = mask_runs(mask)
    merged: list[list[int]] = []
    for start, end in runs:
        if merged and (start - merged[-1][1]) * step_s < min_off_s:
            merged[-1][1] = end
        else:
            merged.append([start, end])
    out = []
    for start, end in merged:
        if (end - start) * step_s < min_on_s:
            continue
        out.append(SpeechSegment(speaker, round(max(0.0, start * step_s - pad_s), 3), round(end * step_s + pad_s, 3)))
    return out



def _renumber_by_first_speech(segments: list[SpeechSegment]) -> list[SpeechSegment]:
    first: dict[str, float] = {}
    for s in sorted(segments, key=lambda s: s.start_s):
        first.setdefault(s.speaker, s.start_s)
    rename = {old: speaker_name(i) for i, old in enumerate(sorted(first, key=first.get))}
    out = [SpeechSegment(rename[s.speaker], s.start_s, s.end_s) for s in segments]
    out.sort(key=lambda s: (s.start_s, s.speaker))
    return out
