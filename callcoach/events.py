"""Stage 5b: conversation events, speaker summaries and the customer's trajectory.

``analyse`` is the stage's one entry point. It measures both speakers with
:mod:`callcoach.prosody` and finds, always against the speaker's own baseline:

- ``raised_voice``: the 1 s moving mean of loudness is ``raised_loudness_db``
  above baseline with pitch ``raised_pitch_ratio`` above baseline, or
  ``raised_loudness_only_db`` above baseline on loudness alone; raised
  stretches closer than ``MERGE_GAP_S`` are joined and a region needs at
  least ``raised_min_duration_s`` of raised frames.
- ``rapid_speech``: a run of the speaker's words whose 6 s windows run at
  ``rapid_rate_ratio`` x baseline (and above the calm band, ``CALM_MAX_WPM``)
  or at ``rapid_abs_wpm``, with ``rapid_min_words`` words and
  ``rapid_min_duration_s`` of speaking time.
- ``interruption``: a turn that starts while another speaker is speaking
  (inside their words, pauses up to 0.5 s included), overlaps them by
  ``interruption_min_overlap_s`` and has ``interruption_min_words`` words;
  a turn whose overlapping words are only backchannels ("mm-hmm", "right",
  "I see") never counts.
- ``long_silence``: nobody speaks for ``long_silence_s`` (role agent: the
  agent owns the silence on a call).
- ``patience_violation``: the agent starts a turn of ``PATIENCE_MIN_WORDS``
  words within ``patience_gap_s`` of an upset customer turn's end (upset: the
  turn overlaps a customer raised_voice or threat event).

The trajectory compares the customer's arousal in the last third of their
speech time with the more aroused of the first two thirds.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np

from . import prosody
from .prosody import HOP_S, Baseline, SpeakerFrames
from .records import Audio, Diarization, Event, ProsodyTrack, Role, SpeakerSummary, SpeechSegment, Trajectory, Turn, Word
from .settings import EventThresholds

SMOOTH_S = 1.0
MERGE_GAP_S = 1.5
RATE_WINDOW_S = 6.0
CALM_MAX_WPM = 170.0
PATIENCE_MIN_WORDS = 8
CALMER_MARGIN = 0.25
UPSET_TEXT_TYPES = frozenset({"threat", "abuse", "insult", "profanity"})

_BACKCHANNEL_WORDS = frozenset(
    "mm mmm mhm hmm hm uh huh uhhuh mmhmm um yeah yea yes yep yup ok okay right sure alright "
    "oh ah aha exactly true gotcha wow really cool fine".split()
)
_BACKCHANNEL_PAIRS = frozenset({"i see", "got it", "all right", "of course", "that's right", "i know", "makes sense"})


@dataclass(frozen=True)
class ProsodyResult:
    """What the prosody-and-events stage hands on.

    ``events`` holds only the events found here (raised_voice, rapid_speech,
    interruption, long_silence, patience_violation), sorted by start; the
    ``text_events`` given to :func:`analyse` are read, not repeated.
    """

    tracks: tuple[ProsodyTrack, ...]
    speakers: tuple[SpeakerSummary, ...]
    events: tuple[Event, ...]
    trajectory: Trajectory
    baselines: Mapping[str, Baseline]
    thresholds: EventThresholds

    def baselines_dict(self) -> dict[str, dict[str, float | None]]:
        return {s: {k: (round(v, 2) if v is not None else None) for k, v in asdict(b).items()} for s, b in self.baselines.items()}


def analyse(
    audio: Audio,
    diarization: Diarization,
    turns: tuple[Turn, ...],
    roles: Mapping[str, Role],
    role_confidence: Mapping[str, float],
    text_events: tuple[Event, ...],
    thresholds: EventThresholds,
) -> ProsodyResult:
    """Prosody tracks, speaker summaries, events and customer trajectory of one call."""
    speakers = list(diarization.speakers)
    speakers += sorted({t.speaker for t in turns} - set(speakers))
    segments = {s: _merge([(g.start_s, g.end_s) for g in diarization.segments if g.speaker == s]) for s in speakers}
    turns_of = {s: [t for t in turns if t.speaker == s] for s in speakers}
    for s in speakers:  # no acoustic segments (e.g. a text-only speaker): use the turns
        if not segments[s]:
            segments[s] = _merge([(t.start_s, t.end_s) for t in turns_of[s]])
    seg_records = {s: [SpeechSegment(s, a, b) for a, b in segments[s]] for s in speakers}
    frames = prosody.measure_speakers(audio, seg_records, diarization.channel_of)
    base = {s: prosody.baseline(frames.get(s), seg_records[s], turns_of[s]) for s in speakers}
    words_of = {s: [w for t in turns_of[s] for w in t.words] for s in speakers}
    role = {s: roles.get(s, "unknown") for s in speakers}

    events: list[Event] = []
    for s in speakers:
        events += raised_voice(frames[s], base[s], role[s], thresholds)
        events += rapid_speech(s, turns_of[s], base[s], role[s], thresholds)
    events += interruptions(turns, role, thresholds)
    events += long_silences([iv for s in speakers for iv in segments[s]] + [(t.start_s, t.end_s) for t in turns], role, thresholds)
    events += patience_violations(turns, role, events + list(text_events), thresholds)
    events.sort(key=lambda e: (e.start_s, e.type, e.speaker))

    summaries = _summaries(speakers, segments, base, role, role_confidence, diarization.channel_of)
    tracks = tuple(prosody.track(s, frames.get(s), words_of[s], audio.duration_s) for s in speakers)
    traj = trajectory(speakers, role, segments, frames, base, words_of, events, text_events, thresholds)
    return ProsodyResult(tracks, summaries, tuple(events), traj, base, thresholds)


# --------------------------------------------------------------------------- intervals


def _merge(intervals: Sequence[tuple[float, float]], gap_s: float = 0.0) -> list[tuple[float, float]]:
    out: list[list[float]] = []
    for a, b in sorted(intervals):
        if b <= a:
            continue
        if out and a - out[-1][1] <= gap_s:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


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


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    if not mask.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


# --------------------------------------------------------------------------- raised voice


def raised_voice(frames: SpeakerFrames, base: Baseline, role: Role, th: EventThresholds) -> list[Event]:
    """Sustained stretches of loudness (and pitch) above the speaker's baseline."""
    if base.loudness_db is None:
        return []
    width = int(round(SMOOTH_S / HOP_S))
    loud = prosody.moving_mean(frames.loudness_db, width, width // 4)
    log_pitch = prosody.moving_mean(np.log2(frames.pitch_hz), width, width // 4)
    rise_db = loud - base.loudness_db
    with np.errstate(invalid="ignore"):
        pitch_ok = (log_pitch >= np.log2(base.pitch_hz * th.raised_pitch_ratio)) if base.pitch_hz else np.zeros(len(loud), bool)
        raised = frames.active & (((rise_db >= th.raised_loudness_db) & pitch_ok) | (rise_db >= th.raised_loudness_only_db))
    gap = int(round(MERGE_GAP_S / HOP_S))
    regions: list[list[int]] = []
    for a, b in _runs(raised):
        if regions and a - regions[-1][1] < gap:
            regions[-1][1] = b
        else:
            regions.append([a, b])
    events = []
    for a, b in regions:
        if raised[a:b].sum() * HOP_S < th.raised_min_duration_s:
            continue
        d_db = prosody.nan_median(frames.loudness_db[a:b])
        f0 = prosody.nan_median(frames.pitch_hz[a:b])
        detail = f"+{d_db - base.loudness_db:.0f} dB" if d_db is not None else "louder"
        if f0 is not None and base.pitch_hz:
            detail += f" and {100 * (f0 / base.pitch_hz - 1):+.0f}% pitch"
        detail += " above this speaker's usual level"
        events.append(Event("raised_voice", role, frames.speaker, round((a + 1) * HOP_S, 2), round(b * HOP_S, 2), detail))
    return events


# --------------------------------------------------------------------------- rapid speech


def rapid_speech(speaker: str, turns: Sequence[Turn], base: Baseline, role: Role, th: EventThresholds) -> list[Event]:
    """Sustained word rates above ``rapid_rate_ratio`` x baseline (and the calm band) or ``rapid_abs_wpm``.

    6 s windows of words run inside each turn; flagged windows are joined,
    slow edge words trimmed, and regions of the same speaker less than
    ``MERGE_GAP_S`` apart merged before the duration and word-count checks.
    """
    limit = th.rapid_abs_wpm
    if base.rate_wpm is not None:
        limit = min(limit, max(base.rate_wpm * th.rapid_rate_ratio, CALM_MAX_WPM))
    regions: list[list[Word]] = []
    for t in turns:
        for piece in _fast_spans(list(t.words), limit, th.rapid_min_words):
            if regions and piece[0].start_s - regions[-1][-1].end_s < MERGE_GAP_S:
                regions[-1] += piece
            else:
                regions.append(list(piece))
    events = []
    for piece in regions:
        wpm = prosody.rate_wpm(piece) or 0.0
        if len(piece) < th.rapid_min_words or prosody.speaking_time_s(piece) < th.rapid_min_duration_s or wpm < limit:
            continue
        sps = prosody.syllables_per_s(piece)
        detail = f"{wpm:.0f} wpm"
        if sps is not None:
            detail += f" ({sps:.1f} syllables/s)"
        if base.rate_wpm:
            detail += f", {wpm / base.rate_wpm:.1f}x this speaker's usual {base.rate_wpm:.0f} wpm"
        events.append(Event("rapid_speech", role, speaker, round(piece[0].start_s, 2), round(piece[-1].end_s, 2), detail))
    return events


def _fast_spans(words: list[Word], limit: float, min_words: int) -> list[list[Word]]:
    """Runs of ``words`` covered by 6 s windows at ``limit`` wpm or faster, slow edges trimmed."""
    starts = np.array([w.start_s for w in words])
    spans: list[list[int]] = []
    for i in range(len(words)):
        j = int(np.searchsorted(starts, starts[i] + RATE_WINDOW_S))
        if j - i >= min_words and (prosody.rate_wpm(words[i:j]) or 0.0) >= limit:
            if spans and i <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], j)
            else:
                spans.append([i, j])
    out = []
    for i, j in spans:  # a window reaching into slower speech flags its slow words too
        while j - i > min_words and (prosody.rate_wpm(words[i : i + 3]) or 0.0) < limit:
            i += 1
        while j - i > min_words and (prosody.rate_wpm(words[j - 3 : j]) or 0.0) < limit:
            j -= 1
        out.append(words[i:j])
    return out


