"""The batch index's view model: one row per call, and a summary per agent."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from callcoach.analysis.conversation import conversation_of
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
    _num,
    _source_name,
    score_band,
)
from callcoach.report.svg import fmt_time
from callcoach.scoring.screening import screening_of

# --------------------------------------------------------------------- index


AGENT_FAULTS: dict[str, str] = {
    "raised_voice": "raised voice",
    "interruption": "talked over the customer",
    "patience_violation": "replied too soon to an upset customer",
    "rapid_speech": "rushed",
    "threat": "threat or abuse",
}
"""What the agent did, counted in the index's "Agent faults" column."""
CUSTOMER_DIFFICULTY: dict[str, str] = {
    "threat": "threat or abuse",
    "raised_voice": "raised voice",
    "interruption": "talked over the agent",
}
"""What the customer did, counted in the "Customer difficulty" column: load on the agent, never a fault."""
ATTENTION_SCORE = 70.0
"""A call scoring under this ("Developing" or "Needs support") needs attention."""
TOP_TO_WORK_ON = 3
"""Checks to work on named per call in the index; the rest are counted ("+N more")."""
REVIEW_SORT_VALUE = -1
"""The score sort value of a call that needs review: before every scored call, worst first."""


def _tally(counts: Mapping[str, Mapping[str, int]], role: str, names: Mapping[str, str]) -> tuple[int, list[str]]:
    """The events of ``role`` of the kinds in ``names``: their number, and ``"raised voice \u00d72"`` per kind."""
    items, total = [], 0
    for kind, name in names.items():
        n = int(counts.get(kind, {}).get(role, 0))
        if n:
            total += n
            items.append(f"{name} \u00d7{n}")
    return total, items


def index_row(result: Mapping[str, Any], report_href: str, agent: str | None) -> dict[str, Any]:
    """One call's row in the batch index (and in ``calls.csv``).

    ``report_href`` links to the call's HTML report, relative to the index;
    ``agent`` is the agent's name when known (None shows as unassigned).
    """
    duration_s = _duration(result)
    sc = result.get("scorecard", {}) or {}
    score = svg.clean(sc.get("score"))
    band = score_band(score)
    screening = screening_of(result)
    review = bool(screening.get("needs_review"))
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
    weights = {str(c.get("id", "")): _num(c.get("weight"), 1.0) for c in sc.get("checks", ()) or ()}
    failed = [cid for cid, st in checks.items() if st == "fail"]
    # the weightiest first (rubric order among equals): what to coach first
    ranked = sorted(failed, key=lambda cid: -weights.get(cid, 1.0))
    faults, fault_items = _tally(counts, "agent", AGENT_FAULTS)
    difficulty, difficulty_items = _tally(counts, "customer", CUSTOMER_DIFFICULTY)
    customer = counts.get("raised_voice", {}).get("customer", 0)
    why: list[str] = []
    if review:
        why.append("needs review")
    elif score is not None and score < ATTENTION_SCORE:
        why.append(f"score under {ATTENTION_SCORE:.0f}")
    if faults and not review:
        why.append("agent faults")
    conv = conversation_of(result)
    longest = conv.get("longest_monologue") or {}
    return {
        "call_id": _call_id(result), "href": report_href, "source": _source_name(result),
        "agent": agent or "", "agent_label": agent or "Unassigned",
        "score": None if score is None else round(score, 1),
        "score_text": "\u2013" if score is None else f"{score:.0f}",
        "score_label": "Needs review" if review else band["label"], "score_css": "sc-none" if review else band["css"],
        "score_sort": REVIEW_SORT_VALUE if review or score is None else round(score, 1),
        "needs_review": review,
        "review_reasons": [str(r.get("text", "")) for r in screening.get("reasons", ()) or ()],
        "review_codes": [str(r.get("code", "")) for r in screening.get("reasons", ()) or ()],
        "review_short": _short_reasons(screening),
        "attention": bool(why), "attention_why": ", ".join(why),
        "duration_s": round(duration_s, 3), "duration": fmt_time(duration_s),
        "trajectory": trajectory, "trajectory_label": traj["short"], "trajectory_css": traj["css"],
        "trajectory_icon": traj["icon"],
        "flags": flags, "event_counts": counts,
        "agent_faults": faults, "agent_fault_items": fault_items,
        "customer_difficulty": difficulty, "customer_difficulty_items": difficulty_items,
        "checks": checks, "check_titles": titles,
        "failed": failed, "failed_titles": [titles[c] for c in ranked], "n_failed": len(failed),
        "top_failed_titles": [titles[c] for c in ranked[:TOP_TO_WORK_ON]],
        "more_failed": max(0, len(failed) - TOP_TO_WORK_ON),
        "difficult": customer > 0,
        "abusive": counts.get("threat", {}).get("customer", 0) > 0,
        "failed_critical": [str(c) for c in sc.get("failed_critical", ()) or ()],
        "critical_titles": _critical_failures(result),
        "corrected": sum(1 for c in sc.get("checks", ()) or () if c.get("corrected")),
        "non_talk_share": conv.get("non_talk_share"),
        "overlap_s": conv.get("overlap_s"),
        "turn_switches_per_min": conv.get("turn_switches_per_min"),
        "longest_monologue_s": longest.get("duration_s"),
        "longest_monologue_role": longest.get("role", ""),
        "customer_sentiment": [str(q.get("label", "")) for q in conv.get("customer_sentiment", ()) or ()],
        **_line_summary(result),
    }


