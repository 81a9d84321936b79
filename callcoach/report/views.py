"""The call report's view model: plain values (strings, numbers, lists, dicts) prepared for ``call.html``,
with quotes highlighted in the transcript."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from callcoach.analysis.conversation import conversation_of
from callcoach.report import svg
from callcoach.report.conversation_view import _conversation, _speakers
from callcoach.report.evidence import _evidence_list, _Moments, find_spans
from callcoach.report.style import (
    _MATCH_SLACK_S,
    CATEGORY_ORDER,
    CATEGORY_TITLES,
    LONG_TRANSCRIPT_TURNS,
    MAX_EVIDENCE_LINKS,
    ROLE_LABELS,
    ROLES,
    STATUS_STYLES,
    TRAJECTORY_LABELS,
    _call_id,
    _check_title,
    _critical_failures,
    _duration,
    _event_style,
    _noisy_lines,
    _num,
    _source_name,
    _speaker_styles,
    score_band,
)
from callcoach.report.svg import fmt_time
from callcoach.report.timeline import COMPACT, _timeline
from callcoach.scoring.screening import screening_of

# ------------------------------------------------------------- highlighting

def highlight_segments(text: str, marks: Sequence[tuple[int, int, Mapping[str, str]]]) -> list[dict[str, Any]]:
    """Split ``text`` into ``{"text", "mark"}`` segments; ``mark`` is None for plain text.

    ``marks`` are ``(start, end, info)`` character spans; overlapping spans
    are merged (the first span's info wins, a failed check before a passed
    one). The segments' text is raw: the template escapes each one.
    """
    ordered = sorted(
        ((max(0, s), min(len(text), e), info) for s, e, info in marks if e > s),
        key=lambda m: (m[0], 0 if m[2].get("css") == "hl-fail" else 1),
    )
    merged: list[list[Any]] = []
    for s, e, info in ordered:
        if merged and s < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
            titles = merged[-1][2]["title"]
            if info["title"] not in titles.split("; "):
                merged[-1][2] = {**merged[-1][2], "title": f"{titles}; {info['title']}"}
        else:
            merged.append([s, e, dict(info)])
    segments: list[dict[str, Any]] = []
    pos = 0
    for s, e, info in merged:
        if s > pos:
            segments.append({"text": text[pos:s], "mark": None})
        segments.append({"text": text[s:e], "mark": info})
        pos = e
    if pos < len(text) or not segments:
        segments.append({"text": text[pos:], "mark": None})
    return segments

def _qa_fields(check: Mapping[str, Any]) -> dict[str, Any]:
    """A check's QA-programme marks: critical, and a reviewer's correction (``callcoach.batch.review``)."""
    review = check.get("review") if isinstance(check.get("review"), Mapping) else {}
    machine = str(check.get("machine_status") or "")
    return {
        "critical": bool(check.get("critical")),
        "corrected": bool(check.get("corrected")),
        "machine_label": STATUS_STYLES.get(machine, {}).get("label", machine),
        "reviewer": str(review.get("reviewer") or ""), "review_note": str(review.get("note") or ""),
        "review_at": str(review.get("at") or "")[:10],
        "other_statuses": [{"value": k, "label": v["label"]} for k, v in STATUS_STYLES.items()
                           if k != str(check.get("status", "na"))],
    }


def _scorecard(result: Mapping[str, Any], styles: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    sc = result.get("scorecard", {}) or {}
    groups: dict[str, list[dict[str, Any]]] = {}
    counts: Counter[str] = Counter()
    moments = _Moments(result, styles)
    seen: dict[tuple[float, str], str] = {}
    status_order = {"fail": 0, "pass": 1, "na": 2}
    order = {name: i for i, name in enumerate(CATEGORY_ORDER)}

    def shown_at(c: Mapping[str, Any]) -> tuple[int, str, int]:
        category = str(c.get("category") or "Other checks")
        name = CATEGORY_TITLES.get(category, category)
        return order.get(name, len(order)), name, status_order.get(str(c.get("status")), 3)

    # in the order the page shows them, so a shared moment is cited in full once and "above" after that
    checks = sorted(sc.get("checks", ()) or (), key=shown_at)
    for c in checks:
        status = str(c.get("status", "na"))
        style = STATUS_STYLES.get(status, STATUS_STYLES["na"])
        counts[status] += 1
        evidence = _evidence_list(c, moments, seen)
        phrasing = str(c.get("better_phrasing") or "")
        item = {
            "id": str(c.get("id", "")), "title": _check_title(c), "status": status,
            "status_label": style["label"], "icon": style["icon"], "css": style["css"],
            "role": ROLE_LABELS.get(str(c.get("role")), "Speaker"),
            "tip": str(c.get("tip") or ""), "better_phrasing": phrasing,
            "evidence": evidence[:MAX_EVIDENCE_LINKS],
            "more_evidence": max(0, len(evidence) - MAX_EVIDENCE_LINKS),
            "said": evidence[0]["text"] if phrasing and evidence else "",
            **_qa_fields(c),
        }
        category = str(c.get("category") or "Other checks")
        groups.setdefault(CATEGORY_TITLES.get(category, category), []).append(item)
    cats = []
    for name in sorted(groups, key=lambda n: (order.get(n, len(order)), n)):
        items = sorted(groups[name], key=lambda i: status_order.get(i["status"], 3))
        n_fail = sum(1 for i in items if i["status"] == "fail")
        n_pass = sum(1 for i in items if i["status"] == "pass")
        cats.append({
            "name": name, "slug": re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "other",
            "checks": items,
            "summary": f"{n_pass} done well, {n_fail} to work on" if n_fail or n_pass else "not applicable",
        })
    machine_score = svg.clean(sc.get("machine_score"))
    return {"categories": cats, "n_pass": counts["pass"], "n_fail": counts["fail"], "n_na": counts["na"],
            "total": sum(counts.values()), "failed_critical": _critical_failures(result),
            "n_corrected": sum(1 for c in sc.get("checks", ()) or () if c.get("corrected")),
            "machine_score": "" if machine_score is None else f"{machine_score:.0f}"}


def _transcript(result: Mapping[str, Any], styles: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Turns with highlighted evidence phrases and better-phrasing notes."""
    turns = list(result.get("turns", ()))
    marks: list[list[tuple[int, int, dict[str, str]]]] = [[] for _ in turns]
    notes: list[list[dict[str, str]]] = [[] for _ in turns]
    for c in (result.get("scorecard", {}) or {}).get("checks", ()) or ():
        status = str(c.get("status", "na"))
        if status == "na":
            continue
        info = {"css": "hl-fail" if status == "fail" else "hl-pass", "title": _check_title(c)}
        phrasing = str(c.get("better_phrasing") or "")
        judged = str(c.get("role", ""))  # mark only the judged side's words
        for ev in c.get("evidence", ()) or ():
            text = str(ev.get("text", ""))
            s, e = _num(ev.get("start_s")), _num(ev.get("end_s"))
            e = max(e, s)
            for i, t in enumerate(turns):
                if _num(t.get("start_s")) - _MATCH_SLACK_S > e or _num(t.get("end_s")) + _MATCH_SLACK_S < s:
                    continue
                if judged in ROLES and str(t.get("role", "")) in ROLES and t.get("role") != judged:
                    continue
                spans = find_spans(str(t.get("text", "")), text)
                if not spans:
                    continue
                marks[i].extend((a, b, info) for a, b in spans)
                if status == "fail" and phrasing:
                    note = {"title": info["title"], "text": phrasing}
                    if note not in notes[i]:
                        notes[i].append(note)
    reheard = [r for r in ((result.get("meta") or {}).get("rehear") or {}).get("turns", ()) or () if isinstance(r, Mapping)]
    out = []
    for i, t in enumerate(turns):
        sid = str(t.get("speaker", ""))
        st = styles.get(sid, {"label": ROLE_LABELS.get(str(t.get("role")), "Speaker"), "role": "unknown"})
        start = _num(t.get("start_s"))
        text = str(t.get("text", ""))
        segments = highlight_segments(text, marks[i]) if marks[i] else [{"text": text, "mark": None}]
        out.append({
            "index": i, "speaker": sid, "role": st["role"], "role_label": st["label"],
            "t": round(start, 2), "time": fmt_time(start),
            "segments": _with_low_words(segments, _low_spans(text, t.get("words", ()) or ())),
            "notes": notes[i], "flagged": bool(notes[i]),
            # decoded again by the larger speech model (a fast agent turn)
            "reheard": any(str(r.get("speaker", "")) == sid and _num(r.get("start_s")) < _num(t.get("end_s"))
                           and _num(r.get("end_s")) > start for r in reheard),
        })
    return out


