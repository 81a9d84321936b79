"""Conversation events, speaker summaries and the customer's trajectory (turn-taking events in
:mod:`callcoach.analysis.turn_taking`).

``analyse`` is the stage's one entry point. It measures both speakers with
:mod:`callcoach.analysis.prosody` and finds, always against the speaker's own baseline:

- ``raised_voice``: the 1 s moving mean of loudness is ``raised_loudness_db``
  above baseline with pitch ``raised_pitch_ratio`` above baseline, or
  ``raised_loudness_only_db`` above baseline on loudness alone; raised
  stretches closer than ``MERGE_GAP_S`` are joined and a region needs at
  least ``raised_min_duration_s`` of raised frames.
- ``rapid_speech``: a run of the speaker's words whose 6 s windows run at
  ``rapid_rate_ratio`` x baseline (above the calm band, ``CALM_MAX_WPM``, and
  capped at ``rapid_max_limit_wpm``), or at ``rapid_abs_wpm`` for a speaker
  whose usual pace is that fast, with ``rapid_min_words`` words and
  ``rapid_min_duration_s`` of speaking time.
- ``interruption``: a turn that starts while another speaker is speaking
  (inside their words, pauses up to 0.5 s included, and inside their
  diarized speech, since word ends stretch), overlaps them by
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

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from callcoach.analysis import baselines, prosody
from callcoach.analysis.pace import pace_wpm, rate_wpm, speaking_time_s, split_words, syllables_per_s
from callcoach.analysis.prosody import HOP_S, Baseline, SpeakerFrames
from callcoach.analysis.turn_taking import (
    UPSET_TEXT_TYPES,
    _intersection_s,
    interruptions,
    long_silences,
    patience_violations,
)
from callcoach.records import (
    Audio,
    Diarization,
    Event,
    ProsodyTrack,
    Role,
    SpeakerSummary,
    SpeechSegment,
    Trajectory,
    Turn,
    Word,
)
from callcoach.settings import EventThresholds
from callcoach.speech.attribute import merge_intervals
from callcoach.speech.frames import mask_runs

SMOOTH_S = 1.0
MERGE_GAP_S = 1.5
RAISED_MIN_MEASURED_S = 0.5
CALM_MAX_WPM = 180.0

CALMER_MARGIN = 0.25
TURN_GAP_S = 1.0  # a pause this long in the customer's speech is the other party's turn

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
    upset_words: Sequence[tuple[float, float]] = (),
) -> ProsodyResult:
    """Prosody tracks, speaker summaries, events and customer trajectory of one call.

    ``upset_words``: (start_s, end_s) of the customer's words that say they are
    upset (a complaint or a worry, found by the scorecard's cue sets); they
    count for the trajectory as raised-voice events do.
    """
    speakers = list(diarization.speakers)
    speakers += sorted({t.speaker for t in turns} - set(speakers))
    segments = {s: merge_intervals([(g.start_s, g.end_s) for g in diarization.segments if g.speaker == s]) for s in speakers}
    turns_of = {s: [t for t in turns if t.speaker == s] for s in speakers}
    for s in speakers:  # no acoustic segments (e.g. a text-only speaker): use the turns
        if not segments[s]:
            segments[s] = merge_intervals([(t.start_s, t.end_s) for t in turns_of[s]])
    seg_records = {s: [SpeechSegment(s, a, b) for a, b in segments[s]] for s in speakers}
    frames = prosody.measure_speakers(audio, seg_records, diarization.channel_of)
    base = {s: baselines.baseline(frames.get(s), seg_records[s], turns_of[s]) for s in speakers}
    words_of = {s: [w for t in turns_of[s] for w in t.words] for s in speakers}
    role = {s: roles.get(s, "unknown") for s in speakers}

    events: list[Event] = []
    for s in speakers:
        events += raised_voice(frames[s], base[s], role[s], thresholds, turns_of[s])
        events += rapid_speech(s, turns_of[s], base[s], role[s], thresholds, frames.get(s))
    events += interruptions(turns, role, thresholds, segments)
    events += long_silences([iv for s in speakers for iv in segments[s]] + [(t.start_s, t.end_s) for t in turns], role, thresholds)
    events += patience_violations(turns, role, events + list(text_events), thresholds)
    events.sort(key=lambda e: (e.start_s, e.type, e.speaker))

    summaries = _summaries(speakers, segments, base, role, role_confidence, diarization.channel_of)
    tracks = tuple(baselines.track(s, frames.get(s), words_of[s], audio.duration_s) for s in speakers)
    said = tuple(Event("complaint", "customer", "", a, b, "") for a, b in upset_words)
    traj = trajectory(speakers, role, segments, frames, base, words_of, events, text_events + said, thresholds)
    return ProsodyResult(tracks, summaries, tuple(events), traj, base, thresholds)

# --------------------------------------------------------------------------- raised voice


def _pieces_of(turns: Sequence[Turn]) -> list[tuple[Turn, tuple[Word, ...]]]:
    """Each turn's words in pieces of at most ``prosody.RATE_PIECE_S`` (a short turn is one piece)."""
    return [(t, piece) for t in turns for piece in split_words(t.words)]


def _join(spans: list[tuple[float, float, object]], gap_s: float) -> list[list]:
    """Spans (start, end, payload) joined when less than ``gap_s`` apart; payloads collected."""
    out: list[list] = []
    for a, b, payload in sorted(spans, key=lambda x: x[0]):
        if out and a - out[-1][1] < gap_s:
            out[-1][1] = max(out[-1][1], b)
            out[-1][2].append(payload)
        else:
            out.append([a, b, [payload]])
    return out


def _is_raised(frames: SpeakerFrames, base: Baseline, th: EventThresholds, i: int, j: int) -> bool:
    """Frames ``[i, j)``: median loudness (and pitch) over the measured frames above the raised thresholds."""
    level = frames.loudness_db[i:j]
    if base.loudness_db is None or np.count_nonzero(~np.isnan(level)) < int(round(RAISED_MIN_MEASURED_S / HOP_S)):
        return False
    rise = float(np.nanmedian(level)) - base.loudness_db
    f0 = baselines.nan_median(frames.pitch_hz[i:j], prosody.MIN_PIECE_FRAMES)
    ratio = f0 / base.pitch_hz if f0 is not None and base.pitch_hz else 0.0
    return ((rise >= th.raised_loudness_db and ratio >= th.raised_pitch_ratio) or rise >= th.raised_loudness_only_db
            or (rise >= th.raised_loudness_with_strong_pitch_db and ratio >= th.raised_strong_pitch_ratio))


def raised_voice(frames: SpeakerFrames, base: Baseline, role: Role, th: EventThresholds, turns: Sequence[Turn] = ()) -> list[Event]:
    """Sustained stretches spoken well above the speaker's own level.

    Candidate stretches are where the 1 s moving mean of loudness is
    ``raised_loudness_db`` above the speaker's baseline (joined across gaps
    under ``MERGE_GAP_S``, so pauses and short dips do not split a raised
    turn). A stretch is raised when the median of its own voiced frames is
    ``raised_loudness_db`` above baseline with the median pitch
    ``raised_pitch_ratio`` above baseline, or ``raised_loudness_only_db``
    above on loudness alone, or ``raised_loudness_with_strong_pitch_db`` above
    with the pitch ``raised_strong_pitch_ratio`` above: medians make it "most of the stretch", not a
    syllable. It must last ``raised_min_duration_s`` with at least
    ``RAISED_MIN_MEASURED_S`` of measured frames (mono: overlapped speech is
    not measured). Where overlap leaves too few measured frames for a
    stretch (mono calls), a whole turn, or a piece of a long one, that no
    stretch covers is judged by the same medians.
    """
    if base.loudness_db is None:
        return []
    width = int(round(SMOOTH_S / HOP_S))
    loud = baselines.moving_mean(frames.loudness_db, width, width // 4)
    with np.errstate(invalid="ignore"):
        candidate = frames.active & (loud - base.loudness_db >= min(th.raised_loudness_db, th.raised_loudness_with_strong_pitch_db))
    gap = int(round(MERGE_GAP_S / HOP_S))
    regions: list[list[int]] = []
    for i, j in mask_runs(candidate):
        if regions and i - regions[-1][1] < gap:
            regions[-1][1] = j
        else:
            regions.append([i, j])
    found: list[tuple[float, float, None]] = []
    for i, j in regions:
        if (j - i) * HOP_S < _raised_min_s(i * HOP_S, j * HOP_S, turns, th):
            continue
        if _is_raised(frames, base, th, i, j):
            found.append(((i + 1) * HOP_S, j * HOP_S, None))
    # mono: where overlap leaves only scattered measured frames, judge the whole turn (piece) instead
    for _, piece in _pieces_of(turns):
        a, b = piece[0].start_s, piece[-1].end_s
        if b - a < th.raised_min_duration_s or any(a < y and b > x for x, y, _ in found):
            continue
        if _is_raised(frames, base, th, prosody.frame_index(a), prosody.frame_index(b)):
            found.append((a, b, None))
    events = []
    for a, b, _ in _join(found, MERGE_GAP_S):
        i, j = prosody.frame_index(a), prosody.frame_index(b)
        d_db = baselines.nan_median(frames.loudness_db[i:j])
        f0 = baselines.nan_median(frames.pitch_hz[i:j])
        detail = f"+{d_db - base.loudness_db:.0f} dB" if d_db is not None else "louder"
        if f0 is not None and base.pitch_hz:
            detail += f" and {100 * (f0 / base.pitch_hz - 1):+.0f}% pitch"
        detail += " above this speaker's usual level"
        events.append(Event("raised_voice", role, frames.speaker, round(a, 2), round(b, 2), detail))
    return events


def _raised_min_s(a: float, b: float, turns: Sequence[Turn], th: EventThresholds) -> float:
    """How long a raised stretch in [a, b) must last: ``raised_min_duration_s``, or in a long turn
    ``raised_turn_share`` of it (at most ``raised_long_turn_min_s``), since a sentence's first
    stressed words are louder and higher than the rest without the voice being raised."""
    longest = max((t.end_s - t.start_s for t in turns if t.start_s < b and t.end_s > a), default=0.0)
    return max(th.raised_min_duration_s, min(th.raised_long_turn_min_s, th.raised_turn_share * longest))


# --------------------------------------------------------------------------- rapid speech


def rapid_limit(base: Baseline, th: EventThresholds) -> float:
    """Pace (words/min) at which this speaker counts as rapid.

    A speaker whose usual pace is already ``rapid_abs_wpm`` or more (fast all
    call) is rapid wherever they pass it; a speaker with no pace baseline, at
    ``rapid_abs_wpm``. Anyone else at ``rapid_rate_ratio`` x their usual pace,
    floored at the calm band (``CALM_MAX_WPM``) and capped at
    ``rapid_max_limit_wpm``, so a calm speaker's own quicker sentences
    (a few % over ``rapid_abs_wpm``) are not rapid speech.
    """
    if base.pace_wpm is None or base.pace_wpm >= th.rapid_abs_wpm:
        return th.rapid_abs_wpm
    return min(max(base.pace_wpm * th.rapid_rate_ratio, CALM_MAX_WPM), max(th.rapid_max_limit_wpm, th.rapid_abs_wpm))


def rapid_speech(speaker: str, turns: Sequence[Turn], base: Baseline, role: Role, th: EventThresholds, frames: SpeakerFrames | None = None) -> list[Event]:
    """Turns (or pieces of long turns) whose pace is above :func:`rapid_limit`.

    Pace (:func:`callcoach.analysis.pace.pace_wpm`) is measured over a whole turn,
    or over equal pieces of at most ``prosody.RATE_PIECE_S`` of a long turn,
    never over a few words: a piece needs ``rapid_min_words`` words and
    ``rapid_min_duration_s`` of speaking time. Rapid pieces of one turn are
    one event.
    """
    limit = rapid_limit(base, th)
    found = []
    for k, (turn, piece) in enumerate(_pieces_of(turns)):
        if len(piece) < th.rapid_min_words or speaking_time_s(piece, prosody.PACE_MAX_PAUSE_S) < th.rapid_min_duration_s:
            continue
        pace = pace_wpm(piece, frames)
        if pace is not None and pace >= limit:
            if found and found[-1][0] is turn and found[-1][1] == k - 1:  # the next piece of the same turn
                found[-1] = (turn, k, found[-1][2] + piece)
            else:
                found.append((turn, k, piece))
    events = []
    for _, _, words in found:
        a, b = words[0].start_s, words[-1].end_s
        pace = pace_wpm(words, frames) or limit
        wpm = rate_wpm(words, prosody.PACE_MAX_PAUSE_S) or 0.0
        sps = syllables_per_s(words, prosody.PACE_MAX_PAUSE_S)
        detail = f"{wpm:.0f} wpm"
        if sps is not None:
            detail += f" ({sps:.1f} syllables/s)"
        if base.rate_wpm:
            detail += f", {wpm / base.rate_wpm:.1f}x this speaker's usual {base.rate_wpm:.0f} wpm"
        if base.pace_wpm:
            detail += f" (pace {pace:.0f}, usual {base.pace_wpm:.0f})"
        events.append(Event("rapid_speech", role, speaker, round(a, 2), round(b, 2), detail))
    return events

# --------------------------------------------------------------------------- summaries and trajectory


def _summaries(speakers, segments, base, role, role_confidence, channel_of) -> tuple[SpeakerSummary, ...]:
    talk = {s: sum(b - a for a, b in segments[s]) for s in speakers}
    total = sum(talk.values())
    out = []
    for s in speakers:
        others = merge_intervals([iv for o in speakers if o != s for iv in segments[o]])
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
