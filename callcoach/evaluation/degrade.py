"""Degradations for the evaluation corpus: noise, clipping, codecs, levels, hold music.

Used by ``scripts/make_corpus.py`` to turn a clean synthetic call into harder
listening conditions. Audio is float32 in ``[-1, 1]`` with shape ``(n,)``
(mono) or ``(n, channels)``; every function returns a new array and leaves its
input alone. All randomness comes from an explicit ``numpy.random.Generator``,
so the same seed gives the same samples.

Pure numpy except the codec round trips (:func:`mulaw_roundtrip`,
:func:`gsm_roundtrip`) and :func:`resample`, which call the ``sox`` program.

Speech level
------------
Signal-to-noise ratios are relative to *speech*, not to the whole file (calls
are full of silence): :func:`active_level_db` is the RMS level of the 20 ms
frames within ``ACTIVE_RANGE_DB`` (35 dB) of the loudest frame, a simple
active-speech level in the spirit of ITU-T P.56.
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

ACTIVE_RANGE_DB = 35.0
FRAME_S = 0.02
MULAW_RATE_HZ = 8000
GSM_RATE_HZ = 8000


class CodecError(RuntimeError):
    """sox is missing or failed to encode/decode."""


# ------------------------------------------------------------------ levels


def rms_db(x: np.ndarray) -> float:
    """RMS level in dBFS of a float signal (full scale = 1.0), over all samples and channels."""
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def active_level_db(x: np.ndarray, sr: int, range_db: float = ACTIVE_RANGE_DB) -> float:
    """Active speech level of a mono signal in dBFS.

    RMS over the ``FRAME_S`` frames whose own level is within ``range_db`` of
    the loudest frame; silent stretches between turns do not count.
    """
    x = np.asarray(x, dtype=np.float64).reshape(-1)
    hop = max(1, int(sr * FRAME_S))
    n = len(x) // hop
    if n == 0:
        return rms_db(x)
    power = np.mean(x[: n * hop].reshape(n, hop) ** 2, axis=1)
    db = 10 * np.log10(power + 1e-20)
    active = db > db.max() - range_db
    return float(10 * np.log10(np.mean(power[active]) + 1e-20))


def _channels(x: np.ndarray) -> np.ndarray:
    """View of ``x`` as (n, channels)."""
    return x[:, None] if x.ndim == 1 else x


def _like(y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Give ``y`` (n, channels) the dimensionality of ``x``, float32."""
    y = y.astype(np.float32)
    return y[:, 0] if x.ndim == 1 else y


def gain(x: np.ndarray, db: float, channel: int | None = None) -> np.ndarray:
    """Scale the whole signal, or only ``channel`` of a multichannel one, by ``db`` decibels.

    The ``quiet_agent`` condition is ``gain(x, -15, channel=agent_channel)``.
    """
    y = _channels(np.array(x, dtype=np.float32, copy=True))
    g = np.float32(10 ** (db / 20))
    if channel is None:
        y *= g
    else:
        y[:, channel] *= g
    return _like(y, x)


def mix_to_mono(x: np.ndarray) -> np.ndarray:
    """Sum the channels into one, as a mono telephone recorder does (clipped to [-1, 1]).

    Summing keeps each party at the level it had in its own channel.
    """
    y = _channels(np.asarray(x, dtype=np.float32))
    return np.clip(y.sum(axis=1), -1.0, 1.0).astype(np.float32)


def add_crosstalk(x: np.ndarray, db: float) -> np.ndarray:
    """Leak each channel of a stereo call into the other at ``db`` (e.g. -12) relative level.

    Raises:
        ValueError: ``x`` is not two-channel.
    """
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError("add_crosstalk needs a (n, 2) stereo signal")
    g = np.float32(10 ** (db / 20))
    y = x.astype(np.float32) + g * x[:, ::-1].astype(np.float32)
    return np.clip(y, -1.0, 1.0).astype(np.float32)


# ------------------------------------------------------------------- noise


