"""Agent and team trends by week, from the results store: score and each check's pass rate.

A call's week is the ISO week (Monday to Sunday) of its metadata date, else
of its audio file's modification time, else of when it was scored. Every
call the store holds counts, whichever run scored it, so a new day's calls
add to the trend without scoring the old ones again. Reviewers' corrections
count as the reviewer set them (:mod:`callcoach.batch.review`): a corrected call's
score is recomputed from its corrected checks.

Only the store's small tables are read (``calls`` without the JSON,
``checks``, ``reviews``), so thousands of calls take milliseconds; the view
(:func:`callcoach.report.trends_view.trends_view`) adds the SVG geometry of the small inline charts.
"""

from __future__ import annotations

import csv
import datetime as _dt
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from callcoach.batch.review import latest_reviews, weighted_score
from callcoach.batch.store import Store
from callcoach.report.export import _csv_text  # one formula-neutralising rule for every CSV

Level = Literal["agent", "team"]


def week_of(when: str | None) -> str | None:
    """The Monday (``YYYY-MM-DD``) of the ISO week of an ISO date or date-time; None when unreadable."""
    if not when:
        return None
    try:
        day = _dt.date.fromisoformat(when[:10])
    except ValueError:
        return None
    return (day - _dt.timedelta(days=day.weekday())).isoformat()


def week_label(monday: str) -> str:
    """``2026-W48`` for the week starting on ``monday``."""
    year, week, _ = _dt.date.fromisoformat(monday).isocalendar()
    return f"{year}-W{week:02d}"


@dataclass
class WeekStat:
    """One group's calls in one week. ``checks``: check id -> [passed, judged] (na left out)."""

    week: str
    calls: int = 0
    score_sum: float = 0.0
    scored: int = 0
    failed_critical: int = 0
    corrected: int = 0
    checks: dict[str, list[int]] = field(default_factory=dict)

    @property
    def avg_score(self) -> float | None:
        return round(self.score_sum / self.scored, 1) if self.scored else None

    def pass_rate(self, check_id: str) -> float | None:
        passed, judged = self.checks.get(check_id, (0, 0))
        return round(passed / judged, 3) if judged else None


@dataclass
class Trend:
    """A group (an agent, or a team) and its weeks in order."""

    level: Level
    name: str
    team: str
    weeks: dict[str, WeekStat] = field(default_factory=dict)

    @property
    def calls(self) -> int:
        return sum(w.calls for w in self.weeks.values())


@dataclass(frozen=True)
class Trends:
    weeks: tuple[str, ...]  # every week with a call, oldest first
    agents: tuple[Trend, ...]
    teams: tuple[Trend, ...]
    check_ids: tuple[str, ...]
    check_titles: Mapping[str, str]


def call_weeks(store: Store) -> dict[str, str]:
    """Each scored call's week (its Monday, ``YYYY-MM-DD``): from the metadata date, else the audio file's
    time, else when it was scored."""
    rows = store.db.execute("SELECT call_id, COALESCE(date, file_time, updated_at) FROM calls WHERE status = 'scored'")
    return {cid: week for cid, when in rows if (week := week_of(when))}


def compute_trends(store: Store, titles: Mapping[str, str] | None = None) -> Trends:
    """Every stored call, grouped per agent and per team by week, corrections applied."""
    reviews = latest_reviews(store)
    # per call: (check id, status shown, weight, critical, corrected)
    checks: dict[str, list[tuple[str, str, float, bool, bool]]] = defaultdict(list)
    order: dict[str, int] = {}
    for call_id, check_id, status, weight, critical in store.db.execute(
            "SELECT call_id, check_id, status, weight, critical FROM checks ORDER BY rowid"):
        order.setdefault(check_id, len(order))
        r = reviews.get(call_id, {}).get(check_id)
        shown = r.status if r else status
        checks[call_id].append((check_id, shown, float(weight or 0.0), bool(critical), shown != status))
    agents: dict[str, Trend] = {}
    teams: dict[str, Trend] = {}
    weeks: set[str] = set()
    weeks_of = call_weeks(store)
    for call_id, agent, team, score in store.db.execute(
            "SELECT call_id, agent, team, score FROM calls WHERE status = 'scored'"):
        week = weeks_of.get(call_id)
        if week is None:
            continue
        weeks.add(week)
        mine = checks.get(call_id, [])
        n_corrected = sum(1 for *_, corrected in mine if corrected)
        if n_corrected:
            score = weighted_score({"status": s, "weight": w} for _, s, w, _, _ in mine)
        for level, name, table in (("agent", agent or "", agents), ("team", team or "", teams)):
            trend = table.setdefault(name, Trend(level, name, team or "" if level == "agent" else name))
            if level == "agent" and team and not trend.team:
                trend.team = team
            stat = trend.weeks.setdefault(week, WeekStat(week))
            stat.calls += 1
            if score is not None:
                stat.score_sum += float(score)
                stat.scored += 1
            stat.failed_critical += any(crit and s == "fail" for _, s, _, crit, _ in mine)
            stat.corrected += n_corrected
            for cid, status, *_ in mine:
                if status != "na":
                    pj = stat.checks.setdefault(cid, [0, 0])
                    pj[0] += status == "pass"
                    pj[1] += 1
    ids = tuple(sorted(order, key=order.__getitem__))

    def ordered(table: Mapping[str, Trend]) -> tuple[Trend, ...]:
        return tuple(sorted(table.values(), key=lambda t: (t.name == "", t.name.lower())))

    return Trends(tuple(sorted(weeks)), ordered(agents), ordered(teams), ids,
                  {c: (titles or {}).get(c) or c.replace("_", " ").capitalize() for c in ids})


def write_trends_csv(trends: Trends, path: Path | str) -> None:
    """``trends.csv``: one row per group and week (agents, then teams), every week the store holds.

    Columns: level (agent, team), name, team, week (``2026-W48``), week_start
    (its Monday), calls, avg_score, failed_critical_calls, corrected_checks,
    then ``pass_rate_<check>`` (0-1; empty when the check never applied that week).
    """
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["level", "name", "team", "week", "week_start", "calls", "avg_score", "failed_critical_calls",
                    "corrected_checks", *[f"pass_rate_{c}" for c in trends.check_ids]])
        for trend in (*trends.agents, *trends.teams):
            for week in sorted(trend.weeks):
                s = trend.weeks[week]
                w.writerow([trend.level, _csv_text(trend.name), _csv_text(trend.team), week_label(week), week, s.calls,
                            "" if s.avg_score is None else s.avg_score, s.failed_critical, s.corrected,
                            *["" if s.pass_rate(c) is None else s.pass_rate(c) for c in trends.check_ids]])


__all__ = ["Trend", "Trends", "WeekStat", "call_weeks", "compute_trends", "week_label", "week_of", "write_trends_csv"]
