"""Hiding redacted items in the audio (a tone or silence) and writing the redacted WAV."""

from __future__ import annotations

import io
import wave
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

import numpy as np

from callcoach.files import write_atomic
from callcoach.records import RedactedSpan
from callcoach.redact.tokens import RedactionError

AudioMode = Literal["tone", "silence"]

TONE_HZ = 1000.0
TONE_DBFS = -20.0  # AES17: a full-scale sine is 0 dBFS, so peak amplitude 0.1
PAD_S = 0.1

# --------------------------------------------------------------------------- audio


def redact_audio(samples: np.ndarray, rate_hz: int, spans: Iterable[RedactedSpan | tuple[float, float]],
                 *, mode: AudioMode = "tone", pad_s: float = PAD_S) -> np.ndarray:
    """A copy of ``samples`` with every span (padded by ``pad_s`` each side) replaced.

    ``samples``: shape ``(channels, n)``, float32 in [-1, 1] at ``rate_hz``.
    ``mode="tone"``: a 1 kHz sine at -20 dBFS (peak 0.1; AES17: a full-scale
    sine is 0 dBFS) on every channel, phase-continuous across spans;
    ``"silence"``: zeros. Samples outside the spans are returned unchanged.

    Raises:
        RedactionError: for a bad shape, rate, mode or padding.
    """
    arr = np.asarray(samples)
    if arr.ndim != 2:
        raise RedactionError(f"samples must have shape (channels, n); got shape {arr.shape}")
    if rate_hz <= 0:
        raise RedactionError(f"rate_hz must be positive; got {rate_hz}")
    if mode not in ("tone", "silence"):
        raise RedactionError(f"audio redaction mode {mode!r} is not known; use 'tone' or 'silence'")
    if pad_s < 0:
        raise RedactionError(f"pad_s must be >= 0; got {pad_s}")
    out = arr.astype(np.float32, copy=True)
    n = out.shape[1]
    amp = np.float32(10 ** (TONE_DBFS / 20.0))
    for s in spans:
        start_s, end_s = (s.start_s, s.end_s) if isinstance(s, RedactedSpan) else (float(s[0]), float(s[1]))
        a = max(0, int(np.floor((start_s - pad_s) * rate_hz)))
        b = min(n, int(np.ceil((end_s + pad_s) * rate_hz)))
        if b <= a:
            continue
        if mode == "silence":
            out[:, a:b] = 0.0
        else:
            t = np.arange(a, b, dtype=np.float64) / rate_hz
            out[:, a:b] = (amp * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
    return out


def write_wav(path: Path | str, samples: np.ndarray, rate_hz: int) -> Path:
    """Write ``samples`` (shape ``(channels, n)``, float in [-1, 1]) as 16-bit PCM WAV, atomically.

    Raises:
        RedactionError: for a bad shape or rate.
    """
    arr = np.asarray(samples)
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise RedactionError(f"samples must have shape (channels, n); got shape {arr.shape}")
    if rate_hz <= 0:
        raise RedactionError(f"rate_hz must be positive; got {rate_hz}")
    path = Path(path)
    pcm = (np.clip(arr, -1.0, 1.0) * 32767.0).round().astype("<i2").T.copy()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(arr.shape[0])
        w.setsampwidth(2)
        w.setframerate(int(rate_hz))
        w.writeframes(pcm.tobytes())
    write_atomic(path, buffer.getvalue())
    return path
