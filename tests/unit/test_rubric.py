"""Rubric loading and its error messages."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from callcoach.errors import RubricError
from callcoach.scoring.rubric import load_rubric

ROOT = Path(__file__).resolve().parents[2]
COACHING_IDS = {"calm_tone", "no_mirroring", "measured_pace", "no_talk_over", "patience",
                "acknowledge", "apology", "paraphrase", "open_question", "ownership",
                "personalize", "positive_language", "no_provocation", "professional",
                "solution", "next_steps", "escalation", "boundary", "document_threats"}

GOOD = """version: 1
checks:
  - id: apology
    title: Apology
    category: empathy
    weight: 2
    detector: {type: cue_present, cues: apology}
    applies_when: customer_grievance
    tip: Say sorry.
"""


def test_default_rubric_covers_coaching_ids() -> None:
    assert {c.id for c in load_rubric().checks} == COACHING_IDS


def test_custom_example_loads() -> None:
    r = load_rubric(ROOT / "examples" / "rubric_custom.yaml")
    assert r.check("calm_tone").weight == 5
    assert r.check("personalize").enabled is False
    assert r.check("warranty_offer").phrases[0] == "extended warranty"
    assert "personalize" not in {c.id for c in r.enabled_checks()}


def test_custom_phrase_check_scores(tmp_path: Path) -> None:
    from callcoach.records import Turn
    from callcoach.scoring.scorecard import score_call

    r = load_rubric(ROOT / "examples" / "rubric_custom.yaml")
    t = Turn("a", "agent", 0.0, 2.0, "Your extended warranty covers this.", ())
    card = score_call(r, (t,), (), "not_upset", matcher=False)
    assert next(c for c in card.checks if c.id == "warranty_offer").status == "pass"


@pytest.mark.parametrize("text,key_path,message", [
    ("checks: [a, b\n", "(file)", "not valid YAML"),
    ("- just\n- a list\n", "(top)", "must be a mapping"),
    (GOOD.replace("    tip:", "    wieght: 3\n    tip:"), "checks.apology.wieght",
     "unknown key 'wieght'; allowed: id, title"),
    (GOOD.replace("weight: 2", "weight: heavy"), "checks.apology.weight",
     "weight must be a number >= 0, got 'heavy'"),
    (GOOD.replace("weight: 2", "weight: -1"), "checks.apology.weight", "got -1"),
    (GOOD.replace("    tip:", "    role: customer\n    tip:"), "checks.apology.role",
     "role must be one of: agent; got 'customer'"),
    (GOOD.replace("    tip:", "    enabled: maybe\n    tip:"), "checks.apology.enabled",
     "enabled must be true or false, got 'maybe'"),
    (GOOD.replace("customer_grievance", "customer_angry"), "checks.apology.applies_when",
     "applies_when must be one of: always, customer_grievance"),
    (GOOD + GOOD.split("checks:\n")[1], "checks[1].id", "duplicate id 'apology'"),
    (GOOD.replace("    tip:", "    phrases: []\n    tip:"), "checks.apology.phrases",
     "phrases must be a non-empty list"),
    (GOOD.replace("cues: apology", "cues: sorrys"), "checks.apology.detector.cues",
     "cue set must be one of"),
    (GOOD.replace("type: cue_present", "type: magic"), "checks.apology.detector.type",
     "detector type must be one of: event_absent"),
])
def test_bad_rubrics(tmp_path: Path, text: str, key_path: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(RubricError) as info:
        load_rubric(path)
    err = info.value
    assert err.file == str(path)
    assert err.key_path == key_path
    assert message in err.problem, err.problem
    assert re.match(re.escape(str(path)) + ": ", str(err))