# --------------------------------------------------------------------------- turn-taking


def _tokens(words: Sequence[Word]) -> list[str]:
    text = " ".join(w.text for w in words).lower().replace("-", " ")
    return re.findall(r"[a-z']+", text)


def is_backchannel(words: Sequence[Word]) -> bool:
    """True when every word is a listener's token ("mm-hmm", "right", "okay", "I see", ...)."""
    tokens = _tokens(words)
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
    return _merge([(w.start_s, w.end_s) for w in turn.words], gap_s=prosody.MAX_PAUSE_S)


def interruptions(turns: Sequence[Turn], role: Mapping[str, Role], th: EventThresholds) -> list[Event]:
    """Turns that start over another speaker's speech and keep going (backchannels excluded)."""
    events = []
    ordered = sorted(turns, key=lambda t: t.start_s)
    open_turns: list[Turn] = []  # earlier turns still running at tb's start
    for tb in ordered:
        open_turns = [t for t in open_turns if t.end_s > tb.start_s]
        candidates = list(open_turns)
        open_turns.append(tb)
        if len(tb.words) < th.interruption_min_words:
            continue
        if len(tb.words) <= th.backchannel_max_words and is_backchannel(tb.words):
            continue
        for ta in candidates:
            if ta.speaker == tb.speaker or not ta.start_s < tb.start_s < ta.end_s:
                continue
            spans = _speech_spans(ta)
            if not any(a <= tb.start_s < b for a, b in spans):
                continue  # the other speaker was in a pause of their turn
            overlap = _intersection_s([(tb.start_s, tb.end_s)], spans)
            if overlap < th.interruption_min_overlap_s:
                continue
            over = [w for w in tb.words if w.start_s < spans[-1][1]]
            if over and is_backchannel(over):
                continue  # listened over the other's end, then took the turn
            who = f"{ta.speaker} ({role.get(ta.speaker, 'unknown')})"
            detail = f"cut off {who}: started {overlap:.1f} s before they finished"
            if ta.end_s > tb.end_s:
                detail = f"talked over {who} for {overlap:.1f} s while they kept speaking"
            events.append(Event("interruption", role.get(tb.speaker, "unknown"), tb.speaker, round(tb.start_s, 2), round(min(ta.end_s, tb.end_s), 2), detail))
            break
    return events


