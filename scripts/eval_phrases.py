"""Precision/recall of the phrase detectors on tests/data/phrases.yaml.

Usage: python scripts/eval_phrases.py [--errors]
Prints a Markdown table per check: patterns only, and patterns + semantic
matcher (when the model package is installed).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import yaml

from callcoach.rubric import load_rubric
from callcoach.scorecard import says_cue

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "phrases.yaml"


def evaluate(matcher: Any = None, errors: list[str] | None = None) -> dict[str, tuple[float, float, float]]:
    """check id -> (precision, recall, f1) over the labelled set."""
    rubric = load_rubric()
    labelled = yaml.safe_load(DATA.read_text(encoding="utf-8"))
    out = {}
    for check_id, sets in labelled.items():
        check = rubric.check(check_id)
        tp = fp = fn = 0
        for label, texts in (("positive", sets["positive"]), ("negative", sets["negative"])):
            for text in texts:
                said = says_cue(check, text, matcher)
                if label == "positive":
                    tp += said
                    fn += not said
                else:
                    fp += said
                if errors is not None and said != (label == "positive"):
                    errors.append(f"{check_id}: {'missed' if label == 'positive' else 'false hit'}: {text}")
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        out[check_id] = (p, r, f)
    return out


def main() -> int:
    from callcoach.semantic import load_matcher

    errs: list[str] = []
    plain = evaluate(None, errs)
    matcher = load_matcher()
    sem_errs: list[str] = []
    sem = evaluate(matcher, sem_errs) if matcher else None
    print("| check | P (patterns) | R (patterns) | F1 (patterns) | P (+semantic) | R (+semantic) | F1 (+semantic) |")
    print("|---|---|---|---|---|---|---|")
    for cid, (p, r, f) in plain.items():
        extra = "n/a | n/a | n/a" if sem is None else "{:.2f} | {:.2f} | {:.2f}".format(*sem[cid])
        print(f"| {cid} | {p:.2f} | {r:.2f} | {f:.2f} | {extra} |")
    if "--errors" in sys.argv:
        print("\npatterns:", *errs, sep="\n  ")
        print("\n+semantic:", *sorted(set(sem_errs) - set(errs)), sep="\n  ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
