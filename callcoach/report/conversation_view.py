"""The call report's speaker figures and conversation card: each side's share of talk and of the call, who held
the floor (adding up to the whole call), interactivity, overlap, the longest monologue and the customer's
sentiment by quarter (from ``conversation`` in the result, :mod:`callcoach.analysis.conversation`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from callcoach.report import svg
from callcoach.report.style import ROLE_LABELS, _num
from callcoach.report.svg import fmt_time


def _pct(part: float, whole: float) -> str:
    if whole <= 0:
        return "\u2013"
    v = 100 * part / whole
    return f"{v:.0f} %" if v >= 1 or v == 0 else "<1 %"


def _speakers(result: Mapping[str, Any], styles: Mapping[str, Mapping[str, Any]], duration_s: float,
              conv: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    per = conv.get("speakers") or {}
    for sid, st in styles.items():
        s = st["summary"]
        talk = _num(s.get("talk_time_s"))
        rate, loud = svg.clean(s.get("rate_wpm")), svg.clean(s.get("loudness_db"))
        ratio = svg.clean(s.get("talk_ratio"))
        mono = per.get(sid) or {}
        longest = svg.clean(mono.get("longest_monologue_s"))
        out.append({
            "id": sid, "label": st["label"], "colour": st["colour"],
            "talk_time": fmt_time(talk),
            # talk_ratio in the JSON: this speaker's share of all talk (not of the call)
            "talk_share": f"{round(100 * ratio)} %" if ratio is not None else "\u2013",
            "call_share": _pct(talk, duration_s),
            "rate": f"{rate:.0f} wpm" if rate is not None else "\u2013",
            "loudness": f"{loud:.1f} dB" if loud is not None else "\u2013",
            "longest": f"{longest:.0f} s" if longest is not None else "\u2013",
            "longest_t": svg.clean(mono.get("longest_monologue_start_s")),
        })
    return out


SENTIMENT_STYLES = {
    "upset": {"label": "Upset", "icon": "\u25bc\u25bc", "css": "se-upset"},
    "negative": {"label": "Negative", "icon": "\u25bc", "css": "se-neg"},
    "neutral": {"label": "Neutral", "icon": "\u25cf", "css": "se-neutral"},
    "positive": {"label": "Positive", "icon": "\u25b2", "css": "se-pos"},
    "silent": {"label": "Not speaking", "icon": "\u2013", "css": "se-silent"},
}


def _conversation(result: Mapping[str, Any], styles: Mapping[str, Mapping[str, Any]], duration_s: float,
                  conv: Mapping[str, Any]) -> dict[str, Any]:
    """The floor (who talked, both, no one: adds to 100 % of the call), interactivity, monologue, sentiment."""
    per = conv.get("speakers") or {}
    total = _num(conv.get("duration_s")) or duration_s
    parts = []
    for sid, st in styles.items():
        alone = _num((per.get(sid) or {}).get("alone_s"))
        if alone > 0:
            parts.append({"label": f"{st['label']} alone", "colour": st["colour"], "css": "",
                          "pct": round(100 * alone / total, 2), "text": _pct(alone, total), "s": f"{alone:.0f} s"})
    both, none = _num(conv.get("overlap_s")), _num(conv.get("non_talk_s"))
    parts.append({"label": "Both at once", "colour": "#7c3aed", "css": "fl-both",
                  "pct": round(100 * both / total, 2), "text": _pct(both, total), "s": f"{both:.1f} s"})
    parts.append({"label": "No one talking (hold, silence)", "colour": "#cbd2dc", "css": "fl-none",
                  "pct": round(100 * none / total, 2), "text": _pct(none, total), "s": f"{none:.0f} s"})
    longest = conv.get("longest_monologue") or None
    mono = None
    if longest:
        sid = str(longest.get("speaker", ""))
        st = styles.get(sid)
        mono = {"who": st["label"] if st else ROLE_LABELS.get(str(longest.get("role")), "Speaker"),
                "s": f"{_num(longest.get('duration_s')):.0f} s", "t": round(_num(longest.get("start_s")), 2),
                "time": fmt_time(_num(longest.get("start_s")))}
    quarters = []
    for q in conv.get("customer_sentiment", ()) or ():
        label = str(q.get("label", "neutral"))
        style = SENTIMENT_STYLES.get(label, SENTIMENT_STYLES["neutral"])
        neg, pos = int(q.get("negative_cues") or 0), int(q.get("positive_cues") or 0)
        raised = _num(q.get("raised_share"))
        bits = []
        if label != "silent":
            bits.append(f"voice raised for {raised:.0%} of their speech" if raised else "voice at their usual level")
            words = []
            if neg:
                words.append(f"{neg} complaint or upset phrase{'s' if neg != 1 else ''}")
            if pos:
                words.append(f"{pos} thanks or relief")
            bits.append("; ".join(words) if words else "no complaint or thanks in their words")
        start = _num(q.get("start_s"))
        quarters.append({"n": int(q.get("quarter") or len(quarters) + 1), **style, "t": round(start, 2),
                         "time": fmt_time(start), "end": fmt_time(_num(q.get("end_s"))), "why": "; ".join(bits)})
    return {
        "floor": parts, "switches": f"{_num(conv.get('turn_switches_per_min')):.1f}",
        "overlap": f"{both:.1f} s", "non_talk": _pct(none, total), "monologue": mono, "quarters": quarters,
    }
