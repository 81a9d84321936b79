"""Turn-taking events: interruptions (backchannels never count), long silences and the agent's impatience
after an upset customer; see :mod:`callcoach.analysis.events` for the rules."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

from callcoach.analysis import prosody
from callcoach.records import (
    Event,
    Role,
    Turn,
    Word,
)
from callcoach.settings import EventThresholds
from callcoach.speech.attribute import merge_intervals

# patience (COACHING.md: the agent does not start a long turn within a fraction of a second of an upset
# customer's turn ending): an agent turn of this many words or more, starting from the interruption
# threshold before the customer's turn ends to the gap after it, the defaults of the event thresholds
PATIENCE_MIN_WORDS = 8
PATIENCE_GAP_S: float = EventThresholds.patience_gap_s
PATIENCE_MAX_OVERLAP_S: float = EventThresholds.interruption_min_overlap_s

UPSET_TEXT_TYPES = frozenset({"threat", "abuse", "insult", "profanity", "complaint"})

_BACKCHANNEL_WORDS = frozenset(
    "mm mmm mhm hmm hm uh huh uhhuh mmhmm um yeah yea yes yep yup ok okay right sure alright "
    "oh ah aha exactly true gotcha wow really cool fine".split()
)
_NEVER_LAST = frozenset("the a an to of and or but my your our their his her its is are was were for with at in on from that which".split())
_BACKCHANNEL_PAIRS = frozenset({"i see", "got it", "all right", "of course", "that's right", "i know", "makes sense"})

# --------------------------------------------------------------------------- intervals


def _intersection_s(xs: Sequence[tuple[float, float]], ys: Sequence[tuple[float, float]]) -> float:
    """Total overlap of two sorted lists of disjoint intervals (linear sweep)."""
    total, i, j = 0.0, 0, 0
    while i < len(xs) and j < len(ys):
        total += max(0.0, min(xs[i][1], ys[j][1]) - max(xs[i][0], ys[j][0]))
        if xs[i][1] < ys[j][1]:
            i += 1
        else:
            j += 1
    return total


def _clip(spans: Sequence[tuple[float, float]], keep: Sequence[tuple[float, float]], pad_s: float = 0.05) -> list[tuple[float, float]]:
    """The parts of ``spans`` that lie inside ``keep`` (widened by ``pad_s``)."""
    out = []
    for a, b in spans:
        for c, d in keep:
            lo, hi = max(a, c - pad_s), min(b, d + pad_s)
            if hi > lo:
                out.append((lo, hi))
    return sorted(out)

# --------------------------------------------------------------------------- turn-taking


def _tokens(words: Sequence[Word]) -> list[str]:
    text = " ".join(w.text for w in words).lower().replace("-", " ")
    return re.findall(r"[a-z']+", text)


# a listener's hum as the recogniser spells it: "M -M -H -M", "Mm-hm", "-N", "Hmm"
_MURMUR = re.compile(r"[mhn]+")


def _collapse_murmurs(tokens: Sequence[str]) -> list[str]:
    """Each run of murmur tokens ("m", "m", "h", "m") as one "mm"."""
    out: list[str] = []
    for t in tokens:
        if _MURMUR.fullmatch(t):
            if not out or out[-1] != "mm":
                out.append("mm")
        else:
            out.append(t)
    return out


def is_backchannel(words: Sequence[Word], max_words: int | None = None) -> bool:
    """True when every word is a listener's token ("mm-hmm", "right", "okay", "I see", a hum, ...),
    and, with ``max_words``, there are at most that many (a hum spelled as letters is one)."""
    tokens = _collapse_murmurs(_tokens(words))
    if max_words is not None and len(tokens) > max_words:
        return False
    i = 0
    while i < len(tokens):
        if " ".join(tokens[i : i + 2]) in _BACKCHANNEL_PAIRS:
            i += 2
        elif tokens[i] in _BACKCHANNEL_WORDS:
            i += 1
        else:
            return False
    return bool(tokens)


def _speech_spans(turn: Turn) -> list[tuple[float, float]]:
    if not turn.words:
        return [(turn.start_s, turn.end_s)]
    return merge_intervals([(w.start_s, w.end_s) for w in turn.words], gap_s=prosody.MAX_PAUSE_S)


def _voice_start(turn: Turn, segments: Sequence[tuple[float, float]] | None, reach_s: float = 3.0, breath_s: float = 0.5) -> float:
    """When the speaker's voice really began: on a mono call the words spoken over
    the other person are often heard as theirs (or lost), so the turn's first word
    comes late; the speaker's diarized speech that runs into the turn, across
    pauses under ``breath_s``, shows the start (no earlier than ``reach_s`` before it)."""
    start = turn.start_s
    for a, b in sorted(segments or (), reverse=True):
        if a < start and b >= start - breath_s and a >= turn.start_s - reach_s:
            start = a
    return start


def interruptions(
    turns: Sequence[Turn],
    role: Mapping[str, Role],
    th: EventThresholds,
    segments: Mapping[str, Sequence[tuple[float, float]]] | None = None,
) -> list[Event]:
    """Turns that start over another speaker's speech and keep going (backchannels excluded).

    ``segments`` (diarized speech per speaker) lets a turn start where its
    speaker's voice began, which matters on mono calls."""
    events = []
    starts = {id(t): _voice_start(t, (segments or {}).get(t.speaker)) for t in turns}
    ordered = sorted(turns, key=lambda t: starts[id(t)])
    open_turns: list[Turn] = []  # earlier turns still running at tb's start
    for tb in ordered:
        tb_start = starts[id(tb)]
        open_turns = [t for t in open_turns if t.end_s > tb_start]
        candidates = list(open_turns)
        open_turns.append(tb)
        if len(tb.words) < th.interruption_min_words:
            continue
        if is_backchannel(tb.words, th.backchannel_max_words):
            continue
        for ta in candidates:
            if ta.speaker == tb.speaker or not starts[id(ta)] < tb_start < ta.end_s:
                continue
            spans = _speech_spans(ta)
            if segments and segments.get(ta.speaker):
                # word ends stretch into the next speaker's start; the other's voice must still be heard
                spans = _clip(spans, segments[ta.speaker]) or spans
            if not any(a <= tb_start < b for a, b in spans):
                continue  # the other speaker was in a pause of their turn
            overlap = _intersection_s([(tb_start, tb.end_s)], spans)
            stopped_s = spans[-1][1] - tb_start  # how soon the other's voice stopped
            # talked over for long enough, or over a sentence that then broke off soon after
            cut = (overlap >= th.interruption_cut_overlap_s and stopped_s <= th.interruption_cut_stop_s
                   and ta.end_s <= tb.end_s and _broke_off(ta) and tb.words[0].start_s < spans[-1][1])
            if overlap < th.interruption_min_overlap_s and not cut:
                continue
            over = [w for w in tb.words if w.start_s < spans[-1][1]]
            # listened over the other's end, then took the turn; but not when the "okay" ran over the other for
            # the interruption overlap and they stopped at once: that is a cut-off opened with a backchannel
            gave_up = overlap >= th.interruption_min_overlap_s and stopped_s <= th.interruption_cut_stop_s
            if over and is_backchannel(over) and not (gave_up and len(over) < len(tb.words)):
                continue
            who = f"{ta.speaker} ({role.get(ta.speaker, 'unknown')})"
            detail = f"cut off {who}: started {overlap:.1f} s before they finished"
            if overlap < th.interruption_min_overlap_s:
                detail = f"cut off {who} mid-sentence: they stopped {stopped_s:.1f} s after being talked over"
            if ta.end_s > tb.end_s:
                detail = f"talked over {who} for {overlap:.1f} s while they kept speaking"
            events.append(Event("interruption", role.get(tb.speaker, "unknown"), tb.speaker, round(tb_start, 2), round(min(ta.end_s, tb.end_s), 2), detail))
            break
    return events


