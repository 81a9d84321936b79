"""HTML reports (one per call, one index per run) and the CSV export.

Everything shown is prepared here as a view-model of plain values (strings,
numbers, lists, dicts): time strings, sorting, SVG geometry, status labels
and colours. The jinja2 templates only loop over and test those values, with
autoescape on, so text from a recording or a file name can never become
markup.

Templates are looked up first in a user folder (``--templates DIR``) and then
in the packaged defaults (``reports/templates`` in a checkout, installed as
``callcoach.templates``).
"""

from __future__ import annotations

import csv
import importlib.resources
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

import jinja2

from callcoach import svg
from callcoach.errors import TemplateError
from callcoach.svg import fmt_time

# ----------------------------------------------------------------- constants

EVENT_STYLES: dict[str, dict[str, str]] = {
    "raised_voice": {"label": "Raised voice", "shape": "triangle", "letter": "R", "css": "ev-raised"},
    "rapid_speech": {"label": "Rapid speech", "shape": "diamond", "letter": "F", "css": "ev-rapid"},
    "interruption": {"label": "Interruption", "shape": "square", "letter": "I", "css": "ev-interrupt"},
    "threat": {"label": "Threat or abuse", "shape": "octagon", "letter": "!", "css": "ev-threat"},
    "long_silence": {"label": "Long silence", "shape": "circle", "letter": "S", "css": "ev-silence"},
}
"""How each event type is drawn: a shape and a letter, so colour is never the only cue."""

FLAG_TYPES = ("raised_voice", "rapid_speech", "interruption", "threat")
"""Event types counted in the index's flag columns."""
CSV_EVENT_TYPES = ("raised_voice", "rapid_speech", "interruption", "threat", "long_silence")
ROLES = ("agent", "customer")

STATUS_STYLES: dict[str, dict[str, str]] = {
    "pass": {"label": "Done well", "icon": "\u2713", "css": "st-pass"},
    "fail": {"label": "Work on", "icon": "\u2717", "css": "st-fail"},
    "na": {"label": "Not applicable", "icon": "\u2013", "css": "st-na"},
}

TRAJECTORY_LABELS: dict[str, dict[str, str]] = {
    "calmer": {"label": "Customer ended calmer", "short": "Ended calmer", "icon": "\u2198", "css": "tr-calmer"},
    "not_calmer": {"label": "Customer stayed upset", "short": "Stayed upset", "icon": "\u2192", "css": "tr-upset"},
    "not_upset": {"label": "Customer was not upset", "short": "Not upset", "icon": "\u2014", "css": "tr-calm"},
}

CATEGORY_ORDER = ("Tone and composure", "Empathy and listening", "Language", "Resolution", "Boundaries")
# rubric category ids -> the headings agents read
CATEGORY_TITLES = {
    "tone": "Tone and composure",
    "empathy": "Empathy and listening",
    "language": "Language",
    "resolution": "Resolution",
    "boundaries": "Boundaries",
}

ROLE_LABELS = {"agent": "Agent", "customer": "Customer", "unknown": "Speaker"}
ROLE_COLOURS = {"agent": "#1d5fd6", "customer": "#c2410c", "unknown": "#5b6472"}
ROLE_DASH = {"agent": "", "customer": "6 4", "unknown": "2 3"}
_EXTRA_COLOURS = ("#0f766e", "#7c3aed", "#a16207", "#be185d")

LANE_H = 48.0
"""Height of one speaker lane in the timeline (SVG units)."""
MARKER_R = 7.5
"""Half-size of an event marker (SVG units)."""
MARKER_SPACING = 2 * MARKER_R + 2
"""Closest two markers in one lane may sit; later ones shift right."""
CHART_H = 112.0
"""Height of one prosody chart (SVG units)."""

MAX_EVIDENCE_LINKS = 12
"""Evidence links listed per check; the rest are counted."""
LONG_TRANSCRIPT_TURNS = 300
"""From this many turns the page lets the browser skip rendering off-screen turns."""
_MATCH_SLACK_S = 0.5
"""Evidence and a turn overlap when they are within this many seconds."""

_TEMPLATE_NAMES = ("call.html", "index.html")


def score_band(score: float | None) -> dict[str, str]:
    """A text label and a css class for a 0-100 score (colour is never the only cue)."""
    if score is None:
        return {"label": "No score", "css": "sc-none"}
    if score >= 85:
        return {"label": "Excellent", "css": "sc-great"}
    if score >= 70:
        return {"label": "Good", "css": "sc-good"}
    if score >= 50:
        return {"label": "Developing", "css": "sc-fair"}
    return {"label": "Needs support", "css": "sc-low"}


