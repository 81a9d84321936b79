"""Required and forbidden statements (fuzzy matching over words) and critical checks."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from callsynth.factories import make_call_result
from test_scorecard import turn

from callcoach.errors import RubricError
from callcoach.records import CheckResult, result_from_dict, result_to_dict
from callcoach.scoring.rubric import load_rubric, parse_rubric
from callcoach.scoring.scorecard import score_call
from callcoach.scoring.statements import DEFAULT_MIN_SIMILARITY, find_statement

DATA = Path(__file__).resolve().parents[1] / "data" / "statements.yaml"
NOTICE = "This call may be recorded for quality and training purposes"


def timed(text: str, start_s: float = 0.0, step_s: float = 0.4) -> list[tuple[str, float, float]]:
    return [(w, start_s + step_s * i, start_s + step_s * i + 0.3) for i, w in enumerate(text.split())]


# ------------------------------------------------------------------ matching


def test_found_with_two_misheard_words_in_ten_with_words_and_times():
    words = timed("Okay thanks for holding. This call may bee recorded for quality and trading purposes, how can I help?")
    m = find_statement(NOTICE, words)
    assert m is not None
    assert m.text == "This call may bee recorded for quality and trading purposes"
    assert m.start_s == pytest.approx(words[4][1]) and m.end_s == pytest.approx(words[13][2])
    assert DEFAULT_MIN_SIMILARITY <= m.similarity < 100


def test_not_found_when_not_said_or_said_otherwise():
    assert find_statement(NOTICE, timed("I can see the parcel left our warehouse on Tuesday.")) is None
    assert find_statement(NOTICE, timed("This call may be transferred to another department if needed")) is None
    assert find_statement(NOTICE, timed("This call may be, sorry, one moment")) is None  # cut short


def test_a_negated_statement_is_not_the_statement():
    assert find_statement(NOTICE, timed("this call may not be recorded for quality and training purposes")) is None
    # a short window cannot step over the "not"
    assert find_statement("You have fourteen days to cancel this agreement without penalty",
                          timed("Right. You have not fourteen days to cancel this agreement without penalty, okay?")) is None
    # a negator in the statement must be there too
    assert find_statement("Please do not share your password with anyone",
                          timed("please do share your password with anyone")) is None
    assert find_statement("Please do not share your password with anyone",
                          timed("please don't share your password with anyone")) is not None


def test_time_window_and_digits():
    words = timed("hello there " * 50 + "your payment will be processed within 3 to 5 business days")
    statement = "Your payment will be processed within three to five business days"
    late = find_statement(statement, words)
    assert late is not None and late.start_s == pytest.approx(40.0)
    assert find_statement(statement, words, end_s=30.0) is None
    assert find_statement(statement, words, start_s=35.0) is not None


@pytest.mark.parametrize("part", ["dev", "heldout"])
def test_labelled_set_precision_and_recall(part):
    """The issue's target: >= 0.95 on the labelled set, held-out part included (threshold chosen on dev)."""
    items = yaml.safe_load(DATA.read_text(encoding="utf-8"))[part]
    tp = fp = fn = 0
    for it in items:
        found = find_statement(it["statement"], timed(it["text"])) is not None
        tp += found and it["said"]
        fp += found and not it["said"]
        fn += (not found) and it["said"]
    assert len(items) >= 80 and tp + fn >= 30
    assert tp / (tp + fp) >= 0.95
    assert tp / (tp + fn) >= 0.95


# -------------------------------------------------------------------- rubric


def rubric_with(**check) -> dict:
    base = {"id": "recording_notice", "title": "Recording notice", "category": "language", "weight": 2,
            "detector": {"type": "required_statement", "within_first_s": 30}, "applies_when": "always",
            "tip": "Read the recording notice in the first 30 seconds.", "statements": [NOTICE]}
    base.update(check)
    return {"version": 1, "checks": [{k: v for k, v in base.items() if v is not None}]}


def test_rubric_reads_statements_and_critical():
    r = parse_rubric(rubric_with(critical=True), "team.yaml")
    c = r.check("recording_notice")
    assert c.statements == (NOTICE,) and c.critical
    assert c.detector.get("within_first_s") == 30.0 and c.detector.get("min_similarity") == DEFAULT_MIN_SIMILARITY
    assert not load_rubric().check("apology").critical


