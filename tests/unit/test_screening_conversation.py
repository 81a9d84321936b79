"""Screening (is it a two-party call?) and conversation measures, on small hand-made results with known answers."""

from __future__ import annotations

import pytest

from callcoach.analysis.conversation import measure, sentiment_label
from callcoach.scoring.screening import MIN_ROLE_CONFIDENCE, screen


def _result(speakers, turns=(), speech=(), events=(), duration_s=60.0, method="cues"):
    return {
        "call": {"duration_s": duration_s},
        "speakers": [{"id": sid, "role": role, "role_confidence": conf, "talk_time_s": talk}
                     for sid, role, conf, talk in speakers],
        "turns": [{"speaker": s, "role": r, "start_s": a, "end_s": b, "text": t, "words": [{"text": w} for w in t.split()]}
                  for s, r, a, b, t in turns],
        "speech": [{"speaker": s, "start_s": a, "end_s": b} for s, a, b in speech],
        "events": list(events),
        "meta": {"roles": {"method": method}},
    }


@pytest.mark.parametrize(
    ("speakers", "codes"),
    [
        ([("S1", "agent", 0.99, 30.0), ("S2", "customer", 0.99, 20.0)], []),
        ([("S1", "agent", 0.99, 30.0), ("S2", "customer", 0.99, 0.5)], ["one_speaker"]),  # a stray cluster is no party
        ([("S1", "agent", 0.99, 20.0), ("S2", "customer", 0.99, 20.0), ("S3", "unknown", 0.99, 15.0)], ["three_or_more"]),
        ([("S1", "customer", 0.99, 30.0), ("S2", "unknown", 0.99, 20.0)], ["no_agent"]),
        ([("S1", "agent", 0.6, 30.0), ("S2", "customer", 0.6, 20.0)], ["uncertain_roles"]),
        ([], ["no_speech"]),
    ],
)
def test_screening_reasons(speakers, codes):
    s = screen(_result(speakers)).to_dict()
    assert [r["code"] for r in s["reasons"]] == codes and s["needs_review"] == bool(codes)
    assert s["min_role_confidence"] == MIN_ROLE_CONFIDENCE


def test_roles_named_by_the_user_are_never_uncertain():
    s = screen(_result([("S1", "agent", 0.5, 30.0), ("S2", "customer", 0.5, 20.0)], method="user"))
    assert not s.needs_review


def test_floor_adds_up_to_the_call_and_monologue_and_switches_are_counted():
    turns = [("S1", "agent", 0.0, 10.0, "hello thank you for calling how can I help"),
             ("S2", "customer", 9.0, 20.0, "my bill is wrong again and again"),
             ("S1", "agent", 20.5, 22.0, "mm-hmm"),  # a backchannel: the customer keeps the floor
             ("S2", "customer", 22.0, 30.0, "and nobody has fixed it"),
             ("S1", "agent", 40.0, 50.0, "let me fix that for you now"),
             ("S1", "agent", 51.0, 55.0, "it is done")]
    speech = [(s, a, b) for s, _, a, b, _ in turns]
    m = measure(_result([("S1", "agent", 0.99, 25.5), ("S2", "customer", 0.99, 19.0)], turns, speech))
    assert m["overlap_s"] == pytest.approx(1.0)  # 9-10 s
    assert m["non_talk_s"] == pytest.approx(60 - 43.5)  # someone talks 0-20, 20.5-30, 40-50 and 51-55 s
    alone = sum(v["alone_s"] for v in m["speakers"].values())
    assert alone + m["overlap_s"] + m["non_talk_s"] == pytest.approx(60.0)
    assert m["longest_monologue"]["speaker"] == "S2" and m["longest_monologue"]["duration_s"] == pytest.approx(21.0)
    assert m["turn_switches"] == 4 and m["turn_switches_per_min"] == pytest.approx(4.0)


def test_customer_sentiment_by_quarter_from_words_and_voice():
    turns = [("S2", "customer", 1.0, 10.0, "this is ridiculous, I am so angry"),
             ("S2", "customer", 50.0, 55.0, "thank you, that helps")]
    speech = [("S2", 1.0, 10.0), ("S2", 50.0, 55.0), ("S1", 20.0, 30.0)]
    raised = [{"type": "raised_voice", "role": "customer", "start_s": 1.0, "end_s": 10.0}]
    m = measure(_result([("S1", "agent", 0.99, 10.0), ("S2", "customer", 0.99, 14.0)], turns, speech, raised))
    labels = [q["label"] for q in m["customer_sentiment"]]
    assert labels == ["upset", "silent", "silent", "positive"]
    assert sentiment_label(-0.2) == "negative" and sentiment_label(0.0) == "neutral"
