"""Decode a recording, resample it to the analysis rate, validate it.

PyAV (FFmpeg's libraries, shipped in its wheel) decodes WAV, FLAC, MP3, OGG,
M4A and most other containers without a system ffmpeg. The signal is decoded
in blocks and resampled on the fly, so a call is held once, at 16 kHz
float32: about 230 MB per channel and hour of audio.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from callcoach.errors import AudioError
from callcoach.records import Audio, AudioInfo

ANALYSIS_RATE_HZ = 16_000
AUDIO_SUFFIXES = frozenset({".wav", ".flac", ".mp3", ".ogg", ".oga", ".opus", ".m4a", ".aac", ".mp4", ".wma", ".webm"})
MIN_DURATION_S = 1.0
SILENCE_PEAK_DBFS = -60.0
MAX_CHANNELS = 2


def is_audio_path(path: Path) -> bool:
    return path.suffix.lower() in AUDIO_SUFFIXES


def load_audio(path: Path | str, *, min_duration_s: float = MIN_DURATION_S) -> Audio:
    """Decode ``path`` to a (channels, n) float32 signal at 16 kHz.

    Raises:
        AudioError: the file is missing, empty, not audio, truncated beyond
            use, shorter than ``min_duration_s``, silent, or has more than
            two channels.
    """
    path = Path(path)
    source = str(path)
    if not path.exists():
        raise AudioError(source, "file not found")
    if path.is_dir():
        raise AudioError(source, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(source, "file is empty (0 bytes)")
    samples, native_rate, channels, promised_s = _decode(path)
    info = AudioInfo(
        source=source,
        duration_s=round(samples.shape[1] / ANALYSIS_RATE_HZ, 3),
        sample_rate_hz=native_rate,
        channels=channels,
    )
    promised_s = _wav_header_duration(path) or promised_s
    truncated = promised_s is not None and info.duration_s < 0.9 * promised_s
    if info.duration_s < min_duration_s:
        why = f" (the file looks truncated: its header promises {promised_s:.1f} s)" if truncated else ""
        raise AudioError(
            source,
            f"too short to score ({info.duration_s:.2f} s; at least {min_duration_s:.1f} s of audio is needed){why}",
        )
    peak = float(np.max(np.abs(samples))) if samples.size else 0.0
    if peak <= 10 ** (SILENCE_PEAK_DBFS / 20):
        raise AudioError(source, f"no sound: the recording is silent (peak below {SILENCE_PEAK_DBFS:.0f} dBFS)")
    return Audio(info=info, samples=samples, sample_rate_hz=ANALYSIS_RATE_HZ)


def _decode(path: Path) -> tuple[np.ndarray, int, int, float | None]:
    import av

    source = str(path)
    try:
        container = av.open(source, metadata_errors="ignore")
    except av.error.InvalidDataError:
        raise AudioError(source, "not an audio file, or its format is not recognised") from None
    except (av.error.FFmpegError, OSError) as exc:
        raise AudioError(source, f"cannot be opened as audio ({_short(exc)})") from None
    with container:
        streams = container.streams.audio
        if not streams:
            raise AudioError(source, "contains no audio stream")
        stream = streams[0]
        native_rate = int(stream.codec_context.sample_rate or stream.rate or 0)
        promised_s: float | None = None
        if stream.duration is not None and stream.time_base is not None:
            promised_s = float(stream.duration * stream.time_base)
        elif container.duration is not None:
            promised_s = container.duration / 1_000_000
        channels = int(stream.codec_context.channels or 0)
        if channels > MAX_CHANNELS:
            raise AudioError(
                source, f"has {channels} channels; callcoach scores mono or two-channel (agent/customer) recordings"
            )
        layout = "stereo" if channels == 2 else "mono"
        resampler = av.AudioResampler(format="fltp", layout=layout, rate=ANALYSIS_RATE_HZ)
        buffer = _Buffer(2 if channels == 2 else 1, promised_s)
        decode_error: str | None = None
        try:
            for frame in container.decode(stream):
                frame.pts = None
                for out in resampler.resample(frame):
                    buffer.add(out.to_ndarray())
        except (av.error.FFmpegError, ValueError) as exc:
            decode_error = _short(exc)
        try:
            for out in resampler.resample(None):
                buffer.add(out.to_ndarray())
        except (av.error.FFmpegError, ValueError):
            pass
    if buffer.filled == 0:
        detail = f" ({decode_error})" if decode_error else ""
        raise AudioError(source, f"no audio could be decoded: the file is corrupt or truncated{detail}")
    samples = buffer.result()
    return samples, native_rate, max(channels, samples.shape[0]), promised_s


class _Buffer:
    """Decoded blocks written into one array sized from the header's duration,
    so a long call is not held twice (blocks + their concatenation)."""

    def __init__(self, channels: int, promised_s: float | None) -> None:
        size = int((promised_s or 60.0) * ANALYSIS_RATE_HZ * 1.02) + ANALYSIS_RATE_HZ
        self.data = np.zeros((channels, size), dtype=np.float32)
        self.filled = 0

    def add(self, block: np.ndarray) -> None:
        n = block.shape[1]
        if self.filled + n > self.data.shape[1]:
            grown = np.zeros((self.data.shape[0], max(2 * self.data.shape[1], self.filled + n)), dtype=np.float32)
            grown[:, : self.filled] = self.data[:, : self.filled]
            self.data = grown
        self.data[:, self.filled : self.filled + n] = block[: self.data.shape[0]]
        self.filled += n

    def result(self) -> np.ndarray:
        if self.filled < 0.9 * self.data.shape[1]:
            return np.ascontiguousarray(self.data[:, : self.filled])
        return self.data[:, : self.filled]  # rows stay contiguous; no second copy of a long call


def _wav_header_duration(path: Path) -> float | None:
    """The length a WAV header promises (PyAV measures what is there, not what was meant to be)."""
    import wave

    try:
        with wave.open(str(path)) as w:
            return w.getnframes() / float(w.getframerate())
    except (wave.Error, EOFError, OSError, ZeroDivisionError):
        return None


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:160]


def channels_identical(audio: Audio, tolerance_db: float = -40.0) -> bool:
    """True when a stereo file carries the same signal on both channels (a mono call)."""
    if audio.channels < 2:
        return True
    left, right = audio.samples[0], audio.samples[1]
    energy = float(np.mean(left**2) + np.mean(right**2)) / 2 + 1e-12
    diff = float(np.mean((left - right) ** 2))
    return 10 * np.log10(diff / energy + 1e-12) < tolerance_db