def pink_noise(n: int, rng: np.random.Generator) -> np.ndarray:
    """Pink (1/f power) noise of ``n`` samples, unit RMS, float64."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(len(spectrum), dtype=np.float64)
    f[0] = 1.0
    spectrum /= np.sqrt(f)
    spectrum[0] = 0.0
    y = np.fft.irfft(spectrum, n)
    return y / (np.sqrt(np.mean(y ** 2)) + 1e-20)


def babble_noise(source: np.ndarray, n: int, rng: np.random.Generator, talkers: int = 6) -> np.ndarray:
    """Babble: ``talkers`` time-reversed, randomly offset copies of ``source`` summed; unit RMS.

    Reversed speech keeps the spectrum and rhythm of talk without words an ASR
    could transcribe. ``source`` is mono speech (e.g. the call itself).
    """
    src = np.asarray(source, dtype=np.float64).reshape(-1)[::-1]
    if len(src) == 0 or not np.any(src):
        return pink_noise(n, rng)
    reps = int(np.ceil(n / len(src))) + 1
    tiled = np.tile(src, reps)
    y = np.zeros(n)
    for _ in range(talkers):
        off = int(rng.integers(0, len(src)))
        y += tiled[off: off + n] * rng.uniform(0.6, 1.0)
    return y / (np.sqrt(np.mean(y ** 2)) + 1e-20)


def add_noise(x: np.ndarray, sr: int, snr_db: float, rng: np.random.Generator,
              kind: str = "babble+pink") -> np.ndarray:
    """Add noise at ``snr_db`` below the active speech level, channel by channel.

    ``kind``: ``pink``, ``babble`` or ``babble+pink`` (equal power of each).
    Each channel gets its own noise, scaled so that
    ``active_level_db(channel) - rms_db(added noise) == snr_db``. The sum is
    not clipped (at the SNRs used it stays well inside full scale); the
    caller writes it with saturation.
    """
    y = _channels(np.array(x, dtype=np.float64, copy=True))
    n = y.shape[0]
    mono = y.sum(axis=1)
    for c in range(y.shape[1]):
        if kind == "pink":
            noise = pink_noise(n, rng)
        elif kind == "babble":
            noise = babble_noise(mono, n, rng)
        elif kind == "babble+pink":
            noise = babble_noise(mono, n, rng) + pink_noise(n, rng)
            noise /= np.sqrt(np.mean(noise ** 2)) + 1e-20
        else:
            raise ValueError(f"unknown noise kind {kind!r}; allowed: pink, babble, babble+pink")
        level = active_level_db(y[:, c], sr)
        y[:, c] += noise * 10 ** ((level - snr_db) / 20)
    return _like(y, x)


# ---------------------------------------------------------------- clipping


def clip_level(x: np.ndarray, fraction: float) -> float:
    """The magnitude above which ``fraction`` of the samples lie."""
    return float(np.quantile(np.abs(x), 1.0 - fraction))


def hard_clip(x: np.ndarray, fraction: float = 0.02, ceiling: float = 0.95) -> np.ndarray:
    """Overdrive: hard-clip so that ``fraction`` of all samples sit at the rails.

    The signal is amplified so that its ``1 - fraction`` magnitude quantile
    reaches ``ceiling``, then clipped at ``+-ceiling`` (one gain for every
    channel, like one overdriven input stage).
    """
    level = clip_level(x, fraction)
    if level <= 0:
        return np.array(x, dtype=np.float32, copy=True)
    y = np.asarray(x, dtype=np.float64) * (ceiling / level)
    return np.clip(y, -ceiling, ceiling).astype(np.float32)


def clipped_fraction(x: np.ndarray, tol: float = 1e-4) -> float:
    """Share of samples at the signal's own peak magnitude (within ``tol``)."""
    mag = np.abs(x)
    return float(np.mean(mag >= mag.max() - tol))


# ---------------------------------------------------------------- codecs


def _write_wav16(path: Path, x: np.ndarray, sr: int) -> None:
    y = _channels(x)
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(y.shape[1])
        wf.setsampwidth(2)
        wf.setframerate(sr)
        wf.writeframes(np.clip(np.round(y * 32767.0), -32768, 32767).astype("<i2").tobytes())


