"""Re-hearing the agent's fast turns with the larger model: which turns, what it
changes (the words and the checks read from them, not the prosody events), and
the real models on the rushed demo call, stereo and its mono mix."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from callcoach.errors import ModelError
from callcoach.pipeline import Models, analyse_call
from callcoach.records import RehearMeta, Turn, Word
from callcoach.settings import Settings
from callcoach.speech.rehear import fast_turns, turn_pace_wpm

SAMPLES = Path(__file__).resolve().parents[2] / "audio_samples"
RUSHED = SAMPLES / "rushed_agent.wav"
# "Those are included too. I'll text you the roaming details within ten minutes, your reference is Q M four four one."
NEXT_STEP_TURN_S = (36.9, 42.5)


def _turn(role: str, start_s: float, n_words: int, pace_wpm: float) -> Turn:
    step = 60.0 / pace_wpm
    words = tuple(Word(f"w{i}", start_s + i * step, start_s + (i + 1) * step, 1.0, role) for i in range(n_words))
    return Turn(role, role, start_s, words[-1].end_s, " ".join(w.text for w in words), words)  # type: ignore[arg-type]


def test_only_the_agents_fast_turns_of_several_words_are_reheard() -> None:
    fast_agent = _turn("agent", 0.0, 12, 240)
    turns = (
        fast_agent,
        _turn("agent", 10.0, 12, 150),  # calm pace
        _turn("agent", 20.0, 4, 300),  # too few words to judge a pace
        _turn("customer", 30.0, 12, 260),  # the customer's words are the first pass's
    )
    assert turn_pace_wpm(fast_agent) == pytest.approx(240)
    assert fast_turns(turns, 200.0) == [fast_agent]
    assert fast_turns(turns, 250.0) == []


def test_rehearing_is_off_when_asked_or_when_the_first_pass_uses_the_same_model() -> None:
    assert Models(Settings()).rehears()
    assert not Models(Settings(rehear_model="off")).rehears()
    assert not Models(Settings(asr_model="base", rehear_model="base")).rehears()


def test_a_missing_rehear_model_fails_before_any_audio(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelError, match="no-such-model"):
        Models(Settings(rehear_model=str(missing)))


def _acoustic_events(result) -> list[tuple]:
    return [(e.type, e.role, e.start_s, e.end_s) for e in result.events if e.type != "threat"]


@pytest.fixture(scope="module")
def rushed_runs():
    models_on, models_off = Models(Settings()), Models(Settings(rehear_model="off"))
    return analyse_call(RUSHED, models=models_on), analyse_call(RUSHED, models=models_off)


def test_rushed_agents_next_step_is_heard_and_passes(rushed_runs) -> None:
    on, off = rushed_runs
    assert off.meta.rehear == RehearMeta(model="off", min_pace_wpm=200.0, turns=())
    reheard = on.meta.rehear.turns
    assert on.meta.rehear.model == "base"
    assert all(r.pace_wpm >= 200.0 for r in reheard)
    a, b = NEXT_STEP_TURN_S
    assert any(r.start_s < b and r.end_s > a for r in reheard), reheard
    turn = next(t for t in on.turns if t.role == "agent" and t.start_s < b and t.end_s > a)
    text = turn.text.lower()
    assert "within" in text and "minutes" in text, turn.text
    check = next(c for c in on.scorecard.checks if c.id == "next_steps")
    assert check.status == "pass"
    assert any(a - 1 < ev.start_s < b for ev in check.evidence), check.evidence


def test_rehearing_changes_words_not_the_prosody_events(rushed_runs) -> None:
    on, off = rushed_runs
    assert _acoustic_events(on) == _acoustic_events(off)
    assert [t.text for t in on.turns] != [t.text for t in off.turns]
    customer = [t.text for t in on.turns if t.role == "customer"]
    assert customer == [t.text for t in off.turns if t.role == "customer"]


def test_rushed_agent_mono_mix_is_reheard_too(tmp_path: Path) -> None:
    samples, rate = sf.read(RUSHED, dtype="float32")
    mono = tmp_path / "rushed mono.wav"
    sf.write(mono, np.mean(samples, axis=1), rate)  # the mean of the channels, as the evaluation's mono mixes
    result = analyse_call(mono, models=Models(Settings()))
    assert result.call.channels == 1
    reheard = result.meta.rehear.turns
    a, b = NEXT_STEP_TURN_S
    assert any(r.start_s < b and r.end_s > a for r in reheard), reheard
    assert next(c for c in result.scorecard.checks if c.id == "next_steps").status == "pass"


def test_a_crash_between_transcription_and_analysis_names_the_file_and_stage(monkeypatch) -> None:
    """Turns and roles, built before re-hearing, fail like any stage: a StageError naming file and stage."""
    from callcoach import pipeline
    from callcoach.errors import StageError

    def broken(*args, **kwargs):
        raise ValueError("no turns")

    monkeypatch.setattr(pipeline, "assign_roles", broken)
    with pytest.raises(StageError, match=r"rushed_agent\.wav: roles failed: ValueError: no turns"):
        analyse_call(RUSHED, models=Models(Settings(rehear_model="off")))


def test_fast_turns_are_reheard_with_a_short_context_by_the_one_loaded_larger_model() -> None:
    models = Models(Settings())
    rehearer, larger = models.rehearer(), models.larger()
    assert rehearer._model is larger._model  # loaded once
    assert rehearer.options.short_context_min_s == 10.0
    assert larger.options.short_context_min_s is None  # noisy lines are decoded whole, with 30 s windows


def test_the_evaluation_document_says_what_the_larger_model_decoded() -> None:
    from callcoach.evaluation.evaluate import _larger_model_use

    assert _larger_model_use(Settings()) == " (fast agent turns, with a 10 s encoder context, and lines under 18 dB SNR, heard by base)"
    assert _larger_model_use(Settings(noisy_line_snr_db=0)) == " (fast agent turns, with a 10 s encoder context, heard by base)"
    assert _larger_model_use(Settings(rehear_model="off")) == ""
