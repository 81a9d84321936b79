"""Precision/recall of the phrase detectors, semantic-threshold tuning and matcher speed.

Usage:
  python scripts/eval_phrases.py [--errors]            # training set tests/data/phrases.yaml
                                                       # and the customer cues, customer_cues.yaml
  python scripts/eval_phrases.py --holdout [--errors]  # held-out set tests/data/phrases_holdout.yaml
  python scripts/eval_phrases.py --tune                # semantic threshold on tests/data/paraphrases.yaml
  python scripts/eval_phrases.py --speed               # semantic matcher timing on the demo transcripts

The tables print patterns only, and patterns + semantic matcher (when the
model package is installed).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from callcoach.scoring.rubric import load_rubric
from callcoach.scoring.scorecard import says_cue
from callcoach.text.cues import BUILTIN_CUES
from callcoach.text.phrases import detect, normalize, split_clauses

DATA_DIR = Path(__file__).resolve().parent.parent / "tests" / "data"
DATA = DATA_DIR / "phrases.yaml"
HOLDOUT = DATA_DIR / "phrases_holdout.yaml"
PARAPHRASES = DATA_DIR / "paraphrases.yaml"
CUSTOMER_CUES = DATA_DIR / "customer_cues.yaml"


def evaluate(matcher: Any = None, errors: list[str] | None = None,
             data: Path = DATA) -> dict[str, tuple[float, float, float]]:
    """check id -> (precision, recall, f1) over a labelled set."""
    rubric = load_rubric()
    labelled = yaml.safe_load(data.read_text(encoding="utf-8"))
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
        out[check_id] = _scores(tp, fp, fn)
    return out


def _scores(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate_customer(matcher: Any = None, errors: list[str] | None = None,
                      data: Path = CUSTOMER_CUES) -> dict[str, tuple[float, float, float]]:
    """customer cue set -> (precision, recall, f1) over labelled customer utterances
    (the cue sets that decide which checks apply and feed the trajectory)."""
    labelled = yaml.safe_load(data.read_text(encoding="utf-8"))
    out = {}
    for cue, sets in labelled.items():
        said = {label: [bool(detect(BUILTIN_CUES[cue], normalize(t), matcher)) for t in sets[label]]
                for label in ("positive", "negative")}
        tp, fp = sum(said["positive"]), sum(said["negative"])
        if errors is not None:
            errors += [f"{cue}: missed: {t}" for t, f in zip(sets["positive"], said["positive"]) if not f]
            errors += [f"{cue}: false hit: {t}" for t, f in zip(sets["negative"], said["negative"]) if f]
        out[cue] = _scores(tp, fp, len(said["positive"]) - tp)
    return out


def _best_sims(matcher: Any, cue: str, texts: list[str]) -> list[float]:
    """Best clause-vs-example similarity of each text (what the matcher would compare)."""
    cues = BUILTIN_CUES[cue]
    out = []
    for text in texts:
        norm = normalize(text)
        clauses = [" ".join(norm.tokens[a:b]) for a, b in split_clauses(norm) if b - a >= 3]
        sims = matcher.similarity(clauses, list(cues.examples)) if clauses else np.zeros((1, 1))
        out.append(float(np.max(sims)) if np.size(sims) else 0.0)
    return out


def tune(matcher: Any) -> None:
    """Sweep the semantic threshold on paraphrases the patterns do not catch."""
    rubric = load_rubric()
    labelled = yaml.safe_load(PARAPHRASES.read_text(encoding="utf-8"))
    pos: list[float] = []
    neg: list[float] = []
    per: dict[str, tuple[list[float], list[float]]] = {}
    for check_id, sets in labelled.items():
        cue = rubric.check(check_id).detector.get("cues")
        caught = [t for t in sets["positive"] if detect(BUILTIN_CUES[cue], normalize(t))]
        if caught:
            print(f"  note: patterns already catch {check_id}: {caught}")
        p = _best_sims(matcher, cue, [t for t in sets["positive"] if t not in caught])
        n = _best_sims(matcher, cue, sets["negative"])
        per[check_id] = (p, n)
        pos += p
        neg += n
    print(f"{len(pos)} paraphrases the patterns miss, {len(neg)} negatives")
    print("| threshold | recall on paraphrases | false hits on negatives | precision |")
    print("|---|---|---|---|")
    for th in np.arange(0.40, 0.76, 0.02):
        tp = sum(s >= th for s in pos)
        fp = sum(s >= th for s in neg)
        prec = tp / (tp + fp) if tp + fp else 1.0
        print(f"| {th:.2f} | {tp}/{len(pos)} | {fp}/{len(neg)} | {prec:.2f} |")
    print("\nper check (best similarity): positives / negatives")
    for cid, (p, n) in per.items():
        print(f"  {cid}: {' '.join(f'{x:.2f}' for x in sorted(p))}  /  {' '.join(f'{x:.2f}' for x in sorted(n))}")


def speed() -> None:
    """Time the semantic matcher on the demo transcripts (ground-truth text)."""
    import json

    from callcoach.records import Turn, Word
    from callcoach.scoring.scorecard import score_call
    from callcoach.text.semantic import SemanticMatcher

    rubric = load_rubric()
    t0 = time.perf_counter()
    matcher = SemanticMatcher()
    load_s = time.perf_counter() - t0
    calls = []
    for path in sorted((DATA_DIR.parent.parent / "audio_samples").glob("*.truth.json")):
        truth = json.loads(path.read_text())
        turns = []
        for t in truth["turns"]:
            parts = t["text"].split()
            step = (t["end_s"] - t["start_s"]) / len(parts)
            words = tuple(Word(p, t["start_s"] + i * step, t["start_s"] + (i + 1) * step, 1.0)
                          for i, p in enumerate(parts))
            turns.append(Turn(t["role"], t["role"], t["start_s"], t["end_s"], t["text"], words))
        calls.append(tuple(turns))
    t0 = time.perf_counter()
    score_call(rubric, calls[0], (), "not_upset", matcher=matcher)
    first_s = time.perf_counter() - t0
    long_call = tuple(t for c in calls for t in c)
    long_call = tuple(Turn(t.speaker, t.role, t.start_s + k * 100, t.end_s + k * 100, t.text, t.words)
                      for k in range(3) for t in long_call)  # ~ 150 turns, 10 minutes
    matcher._cache.clear()
    matcher.embed([e for c in BUILTIN_CUES.values() for e in c.examples])
    t0 = time.perf_counter()
    score_call(rubric, long_call, (), "not_calmer", matcher=matcher)
    long_s = time.perf_counter() - t0
    per_call = []
    for c in calls:
        matcher._cache.clear()
        matcher.embed([e for cs in BUILTIN_CUES.values() for e in cs.examples])
        t0 = time.perf_counter()
        score_call(rubric, c, (), "not_calmer", matcher=matcher)
        per_call.append(time.perf_counter() - t0)
    n_agent = sum(1 for t in long_call if t.role == "agent")
    print(f"model load {load_s:.2f} s; first call incl. cue examples {first_s:.2f} s")
    print(f"demo calls (cold clause cache): mean {np.mean(per_call):.2f} s, max {max(per_call):.2f} s")
    print(f"{len(long_call)}-turn call ({n_agent} agent turns), cold clause cache: {long_s:.2f} s")


def _table(what: str, plain: dict[str, tuple[float, float, float]],
           sem: dict[str, tuple[float, float, float]] | None) -> None:
    print(f"| {what} | P (patterns) | R (patterns) | F1 (patterns) | P (+semantic) | R (+semantic) | F1 (+semantic) |")
    print("|---|---|---|---|---|---|---|")
    for cid, (p, r, f) in plain.items():
        extra = "n/a | n/a | n/a" if sem is None else "{:.2f} | {:.2f} | {:.2f}".format(*sem[cid])
        print(f"| {cid} | {p:.2f} | {r:.2f} | {f:.2f} | {extra} |")
    for name, scores in (("patterns", plain), ("+semantic", sem or {})):
        if scores:
            print(f"macro {name}: P {np.mean([s[0] for s in scores.values()]):.2f} "
                  f"R {np.mean([s[1] for s in scores.values()]):.2f}")


def main() -> int:
    from callcoach.text.semantic import load_matcher

    matcher = load_matcher()
    if "--tune" in sys.argv:
        if matcher is None:
            print("semantic model package not installed")
            return 1
        tune(matcher)
        return 0
    if "--speed" in sys.argv:
        speed()
        return 0
    data = HOLDOUT if "--holdout" in sys.argv else DATA
    print(f"labelled set: {data.name}")
    errs: list[str] = []
    plain = evaluate(None, errs, data)
    sem_errs: list[str] = []
    sem = evaluate(matcher, sem_errs, data) if matcher else None
    _table("check", plain, sem)
    if data == DATA:
        print(f"\ncustomer cues: {CUSTOMER_CUES.name}")
        plain_c = evaluate_customer(None, errs)
        sem_c = evaluate_customer(matcher, sem_errs) if matcher else None
        _table("customer cue", plain_c, sem_c)
    if "--errors" in sys.argv:
        print("\npatterns:", *errs, sep="\n  ")
        print("\n+semantic:", *sorted(set(sem_errs) - set(errs)), sep="\n  ")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