def _event_style(kind: str) -> dict[str, str]:
    if kind in EVENT_STYLES:
        return EVENT_STYLES[kind]
    return {"label": kind.replace("_", " ").capitalize(), "shape": "circle", "letter": "?", "css": "ev-other"}


def _num(value: Any, default: float = 0.0) -> float:
    v = svg.clean(value)
    return default if v is None else v


def _source_name(result: Mapping[str, Any]) -> str:
    source = str(result.get("call", {}).get("source", ""))
    return Path(source).name if source else ""


def _call_id(result: Mapping[str, Any]) -> str:
    call = result.get("call", {})
    return str(call.get("id") or result.get("call_id") or "call")


def _duration(result: Mapping[str, Any]) -> float:
    """Call length (s): the recorded duration, or the last turn/event end if it is missing."""
    d = _num(result.get("call", {}).get("duration_s"))
    ends = [_num(t.get("end_s")) for t in result.get("turns", ())]
    ends += [_num(e.get("end_s")) for e in result.get("events", ())]
    return max([d, *ends, 1.0]) if d <= 0 else d


def _check_title(check: Mapping[str, Any]) -> str:
    return str(check.get("title") or str(check.get("id", "")).replace("_", " ").capitalize())


# ------------------------------------------------------------- highlighting

_QUOTES = "\"'\u201c\u201d\u2018\u2019\u00ab\u00bb "
_ELLIPSIS = re.compile(r"\s*(?:\.\.\.|\u2026)\s*")


def find_spans(text: str, needle: str) -> list[tuple[int, int]]:
    """Character spans of ``needle`` in ``text``, case-insensitive.

    Surrounding quotes are ignored and an ellipsis splits the needle into
    pieces found separately (evidence is often an excerpt such as
    ``"calm down ... as I said"``). Pieces shorter than 3 characters are
    ignored.
    """
    if not text or not needle:
        return []
    lowered = text.lower()
    spans: list[tuple[int, int]] = []
    for piece in _ELLIPSIS.split(needle):
        piece = piece.strip(_QUOTES).strip().lower()
        if len(piece) < 3:
            continue
        start = 0
        while True:
            i = lowered.find(piece, start)
            if i < 0:
                break
            spans.append((i, i + len(piece)))
            start = i + len(piece)
    return spans


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


# ---------------------------------------------------------------- view-model


