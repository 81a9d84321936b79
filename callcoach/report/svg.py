"""Geometry for the report's inline SVG timeline: pure functions, no markup.

The report template draws the SVG from the numbers prepared here, so every
piece of text (speaker ids, event details) goes through jinja's autoescape;
this module only produces coordinates and path strings made of numbers.

Coordinates are in SVG user units of a ``viewBox`` that is :data:`WIDTH`
units wide; times are seconds from the start of the recording.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

WIDTH = 1000.0
"""Width of the timeline's viewBox (user units)."""
PLOT_X0 = 112.0
"""Left edge of the plotting area; the lane labels sit left of it."""
PLOT_X1 = WIDTH - 14.0
"""Right edge of the plotting area."""
MAX_CURVE_POINTS = 600
"""Most points drawn per prosody curve, whatever the call length."""

_NICE_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600, 7200)


def fmt_time(seconds: float | None) -> str:
    """``mm:ss`` (or ``h:mm:ss`` from one hour), rounded to the nearest second (2.99 s is 00:03)."""
    if seconds is None or not math.isfinite(seconds):
        return "--:--"
    total = max(0, int(math.floor(seconds + 0.5)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes:02d}:{secs:02d}"


def clean(value: float | None) -> float | None:
    """A finite float, or None for null / NaN / infinity."""
    if value is None:
        return None
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class TimeScale:
    """Maps seconds in ``[0, duration_s]`` to x in ``[x0, x1]``."""

    duration_s: float
    x0: float = PLOT_X0
    x1: float = PLOT_X1

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def seconds_per_unit(self) -> float:
        return max(self.duration_s, 1e-9) / self.width

    def x(self, t_s: float) -> float:
        d = max(self.duration_s, 1e-9)
        t = min(max(t_s, 0.0), d)
        return round(self.x0 + t / d * self.width, 2)


@dataclass(frozen=True)
class ValueScale:
    """Maps a value in ``[lo, hi]`` to y in ``[y_bottom, y_top]`` (y grows downwards)."""

    lo: float
    hi: float
    y_top: float
    y_bottom: float

    def y(self, value: float) -> float:
        span = self.hi - self.lo or 1.0
        v = min(max(value, self.lo), self.hi)
        return round(self.y_bottom - (v - self.lo) / span * (self.y_bottom - self.y_top), 2)


def time_ticks(duration_s: float, max_ticks: int = 10) -> list[float]:
    """Round tick times from 0 to ``duration_s``, at most ``max_ticks`` + 1 of them."""
    if duration_s <= 0:
        return [0.0]
    step = next((s for s in _NICE_STEPS_S if duration_s / s <= max_ticks), None)
    if step is None:
        step = math.ceil(duration_s / max_ticks / 3600) * 3600
    n = int(duration_s // step)
    return [float(i * step) for i in range(n + 1)]


def value_ticks(lo: float, hi: float, max_ticks: int = 4) -> list[float]:
    """Round values between ``lo`` and ``hi`` (inclusive) for axis labels, at most ``max_ticks``."""
    span = hi - lo
    if span <= 0:
        return [lo]
    for step in (1, 2, 2.5, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        first = math.ceil(lo / step) * step
        ticks = [first + i * step for i in range(int((hi - first) // step) + 1)]
        if len(ticks) <= max_ticks:
            return [float(t) for t in ticks]
    return [lo, hi]


def nice_range(values: Iterable[float], *, pad: float, step: float,
               floor: float | None = None, min_span: float = 0.0) -> tuple[float, float]:
    """A ``(lo, hi)`` range covering ``values`` plus ``pad``, snapped to ``step``."""
    vals = [v for v in values]
    if not vals:
        lo, hi = (floor if floor is not None else 0.0), (floor or 0.0) + max(min_span, step)
        return lo, hi
    lo = math.floor((min(vals) - pad) / step) * step
    hi = math.ceil((max(vals) + pad) / step) * step
    if floor is not None:
        lo = max(lo, floor) if min(vals) >= floor else lo
    if hi - lo < min_span:
        hi = lo + math.ceil(min_span / step) * step
    return float(lo), float(hi)


def downsample(values: Sequence[float | None], step_s: float,
               max_points: int = MAX_CURVE_POINTS) -> list[tuple[float, float | None]]:
    """Average a regularly sampled curve into at most ``max_points`` ``(t_s, value)`` points.

    ``values[i]`` is the value at ``i * step_s`` seconds; None (or NaN) marks
    silence. Each output point is the mean of the non-silent values of one bin,
    placed at the bin's centre time, or None when the whole bin is silent, so
    gaps survive downsampling.
    """
    n = len(values)
    if n == 0 or step_s <= 0:
        return []
    max_points = max(1, max_points)
    size = max(1, math.ceil(n / max_points))
    out: list[tuple[float, float | None]] = []
    for start in range(0, n, size):
        chunk = [c for c in (clean(v) for v in values[start:start + size]) if c is not None]
        count = min(size, n - start)
        t = (start + (count - 1) / 2.0) * step_s
        out.append((t, sum(chunk) / len(chunk) if chunk else None))
    return out


def curve_path(points: Sequence[tuple[float, float | None]], xs: TimeScale, ys: ValueScale) -> str:
    """An SVG path ``d`` through the points, with a new subpath after each gap.

    A point with no neighbour becomes a tiny segment so that a round line cap
    shows it as a dot.
    """
    parts: list[str] = []
    run: list[tuple[float, float]] = []

    def flush() -> None:
        if not run:
            return
        (x, y), rest = run[0], run[1:]
        parts.append(f"M{x:g} {y:g}")
        if rest:
            parts.append("L" + " ".join(f"{px:g} {py:g}" for px, py in rest))
        else:
            parts.append("h0.01")
        run.clear()

    for t, v in points:
        if v is None:
            flush()
        else:
            run.append((xs.x(t), ys.y(v)))
    flush()
    return "".join(parts)


def merge_spans(spans: Iterable[tuple[float, float, int]], min_gap_s: float) -> list[tuple[float, float, int, int]]:
    """Join time spans closer than ``min_gap_s``; keeps ``(start_s, end_s, first_index, count)``.

    ``spans`` are ``(start_s, end_s, index)`` in time order. Used to keep the
    number of bars per lane bounded on a long call: turns that would touch at
    the drawing's resolution become one bar.
    """
    out: list[tuple[float, float, int, int]] = []
    for start, end, index in spans:
        if out and start - out[-1][1] < min_gap_s:
            s0, e0, i0, c0 = out[-1]
            out[-1] = (s0, max(e0, end), i0, c0 + 1)
        else:
            out.append((start, end, index, 1))
    return out


def marker_path(shape: str, cx: float, cy: float, r: float) -> str:
    """Path ``d`` of a marker shape centred on ``(cx, cy)`` with half-size ``r``."""
    def pts(coords: Iterable[tuple[float, float]]) -> str:
        return "M" + " L".join(f"{cx + dx:g} {cy + dy:g}" for dx, dy in coords) + "Z"

    if shape == "triangle":
        return pts([(0, -r * 1.1), (r * 1.05, r * 0.75), (-r * 1.05, r * 0.75)])
    if shape == "diamond":
        return pts([(0, -r * 1.2), (r * 1.2, 0), (0, r * 1.2), (-r * 1.2, 0)])
    if shape == "square":
        return pts([(-r, -r), (r, -r), (r, r), (-r, r)])
    if shape == "octagon":
        a = r * 0.42
        return pts([(-a, -r), (a, -r), (r, -a), (r, a), (a, r), (-a, r), (-r, a), (-r, -a)])
    # circle
    return (f"M{cx - r:g} {cy:g}a{r:g} {r:g} 0 1 0 {2 * r:g} 0"
            f"a{r:g} {r:g} 0 1 0 {-2 * r:g} 0Z")


__all__ = [
    "MAX_CURVE_POINTS",
    "PLOT_X0",
    "PLOT_X1",
    "TimeScale",
    "ValueScale",
    "WIDTH",
    "clean",
    "curve_path",
    "downsample",
    "fmt_time",
    "marker_path",
    "merge_spans",
    "nice_range",
    "time_ticks",
    "value_ticks",
]
