"""Real speech for tests, made on the fly with flite / espeak-ng and mixed with numpy.

The test set-up installs both voices (scripts/setup_test.sh). Every helper
returns float32 signals at 16 kHz so tests can build calls with known timing.
"""

from __future__ import annotations

import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

RATE = 16_000


def say(text: str, voice: str = "flite:slt", rate_wpm: int = 165) -> np.ndarray:
    """Speech for ``text`` at 16 kHz: ``flite:<voice>`` or ``espeak:<voice>``."""
    import librosa

    engine, name = voice.split(":", 1)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "say.wav"
        if engine == "flite":
            subprocess.run(["flite", "-voice", name, "-t", text, "-o", str(out)], check=True, capture_output=True)
        else:
            subprocess.run(["espeak-ng", "-v", name, "-s", str(rate_wpm), "-w", str(out), text], check=True, capture_output=True)
        with wave.open(str(out)) as w:
            rate = w.getframerate()
            x = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32) / 32768
    if rate != RATE:
        x = librosa.resample(x, orig_sr=rate, target_sr=RATE)
    x = _trim(x)
    return (x / (np.sqrt(np.mean(x**2)) + 1e-9) * 0.06).astype(np.float32)


def _trim(x: np.ndarray, threshold: float = 0.005) -> np.ndarray:
    idx = np.flatnonzero(np.abs(x) > threshold)
    return x[idx[0] : idx[-1] + 1] if len(idx) else x


def silence(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.standard_normal(int(seconds * RATE)) * 1e-4).astype(np.float32)


def place(parts: list[tuple[float, np.ndarray]], total_s: float | None = None) -> np.ndarray:
    """Mix signals starting at the given times (seconds) into one track."""
    end = max(t + len(x) / RATE for t, x in parts)
    n = int((total_s or end + 0.5) * RATE)
    out = silence(n / RATE)
    for t, x in parts:
        a = int(t * RATE)
        out[a : a + len(x)] += x[: max(0, n - a)]
    return out


def write_wav(path: Path, signal: np.ndarray, rate: int = RATE) -> Path:
    """Write mono (n,) or multi-channel (channels, n) float signal as 16-bit WAV."""
    data = np.atleast_2d(signal)
    pcm = (np.clip(data.T, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(data.shape[0])
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())
    return path
