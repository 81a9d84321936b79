"""Words not lost on a real call: the caller leg of AWS LCA's Auto_Repairs_40 (role-played, 8 kHz;
``audio_samples/real/calls/aws_auto_repairs_40.flac``, agent left, caller right)."""

from __future__ import annotations

from pathlib import Path

from callcoach.evaluation.metrics import normalise_words
from callcoach.pipeline import Models
from callcoach.settings import Settings
from callcoach.speech.attribute import merge_intervals, transcribe_speech
from callcoach.speech.audio import load_audio

CALL = Path(__file__).resolve().parents[2] / "audio_samples" / "real" / "calls" / "aws_auto_repairs_40.flac"


def test_no_diarized_stretch_of_the_caller_leg_comes_out_without_words():
    """tiny.en used to skip 7.1 s, 4.6 s and 3.7 s of this leg (127-140 s, 169-173 s: "you know, it's
    not making any crazy noises yet ... so how soon could you take me in ... I'm gonna come in as
    soon as possible"), which faster-whisper alone transcribes."""
    models = Models(Settings(rehear_model="off"))
    audio = load_audio(CALL)
    diarization = models.diarizer("channels").diarize(audio)
    caller = next(spk for spk, ch in diarization.channel_of.items() if ch == 1)
    words = transcribe_speech(audio, diarization, models.transcriber(), speaker=caller)
    speech = merge_intervals(((s.start_s, s.end_s) for s in diarization.segments if s.speaker == caller), gap_s=0.3)
    spans = sorted((w.start_s, w.end_s) for w in words)
    for a, b in speech:
        cursor = a
        for ws, we in spans:
            if a < we and ws < b:
                assert ws - cursor < 3.0, f"no words from {cursor:.1f} to {ws:.1f} s"
                cursor = max(cursor, we)
        assert b - cursor < 3.0, f"no words from {cursor:.1f} to {b:.1f} s"
    late = normalise_words(" ".join(w.text for w in words if 125.0 <= w.start_s <= 175.0))
    assert {"noises", "soon", "possible"} <= set(late), late
    assert all(0.0 <= w.probability <= 1.0 for w in words)  # per-word confidence stays
