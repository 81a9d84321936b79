"""What the report's views share: event, status and role styles, chart sizes, and defensive readers of a
result's fields (a result from an older callcoach may lack some)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from callcoach.report import svg

# ----------------------------------------------------------------- constants

EVENT_STYLES: dict[str, dict[str, str]] = {
    "raised_voice": {"label": "Raised voice", "shape": "triangle", "letter": "R", "css": "ev-raised"},
    "rapid_speech": {"label": "Rapid speech", "shape": "diamond", "letter": "F", "css": "ev-rapid"},
    "interruption": {"label": "Interruption", "shape": "square", "letter": "I", "css": "ev-interrupt"},
    "threat": {"label": "Threat or abuse", "shape": "octagon", "letter": "!", "css": "ev-threat"},
    "long_silence": {"label": "Long silence", "shape": "circle", "letter": "S", "css": "ev-silence"},
    "patience_violation": {"label": "Replied too soon to an upset customer", "shape": "circle", "letter": "P",
                           "css": "ev-patience"},
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

_TEMPLATE_NAMES = ("call.html", "index.html", "_callnav.html")


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

# ---------------------------------------------------------------- view-model


def _critical_failures(result: Mapping[str, Any]) -> list[str]:
    """Titles of the critical checks that failed (``scorecard.failed_critical``): each fails the call."""
    sc = result.get("scorecard", {}) or {}
    titles = {str(c.get("id", "")): _check_title(c) for c in sc.get("checks", ()) or ()}
    return [titles.get(str(cid), str(cid)) for cid in sc.get("failed_critical", ()) or ()]


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
