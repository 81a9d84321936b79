"""How the conversation went, as call-analytics tools measure it.

Pure functions over the public JSON shape (:func:`measure`):

- who holds the floor: each speaker's share of the call, the time when
  both talk (overlap) and when no one does (non-talk: hold, typing,
  silence), which add up with the talk to the whole call;
- the longest monologue: the longest stretch one speaker holds the floor
  (the same speaker's turns less than :data:`MONOLOGUE_GAP_S` apart, with
  the other side's backchannels such as "mm-hmm" in between);
- interactivity: how often the floor passes from one speaker to the other,
  per minute;
- the customer's sentiment by quarter of the call, from their words
  (complaint, worry, insult and threat cues against thanks and relief, the
  scorecard's own cue lists in :mod:`callcoach.text.cues`) and their voice
  (the share of their speech in a raised-voice event).

Times are seconds from the start of the recording.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from callcoach.text.cues import BUILTIN_CUES
from callcoach.text.normalize import normalize
from callcoach.text.phrases import find_cues

MONOLOGUE_GAP_S = 3.0
"""A pause longer than this ends a monologue."""
BACKCHANNEL_MAX_WORDS = 2
"""A turn of this many words or fewer from the other side ("mm-hmm", "okay") does not take the floor."""
NEGATIVE_CUES = ("grievance", "distress", "insult", "profanity", "threat_legal", "threat_violence", "threat_review")
POSITIVE_CUES = ("settled",)
RAISED_FULL_SHARE = 0.5
"""The share of the customer's speech in a quarter that, raised, makes the voice score -1."""


def sentiment_label(score: float) -> str:
    """The label of a combined score (-1..1): upset (<= -0.5), negative (< -0.15), neutral, positive (> 0.15)."""
    if score <= -0.5:
        return "upset"
    if score < -0.15:
        return "negative"
    return "neutral" if score <= 0.15 else "positive"


def _num(value: Any) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return 0.0
    return v if v == v else 0.0


def _union(spans: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(spans):
        if b <= a:
            continue
        if out and a <= out[-1][1]:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _length(spans: Sequence[tuple[float, float]]) -> float:
    return sum(b - a for a, b in spans)


def _clip(spans: Sequence[tuple[float, float]], lo: float, hi: float) -> list[tuple[float, float]]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if b > lo and a < hi]


def _intersect(x: Sequence[tuple[float, float]], y: Sequence[tuple[float, float]]) -> list[tuple[float, float]]:
    out, i, j = [], 0, 0
    while i < len(x) and j < len(y):
        a, b = max(x[i][0], y[j][0]), min(x[i][1], y[j][1])
        if b > a:
            out.append((a, b))
        if x[i][1] < y[j][1]:
            i += 1
        else:
            j += 1
    return out


def _activity(result: Mapping[str, Any]) -> dict[str, list[tuple[float, float]]]:
    """Per speaker, the merged stretches of speech: the diarizer's ``speech[]``, else the turns."""
    source = result.get("speech") or result.get("turns") or ()
    per: dict[str, list[tuple[float, float]]] = {}
    for seg in source:
        per.setdefault(str(seg.get("speaker", "")), []).append((_num(seg.get("start_s")), _num(seg.get("end_s"))))
    return {sid: _union(spans) for sid, spans in per.items()}


def _overlap(activity: Mapping[str, list[tuple[float, float]]]) -> list[tuple[float, float]]:
    """Stretches where two or more speakers talk at once."""
    ids = list(activity)
    both: list[tuple[float, float]] = []
    for i, a in enumerate(ids):
        for b in ids[i + 1:]:
            both += _intersect(activity[a], activity[b])
    return _union(both)


