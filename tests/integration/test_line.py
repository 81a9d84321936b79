"""A party's line noise decides which speech model decodes their words: the level
measure on real calls with noise added, and the real models on a noisy call."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callcoach.evaluation import degrade
from callcoach.pipeline import Models, analyse_call
from callcoach.records import Diarization, SpeechSegment
from callcoach.settings import Settings
from callcoach.speech.audio import load_audio
from callcoach.speech.line import line_levels

SAMPLES = Path(__file__).resolve().parents[2] / "audio_samples"
CALM = SAMPLES / "calm_billing.wav"  # stereo, agent left


def _true_diarization(call: Path, stereo: bool) -> Diarization:
    truth = json.loads(call.with_suffix(".truth.json").read_text())
    segments = tuple(SpeechSegment(t["role"], t["start_s"], t["end_s"]) for t in truth["turns"])
    channels = {"agent": truth["agent_channel"], "customer": 1 - truth["agent_channel"]} if stereo else {}
    return Diarization(segments, ("agent", "customer"), "truth", channels)


def _with_noise(call: Path, snr_db: float, out: Path, seconds: float | None = None) -> Path:
    x, sr = sf.read(call, always_2d=True)
    if seconds:
        x = x[: int(seconds * sr)]
    y = degrade.add_noise(x, sr, snr_db, np.random.default_rng(0)) if snr_db < 99 else x
    sf.write(out, np.clip(y, -1, 1), sr, subtype="PCM_16")
    return out


@pytest.mark.parametrize("stereo", [True, False])
def test_noise_added_at_10_db_reads_under_the_threshold_and_a_clean_line_well_over(tmp_path: Path, stereo: bool) -> None:
    diarization = _true_diarization(CALM, stereo)
    clean = line_levels(load_audio(CALM), diarization)
    noisy = line_levels(load_audio(_with_noise(CALM, 10.0, tmp_path / "noisy.wav")), diarization)
    limit = Settings().noisy_line_snr_db
    assert {lv.speaker for lv in clean} == {"agent", "customer"}
    assert all(lv.snr_db > limit + 5 for lv in clean), clean
    # stereo: a few dB above the noise as added (word gaps hold some speech); a mono mix adds both
    # channels' noise (+3 dB) under a quieter agent (-24 against -20 dBFS), so it reads lower there
    low = 10.0 if stereo else 5.0
    assert all(low <= lv.snr_db < limit for lv in noisy), noisy


def test_a_speaker_without_speech_has_no_level() -> None:
    audio = load_audio(CALM)
    diarization = Diarization((SpeechSegment("S1", 1.0, 4.0),), ("S1", "S2"), "test")
    assert [lv.speaker for lv in line_levels(audio, diarization)] == ["S1"]


def test_a_noisy_call_is_decoded_whole_by_the_larger_model(tmp_path: Path) -> None:
    """Real tiny.en, base and diarizer: at 10 dB both parties' lines are decoded by base (and so no
    turn is heard again); the same call without noise stays with tiny.en."""
    noisy = _with_noise(CALM, 10.0, tmp_path / "noisy.wav", seconds=30)
    clean = _with_noise(CALM, 99.0, tmp_path / "clean.wav", seconds=30)
    models = Models(Settings())
    heard_noisy = analyse_call(noisy, models=models).meta
    heard_clean = analyse_call(clean, models=models).meta
    assert {s.model for s in heard_noisy.line.speakers.values()} == {"base"}, heard_noisy.line
    assert all(s.snr_db < 18 for s in heard_noisy.line.speakers.values())
    assert heard_noisy.rehear.turns == ()
    assert heard_noisy.asr_model == "base"  # no party was left to the first model
    assert {s.model for s in heard_clean.line.speakers.values()} == {"tiny.en"}, heard_clean.line
    assert heard_clean.line.noisy_below_snr_db == 18.0
    assert heard_clean.asr_model == "tiny.en"


def test_a_noisy_mono_call_never_loads_the_first_model(tmp_path: Path) -> None:
    """A mono mix is one line: noisy, it is decoded whole by base, and meta says so."""
    x, sr = sf.read(_with_noise(CALM, 10.0, tmp_path / "noisy.wav", seconds=20), always_2d=True)
    mono = tmp_path / "noisy_mono.wav"
    sf.write(mono, x.mean(axis=1), sr, subtype="PCM_16")
    models = Models(Settings())
    meta = analyse_call(mono, models=models).meta
    assert {s.model for s in meta.line.speakers.values()} == {"base"}, meta.line
    assert meta.asr_model == "base"
    assert models._transcriber is None  # tiny.en was never loaded for a call it did not decode


def test_with_the_larger_model_off_a_noisy_line_stays_with_the_first(tmp_path: Path) -> None:
    noisy = _with_noise(CALM, 10.0, tmp_path / "noisy.wav", seconds=20)
    line = analyse_call(noisy, models=Models(Settings(rehear_model="off"))).meta.line
    assert {s.model for s in line.speakers.values()} == {"tiny.en"}
    assert line.noisy_below_snr_db is None


def test_frame_levels_are_right_and_never_copy_the_signal() -> None:
    """20 ms levels of a known tone, read in place: an hour's channel is 0.23 GB as float32,
    and a float64 copy of it and its square had cost 0.9 GB at the peak of a long call."""
    import tracemalloc

    from callcoach.speech.frames import frame_db

    rate = 16_000
    t = np.arange(60 * rate) / rate
    x = (0.1 * np.sin(2 * np.pi * 400 * t)).astype(np.float32)  # power 0.005: -23.0 dB
    tracemalloc.start()
    db = frame_db(x, rate // 50)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert len(db) == 3000
    assert np.allclose(db, 10 * np.log10(0.005), atol=0.01)
    assert peak < x.nbytes / 4, peak  # the levels and small buffers, not a copy of the 3.8 MB signal