def long_silences(intervals: Sequence[tuple[float, float]], role: Mapping[str, Role], th: EventThresholds) -> list[Event]:
    """Gaps of at least ``long_silence_s`` between anyone's speech (before the first and after the last speech: not counted)."""
    agent = next((s for s, r in role.items() if r == "agent"), "")
    merged = _merge(intervals)
    events = []
    for (_, a), (b, _) in zip(merged, merged[1:]):
        if b - a >= th.long_silence_s:
            events.append(Event("long_silence", "agent", agent, round(a, 2), round(b, 2), f"{b - a:.0f} s with no one speaking (hold or dead air)"))
    return events


def patience_violations(turns: Sequence[Turn], role: Mapping[str, Role], upset_events: Sequence[Event], th: EventThresholds) -> list[Event]:
    """The agent starting a long turn right after an upset customer turn ends."""
    upset = [e for e in upset_events if e.role == "customer" and (e.type == "raised_voice" or e.type in UPSET_TEXT_TYPES)]
    events = []
    for tc in turns:
        if role.get(tc.speaker) != "customer" or not any(e.start_s < tc.end_s and e.end_s > tc.start_s for e in upset):
            continue
        for ta in turns:
            gap = ta.start_s - tc.end_s
            if role.get(ta.speaker) != "agent" or len(ta.words) < PATIENCE_MIN_WORDS:
                continue
            if -th.interruption_min_overlap_s < gap <= th.patience_gap_s:
                detail = f"began a {len(ta.words)}-word turn {max(gap, 0.0):.1f} s after the upset customer stopped"
                events.append(Event("patience_violation", "agent", ta.speaker, round(ta.start_s, 2), round(ta.end_s, 2), detail))
    return events


