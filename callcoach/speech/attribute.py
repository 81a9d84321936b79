"""Give every word to a speaker and build turns from the words.

A mono call is transcribed once; each word goes to the speaker whose
diarized speech covers it most. In an overlap where both speakers cover the
word, it stays with the speaker who was already talking (the one whose turn
is open), which keeps a speaker's sentence whole when the other cuts in.
Whisper often starts the first word after a pause where the last word ended,
so a reply's first word can reach back into the other speaker's turn; such a
word is judged (and timed) by its end.
A stereo call is transcribed per channel, so its words already belong to the
channel's speaker; words outside that speaker's speech (crosstalk) are dropped.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np

from callcoach.records import Audio, Diarization, Role, SpeechSegment, Turn, Word
from callcoach.speech.transcribe import Transcriber

MAX_WORD_GAP_S = 1.0
FLOOR_TAKING_WORDS = 3
NEAREST_SEGMENT_S = 1.0
# Whisper folds a pause into the start of the word after it: that word begins where the last one
# ended and runs long. It is heard at its end, so it starts TYPICAL_WORD_S before its end and only
# that part decides its speaker (a reply would otherwise start before the pause that preceded it).
STRETCHED_WORD_S = 0.6
TYPICAL_WORD_S = 0.5
GLUED_S = 0.03
FOLDED_PAUSE_S = 0.2  # silence (no one diarized) inside the stretched part that shows the fold


def _coverage(segments: Sequence[SpeechSegment], start_s: float, end_s: float) -> float:
    return sum(max(0.0, min(end_s, s.end_s) - max(start_s, s.start_s)) for s in segments)


def merge_intervals(intervals: Iterable[tuple[float, float]], gap_s: float = 0.0) -> list[tuple[float, float]]:
    """(start_s, end_s) spans, sorted and joined where they overlap or lie within ``gap_s``; empty ones dropped."""
    out: list[list[float]] = []
    for a, b in sorted(intervals):
        if b <= a:
            continue
        if out and a - out[-1][1] <= gap_s:
            out[-1][1] = max(out[-1][1], b)
        else:
            out.append([a, b])
    return [(a, b) for a, b in out]


def _by_speaker(diarization: Diarization) -> dict[str, list[SpeechSegment]]:
    out: dict[str, list[SpeechSegment]] = {spk: [] for spk in diarization.speakers}
    for seg in diarization.segments:
        out.setdefault(seg.speaker, []).append(seg)
    return out


def assign_words(words: Sequence[Word], diarization: Diarization) -> tuple[Word, ...]:
    """Words of a mono transcript -> the same words with ``speaker`` set (and a pause that
    Whisper folded into a word's start taken out of it)."""
    by_speaker = _by_speaker(diarization)
    starts = {spk: [s.start_s for s in segs] for spk, segs in by_speaker.items()}
    out: list[Word] = []
    previous = ""
    previous_end = float("-inf")
    speech = merge_intervals((s.start_s, s.end_s) for s in diarization.segments)
    for w in sorted(words, key=lambda w: w.start_s):
        end = max(w.end_s, w.start_s + 0.02)
        start = w.start_s
        if abs(start - previous_end) <= GLUED_S and end - start > STRETCHED_WORD_S:
            head = (start, end - TYPICAL_WORD_S)  # the part a pause was folded into
            heard = sum(max(0.0, min(head[1], b) - max(head[0], a)) for a, b in speech)
            if heard < head[1] - head[0] - FOLDED_PAUSE_S:
                start = head[1]
        previous_end = w.end_s
        cover = {}
        for spk, segs in by_speaker.items():
            i = bisect.bisect_right(starts[spk], end)
            nearby = segs[max(0, i - 3) : i]
            cover[spk] = _coverage(nearby, start, end)
        best = max(cover.values(), default=0.0)
        if best > 0:
            tied = [spk for spk, c in cover.items() if c >= best - 0.02]
            speaker = previous if previous in tied else max(cover, key=cover.get)
        else:
            speaker = _nearest_speaker(diarization.segments, (start + end) / 2) or previous
        if not speaker and diarization.speakers:
            speaker = diarization.speakers[0]
        out.append(Word(w.text, start, w.end_s, w.probability, speaker))
        previous = speaker
    return tuple(out)


def _nearest_speaker(segments: Iterable[SpeechSegment], t: float) -> str:
    best, best_d = "", NEAREST_SEGMENT_S
    for s in segments:
        d = max(s.start_s - t, t - s.end_s, 0.0)
        if d < best_d:
            best, best_d = s.speaker, d
    return best


def transcribe_speech(
    audio: Audio,
    diarization: Diarization,
    transcriber: Transcriber,
    *,
    window_s: tuple[float, float] | None = None,
    speaker: str | None = None,
    per_speaker: Mapping[str, Transcriber] | None = None,
    progress: Callable[[float], None] | None = None,
) -> tuple[Word, ...]:
    """Decode only diarized speech (the diarizer is the voice activity detector), words tagged with speakers.

    Stereo: each party's channel within that party's speech, by ``per_speaker``'s
    transcriber for that party where it names one; mono: the mix, its words
    attributed by :func:`assign_words`. ``window_s`` decodes only the speech
    inside (start_s, end_s); ``speaker`` keeps only that speaker's words.
    """
    def regions(segments: Iterable[SpeechSegment]) -> list[tuple[float, float]]:
        if window_s is None:
            return [(s.start_s, s.end_s) for s in segments]
        lo, hi = window_s
        return [(max(s.start_s, lo), min(s.end_s, hi)) for s in segments if s.end_s > lo and s.start_s < hi]

    report = progress or (lambda f: None)
    if diarization.channel_of:
        words: list[Word] = []
        speakers = [(spk, ch) for spk, ch in diarization.channel_of.items() if speaker is None or spk == speaker]
        for i, (spk, channel) in enumerate(speakers):
            own = regions(s for s in diarization.segments if s.speaker == spk)
            if not own:
                continue
            model = (per_speaker or {}).get(spk, transcriber)
            part = model.transcribe(audio.channel(channel), regions=own, progress=lambda f, i=i: report((i + f) / len(speakers)))
            words += keep_speech_words(part.words, diarization.segments, spk)
        return tuple(sorted(words, key=lambda w: w.start_s))
    spans = regions(diarization.segments)
    if window_s is not None and not spans:
        return ()
    heard = assign_words(transcriber.transcribe(audio.mono(), regions=spans, progress=progress).words, diarization)
    return heard if speaker is None else tuple(w for w in heard if w.speaker == speaker)


def keep_speech_words(words: Sequence[Word], segments: Sequence[SpeechSegment], speaker: str) -> tuple[Word, ...]:
    """A channel's words, tagged with its speaker, without those outside its speech (crosstalk)."""
    own = [s for s in segments if s.speaker == speaker]
    out = []
    for w in words:
        end = max(w.end_s, w.start_s + 0.02)
        if _coverage(own, w.start_s - 0.2, end + 0.2) > 0:
            out.append(Word(w.text, w.start_s, w.end_s, w.probability, speaker))
    return tuple(out)


def speech_mask(
    n_samples: int, rate_hz: int, segments: Sequence[SpeechSegment], speaker: str | None, pad_s: float = 0.15
) -> np.ndarray:
    """float32 gain per sample: 1 inside the speaker's speech (anyone's when ``speaker`` is None,
    padded by ``pad_s``), 0 elsewhere, with 10 ms ramps."""
    mask = np.zeros(n_samples, dtype=np.float32)
    for s in segments:
        if speaker is not None and s.speaker != speaker:
            continue
        a = max(0, int((s.start_s - pad_s) * rate_hz))
        b = min(n_samples, int((s.end_s + pad_s) * rate_hz))
        mask[a:b] = 1.0
    ramp = max(1, int(0.01 * rate_hz))
    kernel = np.ones(ramp, dtype=np.float32) / ramp
    return np.convolve(mask, kernel, mode="same").astype(np.float32)


def build_turns(words: Sequence[Word], roles: Mapping[str, Role] | None = None) -> tuple[Turn, ...]:
    """Group speaker-tagged words into turns.

    A speaker's turn goes on while their words follow each other within
    ``MAX_WORD_GAP_S`` and the other side has not taken the floor (said
    ``FLOOR_TAKING_WORDS`` or more words) in between. Turns of two speakers
    may overlap in time: overlaps are what interruption detection reads.
    """
    roles = roles or {}
    ordered = sorted(words, key=lambda w: (w.start_s, w.end_s))
    open_turns: dict[str, list[Word]] = {}
    others_since: dict[str, int] = {}
    closed: list[list[Word]] = []
    for w in ordered:
        current = open_turns.get(w.speaker)
        if current is not None:
            gap = w.start_s - current[-1].end_s
            if gap > MAX_WORD_GAP_S or others_since.get(w.speaker, 0) >= FLOOR_TAKING_WORDS:
                closed.append(current)
                current = None
        if current is None:
            current = []
            open_turns[w.speaker] = current
        current.append(w)
        others_since[w.speaker] = 0
        for spk in open_turns:
            if spk != w.speaker:
                others_since[spk] = others_since.get(spk, 0) + 1
    closed.extend(t for t in open_turns.values() if t)
    turns = [
        Turn(
            speaker=ws[0].speaker,
            role=roles.get(ws[0].speaker, "unknown"),
            start_s=ws[0].start_s,
            end_s=max(w.end_s for w in ws),
            text=join_words(ws),
            words=tuple(ws),
        )
        for ws in closed
    ]
    turns.sort(key=lambda t: (t.start_s, t.end_s))
    return tuple(turns)


def join_words(words: Sequence[Word]) -> str:
    text = ""
    for w in words:
        if text and not w.text.startswith(("'", ",", ".", "?", "!")):
            text += " "
        text += w.text
    return text.strip()


def with_roles(turns: Sequence[Turn], roles: Mapping[str, Role]) -> tuple[Turn, ...]:
    return tuple(
        Turn(t.speaker, roles.get(t.speaker, "unknown"), t.start_s, t.end_s, t.text, t.words) for t in turns
    )
