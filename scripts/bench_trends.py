"""Trends over a big results store: how long they take, and what adding a day of calls costs.

    python scripts/bench_trends.py                 # 1,000 and 10,000 stored calls
    python scripts/bench_trends.py --calls 1000    # one size

For each size it fills a store with synthetic scored calls (factory results
from scripts/callsynth/factories.py: 19 checks each, 40 agents in 5 teams, dated over 26
weeks), then times, best of 3:

- ``trends``: computing every agent's and team's weekly score and check pass
  rates from the store (:func:`callcoach.batch.trends.compute_trends`) and
  rendering them (the view plus the index's trends section alone);
- ``index``: the whole ``callcoach report`` rebuild (index.html with trends,
  calls.csv, trends.csv), which also reads every stored result;
- ``add a day``: ``callcoach score`` of a new day's 50 calls into that store,
  with a scorer that only counts its calls (no models), so the time is the
  store and index work; the table says how many calls it scored (old ones
  are never scored again).
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from callsynth.factories import make_call_result

from callcoach.batch.run import MARKER, rebuild_index, score_paths
from callcoach.batch.store import open_store
from callcoach.batch.trends import compute_trends
from callcoach.batch.worker import Outcome, Scorer, Task
from callcoach.records import result_from_dict, result_to_dict
from callcoach.report.render import ReportRenderer
from callcoach.report.trends_view import trends_view

DAY_CALLS = 50


def fill(out: Path, n: int) -> None:
    """``n`` scored calls in ``out``'s store, from a few factory results with varied ids, agents and dates."""
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("callcoach\n")
    base = [result_to_dict(make_call_result(f"seed{s}", seed=s)) for s in range(8)]
    with open_store(out) as store:
        for i in range(n):
            data = json.loads(json.dumps(base[i % len(base)]))
            data["call"]["id"] = f"call{i:05d}"
            for k, c in enumerate(data["scorecard"]["checks"]):
                if c["status"] != "na" and (i * 7 + k * 3) % 11 == 0:
                    c["status"] = "fail"
            day = (i * 13) % 182  # 26 weeks from 2026-06-01
            date = (_dt.date(2026, 6, 1) + _dt.timedelta(days=day)).isoformat()
            md = {"agent": f"agent{i % 40:02d}", "team": f"team{i % 5}", "date": date}
            store.record_scored(0, result_from_dict(data), fingerprint="f", parts={}, metadata=md)


class CountingScorer(Scorer):
    """No models: a factory result per call, counted."""

    def __init__(self, settings, out_dir, **_) -> None:
        self.renderer = ReportRenderer()

    def score(self, task: Task, on_stage=None) -> Outcome:
        result = make_call_result(task.call_id)
        return Outcome(task.call_id, replace(result, meta=replace(result.meta, metadata=dict(task.metadata))), "<html></html>")


def best(fn, repeat: int = 3) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def bench(n: int, work: Path) -> dict[str, float]:
    out = work / f"store{n}"
    t0 = time.perf_counter()
    fill(out, n)
    filled = time.perf_counter() - t0
    renderer = ReportRenderer()
    template = renderer.env.get_template("_trends.html")

    def trends() -> None:
        with open_store(out) as store:
            view = trends_view(compute_trends(store))
        template.render(trends=view)

    t_trends = best(trends)
    t_index = best(lambda: rebuild_index(out), repeat=1)
    day = work / f"day{n}"
    day.mkdir()
    for i in range(DAY_CALLS):
        (day / f"agent{i % 40:02d}__new-{i:03d}.wav").write_bytes(b"RIFF" + os.urandom(8))
    t0 = time.perf_counter()
    summary = score_paths([day], out, workers=1, scorer_factory=CountingScorer)
    t_day = time.perf_counter() - t0
    with open_store(out) as store:
        total = store.counts().get("scored", 0)
    return {"n": n, "fill_s": filled, "trends_s": t_trends, "index_s": t_index, "day_s": t_day,
            "day_scored": len(summary.scored), "total": total}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--calls", type=int, nargs="*", default=[1000, 10000], help="store sizes (default 1000 10000)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        rows = [bench(n, Path(tmp)) for n in args.calls]
    print("| stored calls | trends (compute + render) | full report rebuild | add a day of 50 calls | calls scored | calls after |")
    print("|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['n']:,} | {r['trends_s']:.3f} s | {r['index_s']:.2f} s | {r['day_s']:.2f} s | {r['day_scored']} | {r['total']:,} |")


if __name__ == "__main__":
    main()
