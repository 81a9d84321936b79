"""Prosody and conversation events end to end: the real pipeline (channel
diarizer, faster-whisper tiny.en, roles, events) on two demo calls, against
their ground truth (audio_samples/<id>.truth.json).

agent_loses_temper has every kind of event on the agent's side (rapid turns,
two interruptions, a raised turn), two raised customer turns and a customer
interruption, checked on the stereo file and on its mono mix; calm_billing
has none and must stay free of raised-voice and rapid-speech events.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callcoach.pipeline import Models, analyse_call
from callcoach.settings import Settings

SAMPLES = Path(__file__).resolve().parents[2] / "audio_samples"
KINDS = ("raised_voice", "rapid_speech", "interruption")
TOLERANCE_S = 0.5  # as callcoach.evaluation.metrics.match_events


@pytest.fixture(scope="module")
def models() -> Models:
    return Models(Settings())


def _truth(call_id: str) -> dict:
    return json.loads((SAMPLES / f"{call_id}.truth.json").read_text(encoding="utf-8"))


def _overlaps(a: tuple[float, float], b: tuple[float, float]) -> bool:
    return a[0] <= b[1] + TOLERANCE_S and a[1] >= b[0] - TOLERANCE_S


@pytest.fixture(scope="module")
def temper(models):
    return analyse_call(SAMPLES / "agent_loses_temper.ogg", models=models)


@pytest.fixture(scope="module")
def temper_mono(models, tmp_path_factory):
    """The same call as a mono recording would hear it: the mean of its two channels."""
    from callcoach.evaluation.evaluate import write_mono_mix

    mix = write_mono_mix(SAMPLES / "agent_loses_temper.ogg", tmp_path_factory.mktemp("mono"))
    return analyse_call(mix, models=models)


@pytest.fixture(scope="module")
def calm(models):
    return analyse_call(SAMPLES / "calm_billing.wav", models=models)


@pytest.mark.parametrize("recording", ["temper", "temper_mono"])
def test_every_true_event_is_found_once_with_its_role(recording, request):
    """Stereo, and the mono mix: there the customer who cuts in over the agent's last words is
    found from the diarizer's overlapped speech, though the words of the overlap go to the agent."""
    temper = request.getfixturevalue(recording)
    truth = _truth("agent_loses_temper")
    for kind in KINDS:
        want = [(e["role"], e["start_s"], e["end_s"]) for e in truth["events"] if e["type"] == kind]
        got = [(e.role, e.start_s, e.end_s) for e in temper.events if e.type == kind]
        assert want, kind
        for role, a, b in want:
            hits = [g for g in got if g[0] == role and _overlaps((a, b), g[1:])]
            assert len(hits) == 1, f"{kind}/{role} {a}-{b}: found {hits} among {got}"
        # nothing extra: every found event is one of the true ones
        for role, c, d in got:
            assert any(r == role and _overlaps((a, b), (c, d)) for r, a, b in want), f"extra {kind}/{role} {c}-{d}"


def test_raised_turns_give_one_event_each_not_fragments(temper):
    raised = [e for e in temper.events if e.type == "raised_voice"]
    assert len(raised) == 3, raised
    for e in raised:
        assert e.end_s - e.start_s >= 2.5, e  # the true raised turns last 3.7-5.3 s
        assert "dB" in e.detail


def test_calm_call_has_no_raised_or_rapid_speech(calm):
    found = [e for e in calm.events if e.type in ("raised_voice", "rapid_speech")]
    assert found == [], found
    assert calm.customer_trajectory == "not_upset"
