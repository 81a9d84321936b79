"""Stage 5b: conversation events, speaker summaries and the customer's trajectory.

``analyse`` is the stage's one entry point. It measures both speakers with
:mod:`callcoach.prosody` and finds, always against the speaker's own baseline:

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

import re
from dataclasses import asdict, dataclass
from typing import Mapping, Sequence

import numpy as np

from . import prosody
from .attribute import merge_intervals
from .prosody import HOP_S, Baseline, SpeakerFrames
from .records import Audio, Diarization, Event, ProsodyTrack, Role, SpeakerSummary, SpeechSegment, Trajectory, Turn, Word
from .settings import EventThresholds

SMOOTH_S = 1.0
MERGE_GAP_S = 1.5
RAISED_MIN_MEASURED_S = 0.5
CALM_MAX_WPM = 180.0
PATIENCE_MIN_WORDS = 8
CALMER_MARGIN = 0.25
TURN_GAP_S = 1.0  # a pause this long in the customer's speech is the other party's turn
UPSET_TEXT_TYPES = frozenset({"threat", "abuse", "insult", "profanity", "complaint"})

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
    base = {s: prosody.baseline(frames.get(s), seg_records[s], turns_of[s]) for s in speakers}
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
    tracks = tuple(prosody.track(s, frames.get(s), words_of[s], audio.duration_s) for s in speakers)
    said = tuple(Event("complaint", "customer", "", a, b, "") for a, b in upset_words)
    traj = trajectory(speakers, role, segments, frames, base, words_of, events, text_events + said, thresholds)
    return ProsodyResult(tracks, summaries, tuple(events), traj, base, thresholds)


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


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    if not mask.any():
        return []
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[0::2].tolist(), edges[1::2].tolist()))


# --------------------------------------------------------------------------- raised voice


def _pieces_of(turns: Sequence[Turn]) -> list[tuple[Turn, tuple[Word, ...]]]:
    """Each turn's words in pieces of at most ``prosody.RATE_PIECE_S`` (a short turn is one piece)."""
    return [(t, piece) for t in turns for piece in prosody.split_words(t.words)]


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
    f0 = prosody.nan_median(frames.pitch_hz[i:j], prosody.MIN_PIECE_FRAMES)
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
    loud = prosody.moving_mean(frames.loudness_db, width, width // 4)
    with np.errstate(invalid="ignore"):
        candidate = frames.active & (loud - base.loudness_db >= min(th.raised_loudness_db, th.raised_loudness_with_strong_pitch_db))
    gap = int(round(MERGE_GAP_S / HOP_S))
    regions: list[list[int]] = []
    for i, j in _runs(candidate):
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
        d_db = prosody.nan_median(frames.loudness_db[i:j])
        f0 = prosody.nan_median(frames.pitch_hz[i:j])
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

    Pace (:func:`callcoach.prosody.pace_wpm`) is measured over a whole turn,
    or over equal pieces of at most ``prosody.RATE_PIECE_S`` of a long turn,
    never over a few words: a piece needs ``rapid_min_words`` words and
    ``rapid_min_duration_s`` of speaking time. Rapid pieces of one turn are
    one event.
    """
    limit = rapid_limit(base, th)
    found = []
    for k, (turn, piece) in enumerate(_pieces_of(turns)):
        if len(piece) < th.rapid_min_words or prosody.speaking_time_s(piece, prosody.PACE_MAX_PAUSE_S) < th.rapid_min_duration_s:
            continue
        pace = prosody.pace_wpm(piece, frames)
        if pace is not None and pace >= limit:
            if found and found[-1][0] is turn and found[-1][1] == k - 1:  # the next piece of the same turn
                found[-1] = (turn, k, found[-1][2] + piece)
            else:
                found.append((turn, k, piece))
    events = []
    for _, _, words in found:
        a, b = words[0].start_s, words[-1].end_s
        pace = prosody.pace_wpm(words, frames) or limit
        wpm = prosody.rate_wpm(words, prosody.PACE_MAX_PAUSE_S) or 0.0
        sps = prosody.syllables_per_s(words, prosody.PACE_MAX_PAUSE_S)
        detail = f"{wpm:.0f} wpm"
        if sps is not None:
            detail += f" ({sps:.1f} syllables/s)"
        if base.rate_wpm:
            detail += f", {wpm / base.rate_wpm:.1f}x this speaker's usual {base.rate_wpm:.0f} wpm"
        if base.pace_wpm:
            detail += f" (pace {pace:.0f}, usual {base.pace_wpm:.0f})"
        events.append(Event("rapid_speech", role, speaker, round(a, 2), round(b, 2), detail))
    return events


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
            if overlap < th.interruption_min_overlap_s:
                continue
            over = [w for w in tb.words if w.start_s < spans[-1][1]]
            if over and is_backchannel(over):
                continue  # listened over the other's end, then took the turn
            who = f"{ta.speaker} ({role.get(ta.speaker, 'unknown')})"
            detail = f"cut off {who}: started {overlap:.1f} s before they finished"
            if ta.end_s > tb.end_s:
                detail = f"talked over {who} for {overlap:.1f} s while they kept speaking"
            events.append(Event("interruption", role.get(tb.speaker, "unknown"), tb.speaker, round(tb_start, 2), round(min(ta.end_s, tb.end_s), 2), detail))
            break
    return events


def long_silences(intervals: Sequence[tuple[float, float]], role: Mapping[str, Role], th: EventThresholds) -> list[Event]:
    """Gaps of at least ``long_silence_s`` between anyone's speech (before the first and after the last speech: not counted)."""
    agent = next((s for s, r in role.items() if r == "agent"), "")
    merged = merge_intervals(intervals)
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
