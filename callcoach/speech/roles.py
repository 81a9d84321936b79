"""Which speaker is the agent.

The agent is the one who opens with a greeting and the company's or their
own name, offers help, asks for account details, and promises actions; the
customer describes a problem about "my" account, order or bill. Each cue
counts more early in the call. Who speaks first and talk time break ties.
The user can name the agent by channel (stereo) or by speaker id.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from callcoach.records import Diarization, Role, Turn
from callcoach.text.cues import BUILTIN_CUES
from callcoach.text.phrases import Normalized, find_cues, normalize

# words after "this is" that are no name: "this is my third call", "this is absolutely hopeless"
_NOT_A_NAME = ("(my|a|an|the|not|so|really|absolutely|just|about|what|why|how|it|getting|going|your|our|"
               "ridiculous|unacceptable|hopeless|insane|crazy|outrageous|terrible|awful|useless|pathetic|"
               "a|for|to|because|why|taking|exactly|only|still|the|no|all|too|very|now|urgent|serious)")
_AGENT_CUES: tuple[tuple[str, float], ...] = (
    (r"\bthank(s| you) for (calling|contacting|holding|your patience)\b", 3.0),
    (r"\b(welcome to|you('ve| have) reached)\b", 3.0),
    (r"\b(this is|my name is|my name's|i'm|i am) \w+,? (from|at|with|speaking)\b", 2.5),
    (r"\b(this is) (?!" + _NOT_A_NAME + r"\b)\w+\b", 1.0),
    (r"\bmy name('s| is) (?!" + _NOT_A_NAME + r"\b)\w+\b", 1.0),
    (r"\byou('re| are) (speaking|talking) (to|with)\b", 2.5),
    (r"\bhow (can|may|could|might) i (help|assist)\b", 3.0),
    (r"\bwhat can i (do|help)\b", 2.0),
    (r"\bis there anything else\b", 2.0),
    (r"\b(can|could|may) i (have|get|take) (your|the) (name|account|order|reference|postcode|zip|date of birth|number|email)\b", 2.0),
    (r"\b(let me|i('ll| will)) (check|look|pull up|see|fix|sort|issue|send|process|make sure|escalate|transfer|connect)\b", 1.0),
    (r"\b(i understand|i('m| am) (so |really |very )?sorry|i apologi[sz]e)\b", 0.7),
    (r"\b(your account|your order|your bill|your booking|your refund)\b", 0.7),
)
# a bare department or desk greeting ("Technical support, ...", "Account's department."): only as
# the speaker's first words, since later in a call it is someone being sent elsewhere
_DESK_GREETING = (r"^([\w']+ ){0,2}(support|department|services|desk|helpdesk|reception|care|line|orders|accounts|bookings)\b", 2.0)
_CUSTOMER_CUES: tuple[tuple[str, float], ...] = (
    (r"\b(i('m| am) calling (about|because|regarding|to))\b", 2.5),
    (r"\b(my (account|order|bill|card|refund|package|parcel|booking|internet|phone|payment|money))\b", 1.0),
    # "i want to help" is the agent's
    (r"\b(i (want|need)(?! to (help|assist|make sure|check|apologi[sz]e))|i (was charged|have been|paid|ordered|never got|still haven't))\b", 0.7),
    (r"\b(speak to|talk to) (a|your) (manager|supervisor)\b", 1.5),
    (r"\bi('ve| have) been (waiting|trying|a customer)\b", 1.0),
)
# each customer turn with a complaint or a worry in it (the scorecard's cue sets) counts this much
CUSTOMER_CUE_SETS = ("grievance", "distress")
CUSTOMER_TEXT_CUE_WEIGHT = 1.0
# and each turn with something only the agent does in a call: an open question, taking ownership,
# an offer, a next step, a summing-up or a boundary (on the corpus' and demo calls' true
# transcripts these sets matched 109 agent turns and 2 customer turns)
AGENT_CUE_SETS = ("open_question", "ownership", "solution", "next_steps", "paraphrase", "boundary")
AGENT_TEXT_CUE_WEIGHT = 1.0
FIRST_SPEAKER_BONUS = 1.0  # call-centre recordings start with the agent's greeting
EARLY_S = 45.0


@dataclass(frozen=True)
class RoleAssignment:
    roles: Mapping[str, Role]
    confidence: Mapping[str, float]
    method: str
    reasons: tuple[str, ...] = ()


def _cue_score(turns: Sequence[Turn], speaker: str) -> tuple[float, list[str]]:
    score = 0.0
    reasons: list[str] = []
    first = True
    for t in turns:
        if t.speaker != speaker:
            continue
        weight = 1.5 if t.start_s < EARLY_S else 1.0
        text = t.text.lower().replace("’", "'")
        for pattern, w in _AGENT_CUES + ((_DESK_GREETING,) if first else ()):
            if re.search(pattern, text):
                score += w * weight
                if len(reasons) < 3:
                    reasons.append(f"{speaker} said '{re.search(pattern, text).group(0)}' at {t.start_s:.0f} s")
        for pattern, w in _CUSTOMER_CUES:
            if re.search(pattern, text):
                score -= w * weight
        norm = normalize(t.text)
        if _says_any(norm, CUSTOMER_CUE_SETS):
            score -= CUSTOMER_TEXT_CUE_WEIGHT * weight
        if _says_any(norm, AGENT_CUE_SETS):
            score += AGENT_TEXT_CUE_WEIGHT * weight
        first = False
    return score, reasons


def _says_any(norm: Normalized, sets: Sequence[str]) -> bool:
    """Whether normalised text matches any of the scorecard's cue sets ``sets``."""
    return any(find_cues(BUILTIN_CUES[name], norm)[0] for name in sets)


