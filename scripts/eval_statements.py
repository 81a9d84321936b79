"""Precision and recall of statement matching on tests/data/statements.yaml (dev and held-out).

    python scripts/eval_statements.py            # at callcoach.statements.DEFAULT_MIN_SIMILARITY
    python scripts/eval_statements.py --tune     # also sweep the threshold on dev (choose there, report held-out)

Each item is one utterance (its words spread evenly over 0.3 s each) and one
statement; the statement counts as found when :func:`find_statement` returns
a match.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import yaml

from callcoach.scoring.statements import DEFAULT_MIN_SIMILARITY, find_statement

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "statements.yaml"


def load(part: str) -> list[dict]:
    return yaml.safe_load(DATA.read_text(encoding="utf-8"))[part]


def timed(text: str) -> list[tuple[str, float, float]]:
    return [(w, 0.3 * i, 0.3 * i + 0.25) for i, w in enumerate(text.split())]


def measure(items: list[dict], threshold: float) -> dict[str, float]:
    tp = fp = fn = tn = 0
    misses = []
    for it in items:
        found = find_statement(it["statement"], timed(it["text"]), min_similarity=threshold) is not None
        if found and it["said"]:
            tp += 1
        elif found:
            fp += 1
            misses.append(("false match", it))
        elif it["said"]:
            fn += 1
            misses.append(("missed", it))
        else:
            tn += 1
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"n": len(items), "tp": tp, "fp": fp, "fn": fn, "tn": tn, "precision": precision, "recall": recall,
            "misses": misses}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tune", action="store_true", help="sweep the threshold on dev")
    ap.add_argument("--verbose", "-v", action="store_true", help="list each miss")
    args = ap.parse_args()
    dev, held = load("dev"), load("heldout")
    if args.tune:
        print("threshold  dev precision  dev recall  dev F1")
        for t in range(60, 96, 2):
            m = measure(dev, float(t))
            f1 = 2 * m["precision"] * m["recall"] / (m["precision"] + m["recall"] or 1)
            print(f"{t:9d}  {m['precision']:13.3f}  {m['recall']:10.3f}  {f1:6.3f}")
    print(f"\nat min_similarity {DEFAULT_MIN_SIMILARITY:g}:")
    print("part      items  said  precision  recall")
    for name, items in (("dev", dev), ("heldout", held)):
        m = measure(items, DEFAULT_MIN_SIMILARITY)
        print(f"{name:8s}  {m['n']:5d}  {m['tp'] + m['fn']:4d}  {m['precision']:9.3f}  {m['recall']:6.3f}")
        if args.verbose:
            for what, it in m["misses"]:
                print(f"   {what}: [{it['kind']}] {it['statement']!r} in {it['text']!r}")


if __name__ == "__main__":
    main()