def _broke_off(turn: Turn, min_words: int = 3) -> bool:
    """Whether a turn ends mid-sentence: its last word without a full stop, question or exclamation mark
    (the recogniser writes a cut-off sentence with none, or with a dash or "..."), after at least
    ``min_words`` words of that sentence (two words at a turn change are often the other party's, misheard)."""
    ends = [k for k, w in enumerate(turn.words) if w.text.strip().endswith((".", "?", "!")) and not w.text.strip().endswith("...")]
    last = turn.words[-1].text.strip() if turn.words else ""
    if ends and ends[-1] == len(turn.words) - 1:
        # the recogniser often closes a cut-off sentence with a full stop anyway; a sentence never ends on "the"
        if re.sub(r"[^a-z']", "", last.lower()) not in _NEVER_LAST or len(turn.words) < min_words:
            return False
        return True
    return len(turn.words) - (ends[-1] + 1 if ends else 0) >= min_words


def long_silences(intervals: Sequence[tuple[float, float]], role: Mapping[str, Role], th: EventThresholds) -> list[Event]:
    """Gaps of at least ``long_silence_s`` between anyone's speech (before the first and after the last speech: not counted)."""
    agent = next((s for s, r in role.items() if r == "agent"), "")
    merged = merge_intervals(intervals)
    events = []
    for (_, a), (b, _) in zip(merged, merged[1:]):
        if b - a >= th.long_silence_s:
            events.append(Event("long_silence", "agent", agent, round(a, 2), round(b, 2), f"{b - a:.0f} s with no one speaking (hold or dead air)"))
    return events


