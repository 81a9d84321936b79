"""Regression gate: the fast corpus subset must score at least the floors in eval/thresholds.yaml.

Renders ``scripts/make_corpus.py --fast`` (4 calls in clean + g711) into a
temporary folder, scores it with :func:`callcoach.evaluation.evaluate.evaluate` and
compares :func:`callcoach.evaluation.evaluate.summary` with the floors. About a minute
on 2 CPU cores (TTS rendering ~3 s, scoring ~50 s, model load included).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import make_corpus
import pytest
import yaml

from callcoach.evaluation.evaluate import evaluate, markdown_report, summary
from callcoach.settings import Settings

REPO = Path(__file__).resolve().parents[2]


THRESHOLDS = REPO / "eval" / "thresholds.yaml"
HEADLINE = ("check_agreement", "event_f1", "role_accuracy", "trajectory_accuracy")

pytestmark = pytest.mark.skipif(
    not all(shutil.which(tool) for tool in ("sox", "flite", "espeak-ng")),
    reason="needs sox, flite and espeak-ng to render the corpus")


def test_thresholds_file_names_every_headline_figure():
    floors = yaml.safe_load(THRESHOLDS.read_text(encoding="utf-8"))["floors"]
    assert set(floors) == set(HEADLINE)
    assert all(0.0 <= float(v) <= 1.0 for v in floors.values())


def test_fast_corpus_meets_floors(tmp_path):
    floors = yaml.safe_load(THRESHOLDS.read_text(encoding="utf-8"))["floors"]
    dialogues = make_corpus.select_dialogues(make_corpus.DIALOGUES_DIR, None, fast=True)
    make_corpus.build(tmp_path, make_corpus.FAST_CONDITIONS, dialogues, seed=0, log=lambda s: None)
    ev = evaluate([tmp_path], Settings())
    assert not ev.failures, ev.failures
    assert len(ev.calls) == len(make_corpus.FAST_IDS) * len(make_corpus.FAST_CONDITIONS)
    got = summary(ev)
    low = {k: (round(got[k], 3), floors[k]) for k in HEADLINE if got[k] < floors[k]}
    assert not low, (f"below floor (got, floor): {low}\n"
                     f"summary: { {k: round(v, 3) for k, v in got.items()} }\n\n{markdown_report(ev)}")
