"""The batch index's view model: one row per call, and a summary per agent."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from callcoach.report import svg
from callcoach.report.style import (
    EVENT_STYLES,
    FLAG_TYPES,
    TRAJECTORY_LABELS,
    _call_id,
    _check_title,
    _critical_failures,
    _duration,
    _line_levels,
    _source_name,
    score_band,
)
from callcoach.report.svg import fmt_time

# --------------------------------------------------------------------- index


def index_row(result: Mapping[str, Any], report_href: str, agent: str | None) -> dict[str, Any]:
    """One call's row in the batch index (and in ``calls.csv``).

    ``report_href`` links to the call's HTML report, relative to the index;
    ``agent`` is the agent's name when known (None shows as unassigned).
    """
    duration_s = _duration(result)
    sc = result.get("scorecard", {}) or {}
    score = svg.clean(sc.get("score"))
    band = score_band(score)
    trajectory = str(result.get("customer_trajectory", ""))
    traj = TRAJECTORY_LABELS.get(trajectory, {"label": trajectory, "short": trajectory, "icon": "?", "css": "tr-calm"})
    counts: dict[str, dict[str, int]] = {}
    for ev in result.get("events", ()):
        kind, role = str(ev.get("type", "")), str(ev.get("role", "unknown"))
        counts.setdefault(kind, {}).setdefault(role, 0)
        counts[kind][role] += 1
    flags = []
    for kind in FLAG_TYPES:
        by_role = counts.get(kind, {})
        a, c = by_role.get("agent", 0), by_role.get("customer", 0)
        flags.append({"type": kind, "label": EVENT_STYLES[kind]["label"], "agent": a, "customer": c,
                      "total": sum(by_role.values())})
    checks = {str(c.get("id", "")): str(c.get("status", "na")) for c in sc.get("checks", ()) or ()}
    titles = {str(c.get("id", "")): _check_title(c) for c in sc.get("checks", ()) or ()}
    failed = [cid for cid, st in checks.items() if st == "fail"]
    customer = counts.get("raised_voice", {}).get("customer", 0)
    return {
        "call_id": _call_id(result), "href": report_href, "source": _source_name(result),
        "agent": agent or "", "agent_label": agent or "Unassigned",
        "score": None if score is None else round(score, 1),
        "score_text": "\u2013" if score is None else f"{score:.0f}",
        "score_label": band["label"], "score_css": band["css"],
        "duration_s": round(duration_s, 3), "duration": fmt_time(duration_s),
        "trajectory": trajectory, "trajectory_label": traj["short"], "trajectory_css": traj["css"],
        "trajectory_icon": traj["icon"],
        "flags": flags, "event_counts": counts,
        "checks": checks, "check_titles": titles,
        "failed": failed, "failed_titles": [titles[c] for c in failed], "n_failed": len(failed),
        "difficult": customer > 0,
        "abusive": counts.get("threat", {}).get("customer", 0) > 0,
        "failed_critical": [str(c) for c in sc.get("failed_critical", ()) or ()],
        "critical_titles": _critical_failures(result),
        "corrected": sum(1 for c in sc.get("checks", ()) or () if c.get("corrected")),
        **_line_summary(result),
    }


def _line_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The call's noisiest line (``meta.line``): its SNR in dB and whether the larger model decoded it."""
    limit, levels = _line_levels(result)
    lowest = min((snr for snr, _ in levels.values()), default=None)
    return {"line_snr_db": None if lowest is None else round(lowest, 1),
            "noisy_line": lowest is not None and limit is not None and lowest < limit}


def agent_summaries(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per agent: calls, average score, most frequent checks to work on, difficult calls handled.

    A difficult call is one where the customer raised their voice; an abusive
    one has a threat or abuse event from the customer. They are reported as
    load the agent carried (support needed), never as a fault.
    """
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[str(r.get("agent") or "")].append(r)
    out = []
    for agent, items in groups.items():
        scores = [float(r["score"]) for r in items if r.get("score") is not None]
        failed: Counter[str] = Counter()
        titles: dict[str, str] = {}
        for r in items:
            failed.update(r.get("failed", ()))
            titles.update(r.get("check_titles", {}))
        difficult = sum(1 for r in items if r.get("difficult"))
        abusive = sum(1 for r in items if r.get("abusive"))
        avg = sum(scores) / len(scores) if scores else None
        band = score_band(avg)
        if abusive:
            support = (f"Handled {abusive} abusive call{'s' if abusive != 1 else ''}: "
                       "offer a debrief and a short break.")
        elif difficult:
            support = f"Handled {difficult} difficult call{'s' if difficult != 1 else ''}: check in after the shift."
        else:
            support = ""
        out.append({
            "agent": agent, "agent_label": agent or "Unassigned", "calls": len(items),
            "avg_score": None if avg is None else round(avg, 1),
            "avg_score_text": "\u2013" if avg is None else f"{avg:.0f}",
            "score_label": band["label"], "score_css": band["css"],
            "top_failed": [{"id": cid, "title": titles.get(cid, cid), "count": n}
                           for cid, n in sorted(failed.items(), key=lambda kv: (-kv[1], kv[0]))[:3]],
            "difficult": difficult, "abusive": abusive, "support": support,
        })
    out.sort(key=lambda a: (a["agent"] == "", a["agent_label"].lower()))
    return out


def _index_view(rows: Sequence[Mapping[str, Any]], agents: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    scores = [float(r["score"]) for r in rows if r.get("score") is not None]
    return {
        "title": "Call coaching \u2013 batch index",
        "rows": list(rows), "agents": list(agents),
        "n_calls": len(rows),
        "avg_score": f"{sum(scores) / len(scores):.0f}" if scores else "\u2013",
        "n_difficult": sum(1 for r in rows if r.get("difficult")),
        "n_calmer": sum(1 for r in rows if r.get("trajectory") == "calmer"),
        "n_upset": sum(1 for r in rows if r.get("trajectory") in ("calmer", "not_calmer")),
        "agent_options": sorted({r.get("agent_label", "") for r in rows}, key=str.lower),
        "trajectory_options": [{"value": k, "label": v["short"]} for k, v in TRAJECTORY_LABELS.items()
                               if any(r.get("trajectory") == k for r in rows)],
        "flag_headers": [{"type": k, "label": EVENT_STYLES[k]["label"]} for k in FLAG_TYPES],
        "n_failed_critical": sum(1 for r in rows if r.get("failed_critical")),
        "has_critical": any(r.get("failed_critical") for r in rows),
        "trends": None,
    }