def _speaker_styles(result: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Per speaker id: role, label, colour and dash pattern, agent first."""
    speakers = list(result.get("speakers", ()))
    known = {str(s.get("id")) for s in speakers}
    for item in [*result.get("turns", ()), *result.get("prosody", ())]:
        sid = str(item.get("speaker", ""))
        if sid and sid not in known:
            known.add(sid)
            speakers.append({"id": sid, "role": item.get("role", "unknown")})
    order = {"agent": 0, "customer": 1}
    speakers.sort(key=lambda s: order.get(str(s.get("role")), 2))
    used: Counter[str] = Counter()
    styles: dict[str, dict[str, Any]] = {}
    for i, s in enumerate(speakers):
        role = str(s.get("role") or "unknown")
        role = role if role in ROLE_LABELS else "unknown"
        n = used[role]
        used[role] += 1
        colour = ROLE_COLOURS[role] if n == 0 else _EXTRA_COLOURS[(i + n) % len(_EXTRA_COLOURS)]
        label = ROLE_LABELS[role] if n == 0 else f"{ROLE_LABELS[role]} {n + 1}"
        styles[str(s.get("id"))] = {
            "id": str(s.get("id")), "role": role, "label": label, "colour": colour,
            "dash": ROLE_DASH[role], "summary": s,
        }
    return styles


def _timeline(result: Mapping[str, Any], duration_s: float,
              styles: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """SVG geometry of the lanes, markers, curves and axis."""
    xs = svg.TimeScale(duration_s)
    lane_h, marker_band, bar_h = LANE_H, 22.0, 16.0
    top = 8.0
    lanes: list[dict[str, Any]] = []
    lane_of: dict[str, dict[str, Any]] = {}
    role_lane: dict[str, dict[str, Any]] = {}

    def new_lane(key: str, label: str, sub: str, colour: str) -> dict[str, Any]:
        y = top + len(lanes) * lane_h
        lane = {"key": key, "label": label, "sub": sub, "colour": colour, "y": y, "h": lane_h,
                "label_y": y + marker_band + bar_h / 2 + 1, "bar_y": y + marker_band,
                "bar_h": bar_h, "marker_y": y + marker_band / 2, "bars": [], "markers": [],
                "spans": [], "guide_y": y + marker_band + bar_h / 2}
        lanes.append(lane)
        return lane

    for sid, st in styles.items():
        lane = new_lane(sid, st["label"], sid, st["colour"])
        lane_of[sid] = lane
        role_lane.setdefault(st["role"], lane)

    # Turn bars, merged where they would touch at this resolution.
    per_speaker: dict[str, list[tuple[float, float, int]]] = defaultdict(list)
    turns = list(result.get("turns", ()))
    for i, t in enumerate(turns):
        per_speaker[str(t.get("speaker"))].append((_num(t.get("start_s")), _num(t.get("end_s")), i))
    min_gap = xs.seconds_per_unit * 1.5
    for sid, spans in per_speaker.items():
        lane = lane_of.get(sid)
        if lane is None:
            continue
        for start, end, first, count in svg.merge_spans(sorted(spans), min_gap):
            x0, x1 = xs.x(start), xs.x(end)
            what = f"{lane['label']} turn" if count == 1 else f"{count} {lane['label'].lower()} turns"
            lane["bars"].append({
                "x": x0, "y": lane["bar_y"], "w": round(max(x1 - x0, 1.5), 2), "h": bar_h,
                "t": round(start, 2), "turn": first,
                "label": f"{what}, {fmt_time(start)} to {fmt_time(end)}: play from {fmt_time(start)}",
            })

    # Event markers in the lane of the speaker (or role) they belong to; a
    # marker that would cover the previous one in its lane moves right.
    call_lane: dict[str, Any] | None = None
    last_x: dict[str, float] = {}
    for ev in sorted(result.get("events", ()), key=lambda e: _num(e.get("start_s"))):
        lane = lane_of.get(str(ev.get("speaker", ""))) or role_lane.get(str(ev.get("role", "")))
        if lane is None:
            if call_lane is None:
                call_lane = new_lane("_call", "Call", "both sides", "#5b6472")
            lane = call_lane
        style = _event_style(str(ev.get("type", "")))
        start, end = _num(ev.get("start_s")), _num(ev.get("end_s"))
        x_start = xs.x(start)
        cx = max(x_start, last_x.get(lane["key"], -1e9) + MARKER_SPACING)
        last_x[lane["key"]] = cx
        cy = lane["marker_y"]
        if end - start > xs.seconds_per_unit * 2:
            lane["spans"].append({"x": x_start, "y": lane["bar_y"] - 4, "w": round(xs.x(end) - x_start, 2),
                                  "css": style["css"]})
        lane["markers"].append({
            "x": round(cx, 2), "y": cy, "text_y": round(cy + (3.6 if style["shape"] == "triangle" else 3.3), 2),
            "d": svg.marker_path(style["shape"], cx, cy, MARKER_R), "letter": style["letter"],
            "css": style["css"], "t": round(start, 2),
            "label": f"{style['label']} ({ROLE_LABELS.get(str(ev.get('role')), 'Speaker').lower()}) "
                     f"at {fmt_time(start)}: play from here",
            "title": f"{style['label']} \u2013 {fmt_time(start)} \u2013 {ev.get('detail', '')}",
        })

    lanes_bottom = top + len(lanes) * lane_h + 6
    charts = _curves(result, xs, styles, lanes_bottom)
    axis_y = charts[-1]["y1"] + 4 if charts else lanes_bottom
    ticks = [{"x": xs.x(t), "label": fmt_time(t)} for t in svg.time_ticks(duration_s)]
    return {
        "width": svg.WIDTH, "height": round(axis_y + 22, 1), "x0": xs.x0, "x1": xs.x1,
        "plot_w": round(xs.width, 2), "duration_s": round(duration_s, 3),
        "lanes": lanes, "charts": charts, "axis_y": axis_y, "ticks": ticks,
        "lanes_top": top, "lanes_bottom": lanes_bottom,
        "legend_events": [
            {"label": s["label"], "letter": s["letter"], "css": s["css"],
             "d": svg.marker_path(s["shape"], 9, 9, 6.0), "text_y": 11.2 if s["shape"] == "triangle" else 12.0}
            for s in EVENT_STYLES.values()
        ],
        "legend_speakers": [{"label": st["label"], "colour": st["colour"], "dash": st["dash"]}
                            for st in styles.values()],
    }


def _curves(result: Mapping[str, Any], xs: svg.TimeScale,
            styles: Mapping[str, Mapping[str, Any]], y_start: float) -> list[dict[str, Any]]:
    """Loudness and speech-rate charts, one downsampled line per speaker."""
    tracks = [p for p in result.get("prosody", ()) if _num(p.get("step_s")) > 0]
    if not tracks:
        return []
    specs = (
        ("loudness_db", "Loudness", "dB", 3.0, 5.0, None, 10.0, None),
        ("rate_wpm", "Speech rate", "wpm", 10.0, 50.0, 0.0, 100.0, (120.0, 170.0)),
    )
    charts = []
    y = y_start + 6
    for key, title, unit, pad, step, floor, min_span, band in specs:
        sampled = []
        for p in tracks:
            pts = svg.downsample(list(p.get(key) or ()), _num(p.get("step_s")))
            sampled.append((str(p.get("speaker")), pts))
        values = [v for _, pts in sampled for _, v in pts if v is not None]
        if not values:
            continue
        if band is not None:
            values += list(band)
        lo, hi = svg.nice_range(values, pad=pad, step=step, floor=floor, min_span=min_span)
        ys = svg.ValueScale(lo, hi, y + 8, y + CHART_H - 8)
        lines = []
        for sid, pts in sampled:
            st = styles.get(sid, {"label": sid, "colour": "#5b6472", "dash": ""})
            d = svg.curve_path(pts, xs, ys)
            if d:
                lines.append({"d": d, "colour": st["colour"], "dash": st["dash"], "label": st["label"],
                              "points": sum(1 for _, v in pts if v is not None)})
        chart = {
            "title": title, "unit": unit, "y0": y, "y1": y + CHART_H,
            "title_y": y + CHART_H / 2 - 2, "unit_y": y + CHART_H / 2 + 12,
            "lines": lines,
            "yticks": [{"y": ys.y(v), "label": f"{v:g}"} for v in svg.value_ticks(lo, hi)],
            "band": None,
        }
        if band is not None:
            chart["band"] = {"y": ys.y(band[1]), "h": round(ys.y(band[0]) - ys.y(band[1]), 2),
                             "label": f"calm pace {band[0]:g}\u2013{band[1]:g} wpm",
                             "label_y": round(ys.y(band[1]) - 3, 2)}
        charts.append(chart)
        y += CHART_H + 4
    return charts


def _evidence_list(check: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for ev in check.get("evidence", ()) or ():
        start = _num(ev.get("start_s"))
        out.append({"t": round(start, 2), "time": fmt_time(start), "text": str(ev.get("text", "")),
                    "end_s": _num(ev.get("end_s"), start)})
    out.sort(key=lambda e: e["t"])
    return out


def _scorecard(result: Mapping[str, Any]) -> dict[str, Any]:
    sc = result.get("scorecard", {}) or {}
    groups: dict[str, list[dict[str, Any]]] = {}
    counts: Counter[str] = Counter()
    for c in sc.get("checks", ()) or ():
        status = str(c.get("status", "na"))
        style = STATUS_STYLES.get(status, STATUS_STYLES["na"])
        counts[status] += 1
        evidence = _evidence_list(c)
        phrasing = str(c.get("better_phrasing") or "")
        item = {
            "id": str(c.get("id", "")), "title": _check_title(c), "status": status,
            "status_label": style["label"], "icon": style["icon"], "css": style["css"],
            "role": ROLE_LABELS.get(str(c.get("role")), "Speaker"),
            "tip": str(c.get("tip") or ""), "better_phrasing": phrasing,
            "evidence": evidence[:MAX_EVIDENCE_LINKS],
            "more_evidence": max(0, len(evidence) - MAX_EVIDENCE_LINKS),
            "said": evidence[0]["text"] if phrasing and evidence else "",
        }
        category = str(c.get("category") or "Other checks")
        groups.setdefault(CATEGORY_TITLES.get(category, category), []).append(item)
    order = {name: i for i, name in enumerate(CATEGORY_ORDER)}
    status_order = {"fail": 0, "pass": 1, "na": 2}
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
    return {"categories": cats, "n_pass": counts["pass"], "n_fail": counts["fail"], "n_na": counts["na"],
            "total": sum(counts.values())}


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
        out.append({
            "index": i, "speaker": sid, "role": st["role"], "role_label": st["label"],
            "t": round(start, 2), "time": fmt_time(start),
            "segments": highlight_segments(text, marks[i]) if marks[i] else [{"text": text, "mark": None}],
            "notes": notes[i], "flagged": bool(notes[i]),
            # decoded again by the larger speech model (a fast agent turn)
            "reheard": any(str(r.get("speaker", "")) == sid and _num(r.get("start_s")) < _num(t.get("end_s"))
                           and _num(r.get("end_s")) > start for r in reheard),
        })
    return out


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


def _speakers(result: Mapping[str, Any], styles: Mapping[str, Mapping[str, Any]], duration_s: float) -> list[dict[str, Any]]:
    out = []
    for sid, st in styles.items():
        s = st["summary"]
        talk = _num(s.get("talk_time_s"))
        rate, loud = svg.clean(s.get("rate_wpm")), svg.clean(s.get("loudness_db"))
        out.append({
            "id": sid, "label": st["label"], "colour": st["colour"],
            "talk_time": fmt_time(talk), "talk_share": f"{round(100 * talk / duration_s)} %" if duration_s else "",
            "rate": f"{rate:.0f} wpm" if rate is not None else "\u2013",
            "loudness": f"{loud:.1f} dB" if loud is not None else "\u2013",
        })
    return out


def call_view(result: Mapping[str, Any], audio_href: str | None) -> dict[str, Any]:
    """The per-call view-model: every value the ``call.html`` template shows, prepared.

    ``result`` is :func:`callcoach.records.result_to_dict` output (or the
    JSON read back); ``audio_href`` is a link to the recording relative to the
    report, a ``data:`` URI, or None (no player).
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
    return {
        "title": f"Call {call_id} \u2013 coaching report",
        "call_id": call_id,
        "source": _source_name(result),
        "duration": fmt_time(duration_s),
        "duration_s": round(duration_s, 3),
        "score": {"value": "\u2013" if score is None else f"{score:.0f}", "label": band["label"],
                  "css": band["css"], "pct": 0 if score is None else round(min(max(score, 0), 100))},
        "trajectory": {"value": trajectory, **traj},
        "work_on": [str(x) for x in sc.get("work_on", ()) or ()],
        "went_well": [str(x) for x in sc.get("went_well", ()) or ()],
        "speakers": _speakers(result, styles, duration_s),
        "timeline": _timeline(result, duration_s, styles),
        "scorecard": _scorecard(result),
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


def _line_levels(result: Mapping[str, Any]) -> tuple[float | None, dict[str, tuple[float, str]]]:
    """``meta.line`` read defensively: the noisy-line limit (None when off or absent) and, per speaker
    with a finite level, (SNR in dB, the model that decoded them)."""
    line = (result.get("meta") or {}).get("line") or {}
    speakers = line.get("speakers") if isinstance(line.get("speakers"), Mapping) else {}
    levels = {}
    for sid, level in speakers.items():
        snr = svg.clean(level.get("snr_db")) if isinstance(level, Mapping) else None
        if snr is not None:
            levels[str(sid)] = (snr, str(level.get("model", "")))
    return svg.clean(line.get("noisy_below_snr_db")), levels


def _noisy_lines(result: Mapping[str, Any], styles: Mapping[str, Mapping[str, Any]]) -> list[dict[str, str]]:
    """The parties whose line was noisy enough for the larger speech model (``meta.line``), agent first."""
    limit, levels = _line_levels(result)
    if limit is None:
        return []
    return [{"who": str(st["label"]), "snr": f"{levels[sid][0]:.0f} dB", "model": levels[sid][1]}
            for sid, st in styles.items() if sid in levels and levels[sid][0] < limit]


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
    }


# ----------------------------------------------------------------------- csv

_CSV_UNSAFE = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula (file names come from users)."""
    return "'" + value if value.startswith(_CSV_UNSAFE) else value


def write_csv(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Write ``calls.csv``: one row per call, from :func:`index_row` rows.

    Columns: call_id, source, agent, duration_s, score, customer_trajectory,
    line_snr_db (the noisiest party's speech over their line's noise, empty
    when unknown), ``<event>_<role>`` counts for each event type and role (agent, customer,
    then any other role found, such as ``unknown`` for silences), failed_checks
    (count), failed_check_ids (``;``-separated), then ``check_<id>`` with each
    check's status (empty when the check was not run on that call).
    """
    kinds = list(CSV_EVENT_TYPES)
    check_ids: list[str] = []
    for r in rows:
        kinds += [k for k in r.get("event_counts", {}) if k not in kinds]
        check_ids += [c for c in r.get("checks", {}) if c not in check_ids]
    roles = list(ROLES)
    for r in rows:
        for by_role in r.get("event_counts", {}).values():
            roles += [x for x in by_role if x not in roles]
    event_cols = [(k, role) for k in kinds for role in roles]
    header = ["call_id", "source", "agent", "duration_s", "score", "customer_trajectory", "line_snr_db",
              *[f"{k}_{role}" for k, role in event_cols], "failed_checks", "failed_check_ids",
              *[f"check_{c}" for c in check_ids]]
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in rows:
            counts = r.get("event_counts", {})
            checks = r.get("checks", {})
            writer.writerow([
                _csv_text(str(r.get("call_id", ""))), _csv_text(str(r.get("source", ""))),
                _csv_text(str(r.get("agent", ""))),
                r.get("duration_s", ""), "" if r.get("score") is None else r["score"],
                r.get("trajectory", ""), "" if r.get("line_snr_db") is None else r["line_snr_db"],
                *[counts.get(k, {}).get(role, 0) for k, role in event_cols],
                len(r.get("failed", ())), ";".join(r.get("failed", ())),
                *[checks.get(c, "") for c in check_ids],
            ])


# ------------------------------------------------------------------ renderer


def default_templates_dir() -> Path:
    """The packaged templates: ``callcoach.templates`` when installed, else ``reports/templates``."""
    try:
        res = importlib.resources.files("callcoach.templates")
        path = Path(str(res))
        if path.is_dir() and (path / "call.html").is_file():
            return path
    except (ModuleNotFoundError, TypeError, ValueError, FileNotFoundError):
        pass
    return Path(__file__).resolve().parent.parent / "reports" / "templates"


class ReportRenderer:
    """Renders call reports and the batch index from jinja2 templates.

    ``templates_dir`` (optional) is searched before the packaged templates, so
    a team can override any single template (``call.html``, ``index.html``,
    or a partial such as ``_styles.html``). All templates are loaded and
    compiled here, eagerly.

    Raises:
        TemplateError: ``templates_dir`` is not a folder, or a template is
            missing or does not compile (the message names the file and, for
            syntax errors, the line).
    """

    def __init__(self, templates_dir: Path | None = None) -> None:
        search: list[Path] = []
        if templates_dir is not None:
            templates_dir = Path(templates_dir)
            if not templates_dir.is_dir():
                raise TemplateError(f"{templates_dir}: templates folder not found")
            search.append(templates_dir)
        search.append(default_templates_dir())
        self.search_path = tuple(search)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(p) for p in search]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["time"] = fmt_time
        names = sorted({*_TEMPLATE_NAMES, *(n for n in self._list() if n.endswith(".html"))})
        self.templates = {name: self._load(name) for name in names}

    def _list(self) -> list[str]:
        try:
            return self.env.list_templates()
        except OSError:
            return []

    def _load(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateNotFound:
            where = ", ".join(str(p) for p in self.search_path)
            raise TemplateError(f"{name}: template not found (looked in {where})") from None
        except jinja2.TemplateSyntaxError as exc:
            file = exc.filename or name
            raise TemplateError(f"{file}:{exc.lineno}: template syntax error: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{name}: cannot load template: {exc}") from exc

    def _render(self, name: str, view: Mapping[str, Any]) -> str:
        template = self.templates[name]
        try:
            return template.render(**view)
        except jinja2.TemplateError as exc:
            file = getattr(exc, "filename", None) or template.filename or name
            line = getattr(exc, "lineno", None)
            where = f"{file}:{line}" if line else str(file)
            raise TemplateError(f"{where}: cannot render template: {exc}") from exc

    def render_call(self, result: Mapping[str, Any], audio_href: str | None) -> str:
        """The per-call report (a complete, self-contained HTML page)."""
        return self._render("call.html", call_view(result, audio_href))

    def render_index(self, rows: Sequence[Mapping[str, Any]], agents: Sequence[Mapping[str, Any]]) -> str:
        """The batch index page from :func:`index_row` rows and :func:`agent_summaries`."""
        return self._render("index.html", _index_view(rows, agents))


__all__ = [
    "EVENT_STYLES",
    "ReportRenderer",
    "agent_summaries",
    "call_view",
    "default_templates_dir",
    "find_spans",
    "highlight_segments",
    "index_row",
    "score_band",
    "write_csv",
]
