"""The call report's timeline and prosody curves, as SVG geometry for the template."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from callcoach.report import svg
from callcoach.report.style import (
    CHART_H,
    EVENT_STYLES,
    LANE_H,
    MARKER_R,
    MARKER_SPACING,
    ROLE_LABELS,
    _event_style,
    _num,
)
from callcoach.report.svg import fmt_time


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
