"""Re-hear the agent's fast turns with a larger speech model.

The small default model (tiny.en) loses most words where an agent talks fast
on a narrow phone line: "I'll text you the roaming details within ten
minutes" came out as "We need to send minutes", and the next-steps check
then failed a rushed agent who gave one. The larger model hears those turns
better (on the demo calls every such turn's check came right), but decoding
a whole call with it costs twice the time and scored the evaluation corpus
lower, so only the turns that need it are decoded again.

Only the agent's turns are re-heard: the scorecard judges the agent's words,
and on a fast anxious customer the larger model did worse. The first pass's
turns stay what prosody measures (pace, loudness, overlaps): a speaker's
pace is compared with their own usual pace, so it is counted by one model
for the whole call.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass

from callcoach.records import Audio, Diarization, ReheardTurn, Role, Turn, Word
from callcoach.speech.attribute import build_turns, transcribe_speech
from callcoach.speech.transcribe import Transcriber

# the stretch decoded again reaches this far either side of the turn: with less
# context the larger model drops a turn's first word ("No, you need to listen")
CONTEXT_S = 1.0
# words of the new decode kept as the turn's: those starting within this of its ends
EDGE_S = 0.3
# the larger model's encoder hears the stretch plus a second of padding, at least this long, instead
# of 30 s: half the re-hearing time at the same accuracy (see transcribe.SHORT_CONTEXT_PAD_S)
ENCODER_CONTEXT_MIN_S = 10.0


@dataclass(frozen=True)
class Rehearing:
    """The call's turns with the fast agent turns' words replaced, and which turns those were."""

    turns: tuple[Turn, ...]
    reheard: tuple[ReheardTurn, ...]


def turn_pace_wpm(turn: Turn) -> float:
    """Words per minute from the turn's first word's start to its last word's end."""
    span = turn.end_s - turn.start_s
    return len(turn.words) / span * 60.0 if span > 0 else 0.0


def fast_turns(turns: Sequence[Turn], min_pace_wpm: float, min_words: int = 6,
               roles: Sequence[Role] = ("agent",)) -> list[Turn]:
    """The turns worth decoding again: of ``roles``, ``min_words`` or more, at ``min_pace_wpm`` or faster."""
    return [t for t in turns if t.role in roles and len(t.words) >= min_words and turn_pace_wpm(t) >= min_pace_wpm]


def rehear_fast_turns(
    audio: Audio,
    diarization: Diarization,
    turns: Sequence[Turn],
    roles: Mapping[str, Role],
    transcriber: Callable[[], Transcriber],
    min_pace_wpm: float,
    already_heard: Collection[str] = (),
) -> Rehearing:
    """Decode the agent's fast turns again with ``transcriber()`` (called only when one is found).

    Stereo: the turn's stretch of its speaker's channel, within that speaker's
    speech. Mono: the stretch of the mix, the new words attributed as the first
    pass's were, keeping the turn's speaker's. A turn whose new decode holds no
    words keeps its first-pass words. Each turn is decoded on its own: one
    decode of a speaker's fast turns joined together took a third of the time
    but garbled a summing-up that the separate decodes heard (the rushed demo
    agent's "Just to confirm, you want to use your plan in Spain").
    ``already_heard``: speakers whose whole speech that model decoded (a noisy
    line, :mod:`callcoach.speech.line`), whose turns are not decoded again.
    """
    todo = [t for t in fast_turns(turns, min_pace_wpm) if t.speaker not in already_heard]
    if not todo:
        return Rehearing(tuple(turns), ())
    model = transcriber()
    replaced: set[int] = set()
    new_words: list[Word] = []
    reheard: list[ReheardTurn] = []
    for turn in todo:
        words = _decode_again(audio, diarization, turn, model)
        if not words:
            continue
        replaced.add(id(turn))
        new_words += words
        reheard.append(ReheardTurn(turn.speaker, turn.start_s, turn.end_s, round(turn_pace_wpm(turn), 1),
                                   len(turn.words), len(words)))
    if not reheard:
        return Rehearing(tuple(turns), ())
    kept = [w for t in turns if id(t) not in replaced for w in t.words]
    return Rehearing(build_turns(kept + new_words, roles), tuple(reheard))


def _decode_again(audio: Audio, diarization: Diarization, turn: Turn, model: Transcriber) -> list[Word]:
    window = (turn.start_s - CONTEXT_S, turn.end_s + CONTEXT_S)
    words = transcribe_speech(audio, diarization, model, window_s=window, speaker=turn.speaker)
    return [w for w in words if turn.start_s - EDGE_S <= w.start_s <= turn.end_s + EDGE_S]
