"""The recording a report plays.

With redaction on (the default), the report must not play what its text
hides, so it plays a copy of the call with every redacted span replaced by a
tone (:func:`callcoach.redact.redact_audio`). That copy is encoded as Opus in
an Ogg file (``<call_id>.redacted.ogg``): speech at 12 kbit/s per channel at
8 kHz (16 kbit/s at 16 kHz), about a tenth of the 8 kHz 16-bit WAV a call
centre records, so a report folder stays about the size of the recordings it
came from. Opus is the codec made for speech that every current browser
plays from a file; PyAV (already the audio loader) encodes it, no system
ffmpeg needed.

The copy keeps the source's channels (one party per channel stays so) and
its sample rate, capped at the 16 kHz the analysis hears: a 44.1 kHz file is
played at 16 kHz, an 8 kHz call at 8 kHz.
"""

from __future__ import annotations

import io
from pathlib import Path

import av
import numpy as np

from callcoach.errors import CallcoachError
from callcoach.files import write_atomic

OPUS_RATES_HZ = (8000, 12000, 16000, 24000, 48000)
"""Sample rates the Opus encoder takes."""
MAX_PLAYBACK_RATE_HZ = 16000
"""The analysis rate: the copy never holds more than the analysis heard."""
BITRATE_PER_CHANNEL = {8000: 12_000, 12000: 14_000, 16000: 16_000}
"""Opus bit rate (bit/s) per channel by encoding rate: transparent enough for speech review."""
SUFFIX = ".redacted.ogg"
"""File name ending of the redacted copy, beside the report."""
_BLOCK_S = 10.0


class PlaybackError(CallcoachError):
    """The playback copy could not be encoded."""


def playback_rate_hz(source_rate_hz: int) -> int:
    """The Opus rate for a source at ``source_rate_hz``: the smallest one that keeps it, at most 16 kHz.

    >>> playback_rate_hz(8000), playback_rate_hz(11025), playback_rate_hz(44100)
    (8000, 12000, 16000)
    """
    want = min(max(int(source_rate_hz), OPUS_RATES_HZ[0]), MAX_PLAYBACK_RATE_HZ)
    return next(r for r in OPUS_RATES_HZ if r >= want)


def encode_opus(samples: np.ndarray, rate_hz: int, *, out_rate_hz: int) -> bytes:
    """``samples`` (shape ``(channels, n)``, float in [-1, 1] at ``rate_hz``) as Ogg Opus at ``out_rate_hz``.

    Raises:
        PlaybackError: a bad shape or rate, more than two channels, or an encoder failure.
    """
    arr = np.asarray(samples, dtype=np.float32)
    if arr.ndim != 2 or arr.shape[0] not in (1, 2) or arr.shape[1] == 0:
        raise PlaybackError(f"samples must have shape (1 or 2 channels, n > 0); got shape {arr.shape}")
    if rate_hz <= 0 or out_rate_hz not in OPUS_RATES_HZ:
        raise PlaybackError(f"bad rates: {rate_hz} Hz in, {out_rate_hz} Hz out (Opus takes {OPUS_RATES_HZ})")
    layout = "mono" if arr.shape[0] == 1 else "stereo"
    buffer = io.BytesIO()
    try:
        with av.open(buffer, "w", format="ogg") as out:
            stream = out.add_stream("libopus", rate=out_rate_hz, layout=layout)
            stream.bit_rate = BITRATE_PER_CHANNEL.get(out_rate_hz, 16_000) * arr.shape[0]
            resampler = av.AudioResampler(format="s16", layout=layout, rate=out_rate_hz)
            fifo = av.AudioFifo()

            def drain(final: bool = False) -> None:
                size = stream.codec_context.frame_size or out_rate_hz // 50
                while fifo.samples >= size or (final and fifo.samples):
                    for packet in stream.encode(fifo.read(min(size, fifo.samples))):
                        out.mux(packet)

            step = int(_BLOCK_S * rate_hz)
            for a in range(0, arr.shape[1], step):
                frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(np.clip(arr[:, a:a + step], -1, 1)),
                                                   format="fltp", layout=layout)
                frame.sample_rate = int(rate_hz)
                for part in resampler.resample(frame):
                    fifo.write(part)
                drain()
            for part in resampler.resample(None):
                fifo.write(part)
            drain(final=True)
            for packet in stream.encode(None):
                out.mux(packet)
    except (av.error.FFmpegError, ValueError) as exc:  # pragma: no cover - encoder failure
        raise PlaybackError(f"cannot encode the playback copy as Opus: {exc}") from exc
    return buffer.getvalue()


def write_playback_copy(path: Path | str, samples: np.ndarray, rate_hz: int, *, source_rate_hz: int) -> Path:
    """Write ``samples`` as a compact Ogg Opus file at the source's rate (at most 16 kHz), atomically."""
    path = Path(path)
    write_atomic(path, encode_opus(samples, rate_hz, out_rate_hz=playback_rate_hz(source_rate_hz)))
    return path


__all__ = ["PlaybackError", "SUFFIX", "encode_opus", "playback_rate_hz", "write_playback_copy"]
