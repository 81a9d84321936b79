"""Is this recording a two-party call the scorecard can judge?

The scorecard grades an agent talking with one customer. A recording of one
speaker (a speech, a voicemail), of three or more people (a meeting, a
conference call), one where no one sounds like an agent, or one where who
is the agent is a guess still gets a score, but that score means little:
such a call is marked *needs review*, with the reasons, and is left out of
the index's averages and the per-agent summaries until a person looks at it.

A pure function over the public JSON shape (:func:`screen`), so the report
and the index can screen results written before this field existed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MIN_ROLE_CONFIDENCE = 0.8
"""Roles found from what was said with less confidence than this are uncertain.

``speakers[].role_confidence`` is 0.5 plus a tenth of the agent's lead in
agent cues (greeting with a company or own name, offering help, asking for
details) over the other speaker, capped at 0.99. Every demo call reads 0.99;
the one-speaker speech and the two meeting excerpts of ``audio_samples/real``
read 0.6 to 0.75 (a first speaker with one or no cue)."""
MIN_PARTY_SHARE = 0.05
"""A speaker who holds less than this share of all talk is not counted as a party (a stray diarizer cluster)."""
MIN_PARTY_S = 2.0
"""... nor one who talks for less than this many seconds in all."""


@dataclass(frozen=True)
class Reason:
    """Why a call needs review: a stable ``code`` and a sentence for people."""

    code: str
    text: str


@dataclass(frozen=True)
class Screening:
    """``needs_review`` is true when any reason holds; ``parties`` are the speakers counted as parties."""

    needs_review: bool
    reasons: tuple[Reason, ...]
    parties: tuple[str, ...]
    role_confidence: float | None
    min_role_confidence: float = MIN_ROLE_CONFIDENCE

    def to_dict(self) -> dict[str, Any]:
        return {
            "needs_review": self.needs_review,
            "reasons": [{"code": r.code, "text": r.text} for r in self.reasons],
            "parties": list(self.parties),
            "role_confidence": self.role_confidence,
            "min_role_confidence": self.min_role_confidence,
        }


def _num(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def screen(result: Mapping[str, Any]) -> Screening:
    """Screen a result (:func:`callcoach.records.result_to_dict` shape) for being a two-party call.

    Reason codes: ``no_speech``, ``one_speaker``, ``three_or_more`` (parties
    counted with :data:`MIN_PARTY_SHARE` and :data:`MIN_PARTY_S`),
    ``no_agent`` and ``uncertain_roles`` (agent found from cues with less
    than :data:`MIN_ROLE_CONFIDENCE`; never when the user named the agent).
    """
    speakers = [s for s in result.get("speakers", ()) or () if isinstance(s, Mapping)]
    total = sum(_num(s.get("talk_time_s")) for s in speakers)
    floor = max(MIN_PARTY_S, MIN_PARTY_SHARE * total)
    parties = tuple(str(s.get("id")) for s in speakers if _num(s.get("talk_time_s")) >= floor)
    reasons: list[Reason] = []
    if not parties:
        reasons.append(Reason("no_speech", "No one speaks long enough to score."))
    elif len(parties) == 1:
        reasons.append(Reason("one_speaker", f"Only one person speaks ({parties[0]}): this is not a conversation "
                                             "between an agent and a customer."))
    elif len(parties) > 2:
        reasons.append(Reason("three_or_more", f"{len(parties)} people speak ({', '.join(parties)}): the scorecard "
                                               "judges calls between one agent and one customer."))
    agents = [s for s in speakers if s.get("role") == "agent"]
    roles = (result.get("meta") or {}).get("roles") or {}
    named = roles.get("method") == "user"
    confidence = None
    if agents:
        confidence = round(_num(agents[0].get("role_confidence")), 2)
    if not agents:
        if parties:
            reasons.append(Reason("no_agent", "No speaker sounds like an agent (no greeting with a company or own "
                                              "name, no offer of help): name the agent with --agent-channel or "
                                              "--agent-speaker."))
    elif not named and confidence is not None and confidence < MIN_ROLE_CONFIDENCE:
        reasons.append(Reason("uncertain_roles", f"Who is the agent is uncertain: {agents[0].get('id')} was taken "
                                                 f"for the agent with {confidence:.0%} confidence (a call is scored "
                                                 f"from {MIN_ROLE_CONFIDENCE:.0%}); check the roles, or name the "
                                                 "agent with --agent-channel or --agent-speaker."))
    return Screening(bool(reasons), tuple(reasons), parties, confidence)


def screening_of(result: Mapping[str, Any]) -> dict[str, Any]:
    """The result's ``screening`` object, or a fresh one for a result written before it existed."""
    stored = result.get("screening")
    if isinstance(stored, Mapping) and "needs_review" in stored:
        return dict(stored)
    return screen(result).to_dict()


__all__ = ["MIN_PARTY_S", "MIN_PARTY_SHARE", "MIN_ROLE_CONFIDENCE", "Reason", "Screening", "screen", "screening_of"]