@pytest.mark.parametrize("change, where, says", [
    ({"statements": None}, "checks.recording_notice.statements", "needs 'statements'"),
    ({"statements": ["Recorded call"]}, "checks.recording_notice.statements[0]", "at least 3 words"),
    ({"statements": []}, "checks.recording_notice.statements", "non-empty list"),
    ({"phrases": ["recorded"]}, "checks.recording_notice.phrases", "reads 'statements'"),
    ({"detector": {"type": "cue_present", "cues": "apology"}}, "checks.recording_notice.statements",
     "only read by the detectors required_statement, forbidden_statement"),
    ({"detector": {"type": "required_statement", "min_similarity": 30}},
     "checks.recording_notice.detector.min_similarity", "from 50 to 100"),
    ({"detector": {"type": "forbidden_statement", "within_first_s": -5}},
     "checks.recording_notice.detector.within_first_s", "seconds > 0"),
    ({"critical": "yes"}, "checks.recording_notice.critical", "true or false"),
])
def test_rubric_errors_name_the_key_and_the_value(change, where, says):
    with pytest.raises(RubricError) as err:
        parse_rubric(rubric_with(**change), "team.yaml")
    assert err.value.key_path == where
    assert says in err.value.problem
    assert str(err.value).startswith(f"team.yaml: {where}: ")


def test_example_qa_rubric_loads():
    root = Path(__file__).resolve().parents[2]
    r = load_rubric(root / "examples" / "rubric_qa.yaml")
    assert any(c.detector.type == "required_statement" for c in r.checks)
    assert any(c.detector.type == "forbidden_statement" and c.critical for c in r.checks)


# ----------------------------------------------------------------- scorecard

FORBIDDEN = {"id": "no_deflection", "title": "No deflecting to another department", "category": "language",
             "weight": 1, "detector": "forbidden_statement", "applies_when": "always", "critical": True,
             "tip": "Own the problem instead of sending the customer elsewhere.",
             "better_phrasing": "Let me find the right person and stay with you.",
             "statements": ["that is not my department"]}


def qa_rubric():
    data = rubric_with()
    data["checks"].append(FORBIDDEN)
    return parse_rubric(data, "qa.yaml")


def card_for(*turns):
    return score_call(qa_rubric(), tuple(turns), (), "not_upset", matcher=False)


def check_of(card, cid: str) -> CheckResult:
    return next(c for c in card.checks if c.id == cid)


def test_required_statement_passes_with_evidence_and_fails_with_the_wording():
    card = card_for(turn("agent", 2.0, "Hi, this call may be recordid for quality and training purposes."),
                    turn("customer", 7.0, "Okay, my bill is wrong."))
    notice = check_of(card, "recording_notice")
    assert notice.status == "pass" and notice.evidence[0].start_s == pytest.approx(2.4)
    assert "recordid" in notice.evidence[0].text
    late = card_for(turn("customer", 0.0, "Hello? " * 20), turn("agent", 40.0, NOTICE))
    notice = check_of(late, "recording_notice")
    assert notice.status == "fail" and notice.better_phrasing == NOTICE  # said, but after 30 s
    assert late.failed_critical == ()


def test_a_failed_critical_check_fails_the_call_and_leads_work_on():
    card = card_for(turn("agent", 1.0, NOTICE), turn("customer", 6.0, "My router is broken."),
                    turn("agent", 9.0, "Well that's not my department, you'll have to call them."))
    deflect = check_of(card, "no_deflection")
    assert deflect.status == "fail" and deflect.critical
    assert deflect.evidence[0].text.startswith("that's not my department")
    assert card.failed_critical == ("no_deflection",)
    assert card.work_on[0] == FORBIDDEN["tip"]
    assert 0 < card.score < 100  # the weighted share itself is unchanged: the call is failed beside it


def test_critical_fields_in_the_json_and_back():
    data = result_to_dict(make_call_result("c1"))
    assert data["scorecard"]["failed_critical"] == []
    assert all(c["critical"] is False for c in data["scorecard"]["checks"])
    data["scorecard"]["failed_critical"] = ["calm_tone"]
    data["scorecard"]["checks"][0]["corrected"] = True  # a reviewer's fields do not break reading
    back = result_from_dict(data)
    assert back.scorecard.failed_critical == ("calm_tone",)


def test_statement_words_skipped_at_the_start_still_see_the_negator_before_them():
    # the best stretch leaves out "you have", right after which the "not" sits
    assert find_statement("You have fourteen days to cancel this agreement without penalty",
                          timed("Sorry. You have not fourteen days to cancel this agreement without penalty")) is None
