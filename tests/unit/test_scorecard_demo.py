"""The scorecard logic on the five demo calls, from their ground truth (no audio, no ASR).

Turns come from the true transcript (words spread evenly over each turn),
events from the true prosody/turn-taking events (the text ``threat`` events are
found by :func:`find_text_events`, as in the pipeline). Every check's status
must match ``expected.checks`` in ``audio_samples/<id>.truth.json``.

The same holds on what the recogniser (tiny.en) actually wrote for the calls
it garbles most (``ASR_CALLS``, recorded from the pipeline), except where
the words a check needs are gone from the transcript.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from callcoach.analysis.text_events import find_text_events
from callcoach.records import Event, Turn, Word
from callcoach.scoring.rubric import load_rubric
from callcoach.scoring.scorecard import score_call

SAMPLES = Path(__file__).resolve().parents[2] / "audio_samples"
CALLS = sorted(p.name[: -len(".truth.json")] for p in SAMPLES.glob("*.truth.json"))
RUBRIC = load_rubric()


def _turn(role: str, start_s: float, end_s: float, text: str) -> Turn:
    """A turn whose words are spread evenly over ``[start_s, end_s]``."""
    parts = text.split()
    step = (end_s - start_s) / len(parts)
    words = tuple(Word(p, start_s + i * step, start_s + (i + 1) * step, 1.0, role)
                  for i, p in enumerate(parts))
    return Turn(role, role, start_s, end_s, text, words)  # type: ignore[arg-type]


def _turns(truth: dict) -> tuple[Turn, ...]:
    return tuple(_turn(t["role"], t["start_s"], t["end_s"], t["text"]) for t in truth["turns"])


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


# What the pipeline (tiny.en, default settings) transcribed for the demo calls with the
# worst recognition, with its prosody and turn-taking events: (turns, events, checks the
# transcript cannot support). Names and numbers are redacted as in the reports.
ASR_CALLS: dict[str, tuple[tuple, tuple, dict[str, str]]] = {
    # shouted 8 kHz MP3: none of the customer's insults, swearing or threats survive;
    # the agent's limit ("I can't continue with the language ...") says what happened
    "abusive_customer": (
        (
            ("agent", 0.61, 6.38, "Thank you for calling Larks for insurance. This is Jen. How can I help you today?"),
            ("customer", 7.05, 11.68, "Your company, Renekton, Mike, and what's the problem with you people?"),
            ("agent", 12.69, 19.17, "I'm sorry your claim was declined. That must be frustrating. Could you tell me more about it?"),
            ("customer", 19.61, 26.30, "I've had so much longer managed life. You've visited. Can you read your own file? So"),
            ("agent", 27.31, 34.06, "I want to help you, but I can't continue with the language space like this. May I have your name?"),
            ("customer", 34.29, 39.28, "It's my partner. It isn't it today. I can't hear you. And I can't hear you. I can't hear you."),
            ("agent", 39.76, 48.27, "Thank you, [NAME]. Just to confirm your water damage claim was declined. And you say in the photos twice."),
            ("customer", 49.01, 50.25, "Yes. Twice."),
            ("agent", 50.97, 58.70, "Here's what I can do. I'll escalate this to my supervisor and make sure the filters are reviewed today."),
            ("customer", 59.07, 61.35, "I have a supervisor call me."),
            ("agent", 62.39, 69.34, "My supervisor will call you within 24 hours. Your reference number is [ACCOUNT]."),
            ("customer", 69.33, 71.88, "Okay, thank you."),
        ),
        (
            ("raised_voice", "customer", 6.83, 10.95),
            ("raised_voice", "customer", 19.55, 25.15),
            ("rapid_speech", "customer", 34.29, 39.28),
            ("raised_voice", "customer", 34.98, 38.80),
        ),
        {},
    ),
    # agent at ~280 words/min: "Just to confirm, you want to use your plan in Spain" survives
    # only as the restatement; "I'll text you ... within ten minutes, your reference is ..." is lost
    "rushed_agent": (
        (
            ("agent", 0.26, 3.04, "We'll be mobile living time. What can I do for you?"),
            ("customer", 3.11, 10.22, "Hello, Sim. I'm going to stay next month and I'd like to know if my phone plan works there."),
            ("agent", 10.47, 12.25, "Sure. Can I get your name and the camera?"),
            ("customer", 13.05, 16.53, "It's [NAME] and the number is [NUMBER]."),
            ("agent", 17.03, 26.49, "And tell us, just tell them, you want to do your plan in pain. Your plan in gluing, roving in your lap. "
                                    "So call and set some free and you can spend good on high power data. After having to do power and burger the night."),
            ("customer", 26.81, 31.87, "Okay, and do I need just what's anything on the floor? I travel or does it"),
            ("agent", 30.73, 33.28, "So it's all automatic. It just works when you land."),
            ("customer", 33.39, 36.69, "great? And what about call back home to the UK?"),
            ("agent", 37.00, 42.55, "No one included to high level. You're roving the deal. We need to spend a minute. You're leveraging the QM41. Anything else."),
            ("customer", 43.13, 45.45, "know, that's everything. Thank you."),
            ("agent", 45.99, 48.44, "Good trip. Hey, look, bite out."),
        ),
        (
            ("rapid_speech", "agent", 0.26, 3.04),
            ("rapid_speech", "agent", 10.47, 12.25),
            ("rapid_speech", "agent", 17.03, 26.49),
            ("interruption", "agent", 30.63, 31.87),
            ("rapid_speech", "agent", 30.73, 33.28),
            ("rapid_speech", "agent", 37.00, 42.55),
        ),
        {"next_steps": "fail"},
    ),
    # the mono mix of the same call
    "rushed_agent+mono": (
        (
            ("agent", 0.27, 3.24, "We'll be mobile, living time. What can I do for you?"),
            ("customer", 3.47, 10.20, "Hello, Sam. I'm going to stay next month. And I'd like to know if my phone plan works there."),
            ("agent", 10.37, 12.10, "Sure. Can I get your name? And the calendar."),
            ("customer", 12.75, 16.78, "It's [NAME] and the number. It's [NUMBER]."),
            ("agent", 16.91, 25.86, "And [NAME], [NAME], you want to do your plan in phase. Your plan includes moving in your lap. "
                                    "So call and set some read. And you can send me the mic on there. After that, it's the calendar."),
            ("customer", 26.51, 31.56, "Okay, and do I need to put anything on the floor I travel? No, it's not"),
            ("agent", 31.55, 32.52, "working."),
            ("customer", 33.61, 37.34, "Great, and what about called back home to the UK? No, I"),
            ("agent", 37.33, 42.87, "included the high -level building details. We didn't have any difference in QM41, anything else?"),
            ("customer", 43.03, 45.70, "No, that's everything. Thank you."),
            ("agent", 45.77, 48.28, "Good trip, Heather. Bye, bye."),
        ),
        (
            ("rapid_speech", "agent", 0.27, 3.24),
            ("rapid_speech", "agent", 10.37, 12.10),
            ("rapid_speech", "agent", 16.91, 25.86),
            ("interruption", "agent", 36.83, 37.34),
            ("rapid_speech", "agent", 37.33, 42.87),
        ),
        {"next_steps": "fail"},
    ),
}


@pytest.mark.parametrize("name", sorted(ASR_CALLS))
def test_demo_checks_match_truth_on_recognised_words(name: str) -> None:
    raw_turns, raw_events, lost = ASR_CALLS[name]
    truth = json.loads((SAMPLES / f"{name.split('+')[0]}.truth.json").read_text(encoding="utf-8"))
    turns = tuple(_turn(*t) for t in raw_turns)
    events = tuple(Event(k, role, role, a, b, k) for k, role, a, b in raw_events) + find_text_events(turns)
    card = score_call(RUBRIC, turns, events, truth["expected"]["customer_trajectory"], matcher=False)
    got = {c.id: c.status for c in card.checks}
    want = {**truth["expected"]["checks"], **lost}
    wrong = {k: (got.get(k), v) for k, v in want.items() if got.get(k) != v}
    assert not wrong, f"{name}: (got, want) {wrong}"
