"""Conversation events and speaker summaries (turn-taking events in :mod:`callcoach.analysis.turn_taking`,
the customer's trajectory in :mod:`callcoach.analysis.trajectory`).

``analyse`` is the stage's one entry point. It measures both speakers with
:mod:`callcoach.analysis.prosody` and finds, always against the speaker's own baseline and how
much their ordinary speech varies (:class:`~callcoach.analysis.prosody.Baseline` spreads):

- ``raised_voice``: stretches whose median level (and pitch) is above the raised thresholds of
  :class:`~callcoach.settings.EventThresholds`, moved up for a speaker whose speech varies a lot
  (:func:`callcoach.analysis.baselines.raised_margins`); only runs of raised speech with
  ``raised_min_words`` words and ``raised_min_speech_s`` of speech count (:func:`_sustained`).
- ``rapid_speech``: turns or pieces of turns above :func:`rapid_limit` whose context (the
  speaker's speech around them, ``rapid_context_words`` words) is fast too.
- ``interruption``, ``long_silence``, ``patience_violation``: see
  :mod:`callcoach.analysis.turn_taking`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from callcoach.analysis import baselines, prosody
from callcoach.analysis.pace import pace_wpm, rate_wpm, speaking_time_s, split_words, syllables_per_s
from callcoach.analysis.prosody import HOP_S, Baseline, SpeakerFrames
from callcoach.analysis.trajectory import trajectory
from callcoach.analysis.turn_taking import (
    _intersection_s,
    customer_upset_spans,
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
RAISED_CALM_WORDS = 4  # this many of a speaker's words outside raised stretches end a raised run
CALM_MAX_WPM = 180.0
RAPID_CONTEXT_REACH_S = 30.0  # a rapid piece's context: the speaker's words within this of it


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
    complaints: Sequence[tuple[float, float]] = (),
) -> ProsodyResult:
    """Prosody tracks, speaker summaries, events and customer trajectory of one call.

    ``upset_words``: (start_s, end_s) of the customer's words that say they are
    upset (a complaint or a worry, found by the scorecard's cue sets); they
    count for the trajectory as raised-voice events do. ``complaints``:
    (start_s, end_s) of the customer's complaints, which make a turn upset
    for ``patience_violation`` as in the scorecard's patience check.
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
    upset = customer_upset_spans(events + list(text_events), complaints)
    events += patience_violations(turns, role, upset, gap_s=thresholds.patience_gap_s,
                                  max_overlap_s=thresholds.interruption_min_overlap_s)
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
    """Frames ``[i, j)``: median loudness (and pitch) over the measured frames above the raised thresholds
    (moved up by :func:`raised_margins` for a speaker whose ordinary speech varies a lot)."""
    level = frames.loudness_db[i:j]
    if base.loudness_db is None or np.count_nonzero(~np.isnan(level)) < int(round(RAISED_MIN_MEASURED_S / HOP_S)):
        return False
    rise = float(np.nanmedian(level)) - base.loudness_db
    f0 = baselines.nan_median(frames.pitch_hz[i:j], prosody.MIN_PIECE_FRAMES)
    ratio = f0 / base.pitch_hz if f0 is not None and base.pitch_hz else 0.0
    db, factor = baselines.raised_margins(base, th)
    return ((rise >= th.raised_loudness_db + db and ratio >= th.raised_pitch_ratio) or rise >= th.raised_loudness_only_db + db
            or (rise >= th.raised_loudness_with_strong_pitch_db + db and ratio >= th.raised_strong_pitch_ratio * factor))


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
    margin_db, _ = baselines.raised_margins(base, th)
    with np.errstate(invalid="ignore"):
        candidate = frames.active & (loud - base.loudness_db >= min(th.raised_loudness_db, th.raised_loudness_with_strong_pitch_db) + margin_db)
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
    for a, b in _sustained(_join(found, MERGE_GAP_S), turns, th):
        i, j = prosody.frame_index(a), prosody.frame_index(b)
        d_db = baselines.nan_median(frames.loudness_db[i:j])
        f0 = baselines.nan_median(frames.pitch_hz[i:j])
        detail = f"+{d_db - base.loudness_db:.0f} dB" if d_db is not None else "louder"
        if f0 is not None and base.pitch_hz:
            detail += f" and {100 * (f0 / base.pitch_hz - 1):+.0f}% pitch"
        detail += " above this speaker's usual level"
        events.append(Event("raised_voice", role, frames.speaker, round(a, 2), round(b, 2), detail))
    return events


def _sustained(stretches: list[list], turns: Sequence[Turn], th: EventThresholds) -> list[tuple[float, float]]:
    """The raised stretches that belong to a sustained raised run of the speaker.

    A run is the speaker's raised stretches with no ordinary speech of theirs between (fewer than
    ``RAISED_CALM_WORDS`` words outside the stretches and ``MERGE_GAP_S`` away from them, however long
    the other party talks); it must hold
    ``raised_min_words`` words and ``raised_min_speech_s`` of speaking time. So a short loud "Thank you."
    or "Okay, okay!" among calm turns is never a raised voice, while a shouted "I can't afford this!"
    between two other raised turns is. Without words (no transcript), the stretches' time counts.
    """
    words = sorted((w for t in turns for w in t.words), key=lambda w: w.start_s)
    spans = [(a, b) for a, b, _ in stretches]
    if not words:
        return [(a, b) for a, b in spans if b - a >= th.raised_min_speech_s]
    inside = [[w for w in words if a - 0.1 <= (w.start_s + w.end_s) / 2 <= b + 0.1] for a, b in spans]
    calm = [w for w in words if not any(a - 0.1 <= (w.start_s + w.end_s) / 2 <= b + 0.1 for a, b in spans)]
    runs: list[list[int]] = []
    for k, (a, _) in enumerate(spans):
        if runs:
            prev_end = spans[runs[-1][-1]][1]
            # words just around a stretch are the rest of its sentence, not calm speech
            between = [w for w in calm if prev_end + MERGE_GAP_S < w.start_s < a - MERGE_GAP_S]
            if len(between) < RAISED_CALM_WORDS:
                runs[-1].append(k)
                continue
        runs.append([k])
    out = []
    for run in runs:
        said = [w for k in run for w in inside[k]]
        speech = sum(speaking_time_s(inside[k], prosody.MAX_PAUSE_S) for k in run)
        if len(said) >= th.raised_min_words and speech >= th.raised_min_speech_s:
            out += [spans[k] for k in run]
    return out


def _raised_min_s(a: float, b: float, turns: Sequence[Turn], th: EventThresholds) -> float:
    """How long a raised stretch in [a, b) must last: ``raised_min_duration_s``, or in a long turn
    ``raised_turn_share`` of it (at most ``raised_long_turn_min_s``), since a sentence's first
    stressed words are louder and higher than the rest without the voice being raised."""
    longest = max((t.end_s - t.start_s for t in turns if t.start_s < b and t.end_s > a), default=0.0)
    return max(th.raised_min_duration_s, min(th.raised_long_turn_min_s, th.raised_turn_share * longest))


# --------------------------------------------------------------------------- rapid speech


def rapid_limit(base: Baseline, th: EventThresholds) -> float:
    """Pace (words/min) at which this speaker counts as rapid.

    - A speaker fast all call (usual pace ``rapid_abs_wpm`` or more) and steady (a pace spread of at most
      ``rapid_steady_share`` of it, or too little speech to measure one) is rapid wherever they pass
      ``rapid_abs_wpm``.
    - Anyone else at ``rapid_rate_ratio`` x their usual pace, floored at the calm band (``CALM_MAX_WPM``)
      and capped at ``rapid_max_limit_wpm`` (``rapid_abs_wpm`` for a speaker with no pace baseline) ...
    - ... and, where their pace spread is measured, never under their usual pace plus ``rapid_spread_k``
      x that spread: a real speaker's fluent explanations run well above 200 words/min, and their quick
      sentences are not rapid speech.
    """
    if base.pace_wpm is None:
        return th.rapid_abs_wpm
    spread = base.pace_spread_wpm
    if base.pace_wpm >= th.rapid_abs_wpm:
        if spread is None or spread <= th.rapid_steady_share * base.pace_wpm:
            return th.rapid_abs_wpm
        usual = th.rapid_abs_wpm
    else:
        usual = min(max(base.pace_wpm * th.rapid_rate_ratio, CALM_MAX_WPM), max(th.rapid_max_limit_wpm, th.rapid_abs_wpm))
    return usual if spread is None else max(usual, base.pace_wpm + th.rapid_spread_k * spread)


def _context(piece: Sequence[Word], words: Sequence[Word], th: EventThresholds) -> list[Word]:
    """``piece`` widened by the speaker's nearest words (before or after, across turns: the other party's
    turns in between are pauses, left out of speaking time) to ``rapid_context_words`` words and
    ``rapid_context_s`` of speaking time, and a piece of fewer words than that to twice its own words
    and time (at most half of its context); shorter when the speaker says no more within ``RAPID_CONTEXT_REACH_S``."""
    index = {id(w): k for k, w in enumerate(words)}
    lo, hi = index[id(piece[0])], index[id(piece[-1])] + 1
    a, b = piece[0].start_s - RAPID_CONTEXT_REACH_S, piece[-1].end_s + RAPID_CONTEXT_REACH_S
    need_words, need_s = th.rapid_context_words, th.rapid_context_s
    if len(piece) < th.rapid_context_words:  # a few words: at most half of their context
        need_words = max(need_words, 2 * len(piece))
        need_s = max(need_s, 2 * speaking_time_s(piece, prosody.PACE_MAX_PAUSE_S))
    while hi - lo < need_words or speaking_time_s(words[lo:hi], prosody.PACE_MAX_PAUSE_S) < need_s:
        before = piece[0].start_s - words[lo - 1].end_s if lo > 0 and words[lo - 1].start_s >= a else None
        after = words[hi].start_s - piece[-1].end_s if hi < len(words) and words[hi].end_s <= b else None
        if before is None and after is None:
            break
        if after is None or (before is not None and before <= after):
            lo -= 1
        else:
            hi += 1
    return list(words[lo:hi])


def rapid_speech(speaker: str, turns: Sequence[Turn], base: Baseline, role: Role, th: EventThresholds, frames: SpeakerFrames | None = None) -> list[Event]:
    """Turns (or pieces of long turns) whose pace is above :func:`rapid_limit`, in fast speech that lasts.

    Pace (:func:`callcoach.analysis.pace.pace_wpm`) is measured over a whole turn, or over equal pieces of at
    most ``prosody.RATE_PIECE_S`` of a long turn: a piece needs ``rapid_min_words`` words and
    ``rapid_min_duration_s`` of speaking time. The piece's context, the speaker's speech around it
    (:func:`_context`: ``rapid_context_words`` words, ``rapid_context_s`` of speaking time), must run at
    ``rapid_context_share`` of the limit too, so a few quick words never make rapid speech alone (turns of a few words have
    extreme rates: Yuan, Liberman and Cieri, Interspeech 2006). Rapid pieces of one turn are one event.
    """
    limit = rapid_limit(base, th)
    words = [w for t in sorted(turns, key=lambda t: t.start_s) for w in t.words]
    found = []
    for k, (turn, piece) in enumerate(_pieces_of(turns)):
        if len(piece) < th.rapid_min_words or speaking_time_s(piece, prosody.PACE_MAX_PAUSE_S) < th.rapid_min_duration_s:
            continue
        pace = pace_wpm(piece, frames)
        if pace is None or pace < limit:
            continue
        context = _context(piece, words, th)
        enough = len(context) >= th.rapid_context_words and speaking_time_s(context, prosody.PACE_MAX_PAUSE_S) >= th.rapid_context_s
        if not enough or (pace_wpm(context, frames) or 0.0) < th.rapid_context_share * limit:
            continue
        if found and found[-1][0] is turn and found[-1][1] == k - 1:  # the next piece of the same turn
            found[-1] = (turn, k, found[-1][2] + piece)
        else:
            found.append((turn, k, piece))
    events = []
    for _, _, words_ in found:
        a, b = words_[0].start_s, words_[-1].end_s
        pace = pace_wpm(words_, frames) or limit
        wpm = rate_wpm(words_, prosody.PACE_MAX_PAUSE_S) or 0.0
        sps = syllables_per_s(words_, prosody.PACE_MAX_PAUSE_S)
        detail = f"{wpm:.0f} wpm"
        if sps is not None:
            detail += f" ({sps:.1f} syllables/s)"
        if base.rate_wpm:
            detail += f", {wpm / base.rate_wpm:.1f}x this speaker's usual {base.rate_wpm:.0f} wpm"
        if base.pace_wpm:
            detail += f" (pace {pace:.0f}, usual {base.pace_wpm:.0f})"
        events.append(Event("rapid_speech", role, speaker, round(a, 2), round(b, 2), detail))
    return events

# --------------------------------------------------------------------------- summaries


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