# --------------------------------------------------------------------------- summaries and trajectory


def _summaries(speakers, segments, base, role, role_confidence, channel_of) -> tuple[SpeakerSummary, ...]:
    talk = {s: sum(b - a for a, b in segments[s]) for s in speakers}
    total = sum(talk.values())
    out = []
    for s in speakers:
        others = _merge([iv for o in speakers if o != s for iv in segments[o]])
        b = base[s]
        out.append(
            SpeakerSummary(
                id=s,
                role=role[s],
                role_confidence=float(role_confidence.get(s, 0.0)),
                talk_time_s=round(talk[s], 2),
                talk_ratio=round(talk[s] / total, 3) if total > 0 else 0.0,
                rate_wpm=None if b.rate_wpm is None else round(b.rate_wpm, 1),
                loudness_db=None if b.loudness_db is None else round(b.loudness_db, 1),
                pitch_hz=None if b.pitch_hz is None else round(b.pitch_hz, 1),
                overlap_s=round(_intersection_s(segments[s], others), 2),
                channel=channel_of.get(s),
            )
        )
    return tuple(out)


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
    if not upset:
        return "not_upset"
    main = max(customers, key=lambda s: sum(b - a for a, b in segments[s]), default=None)
    cuts = _thirds(_merge([iv for s in customers for iv in segments[s]]))
    if cuts is None:
        return "not_calmer"
    bounds = [(-np.inf, cuts[0]), (cuts[0], cuts[1]), (cuts[1], np.inf)]
    scores = [_arousal(main, a, b, frames, base, words_of, th) + sum(a <= e.start_s < b for e in upset) for a, b in bounds]
    if any(bounds[2][0] <= e.start_s for e in upset):
        return "not_calmer"
    return "calmer" if scores[2] < max(scores[0], scores[1]) - CALMER_MARGIN else "not_calmer"


def _arousal(speaker, a: float, b: float, frames, base, words_of, th: EventThresholds) -> float:
    """Mean of loudness, pitch and rate rises in [a, b), each in units of its event threshold."""
    if speaker is None:
        return 0.0
    parts = []
    f, bl = frames.get(speaker), base[speaker]
    if f is not None:
        i = prosody.frame_index(max(a, 0.0))
        j = len(f.loudness_db) if b == np.inf else prosody.frame_index(b)
        loud, f0 = prosody.nan_median(f.loudness_db[i:j], 8), prosody.nan_median(f.pitch_hz[i:j], 8)
        if loud is not None and bl.loudness_db is not None:
            parts.append((loud - bl.loudness_db) / th.raised_loudness_db)
        if f0 is not None and bl.pitch_hz:
            parts.append((f0 / bl.pitch_hz - 1) / (th.raised_pitch_ratio - 1))
    words = [w for w in words_of[speaker] if a <= w.start_s < b]
    wpm = prosody.rate_wpm(words) if len(words) >= 4 else None
    if wpm is not None and bl.rate_wpm:
        parts.append((wpm / bl.rate_wpm - 1) / (th.rapid_rate_ratio - 1))
    return float(np.mean(parts)) if parts else 0.0
