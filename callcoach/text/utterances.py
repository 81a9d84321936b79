"""A turn's words as normalised clauses with their times (decoding loops left out), and evidence quoted
from them: what the text events and the scorecard both read."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from callcoach.records import Event, Evidence, Turn
from callcoach.text.cues import BUILTIN_CUES
from callcoach.text.phrases import Normalized, find_cues, normalize_words


@dataclass(frozen=True)
class Utterance:
    turn: Turn
    norm: Normalized
    words: tuple[tuple[str, float, float], ...]  # (text, start_s, end_s) of each source word


_CLAUSE_END = re.compile(r"[.,;:!?]+[\"')]*$")
LOOP_REPEATS = 3


def _timed_words(turn: Turn) -> tuple[tuple[str, float, float], ...]:
    if turn.words:
        return tuple((w.text, w.start_s, w.end_s) for w in turn.words)
    parts = turn.text.split()
    step = (turn.end_s - turn.start_s) / max(len(parts), 1)
    return tuple((p, turn.start_s + i * step, turn.start_s + (i + 1) * step)
                 for i, p in enumerate(parts))


def _clauses(words: Sequence[tuple[str, float, float]]) -> list[tuple[int, int, str]]:
    """``(first, end, normalised text)`` of each punctuation-delimited clause of ``words``."""
    out: list[tuple[int, int, str]] = []
    start = 0
    for i, (text, _, _) in enumerate(words):
        if _CLAUSE_END.search(text) or i == len(words) - 1:
            out.append((start, i + 1, normalize_words([w[0] for w in words[start : i + 1]]).text))
            start = i + 1
    return out


def asr_loops(turns: Sequence[Turn]) -> frozenset[str]:
    """Clauses the recogniser repeated in a decoding loop.

    Whisper-style decoders sometimes emit one short sentence over and over
    ("I can't do it. I can't do it. ..."). A clause said :data:`LOOP_REPEATS`
    or more times in a row inside one turn is such a loop, not speech: its
    words (everywhere in the call) are not scored, so a hallucination can
    neither earn nor cost the agent a check.
    """
    loops: set[str] = set()
    for turn in turns:
        run, prev = 0, None
        for _, _, key in _clauses(_timed_words(turn)):
            run = run + 1 if key and key == prev else 1
            prev = key
            if run >= LOOP_REPEATS:
                loops.add(key)
    return frozenset(loops)


def utterance(turn: Turn, loops: frozenset[str] = frozenset()) -> Utterance:
    words = _timed_words(turn)
    if loops:
        words = tuple(w for a, b, key in _clauses(words) if key not in loops for w in words[a:b])
    return Utterance(turn, normalize_words([w[0] for w in words]), words)


def capitalised(u: Utterance, token: int) -> bool:
    """Whether the recogniser wrote the word behind ``token`` with a capital (a name hint)."""
    if not u.words or token >= len(u.norm.source):
        return False
    word = u.words[u.norm.source[token]][0].strip("\"'(),.;:!?")
    return len(word) > 1 and word[0].isupper() and not word.isupper()


def evidence_at(u: Utterance, start: int, end: int) -> Evidence:
    """Evidence for tokens ``[start, end)``: the source words with their times."""
    if not u.norm.tokens or not u.words:
        return Evidence(u.turn.start_s, u.turn.end_s, u.turn.text, "said", u.turn.speaker, u.turn.role)
    first = u.norm.source[min(start, len(u.norm.source) - 1)]
    last = u.norm.source[min(max(end - 1, start), len(u.norm.source) - 1)]
    chunk = u.words[first : last + 1]
    text = " ".join(w[0].strip() for w in chunk).strip(" ,.;:")
    return Evidence(chunk[0][1], chunk[-1][2], text, "said", u.turn.speaker, u.turn.role)


def turn_evidence(turn: Turn) -> Evidence:
    return Evidence(turn.start_s, turn.end_s, turn.text, "said", turn.speaker, turn.role)


def event_evidence(e: Event) -> Evidence:
    return Evidence(e.start_s, e.end_s, e.detail or e.type, "event", e.speaker, e.role)

# the customer's words that state a grievance: a complaint, asking for someone higher
# ("can I talk to your boss"), or a closing complaint / threat to leave ("you've lost a customer")
GRIEVANCE_CUES = ("grievance", "escalation_request", "leave_threat")


def sides(turns: tuple[Turn, ...]) -> tuple[tuple[Utterance, ...], tuple[Utterance, ...], tuple[Evidence, ...]]:
    """The agent's and the customer's utterances, and where the customer states a grievance."""
    loops = asr_loops(turns)
    utterances = [utterance(t, loops) for t in turns]
    agent = tuple(u for u in utterances if u.turn.role == "agent")
    customer = tuple(u for u in utterances if u.turn.role == "customer")
    return agent, customer, first_hits(customer, *GRIEVANCE_CUES)


def first_hits(utterances: Sequence[Utterance], *cue_names: str) -> tuple[Evidence, ...]:
    """Evidence of the first hit of the built-in cue sets ``cue_names`` in each utterance that has one."""
    out = []
    for u in utterances:
        hits = [h for name in cue_names for h in find_cues(BUILTIN_CUES[name], u.norm)[0]]
        if hits:
            first = min(hits, key=lambda h: h.start)
            out.append(evidence_at(u, first.start, first.end))
    return tuple(out)
