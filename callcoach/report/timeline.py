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

COMPACT = {"width": 360.0, "x0": 70.0, "x1": 352.0, "ticks": 4, "points": 240}
"""The phone timeline: drawn 360 units wide, so shown at about one unit a pixel on a 390 px screen
and its 10-12 unit labels read at 10-12 px (the desktop one, 1000 units wide, would shrink them to 4 px)."""
WIDE = {"width": svg.WIDTH, "x0": svg.PLOT_X0, "x1": svg.PLOT_X1, "ticks": 10, "points": svg.MAX_CURVE_POINTS}


def _timeline(result: Mapping[str, Any], duration_s: float,
              styles: Mapping[str, Mapping[str, Any]], geom: Mapping[str, float] = WIDE) -> dict[str, Any]:
    """SVG geometry of the lanes, markers, curves and axis (``geom``: :data:`WIDE` or :data:`COMPACT`)."""
    xs = svg.TimeScale(duration_s, geom["x0"], geom["x1"])
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
    # marker that would cover the previous one in its lane moves right by up
    # to one marker, and beyond that joins it: the marker then shows how many
    # events it stands for and lists them (a marker never hides another, and
    # never drifts far from its time or off the plot on a busy call).
    call_lane: dict[str, Any] | None = None
    last_x: dict[str, float] = {}
    clustered = False
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
        cy = lane["marker_y"]
        if end - start > xs.seconds_per_unit * 2:
            lane["spans"].append({"x": x_start, "y": lane["bar_y"] - 4, "w": round(xs.x(end) - x_start, 2),
                                  "css": style["css"]})
        what = f"{style['label']} \u2013 {fmt_time(start)} \u2013 {ev.get('detail', '')}"
        if lane["markers"] and (cx - x_start > MARKER_SPACING or cx > xs.x1):
            _join(lane["markers"][-1], style, what)
            clustered = True
            continue
        last_x[lane["key"]] = cx
        lane["markers"].append({
            "x": round(cx, 2), "y": cy, "text_y": round(cy + (3.6 if style["shape"] == "triangle" else 3.3), 2),
            "d": svg.marker_path(style["shape"], cx, cy, MARKER_R), "letter": style["letter"],
            "css": style["css"], "t": round(start, 2),
            "label": f"{style['label']} ({ROLE_LABELS.get(str(ev.get('role')), 'Speaker').lower()}) "
                     f"at {fmt_time(start)}: play from here",
            "title": what, "count": 1, "kinds": [style["css"]], "shape": style["shape"],
        })

    lanes_bottom = top + len(lanes) * lane_h + 6
    charts = _curves(result, xs, styles, lanes_bottom, int(geom["points"]), compact=geom is not WIDE)
    axis_y = charts[-1]["y1"] + 4 if charts else lanes_bottom
    ticks = [{"x": xs.x(t), "label": fmt_time(t)} for t in svg.time_ticks(duration_s, int(geom["ticks"]))]
    return {
        "width": geom["width"], "height": round(axis_y + 22, 1), "x0": xs.x0, "x1": xs.x1,
        "plot_w": round(xs.width, 2), "duration_s": round(duration_s, 3),
        "lanes": lanes, "charts": charts, "axis_y": axis_y, "ticks": ticks,
        "lanes_top": top, "lanes_bottom": lanes_bottom,
        "legend_events": [
            {"label": s["label"], "letter": s["letter"], "css": s["css"],
             "d": svg.marker_path(s["shape"], 9, 9, 6.0), "text_y": 11.2 if s["shape"] == "triangle" else 12.0}
            for s in [*EVENT_STYLES.values(), *([CLUSTER_STYLE] if clustered else [])]
        ],
        "legend_speakers": [{"label": st["label"], "colour": st["colour"], "dash": st["dash"]}
                            for st in styles.values()],
    }


CLUSTER_STYLE = {"label": "Several events too close to draw apart (select it for the list; the table below has each)",
                 "shape": "circle", "letter": "2", "css": "ev-multi"}
"""A marker standing for several events of different kinds; one of a single kind keeps its shape and shows the count."""


def _join(marker: dict[str, Any], style: Mapping[str, str], what: str) -> None:
    """Make ``marker`` stand for one more event (``style``, described by ``what``)."""
    marker["count"] += 1
    if style["css"] not in marker["kinds"]:
        marker["kinds"].append(style["css"])
    if len(marker["kinds"]) > 1:  # mixed kinds: a neutral circle
        marker["css"] = CLUSTER_STYLE["css"]
        cx, cy = marker["x"], marker["y"]
        marker["d"] = svg.marker_path("circle", cx, cy, MARKER_R)
        marker["text_y"] = round(cy + 3.3, 2)
    marker["letter"] = str(marker["count"]) if marker["count"] < 10 else "9+"
    marker["title"] = f"{marker['title']}\n{what}"
    first = marker["label"].split(" at ")[-1].split(":")[0]
    marker["label"] = f"{marker['count']} events from {first}: play from there"


def _curves(result: Mapping[str, Any], xs: svg.TimeScale,
            styles: Mapping[str, Mapping[str, Any]], y_start: float, max_points: int = svg.MAX_CURVE_POINTS,
            *, compact: bool = False) -> list[dict[str, Any]]:
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
            pts = svg.downsample(list(p.get(key) or ()), _num(p.get("step_s")), max_points)
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
            # compact: the title sits above the plot, clear of the value labels left of it
            "title_y": y + 12 if compact else y + CHART_H / 2 - 2,
            "unit_y": y + 24 if compact else y + CHART_H / 2 + 12,
            "lines": lines,
            "yticks": [{"y": ys.y(v), "label": f"{v:g}"} for v in svg.value_ticks(lo, hi)
                       if not compact or ys.y(v) >= y + 30],
            "band": None,
        }
        if band is not None:
            chart["band"] = {"y": ys.y(band[1]), "h": round(ys.y(band[0]) - ys.y(band[1]), 2),
                             "label": f"calm pace {band[0]:g}\u2013{band[1]:g} wpm",
                             "label_y": round(ys.y(band[1]) - 3, 2)}
        charts.append(chart)
        y += CHART_H + 4
    return charts