def customer_upset_spans(events: Sequence[Event], complaints: Sequence[tuple[float, float]] = ()) -> list[tuple[float, float]]:
    """(start_s, end_s) where the customer is upset: their raised voice, their threats and abuse, and
    ``complaints`` (where their words complain)."""
    spans = [(e.start_s, e.end_s) for e in events
             if e.role == "customer" and (e.type == "raised_voice" or e.type in UPSET_TEXT_TYPES)]
    return sorted(spans + [(a, b) for a, b in complaints])


def patience_violations(
    turns: Sequence[Turn], role: Mapping[str, Role], upset: Sequence[tuple[float, float]], *,
    gap_s: float = PATIENCE_GAP_S, min_words: int = PATIENCE_MIN_WORDS, max_overlap_s: float = PATIENCE_MAX_OVERLAP_S,
) -> list[Event]:
    """The agent starting a long turn right after an upset customer turn ends: the one patience rule.

    An upset customer turn is one that overlaps a span of ``upset``
    (:func:`customer_upset_spans`).
    A violation is an agent turn of ``min_words`` ASR words or more that
    starts from ``max_overlap_s`` before that turn's end to ``gap_s`` after
    it. ``max_overlap_s`` is the interruption threshold
    (``interruption_min_overlap_s``): a reply that overlaps the customer
    longer is an interruption, judged by no_talk_over, not here. The events
    stage and the scorecard's patience check both call this.
    """
    events = []
    for tc in turns:
        if role.get(tc.speaker) != "customer" or not any(a < tc.end_s and b > tc.start_s for a, b in upset):
            continue
        for ta in turns:
            gap = ta.start_s - tc.end_s
            if role.get(ta.speaker) != "agent" or len(ta.words) < min_words:
                continue
            if -max_overlap_s < gap <= gap_s:
                detail = f"began a {len(ta.words)}-word turn {max(gap, 0.0):.1f} s after the upset customer stopped"
                events.append(Event("patience_violation", "agent", ta.speaker, round(ta.start_s, 2), round(ta.end_s, 2), detail))
    return events