def _sox(args: list[str]) -> bytes:
    try:
        proc = subprocess.run(["sox", *args], capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise CodecError("sox is not installed") from exc
    if proc.returncode != 0:
        raise CodecError(f"sox {' '.join(args)} failed: {proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout


def _sox_roundtrip(x: np.ndarray, sr: int, encode: list[str], suffix: str, out_sr: int) -> np.ndarray:
    """float -> wav -> sox ``encode`` (to a file with ``suffix``) -> float32 at ``out_sr``."""
    y = _channels(np.asarray(x, dtype=np.float32))
    with tempfile.TemporaryDirectory(prefix="degrade_") as tmp:
        src, coded = Path(tmp) / "in.wav", Path(tmp) / f"coded{suffix}"
        _write_wav16(src, y, sr)
        _sox(["-D", "-R", str(src), *encode, str(coded)])
        raw = _sox(["-D", "-R", str(coded), "-t", "raw", "-e", "floating-point", "-b", "32",
                    "-L", "-c", str(y.shape[1]), "-r", str(out_sr), "-"])
    out = np.frombuffer(raw, dtype="<f4").reshape(-1, y.shape[1])
    return _like(out.copy(), x)


def resample(x: np.ndarray, sr: int, new_sr: int) -> np.ndarray:
    """Resample with sox (high quality); returns float32 with the same channel layout."""
    if sr == new_sr:
        return np.array(x, dtype=np.float32, copy=True)
    return _sox_roundtrip(x, sr, ["-t", "wav", "-e", "floating-point", "-b", "32"], ".wav", new_sr)


def mulaw_roundtrip(x: np.ndarray, sr: int) -> np.ndarray:
    """G.711 mu-law at 8 kHz and back (sox ``-e mu-law``); returns float32 at 8000 Hz.

    A 16 kHz input is resampled to 8 kHz first (as a telephone network does).
    """
    return _sox_roundtrip(x, sr, ["-r", str(MULAW_RATE_HZ), "-e", "mu-law", "-b", "8", "-t", "wav"],
                          ".wav", MULAW_RATE_HZ)


def gsm_roundtrip(x: np.ndarray, sr: int) -> np.ndarray:
    """GSM 06.10 full-rate at 8 kHz and back (sox ``-t gsm``); float32 at 8000 Hz.

    GSM is mono, so each channel is coded on its own.
    """
    y = _channels(np.asarray(x, dtype=np.float32))
    chans = [_sox_roundtrip(y[:, c], sr, ["-r", str(GSM_RATE_HZ), "-c", "1", "-t", "gsm"], ".gsm",
                            GSM_RATE_HZ) for c in range(y.shape[1])]
    n = min(len(c) for c in chans)
    return _like(np.stack([c[:n] for c in chans], axis=1), x)


def roundtrip_snr_db(clean: np.ndarray, coded: np.ndarray) -> float:
    """SNR of a same-rate round trip: clean power over error power, in dB."""
    n = min(len(clean), len(coded))
    a = np.asarray(clean[:n], dtype=np.float64)
    err = np.asarray(coded[:n], dtype=np.float64) - a
    return float(10 * np.log10((np.mean(a ** 2) + 1e-20) / (np.mean(err ** 2) + 1e-20)))


# ------------------------------------------------------------- hold music


def hold_music(duration_s: float, sr: int, rng: np.random.Generator, level_dbfs: float = -26.0) -> np.ndarray:
    """Synthetic hold music: a I-V-vi-IV chord loop with a random pentatonic melody.

    Chords are three soft sine-plus-harmonic tones per bar (2 s), the melody
    a brighter tone per beat (0.5 s) with an attack/decay envelope; the result
    is mono float32 at ``level_dbfs`` RMS, with 50 ms fades at both ends.
    Made from scratch, so free of any copyright.
    """
    n = int(round(duration_s * sr))
    t = np.arange(n) / sr
    y = np.zeros(n)

    def tone(freq: float, start: int, length: int, amp: float, bright: float) -> None:
        end = min(n, start + length)
        if end <= start:
            return
        tt = np.arange(end - start) / sr
        env = np.minimum(1.0, tt / 0.02) * np.exp(-tt * 2.5)
        wave_ = np.sin(2 * np.pi * freq * tt) + bright * np.sin(4 * np.pi * freq * tt)
        y[start:end] += amp * env * wave_

    root = 261.63  # C4
    semis = {"I": (0, 4, 7), "V": (7, 11, 14), "vi": (9, 12, 16), "IV": (5, 9, 12)}
    bar = int(2.0 * sr)
    for b, name in enumerate(["I", "V", "vi", "IV"] * int(np.ceil(duration_s / 8.0) + 1)):
        for s in semis[name]:
            tone(root * 2 ** (s / 12) / 2, b * bar, bar, 0.25, 0.3)
    scale = [0, 2, 4, 7, 9, 12, 14, 16]
    beat = int(0.5 * sr)
    step = 0
    for k in range(int(np.ceil(n / beat))):
        step = int(np.clip(step + rng.integers(-2, 3), 0, len(scale) - 1))
        tone(root * 2 ** (scale[step] / 12), k * beat, beat, 0.35, 0.5)
    del t
    y *= 10 ** ((level_dbfs - rms_db(y)) / 20)
    fade = min(n // 2, int(0.05 * sr))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade)
        y[:fade] *= ramp
        y[-fade:] *= ramp[::-1]
    return y.astype(np.float32)


def quietest_gap(turns: list[dict[str, Any]], duration_s: float, near_s: float | None = None) -> float:
    """A time (s) between turns where nobody speaks, nearest ``near_s`` (default: mid-call).

    Picks the midpoint of the silent gap closest to ``near_s``; falls back to
    ``near_s`` itself when the turns leave no gap.
    """
    near = duration_s / 2 if near_s is None else near_s
    spans = sorted((t["start_s"], t["end_s"]) for t in turns)
    gaps = []
    latest = 0.0
    for a, b in spans:
        if a > latest:
            gaps.append((latest, a))
        latest = max(latest, b)
    gaps = [(a, b) for a, b in gaps if a > 0.0]  # not before the first word
    if not gaps:
        return near
    a, b = min(gaps, key=lambda g: abs((g[0] + g[1]) / 2 - near))
    return (a + b) / 2


def insert_segment(x: np.ndarray, segment: np.ndarray, at_s: float, sr: int) -> np.ndarray:
    """Insert mono ``segment`` into ``x`` at ``at_s`` seconds (on every channel)."""
    at = int(round(at_s * sr))
    y = _channels(np.asarray(x, dtype=np.float32))
    seg = np.repeat(np.asarray(segment, dtype=np.float32)[:, None], y.shape[1], axis=1)
    return _like(np.concatenate([y[:at], seg, y[at:]]), x)


def shift_truth(truth: dict[str, Any], at_s: float, by_s: float) -> dict[str, Any]:
    """Truth after inserting ``by_s`` seconds at ``at_s``: later turn/event times move by ``by_s``.

    A span that starts at or after ``at_s`` moves entirely; one that contains
    ``at_s`` is stretched (its end moves); earlier spans are unchanged.
    ``duration_s`` grows by ``by_s``.
    """
    def move(t: float) -> float:
        return round(t + by_s, 3) if t >= at_s else t

    out = dict(truth)
    out["turns"] = [{**t, "start_s": move(t["start_s"]), "end_s": move(t["end_s"])} for t in truth["turns"]]
    out["events"] = [{**e, "start_s": move(e["start_s"]), "end_s": move(e["end_s"])} for e in truth["events"]]
    out["duration_s"] = round(truth["duration_s"] + by_s, 3)
    return out


__all__ = [
    "CodecError", "active_level_db", "add_crosstalk", "add_noise", "babble_noise", "clip_level",
    "clipped_fraction", "gain", "gsm_roundtrip", "hard_clip", "hold_music", "insert_segment",
    "mix_to_mono", "mulaw_roundtrip", "pink_noise", "quietest_gap", "resample", "rms_db",
    "roundtrip_snr_db", "shift_truth",
]