def assign_roles(
    turns: Sequence[Turn],
    diarization: Diarization,
    *,
    agent_channel: int | None = None,
    agent_speaker: str | None = None,
) -> RoleAssignment:
    speakers = list(diarization.speakers) or sorted({t.speaker for t in turns})
    if agent_speaker is not None or agent_channel is not None:
        agent = agent_speaker
        if agent is None:
            agent = next((s for s, c in diarization.channel_of.items() if c == agent_channel), None)
        if agent in speakers:
            return _label(speakers, turns, agent, {s: 1.0 for s in speakers}, "user", ("named by the user",))
    if not speakers:
        return RoleAssignment({}, {}, "none")
    scores = {}
    reasons: list[str] = []
    for spk in speakers:
        scores[spk], why = _cue_score(turns, spk)
        reasons += why
    first = min(turns, key=lambda t: t.start_s).speaker if turns else speakers[0]
    scores[first] = scores.get(first, 0.0) + FIRST_SPEAKER_BONUS
    ranked = sorted(speakers, key=lambda s: scores[s], reverse=True)
    agent = ranked[0]
    margin = scores[agent] - (scores[ranked[1]] if len(ranked) > 1 else 0.0)
    confidence = round(min(0.99, 0.5 + margin / 10.0), 2)
    if len(speakers) == 1 and scores[agent] < 2.0:
        return RoleAssignment({agent: "unknown"}, {agent: 0.5}, "cues", ("one speaker, no agent cues",))
    conf = {s: confidence for s in speakers}
    return _label(speakers, turns, agent, conf, "cues", tuple(reasons[:5]))


def _label(
    speakers: Sequence[str], turns: Sequence[Turn], agent: str, confidence: Mapping[str, float], method: str, reasons: tuple[str, ...]
) -> RoleAssignment:
    talk = {s: sum(t.end_s - t.start_s for t in turns if t.speaker == s) for s in speakers}
    others = sorted((s for s in speakers if s != agent), key=lambda s: talk[s], reverse=True)
    roles: dict[str, Role] = {agent: "agent"}
    for i, spk in enumerate(others):
        roles[spk] = "customer" if i == 0 else "unknown"
    return RoleAssignment(roles, dict(confidence), method, reasons)
