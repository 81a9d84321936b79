"""Precision and recall of callcoach.redact on the labelled personal-data sets.

Usage: python scripts/eval_redact.py [--holdout] [--errors]

Span level, per kind: a labelled span is found when every one of its words
is redacted with the right kind; a predicted span is correct when it
overlaps a labelled span of its kind. ``any-kind recall`` counts a labelled
span as found when all its words are redacted, whatever the kind (what
matters for privacy). Negatives add their predicted spans as false hits.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from callcoach.records import Turn, Word
from callcoach.redact import KINDS, detect

DATA = Path(__file__).resolve().parent.parent / "tests" / "data"
_MARK = re.compile(r"\{\{(?:(" + "|".join(KINDS) + r"):)?(.*?)\}\}")


@dataclass(frozen=True)
class Gold:
    turn: int
    words: frozenset[int]
    kind: str
    text: str


def _parse_line(line: str, default_kind: str) -> tuple[str, str, list[tuple[int, int, str, str]]]:
    """'agent: text with {{marks}}' -> (role, clean text, [(char start, end, kind, text)])."""
    role = "customer"
    m = re.match(r"^(agent|customer):\s*", line)
    if m:
        role, line = m.group(1), line[m.end():]
    clean, marks, pos = "", [], 0
    for mk in _MARK.finditer(line):
        clean += line[pos:mk.start()]
        start = len(clean)
        clean += mk.group(2)
        marks.append((start, len(clean), mk.group(1) or default_kind, mk.group(2)))
        pos = mk.end()
    clean += line[pos:]
    return role, clean, marks


def load_items(path: Path) -> list[tuple[str, list[Turn], list[Gold]]]:
    """(section, turns, gold spans) for every item of a labelled file."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    items = []
    for section, entries in data.items():
        kind = "" if section == "negative" else section
        for entry in entries:
            lines = entry["turns"] if isinstance(entry, dict) else [entry]
            turns, gold = [], []
            t0 = 0.0
            for ti, line in enumerate(lines):
                role, clean, marks = _parse_line(str(line), kind)
                offsets, words, pos = [], [], 0
                for w in clean.split():
                    pos = clean.index(w, pos)
                    offsets.append((pos, pos + len(w)))
                    words.append(Word(w, round(t0 + 0.3 * len(words), 3), round(t0 + 0.3 * len(words) + 0.25, 3), 0.9, role))
                    pos += len(w)
                turns.append(Turn(role, role, t0, t0 + 0.3 * len(words), clean, tuple(words)))  # type: ignore[arg-type]
                t0 += 0.3 * len(words) + 1.0
                for a, b, k, text in marks:
                    idx = frozenset(i for i, (s, e) in enumerate(offsets) if s < b and a < e)
                    gold.append(Gold(ti, idx, k, text))
            items.append((section, turns, gold))
    return items


def evaluate(path: Path = DATA / "pii.yaml", errors: list[str] | None = None) -> dict[str, dict[str, Any]]:
    """kind -> {precision, recall, any_recall, gold, predicted}."""
    stats = {k: {"gold": 0, "found": 0, "any": 0, "pred": 0, "correct": 0} for k in KINDS}
    for section, turns, gold in load_items(path):
        found = detect(turns)
        covered: dict[tuple[int, int], str] = {}
        for ti, spans in found.items():
            for s in spans:
                for w in range(s.start_word, s.end_word):
                    covered[(ti, w)] = s.kind
        for g in gold:
            st = stats[g.kind]
            st["gold"] += 1
            ok = all(covered.get((g.turn, w)) == g.kind for w in g.words)
            st["found"] += ok
            st["any"] += all((g.turn, w) in covered for w in g.words)
            if not ok and errors is not None:
                got = sorted({covered.get((g.turn, w), "-") for w in g.words})
                errors.append(f"missed {g.kind} {g.text!r} (got {','.join(got)}) in: {' | '.join(t.text for t in turns)}")
        for ti, spans in found.items():
            for s in spans:
                st = stats[s.kind]
                st["pred"] += 1
                hit = any(g.turn == ti and g.kind == s.kind and g.words & set(range(s.start_word, s.end_word)) for g in gold)
                st["correct"] += hit
                if not hit and errors is not None:
                    text = " ".join(w.text for w in turns[ti].words[s.start_word:s.end_word])
                    errors.append(f"false {s.kind} {text!r} in [{section}]: {' | '.join(t.text for t in turns)}")
    out = {}
    for k, st in stats.items():
        out[k] = {
            "gold": st["gold"], "predicted": st["pred"],
            "recall": st["found"] / st["gold"] if st["gold"] else 1.0,
            "any_recall": st["any"] / st["gold"] if st["gold"] else 1.0,
            "precision": st["correct"] / st["pred"] if st["pred"] else 1.0,
        }
    return out


def table(results: dict[str, dict[str, Any]]) -> str:
    lines = ["| kind | labelled | predicted | precision | recall | any-kind recall |",
             "|---|---:|---:|---:|---:|---:|"]
    for k, r in results.items():
        lines.append(f"| {k} | {r['gold']} | {r['predicted']} | {r['precision']:.2f} | {r['recall']:.2f} | {r['any_recall']:.2f} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--holdout", action="store_true", help="score tests/data/pii_holdout.yaml instead")
    ap.add_argument("--errors", action="store_true", help="list every miss and false hit")
    args = ap.parse_args(argv)
    path = DATA / ("pii_holdout.yaml" if args.holdout else "pii.yaml")
    errors: list[str] | None = [] if args.errors else None
    print(f"{path.name}\n")
    print(table(evaluate(path, errors)))
    if errors:
        print("\n" + "\n".join(errors))
    return 0


if __name__ == "__main__":
    sys.exit(main())
