"""The index's trends section as a view model: per agent and team, the weekly score and each check's pass
rate, with the SVG geometry of small inline charts (the data: :mod:`callcoach.batch.trends`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from callcoach.batch.trends import Trend, Trends, week_label

MAX_WEEKS_SHOWN = 12
"""Weeks drawn in the index's charts (the CSV has all)."""
SPARK_W, SPARK_H = 120.0, 28.0
"""Size of one inline chart (SVG units)."""


def sparkline(values: Sequence[float | None], lo: float, hi: float) -> dict[str, Any]:
    """SVG geometry of a small line chart: ``points`` of the polyline (gaps where a week has no value
    break it into ``lines``) and ``dots``, in a ``SPARK_W`` x ``SPARK_H`` box; ``values`` oldest first."""
    n = len(values)
    step = (SPARK_W - 8) / max(n - 1, 1)
    span = (hi - lo) or 1.0
    lines: list[list[str]] = [[]]
    dots = []
    for i, v in enumerate(values):
        if v is None:
            if lines[-1]:
                lines.append([])
            continue
        x = round(4 + i * step, 1)
        y = round(SPARK_H - 4 - (min(max(v, lo), hi) - lo) / span * (SPARK_H - 8), 1)
        lines[-1].append(f"{x},{y}")
        dots.append({"x": x, "y": y})
    return {"w": SPARK_W, "h": SPARK_H, "lines": [" ".join(p) for p in lines if len(p) > 1], "dots": dots,
            "last": dots[-1] if dots else None}


def _fmt(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "\u2013"
    return f"{100 * v:.0f}%" if pct else f"{v:.0f}"


def _row(trend: Trend, weeks: Sequence[str], check_ids: Sequence[str], titles: Mapping[str, str]) -> dict[str, Any]:
    stats = [trend.weeks.get(w) for w in weeks]
    scores = [s.avg_score if s else None for s in stats]
    known = [v for v in scores if v is not None]
    last = known[-1] if known else None
    prev = known[-2] if len(known) > 1 else None
    checks = []
    for cid in check_ids:
        rates = [s.pass_rate(cid) if s else None for s in stats]
        if all(r is None for r in rates):
            continue
        seen = [r for r in rates if r is not None]
        checks.append({"id": cid, "title": titles[cid], "spark": sparkline(rates, 0.0, 1.0),
                       "last": _fmt(seen[-1], pct=True), "label": ", ".join(
                           f"{week_label(w)} {_fmt(r, pct=True)}" for w, r in zip(weeks, rates) if r is not None)})
    return {
        "name": trend.name or "Unassigned", "team": trend.team, "calls": trend.calls,
        "spark": sparkline(scores, 0.0, 100.0),
        "label": ", ".join(f"{week_label(w)} {_fmt(v)}" for w, v in zip(weeks, scores) if v is not None),
        "last": _fmt(last), "change": "" if last is None or prev is None else f"{last - prev:+.0f}",
        "failed_critical": sum(s.failed_critical for s in trend.weeks.values()),
        "corrected": sum(s.corrected for s in trend.weeks.values()),
        "checks": checks,
    }


def trends_view(trends: Trends) -> dict[str, Any]:
    """What the index's trends section shows: the last :data:`MAX_WEEKS_SHOWN` weeks per agent and team."""
    weeks = list(trends.weeks[-MAX_WEEKS_SHOWN:])
    return {
        "weeks": [week_label(w) for w in weeks],
        "first": week_label(weeks[0]) if weeks else "", "last": week_label(weeks[-1]) if weeks else "",
        "agents": [_row(t, weeks, trends.check_ids, trends.check_titles) for t in trends.agents],
        "teams": [_row(t, weeks, trends.check_ids, trends.check_titles) for t in trends.teams if t.name],
    }


__all__ = ["MAX_WEEKS_SHOWN", "sparkline", "trends_view"]