def _short_reasons(screening: Mapping[str, Any]) -> str:
    """The reasons a call needs review, in a few words for the index (the report gives them in full)."""
    short = {"no_speech": "no speech", "one_speaker": "one speaker", "three_or_more": "three or more speakers",
             "no_agent": "no agent found"}
    out = []
    for r in screening.get("reasons", ()) or ():
        code = str(r.get("code", ""))
        if code == "uncertain_roles":
            conf = svg.clean(screening.get("role_confidence"))
            out.append("agent uncertain" + (f" ({conf:.0%} sure)" if conf is not None else ""))
        else:
            out.append(short.get(code, code.replace("_", " ")))
    return ", ".join(out)


def triage_order(rows: Sequence[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Rows in the index's default order: calls that need review first, then the lowest score first."""
    return sorted(rows, key=lambda r: (r.get("score_sort", REVIEW_SORT_VALUE), str(r.get("call_id", ""))))


def _line_summary(result: Mapping[str, Any]) -> dict[str, Any]:
    """The call's noisiest line (``meta.line``): its SNR in dB and whether the larger model decoded it."""
    limit, levels = _line_levels(result)
    lowest = min((snr for snr, _ in levels.values()), default=None)
    return {"line_snr_db": None if lowest is None else round(lowest, 1),
            "noisy_line": lowest is not None and limit is not None and lowest < limit}


def agent_summaries(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Per agent: calls, average score, most frequent checks to work on, difficult calls handled.

    Calls that need review (not a two-party call, or roles uncertain) are
    counted apart and left out of the average and of what to work on.
    A difficult call is one where the customer raised their voice; an abusive
    one has a threat or abuse event from the customer. They are reported as
    load the agent carried (support needed), never as a fault.
    """
    groups: dict[str, list[Mapping[str, Any]]] = defaultdict(list)
    for r in rows:
        groups[str(r.get("agent") or "")].append(r)
    out = []
    for agent, everything in groups.items():
        items = [r for r in everything if not r.get("needs_review")]
        review = len(everything) - len(items)
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
            "agent": agent, "agent_label": agent or "Unassigned", "calls": len(items), "needs_review": review,
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
    rows = triage_order(rows)
    calls = [r for r in rows if not r.get("needs_review")]  # two-party calls: the only ones averaged
    scores = [float(r["score"]) for r in calls if r.get("score") is not None]
    n_review = len(rows) - len(calls)
    return {
        "title": "Call coaching \u2013 batch index",
        "rows": list(rows), "agents": list(agents),
        "n_calls": len(rows), "n_review": n_review, "n_scored": len(calls),
        "n_attention": sum(1 for r in rows if r.get("attention")),
        "attention_score": f"{ATTENTION_SCORE:.0f}",
        "avg_score": f"{sum(scores) / len(scores):.0f}" if scores else "\u2013",
        "n_difficult": sum(1 for r in calls if r.get("difficult")),
        "n_calmer": sum(1 for r in calls if r.get("trajectory") == "calmer"),
        "n_upset": sum(1 for r in calls if r.get("trajectory") in ("calmer", "not_calmer")),
        "unassigned": sum(1 for r in rows if not r.get("agent")),
        "all_unassigned": bool(rows) and not any(r.get("agent") for r in rows),
        "agent_options": sorted({r.get("agent_label", "") for r in rows}, key=str.lower),
        "trajectory_options": [{"value": k, "label": v["short"]} for k, v in TRAJECTORY_LABELS.items()
                               if any(r.get("trajectory") == k for r in rows)],
        "flag_headers": [{"type": k, "label": EVENT_STYLES[k]["label"]} for k in FLAG_TYPES],
        "n_failed_critical": sum(1 for r in rows if r.get("failed_critical")),
        "has_critical": any(r.get("failed_critical") for r in rows),
        "trends": None,
    }
