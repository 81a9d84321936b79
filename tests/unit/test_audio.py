"""Stage 1: decoding every format and rate, and clear errors for bad input."""

from __future__ import annotations

import subprocess

import numpy as np
import pytest
from callsynth.speech import write_wav

from callcoach.errors import AudioError
from callcoach.speech.audio import ANALYSIS_RATE_HZ, channels_identical, load_audio


def tone(seconds: float, rate: int, freq: float = 440.0, channels: int = 1) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    x = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x * (c + 1) / channels for c in range(channels)])


@pytest.mark.parametrize("rate", [8000, 11025, 16000, 22050, 44100, 48000])
def test_any_rate_is_resampled_to_16k(tmp_path, rate):
    path = write_wav(tmp_path / f"t{rate}.wav", tone(2.0, rate), rate)
    audio = load_audio(path)
    assert audio.sample_rate_hz == ANALYSIS_RATE_HZ
    assert audio.info.sample_rate_hz == rate
    assert audio.info.channels == 1
    assert audio.duration_s == pytest.approx(2.0, abs=0.02)
    # a 440 Hz tone stays a 440 Hz tone
    spectrum = np.abs(np.fft.rfft(audio.samples[0]))
    peak_hz = np.argmax(spectrum) * ANALYSIS_RATE_HZ / len(audio.samples[0])
    assert peak_hz == pytest.approx(440, abs=2)


@pytest.mark.parametrize("suffix", [".flac", ".mp3", ".ogg", ".m4a"])
def test_compressed_formats_decode(tmp_path, suffix):
    wav = write_wav(tmp_path / "src.wav", tone(2.0, 16000, channels=2), 16000)
    out = tmp_path / f"call{suffix}"
    if suffix == ".m4a":
        subprocess.run(["sox", str(wav), str(tmp_path / "x.wav")], check=True)
        cmd = ["ffmpeg", "-loglevel", "error", "-y", "-i", str(wav), str(out)]
    else:
        cmd = ["sox", str(wav), str(out)]
    try:
        subprocess.run(cmd, check=True, capture_output=True)
    except FileNotFoundError:
        pytest.skip("encoder not installed")
    audio = load_audio(out)
    assert audio.channels == 2
    assert audio.duration_s == pytest.approx(2.0, abs=0.2)
    assert not channels_identical(audio)


def test_identical_channels_are_mono(tmp_path):
    x = tone(2.0, 16000)[0]
    audio = load_audio(write_wav(tmp_path / "dup.wav", np.stack([x, x])))
    assert channels_identical(audio)


@pytest.mark.parametrize(
    "name,content,problem",
    [
        ("empty.wav", b"", "empty"),
        ("text.wav", b"this is not audio at all\n" * 20, "not an audio file"),
    ],
)
def test_bad_files_name_the_problem(tmp_path, name, content, problem):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(AudioError) as info:
        load_audio(path)
    assert str(path) in str(info.value)
    assert problem in str(info.value)


def test_missing_silent_short_and_truncated(tmp_path):
    with pytest.raises(AudioError, match="not found"):
        load_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioError, match="silent"):
        load_audio(write_wav(tmp_path / "silence.wav", np.zeros((1, 48000), np.float32)))
    with pytest.raises(AudioError, match="too short"):
        load_audio(write_wav(tmp_path / "short.wav", tone(0.3, 16000)))
    full = write_wav(tmp_path / "full.wav", tone(3.0, 16000))
    cut = tmp_path / "cut.wav"
    cut.write_bytes(full.read_bytes()[:4000])
    with pytest.raises(AudioError, match="truncated"):
        load_audio(cut)
