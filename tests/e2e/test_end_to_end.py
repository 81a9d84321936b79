"""The real CLI on demo calls: every RESULT.md field with its type, turns that cover
the speech, roles, and the shouting customer's raised voice."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from callcoach.cli import main
from callcoach.records import CallMeta, result_from_dict, result_to_dict

SAMPLES = Path(__file__).resolve().parents[2] / "audio_samples"
CHECK_IDS = {
    "calm_tone", "no_mirroring", "measured_pace", "no_talk_over", "patience", "acknowledge", "apology",
    "paraphrase", "open_question", "ownership", "personalize", "positive_language", "no_provocation",
    "professional", "solution", "next_steps", "escalation", "boundary", "document_threats",
}


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    src = tmp_path_factory.mktemp("calls")
    for name in ("angry_refund.flac", "calm_billing.wav"):  # one mono, one stereo
        shutil.copy(SAMPLES / name, src / name)
    out = tmp_path_factory.mktemp("out") / "reports"
    code = main(["score", str(src), "--out", str(out), "--quiet"])
    return code, out


def _truth(call_id: str) -> dict:
    return json.loads((SAMPLES / f"{call_id}.truth.json").read_text())


def test_every_output_is_written(scored):
    code, out = scored
    assert code == 0
    for call_id in ("angry_refund", "calm_billing"):
        assert (out / f"{call_id}.json").is_file()
        html = (out / f"{call_id}.html").read_text()
        assert "<html" in html.lower() and call_id in html
    assert (out / "index.html").is_file()
    rows = list(csv.DictReader((out / "calls.csv").open()))
    assert sorted(r["call_id"] for r in rows) == ["angry_refund", "calm_billing"]


@pytest.mark.parametrize("call_id", ["angry_refund", "calm_billing"])
def test_json_reads_back_into_the_same_json(scored, call_id):
    """The JSON is a public contract: read into typed records (meta included) and written again, a
    demo call's result is the same text, key for key and in the same order."""
    _, out = scored
    text = (out / f"{call_id}.json").read_text(encoding="utf-8")
    data = json.loads(text)
    result = result_from_dict(data)
    assert isinstance(result.meta, CallMeta) and result.meta.extra == {}  # every key of meta is a typed field
    assert result.meta.rehear is not None and result.meta.line is not None and result.meta.roles is not None
    again = result_to_dict(result)
    assert again == data
    assert json.dumps(again, indent=2, ensure_ascii=False) == text


@pytest.mark.parametrize("call_id", ["angry_refund", "calm_billing"])
def test_json_matches_the_result_contract(scored, call_id):
    _, out = scored
    data = json.loads((out / f"{call_id}.json").read_text())
    truth = _truth(call_id)
    assert isinstance(data["schema_version"], str)
    call = data["call"]
    assert call["id"] == call_id and call["source"] == truth["file"]
    assert isinstance(call["duration_s"], float) and call["duration_s"] == pytest.approx(truth["duration_s"], abs=0.2)
    assert call["sample_rate_hz"] == truth["sample_rate_hz"] and call["channels"] == truth["channels"]
    assert {s["role"] for s in data["speakers"]} == {"agent", "customer"}
    for s in data["speakers"]:
        assert isinstance(s["id"], str) and isinstance(s["talk_time_s"], float)
        assert s["rate_wpm"] is None or isinstance(s["rate_wpm"], float)
        assert s["loudness_db"] is None or isinstance(s["loudness_db"], float)
    for t in data["turns"]:
        assert t["role"] in ("agent", "customer", "unknown") and t["start_s"] <= t["end_s"] and t["text"]
        for w in t["words"]:
            assert set(w) == {"text", "start_s", "end_s", "probability"}
            assert t["start_s"] <= w["start_s"] <= w["end_s"] <= t["end_s"]
    for e in data["events"]:
        assert e["role"] in ("agent", "customer") and e["start_s"] <= e["end_s"] and isinstance(e["detail"], str)
    sc = data["scorecard"]
    assert 0 <= sc["score"] <= 100
    assert {c["id"] for c in sc["checks"]} >= CHECK_IDS
    for c in sc["checks"]:
        assert c["status"] in ("pass", "fail", "na") and c["role"] in ("agent", "customer") and isinstance(c["tip"], str)
        for ev in c["evidence"]:
            assert set(ev) >= {"start_s", "end_s", "text"}
    assert data["customer_trajectory"] in ("calmer", "not_calmer", "not_upset")


@pytest.mark.parametrize("call_id", ["angry_refund", "calm_billing"])
def test_turns_cover_the_speech_with_the_right_roles(scored, call_id):
    _, out = scored
    data = json.loads((out / f"{call_id}.json").read_text())
    for true_turn in _truth(call_id)["turns"]:
        # the true turn is mostly covered by detected turns of the same role
        covered = sum(
            max(0.0, min(true_turn["end_s"], t["end_s"]) - max(true_turn["start_s"], t["start_s"]))
            for t in data["turns"]
            if t["role"] == true_turn["role"]
        )
        assert covered >= 0.6 * (true_turn["end_s"] - true_turn["start_s"]), true_turn["text"]


def test_shouting_customer_yields_raised_voice_and_the_calm_call_none(scored):
    _, out = scored
    angry = json.loads((out / "angry_refund.json").read_text())
    raised = [e for e in angry["events"] if e["type"] == "raised_voice" and e["role"] == "customer"]
    assert raised
    true_raised = [e for e in _truth("angry_refund")["events"] if e["type"] == "raised_voice"]
    assert any(t["start_s"] - 1 <= e["start_s"] <= t["end_s"] for e in raised for t in true_raised)
    calm = json.loads((out / "calm_billing.json").read_text())
    assert not [e for e in calm["events"] if e["type"] == "raised_voice"]
    assert calm["customer_trajectory"] == "not_upset"
