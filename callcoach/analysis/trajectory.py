"""The customer's trajectory: not upset, calmer or not calmer by the end of the call."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from callcoach.analysis import baselines, prosody
from callcoach.analysis.pace import rate_wpm
from callcoach.analysis.turn_taking import UPSET_TEXT_TYPES
from callcoach.records import Event, Trajectory, Word
from callcoach.settings import EventThresholds
from callcoach.speech.attribute import merge_intervals

CALMER_MARGIN = 0.25
TURN_GAP_S = 1.0  # a pause this long in the customer's speech is the other party's turn
UPSET_STRONG_COUNT = 2  # raised stretches that make an upset customer without upset words
UPSET_STRONG_RAISED_S = 4.0  # and so is a raised voice this long
UPSET_STRONG_EXTRA_DB = 3.0  # ... or this much louder than a raised voice needs


def _thirds(intervals: Sequence[tuple[float, float]]) -> tuple[float, float] | None:
    """Times at which a third and two thirds of the speech time have passed."""
    total = sum(b - a for a, b in intervals)
    if total <= 0:
        return None
    cuts, done = [], 0.0
    targets = [total / 3, 2 * total / 3]
    for a, b in intervals:
        while targets and done + (b - a) >= targets[0]:
            cuts.append(a + targets.pop(0) - done)
        done += b - a
    return cuts[0], cuts[1]


def trajectory(speakers, role, segments, frames, base, words_of, events, text_events, th: EventThresholds) -> Trajectory:
    """``not_upset``, ``calmer`` or ``not_calmer`` for the customer (the customer with most talk time for prosody)."""
    customers = [s for s in speakers if role[s] == "customer"]
    upset = [e for e in list(events) + list(text_events) if (e.role == "customer" or e.speaker in customers) and (e.type == "raised_voice" or e.type in UPSET_TEXT_TYPES)]
    if not is_upset(upset, lambda e: _loud_enough_alone(e, frames, base, th)):
        return "not_upset"
    main = max(customers, key=lambda s: sum(b - a for a, b in segments[s]), default=None)
    speech = merge_intervals([iv for s in customers for iv in segments[s]])
    cuts = _thirds(speech)
    if cuts is None:
        return "not_calmer"
    # the end is whole turns: a raised turn that runs past the two-thirds mark belongs to the middle
    end = next((a for (_, pb), (a, _) in zip(speech, speech[1:]) if a >= cuts[1] and a - pb >= TURN_GAP_S), cuts[1])
    bounds = [(-np.inf, cuts[0]), (cuts[0], end), (end, np.inf)]
    scores = [_arousal(main, a, b, frames, base, words_of, th) + sum(a <= e.start_s < b for e in upset) for a, b in bounds]
    if any(bounds[2][0] <= e.start_s for e in upset):
        return "not_calmer"
    # upset before, and the last turn still a complaint or a threat (to leave, ...): "I'm done with this company"
    last = _last_turn_start(words_of.get(main, ()) if main else ())
    said = [e for e in upset if e.type != "raised_voice"]
    if last is not None and any(e.end_s > last for e in said) and any(e.start_s < last for e in upset):
        return "not_calmer"
    return "calmer" if scores[2] < max(scores[0], scores[1]) - CALMER_MARGIN else "not_calmer"


def is_upset(evidence: Sequence[Event], strong: Callable[[Event], bool] = lambda e: False) -> bool:
    """Whether a customer's upset ``evidence`` (raised_voice events; complaint, threat, abuse, ... said) shows
    an upset customer: upset words (which a raised voice near them only confirms), or a raised voice that is
    strong on its own: in ``UPSET_STRONG_COUNT`` stretches, for ``UPSET_STRONG_RAISED_S`` in all, or one
    that ``strong`` says is loud enough alone. One loud moment alone (a surprised "Oh, okay!") is not. One loud moment or one grumble alone is not an upset customer."""
    voice = [e for e in evidence if e.type == "raised_voice"]
    if len(voice) < len(evidence):  # upset words said (a complaint or worse): the words are clear enough
        return True
    return len(voice) >= UPSET_STRONG_COUNT or sum(e.end_s - e.start_s for e in voice) >= UPSET_STRONG_RAISED_S or any(map(strong, voice))


def _loud_enough_alone(event: Event, frames, base, th: EventThresholds) -> bool:
    """A raised stretch ``UPSET_STRONG_EXTRA_DB`` louder than a raised voice needs (``raised_loudness_db``
    above the speaker's level, plus their :func:`raised_margins`): a strong voice."""
    f, b = frames.get(event.speaker), base.get(event.speaker)
    if f is None or b is None or b.loudness_db is None:
        return False
    level = baselines.nan_median(f.loudness_db[prosody.frame_index(event.start_s):prosody.frame_index(event.end_s)])
    return level is not None and level - b.loudness_db >= th.raised_loudness_db + baselines.raised_margins(b, th)[0] + UPSET_STRONG_EXTRA_DB


def _last_turn_start(words: Sequence[Word]) -> float | None:
    """Start of a speaker's last turn: their last words after a pause of ``TURN_GAP_S``."""
    if not words:
        return None
    ordered = sorted(words, key=lambda w: w.start_s)
    start = ordered[-1].start_s
    for prev, nxt in zip(reversed(ordered[:-1]), reversed(ordered[1:])):
        if nxt.start_s - prev.end_s >= TURN_GAP_S:
            break
        start = prev.start_s
    return start


def _arousal(speaker, a: float, b: float, frames, base, words_of, th: EventThresholds) -> float:
    """Mean of loudness, pitch and rate rises in [a, b), each in units of its event threshold."""
    if speaker is None:
        return 0.0
    parts = []
    f, bl = frames.get(speaker), base[speaker]
    if f is not None:
        i = prosody.frame_index(max(a, 0.0))
        j = len(f.loudness_db) if b == np.inf else prosody.frame_index(b)
        loud, f0 = baselines.nan_median(f.loudness_db[i:j], 8), baselines.nan_median(f.pitch_hz[i:j], 8)
        if loud is not None and bl.loudness_db is not None:
            parts.append((loud - bl.loudness_db) / th.raised_loudness_db)
        if f0 is not None and bl.pitch_hz:
            parts.append((f0 / bl.pitch_hz - 1) / (th.raised_pitch_ratio - 1))
    words = [w for w in words_of[speaker] if a <= w.start_s < b]
    wpm = rate_wpm(words) if len(words) >= 4 else None
    if wpm is not None and bl.rate_wpm:
        parts.append((wpm / bl.rate_wpm - 1) / (th.rapid_rate_ratio - 1))
    return float(np.mean(parts)) if parts else 0.0