LOW_CONFIDENCE = 0.5
"""Words the recogniser gave less than this probability are marked as possibly misheard."""


def _low_spans(text: str, words: Sequence[Mapping[str, Any]]) -> list[tuple[int, int, str]]:
    """Character spans of ``text`` holding words heard with less than :data:`LOW_CONFIDENCE`, with a tooltip."""
    spans, pos = [], 0
    for w in words:
        token = str(w.get("text", "")).strip()
        if not token:
            continue
        i = text.find(token, pos)
        if i < 0:
            continue
        pos = i + len(token)
        p = svg.clean(w.get("probability"))
        if p is not None and p < LOW_CONFIDENCE:
            spans.append((i, pos, f"possibly misheard: heard with {p:.0%} confidence"))
    return spans


def _with_low_words(segments: list[dict[str, Any]], low: Sequence[tuple[int, int, str]]) -> list[dict[str, Any]]:
    """Each segment with ``parts``: its text cut where low-confidence words start and end."""
    pos = 0
    for seg in segments:
        text = seg["text"]
        a, b = pos, pos + len(text)
        parts, at = [], a
        for s, e, title in low:
            s, e = max(s, a), min(e, b)
            if e <= s:
                continue
            if s > at:
                parts.append({"text": text[at - a:s - a], "low": ""})
            parts.append({"text": text[s - a:e - a], "low": title})
            at = e
        if at < b or not parts:
            parts.append({"text": text[at - a:], "low": ""})
        seg["parts"] = parts
        pos = b
    return segments


