"""RTTM, the usual exchange format for who-spoke-when (NIST Rich Transcription).

One ``SPEAKER`` line per speech segment: recording id, channel 1, start and
duration in seconds, and the speaker's name. Read by pyannote.metrics,
dscore and most diarization tools.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from .errors import UsageError
from .records import SpeechSegment


def _safe_token(text: str) -> str:
    """RTTM fields are separated by whitespace: a recording id with spaces keeps its words joined by '_'."""
    return "_".join(text.split()) or "call"


def to_rttm(recording_id: str, segments: Iterable[SpeechSegment]) -> str:
    uri = _safe_token(recording_id)
    return "".join(
        f"SPEAKER {uri} 1 {s.start_s:.3f} {s.end_s - s.start_s:.3f} <NA> <NA> {_safe_token(s.speaker)} <NA> <NA>\n"
        for s in sorted(segments, key=lambda s: (s.start_s, s.speaker))
    )


def read_rttm(path: Path) -> list[SpeechSegment]:
    """Every ``SPEAKER`` line of an RTTM file as a segment (the recording id is not kept)."""
    out = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts or parts[0] != "SPEAKER":
            continue
        try:
            start_s, duration_s = float(parts[3]), float(parts[4])
            out.append(SpeechSegment(parts[7], start_s, start_s + duration_s))
        except (IndexError, ValueError):
            raise UsageError(f"{path}: line {number} is not an RTTM SPEAKER line: {line.strip()!r}") from None
    return out


__all__ = ["read_rttm", "to_rttm"]
