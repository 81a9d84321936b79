"""Re-score already-scored call JSONs and compare with the demo ground truth.

Usage: python scripts/score_from_json.py [JSON_DIR] [--truth-events] [--truth-turns] [--no-semantic] [-v]

JSON_DIR defaults to /tmp/demo_json. For each ``<id>.json`` with an
``audio_samples/<id>.truth.json``, re-runs :func:`callcoach.scoring.scorecard.score_call`
on the stored turns and events (or the truth events with --truth-events, the
truth turns with --truth-turns) and prints the checks that disagree.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from callcoach.analysis.text_events import find_text_events
from callcoach.records import Event, Turn, Word, result_from_dict
from callcoach.scoring.rubric import load_rubric
from callcoach.scoring.scorecard import score_call

ROOT = Path(__file__).resolve().parent.parent


def truth_turns(truth: dict) -> tuple[Turn, ...]:
    turns = []
    for t in truth["turns"]:
        parts = t["text"].split()
        step = (t["end_s"] - t["start_s"]) / max(len(parts), 1)
        words = tuple(Word(p, t["start_s"] + i * step, t["start_s"] + (i + 1) * step, 1.0, t["role"])
                      for i, p in enumerate(parts))
        turns.append(Turn(t["role"], t["role"], t["start_s"], t["end_s"], t["text"], words))
    return tuple(turns)


def truth_events(truth: dict) -> tuple[Event, ...]:
    return tuple(Event(e["type"], e["role"], e["role"], e["start_s"], e["end_s"], e.get("detail", ""))
                 for e in truth["events"] if e["type"] != "threat")


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("-")]
    folder = Path(args[0]) if args else Path("/tmp/demo_json")
    rubric = load_rubric()
    total = agree = 0
    for path in sorted(folder.glob("*.json")):
        truth_path = ROOT / "audio_samples" / f"{path.stem}.truth.json"
        if not truth_path.exists():
            continue
        truth = json.loads(truth_path.read_text())
        result = result_from_dict(json.loads(path.read_text()))
        turns = truth_turns(truth) if "--truth-turns" in argv else result.turns
        if "--truth-events" in argv:
            events = truth_events(truth) + find_text_events(turns)
        else:
            events = tuple(e for e in result.events if e.type != "threat") + find_text_events(turns)
        trajectory = truth["expected"]["customer_trajectory"] if "--truth-events" in argv \
            else result.customer_trajectory
        t0 = time.perf_counter()
        card = score_call(rubric, turns, events, trajectory,
                          matcher=False if "--no-semantic" in argv else True)
        dt = time.perf_counter() - t0
        wrong = []
        for c in card.checks:
            want = truth["expected"]["checks"].get(c.id)
            if want is None:
                continue
            total += 1
            if c.status == want:
                agree += 1
            else:
                ev = "; ".join(e.text for e in c.evidence[:2])
                wrong.append(f"{c.id}: got {c.status}, want {want}" + (f" [{ev}]" if "-v" in argv else ""))
        print(f"{path.stem}: {len(wrong)} wrong ({dt:.2f}s)", *wrong, sep="\n  ")
    print(f"agreement {agree}/{total} = {agree / max(total, 1):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