def _runs(turns: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Stretches where one speaker holds the floor (see :data:`MONOLOGUE_GAP_S`, :data:`BACKCHANNEL_MAX_WORDS`)."""
    runs: list[dict[str, Any]] = []
    for t in sorted(turns, key=lambda t: _num(t.get("start_s"))):
        sid = str(t.get("speaker", ""))
        start, end = _num(t.get("start_s")), _num(t.get("end_s"))
        n_words = len(t.get("words") or ()) or len(str(t.get("text", "")).split())
        if runs and runs[-1]["speaker"] == sid and start - runs[-1]["end_s"] <= MONOLOGUE_GAP_S:
            runs[-1]["end_s"] = max(runs[-1]["end_s"], end)
        elif runs and runs[-1]["speaker"] != sid and n_words <= BACKCHANNEL_MAX_WORDS:
            continue  # a backchannel: the floor stays
        else:
            runs.append({"speaker": sid, "role": str(t.get("role", "unknown")), "start_s": start, "end_s": end})
    return runs


def _sentiment(result: Mapping[str, Any], activity: Mapping[str, list[tuple[float, float]]],
               duration_s: float) -> list[dict[str, Any]]:
    customers = [str(s.get("id")) for s in result.get("speakers", ()) or () if s.get("role") == "customer"]
    if not customers or duration_s <= 0:
        return []
    speech = _union([span for sid in customers for span in activity.get(sid, ())])
    raised = _union([(_num(e.get("start_s")), _num(e.get("end_s"))) for e in result.get("events", ()) or ()
                     if e.get("role") == "customer" and e.get("type") == "raised_voice"])
    turns = [t for t in result.get("turns", ()) or () if str(t.get("speaker")) in customers]
    hits = []
    for t in turns:
        norm = normalize(str(t.get("text", "")))
        neg = sum(len(find_cues(BUILTIN_CUES[name], norm)[0]) for name in NEGATIVE_CUES if name in BUILTIN_CUES)
        pos = sum(len(find_cues(BUILTIN_CUES[name], norm)[0]) for name in POSITIVE_CUES if name in BUILTIN_CUES)
        mid = (_num(t.get("start_s")) + _num(t.get("end_s"))) / 2
        hits.append((mid, neg, pos))
    out = []
    for q in range(4):
        lo, hi = duration_s * q / 4, duration_s * (q + 1) / 4
        talk = _length(_clip(speech, lo, hi))
        loud = _length(_intersect(_clip(speech, lo, hi), _clip(raised, lo, hi)))
        neg = sum(n for mid, n, _ in hits if lo <= mid < hi or (q == 3 and mid >= hi))
        pos = sum(p for mid, _, p in hits if lo <= mid < hi or (q == 3 and mid >= hi))
        item: dict[str, Any] = {"quarter": q + 1, "start_s": round(lo, 3), "end_s": round(hi, 3),
                                "customer_talk_s": round(talk, 3), "negative_cues": neg, "positive_cues": pos,
                                "raised_share": round(loud / talk, 3) if talk > 0 else 0.0}
        if talk <= 0 and not neg and not pos:
            item.update(words=None, voice=None, score=None, label="silent")
        else:
            words = (pos - neg) / (pos + neg) if pos + neg else 0.0
            voice = -min(1.0, item["raised_share"] / RAISED_FULL_SHARE)
            score = 0.5 * words + 0.5 * voice
            item.update(words=round(words, 3), voice=round(voice, 3), score=round(score, 3),
                        label=sentiment_label(score))
        out.append(item)
    return out


def measure(result: Mapping[str, Any]) -> dict[str, Any]:
    """The ``conversation`` object of a result (:func:`callcoach.records.result_to_dict` shape); see docs/SCHEMA.md."""
    duration_s = _num((result.get("call") or {}).get("duration_s"))
    activity = _activity(result)
    if duration_s <= 0:
        duration_s = max([b for spans in activity.values() for _, b in spans] + [0.0])
    talk = _union([span for spans in activity.values() for span in spans])
    talk_s = _length(talk)
    overlap_s = _length(_overlap(activity))
    non_talk_s = max(0.0, duration_s - talk_s)
    turns = sorted(result.get("turns", ()) or (), key=lambda t: _num(t.get("start_s")))
    switches = sum(1 for a, b in zip(turns, turns[1:]) if a.get("speaker") != b.get("speaker"))
    runs = _runs(turns)
    speakers: dict[str, dict[str, Any]] = {}
    roles = {str(s.get("id")): str(s.get("role", "unknown")) for s in result.get("speakers", ()) or ()}
    for sid in sorted(set(activity) | set(roles)):
        own = [r for r in runs if r["speaker"] == sid]
        longest = max(own, key=lambda r: r["end_s"] - r["start_s"], default=None)
        others = _union([span for other, spans in activity.items() if other != sid for span in spans])
        mine = activity.get(sid, [])
        speakers[sid] = {
            "role": roles.get(sid, "unknown"),
            "talk_s": round(_length(mine), 3),
            "alone_s": round(_length(mine) - _length(_intersect(mine, others)), 3),
            "share_of_call": round(_length(activity.get(sid, ())) / duration_s, 3) if duration_s else 0.0,
            "longest_monologue_s": round(longest["end_s"] - longest["start_s"], 3) if longest else 0.0,
            "longest_monologue_start_s": round(longest["start_s"], 3) if longest else None,
        }
    top = max(runs, key=lambda r: r["end_s"] - r["start_s"], default=None)
    return {
        "duration_s": round(duration_s, 3),
        "talk_s": round(talk_s, 3),
        "overlap_s": round(overlap_s, 3),
        "non_talk_s": round(non_talk_s, 3),
        "non_talk_share": round(non_talk_s / duration_s, 3) if duration_s else 0.0,
        "turn_switches": switches,
        "turn_switches_per_min": round(switches / (duration_s / 60.0), 2) if duration_s else 0.0,
        "longest_monologue": None if top is None else {
            "speaker": top["speaker"], "role": roles.get(top["speaker"], top["role"]),
            "start_s": round(top["start_s"], 3), "end_s": round(top["end_s"], 3),
            "duration_s": round(top["end_s"] - top["start_s"], 3)},
        "speakers": speakers,
        "customer_sentiment": _sentiment(result, activity, duration_s),
    }


def conversation_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """The result's ``conversation`` object, or a fresh one for a result written before it existed."""
    stored = result.get("conversation")
    if isinstance(stored, Mapping) and "non_talk_s" in stored:
        return dict(stored)
    return measure(result)


__all__ = ["conversation_of", "measure", "sentiment_label"]
