"""The evidence of each check as the report shows it: who said what (quoted), a measurement (shown as one,
with whose it is), the moment a missed behaviour was needed and what followed, and a moment another check
already cites (named once)."""

from __future__ import annotations

import bisect
import re
from collections.abc import Mapping
from typing import Any

from callcoach.analysis.events import CALM_MAX_WPM
from callcoach.report.style import _MATCH_SLACK_S, ROLE_LABELS, ROLES, _check_title, _event_style, _num
from callcoach.report.svg import fmt_time

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


_RATE = re.compile(r"^(\d+) wpm")


def _measure_text(ev: Mapping[str, Any]) -> str:
    """An event's detail as a measurement a reader can check against the check's rule."""
    detail = str(ev.get("detail", ""))
    if ev.get("type") == "rapid_speech" and (m := _RATE.match(detail)):
        return f"{m.group(1)} wpm, over the calm limit of {CALM_MAX_WPM:.0f} wpm"
    return detail


MISSING = {
    "acknowledge": "no acknowledgement of their feelings followed",
    "apology": "no apology followed",
    "paraphrase": "the agent did not sum up the problem",
    "open_question": "no open question followed",
    "ownership": "the agent did not take the problem on",
    "personalize": "the agent did not use the customer's name",
    "solution": "no concrete solution followed",
    "next_steps": "no next steps or timeline followed",
    "escalation": "no supervisor or escalation was offered",
    "boundary": "no respectful limit was set",
    "document_threats": "the threat was not noted",
    "calm_tone": "the agent's voice did not stay calm",
    "no_mirroring": "the agent matched the customer's anger",
    "patience": "the agent replied before the customer had finished venting",
}
"""For a check the agent failed at a moment of the customer's: what did not happen (plain words)."""


class _Moments:
    """What the evidence of a check points at: a turn's words, an event's measurement, or neither."""

    def __init__(self, result: Mapping[str, Any], styles: Mapping[str, Mapping[str, Any]]) -> None:
        self.turns = sorted(result.get("turns", ()) or (), key=lambda t: _num(t.get("start_s")))
        self.starts = [_num(t.get("start_s")) for t in self.turns]
        self.events = list(result.get("events", ()) or ())
        self.styles = styles

    def who(self, speaker: str, role: str) -> str:
        st = self.styles.get(speaker)
        return str(st["label"]) if st else ROLE_LABELS.get(role, "Speaker")

    def speaker_of(self, text: str, start: float, end: float) -> tuple[str, str] | None:
        """(speaker label, role) of the turn near ``start``..``end`` whose words hold ``text``."""
        i = bisect.bisect_right(self.starts, end + _MATCH_SLACK_S)
        for t in reversed(self.turns[max(0, i - 8):i]):
            if _num(t.get("end_s")) + _MATCH_SLACK_S < start:
                continue
            if find_spans(str(t.get("text", "")), text):
                return self.who(str(t.get("speaker", "")), str(t.get("role", ""))), str(t.get("role", ""))
        return None

    def event_of(self, text: str, start: float) -> Mapping[str, Any] | None:
        return next((e for e in self.events if abs(_num(e.get("start_s")) - start) < 0.05
                     and str(e.get("detail", "")) == text), None)

    def reply_after(self, end: float, role: str) -> Mapping[str, Any] | None:
        """The first turn of ``role`` starting after ``end``."""
        i = bisect.bisect_left(self.starts, end - 0.3)
        return next((t for t in self.turns[i:] if t.get("role") == role), None)


def _evidence_list(check: Mapping[str, Any], moments: _Moments, seen: dict[tuple[float, str], str]) -> list[dict[str, Any]]:
    """A check's evidence, each item saying what it is.

    ``said``: words a speaker said, quoted and named; ``measure``: an event's
    measurement, shown as one (never as a quote) with whose it is;
    ``needed``: for a check the agent failed, a moment of the other side
    where the behaviour was needed, with what the agent did next; ``same``:
    a moment another check already cites (``seen``), named once.
    """
    judged = str(check.get("role", "agent"))
    status = str(check.get("status", "na"))
    title = _check_title(check)
    out = []
    for ev in check.get("evidence", ()) or ():
        start = _num(ev.get("start_s"))
        end = max(_num(ev.get("end_s"), start), start)
        text = str(ev.get("text", ""))
        item: dict[str, Any] = {"t": round(start, 2), "time": fmt_time(start), "text": text, "end_s": end,
                                "kind": "note", "who": "", "role": "", "what": "", "detail": "", "missing": "",
                                "same_as": "", "then": None, "source": ""}
        kind, speaker, role = str(ev.get("kind") or ""), str(ev.get("speaker") or ""), str(ev.get("role") or "")
        if kind == "said" and speaker:  # the scorecard says whose words these are
            said: tuple[str, str] | None = (moments.who(speaker, role), role)
        else:  # an older result: find the words in the transcript
            said = moments.speaker_of(text, start, end) if text and kind != "event" else None
        event = None if said else moments.event_of(text, start)
        if said:
            item.update(kind="said", who=said[0], role=said[1])
        elif event is None and kind == "event":
            item.update(kind="measure", who=moments.who(speaker, role), role=role)
        elif event is not None:
            style = _event_style(str(event.get("type", "")))
            item.update(kind="measure", who=moments.who(str(event.get("speaker", "")), str(event.get("role", ""))),
                        role=str(event.get("role", "")), what=style["label"].lower(), text=_measure_text(event),
                        detail=str(event.get("detail", "")))
        if status == "fail" and item.get("role") and item["role"] != judged and judged in ROLES:
            reply = moments.reply_after(end, judged)
            item["source"], item["kind"] = item["kind"], "needed"
            item["missing"] = MISSING.get(str(check.get("id", "")), f"\u201c{title}\u201d did not follow")
            if reply is not None:
                r_start = _num(reply.get("start_s"))
                words = str(reply.get("text", "")).split()
                item["then"] = {"t": round(r_start, 2), "time": fmt_time(r_start),
                                "who": moments.who(str(reply.get("speaker", "")), judged),
                                "text": " ".join(words[:14]) + (" \u2026" if len(words) > 14 else "")}
        key = (round(start, 1), text)
        if key in seen and item["kind"] in ("needed", "measure"):
            item.update(kind="same", same_as=seen[key])
        else:
            seen.setdefault(key, title)
        out.append(item)
    out.sort(key=lambda e: e["t"])
    return out