def _events(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for ev in sorted(result.get("events", ()), key=lambda e: _num(e.get("start_s"))):
        style = _event_style(str(ev.get("type", "")))
        start, end = _num(ev.get("start_s")), _num(ev.get("end_s"))
        out.append({
            "type": str(ev.get("type", "")), "label": style["label"], "letter": style["letter"],
            "css": style["css"], "d": svg.marker_path(style["shape"], 9, 9, 6.0),
            "text_y": 11.2 if style["shape"] == "triangle" else 12.0,
            "role": ROLE_LABELS.get(str(ev.get("role")), "Speaker"), "speaker": str(ev.get("speaker", "")),
            "t": round(start, 2), "time": fmt_time(start),
            "length": f"{max(0.0, end - start):.1f} s", "detail": str(ev.get("detail", "")),
        })
    return out


def call_view(result: Mapping[str, Any], audio_href: str | None,
              nav: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The per-call view-model: every value the ``call.html`` template shows, prepared.

    ``result`` is :func:`callcoach.records.result_to_dict` output (or the
    JSON read back); ``audio_href`` is a link to the recording relative to the
    report, a ``data:`` URI, or None (no player); ``nav`` is :func:`call_nav`
    (default: a link back to ``index.html`` only).
    """
    duration_s = _duration(result)
    sc = result.get("scorecard", {}) or {}
    score = svg.clean(sc.get("score"))
    band = score_band(score)
    trajectory = str(result.get("customer_trajectory", ""))
    traj = TRAJECTORY_LABELS.get(trajectory, {"label": trajectory.replace("_", " ") or "Unknown",
                                              "short": trajectory, "icon": "?", "css": "tr-calm"})
    styles = _speaker_styles(result)
    call_id = _call_id(result)
    conv = conversation_of(result)
    screening = screening_of(result)
    review = bool(screening.get("needs_review"))
    return {
        "title": f"Call {call_id} \u2013 coaching report",
        "call_id": call_id,
        "source": _source_name(result),
        "duration": fmt_time(duration_s),
        "duration_s": round(duration_s, 3),
        "score": {"value": "\u2013" if score is None else f"{score:.0f}",
                  "label": "Needs review" if review else band["label"], "css": "sc-none" if review else band["css"],
                  "pct": 0 if score is None else round(min(max(score, 0), 100))},
        "review": {"needed": review,
                   "reasons": [str(r.get("text", "")) for r in screening.get("reasons", ()) or ()]},
        "nav": dict(nav) if nav else {"index": "index.html", "prev": None, "next": None, "position": ""},
        "trajectory": {"value": trajectory, **traj},
        "work_on": [str(x) for x in sc.get("work_on", ()) or ()],
        "went_well": [str(x) for x in sc.get("went_well", ()) or ()],
        "speakers": _speakers(result, styles, duration_s, conv),
        "conversation": _conversation(result, styles, duration_s, conv),
        "timeline": (wide := _timeline(result, duration_s, styles)),
        "timelines": [{"id": "timeline", "css": "tl-wide", "tl": wide},
                      {"id": "timeline-phone", "css": "tl-compact", "tl": _timeline(result, duration_s, styles, COMPACT)}],
        "scorecard": _scorecard(result, styles),
        "transcript": (transcript := _transcript(result, styles)),
        "transcript_long": len(transcript) > LONG_TRANSCRIPT_TURNS,
        "events": _events(result),
        "noisy_lines": _noisy_lines(result, styles),
        "audio": {
            "href": audio_href,
            "embedded": bool(audio_href and audio_href.startswith("data:")),
            "redacted": str(((result.get("meta") or {}).get("redaction") or {}).get("mode", "off")) != "off",
        },
        "schema_version": str(result.get("schema_version", "")),
    }
