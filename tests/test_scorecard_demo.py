"""The scorecard logic on the five demo calls, from their ground truth (no audio, no ASR).

Turns come from the true transcript (words spread evenly over each turn),
events from the true prosody/turn-taking events (the text ``threat`` events are
found by :func:`find_text_events`, as in the pipeline). Every check's status
must match ``expected.checks`` in ``audio_samples/<id>.truth.json``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callcoach.records import Event, Turn, Word
from callcoach.rubric import load_rubric
from callcoach.scorecard import find_text_events, score_call

SAMPLES = Path(__file__).resolve().parent.parent / "audio_samples"
CALLS = sorted(p.name[: -len(".truth.json")] for p in SAMPLES.glob("*.truth.json"))
RUBRIC = load_rubric()


def _turns(truth: dict) -> tuple[Turn, ...]:
    turns = []
    for t in truth["turns"]:
        parts = t["text"].split()
        step = (t["end_s"] - t["start_s"]) / len(parts)
        words = tuple(Word(p, t["start_s"] + i * step, t["start_s"] + (i + 1) * step, 1.0, t["role"])
                      for i, p in enumerate(parts))
        turns.append(Turn(t["role"], t["role"], t["start_s"], t["end_s"], t["text"], words))
    return tuple(turns)


def _events(truth: dict) -> tuple[Event, ...]:
    return tuple(Event(e["type"], e["role"], e["role"], e["start_s"], e["end_s"], e["type"])
                 for e in truth["events"] if e["type"] != "threat")


def test_all_demo_calls_present() -> None:
    assert len(CALLS) == 5


@pytest.mark.parametrize("call_id", CALLS)
def test_demo_call_checks_match_truth(call_id: str) -> None:
    truth = json.loads((SAMPLES / f"{call_id}.truth.json").read_text(encoding="utf-8"))
    turns = _turns(truth)
    events = _events(truth) + find_text_events(turns)
    card = score_call(RUBRIC, turns, events, truth["expected"]["customer_trajectory"], matcher=False)
    got = {c.id: c.status for c in card.checks}
    want = truth["expected"]["checks"]
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    assert not wrong, f"{call_id}: (got, want) {wrong}"


@pytest.mark.parametrize("call_id", CALLS)
def test_demo_threat_events_match_truth(call_id: str) -> None:
    """Text threat/abuse events land in the customer turns the truth marks as threats."""
    truth = json.loads((SAMPLES / f"{call_id}.truth.json").read_text(encoding="utf-8"))
    found = find_text_events(_turns(truth))
    marked = [t for t in truth["turns"] if t["threat"]]
    for t in marked:
        assert any(e.role == t["role"] and t["start_s"] <= e.start_s < t["end_s"] for e in found), t
    for e in found:
        assert any(t["start_s"] <= e.start_s < t["end_s"] for t in marked), e
