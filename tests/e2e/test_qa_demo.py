"""The README's QA workflow on demo recordings, from the CLI: score a day with the QA rubric, correct a check,
see it in the trends and in the scorer's agreement with the reviewers."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from callcoach.cli import main


def status_of(result: dict, check_id: str) -> dict:
    return next(c for c in result["scorecard"]["checks"] if c["id"] == check_id)


ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "audio_samples"


@pytest.mark.slow
def test_qa_workflow_on_demo_calls_from_the_cli(tmp_path, capsys):
    """Score a day, correct a check, see it in the trends and the agreement: the README's QA workflow."""
    day = tmp_path / "day"
    day.mkdir()
    for name in ("agent_loses_temper.ogg", "calm_billing.wav"):
        shutil.copy(SAMPLES / name, day / name)
    meta = tmp_path / "meta.csv"
    meta.write_text("file,agent,team,date\nagent_loses_temper.ogg,Sam,Retail,2026-12-01\n"
                    "calm_billing.wav,Priya,Billing,2026-11-23\n")
    out = tmp_path / "qa"
    rubric = ROOT / "examples" / "rubric_qa.yaml"
    assert main(["score", str(day), "--out", str(out), "--rubric", str(rubric), "--metadata", str(meta),
                 "--quiet", "--workers", "1"]) == 0
    temper = json.loads((out / "agent_loses_temper.json").read_text())["scorecard"]
    assert temper["failed_critical"] == ["no_deflection"]
    deflect = status_of({"scorecard": temper}, "no_deflection")
    assert "not my department" in deflect["evidence"][0]["text"].lower()
    assert main(["review", "agent_loses_temper", "greeting", "--status", "pass", "--note", "said the brand",
                 "--reviewer", "Lee", "--confirm", "--out", str(out)]) == 0
    with (out / "trends.csv").open() as fh:
        sam = next(r for r in csv.DictReader(fh) if r["name"] == "Sam")
    assert sam["week"] == "2026-W49" and sam["failed_critical_calls"] == "1" and sam["corrected_checks"] == "1"
    capsys.readouterr()
    assert main(["eval", "--reviews", str(out)]) == 0
    assert "| greeting | 1 | 0 | 0.000 | 0 | 1 | 0 |" in capsys.readouterr().out
