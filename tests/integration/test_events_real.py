"""Prosody events on real recorded speech (issue #24): calm real conversations give (almost) no
raised-voice or rapid-speech events, where the detectors tuned on synthetic voices gave many.

Both recordings are in the dev split of eval/real_calls.yaml (the rules were tuned on them; the
held-out calls are scored by scripts/eval_real.py). Before the real-speech rules: ami_dev00 1 raised
voice; the AWS service call 15 raised voices and 8 rapid-speech events, calm_tone failed.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from callcoach.pipeline import Models, analyse_call
from callcoach.settings import Settings

REAL = Path(__file__).resolve().parents[2] / "audio_samples" / "real"
PROSODY = ("raised_voice", "rapid_speech")


@pytest.fixture(scope="module")
def models() -> Models:
    return Models(Settings())


def test_calm_real_meeting_excerpt_has_no_raised_or_rapid_speech(models) -> None:
    result = analyse_call(REAL / "ami_dev00.flac", models=models)
    assert [e for e in result.events if e.type in PROSODY] == []
    assert result.customer_trajectory == "not_upset"


@pytest.mark.slow
def test_calm_real_service_call_is_scored_calm(models) -> None:
    """A 4.6-minute role-played service call (mono, 8-bit, 8 kHz): a fluent, expressive agent."""
    result = analyse_call(REAL / "calls" / "aws_auto0_mono.flac", models=models)
    found = [e for e in result.events if e.type in PROSODY]
    assert len(found) <= 1, found
    checks = {c.id: c.status for c in result.scorecard.checks}
    assert checks["calm_tone"] == "pass" and checks["measured_pace"] == "pass"
    assert result.customer_trajectory in ("not_upset", "calmer")
