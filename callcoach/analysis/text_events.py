"""Events in the words: threats, insults and profanity said in a turn, abuse that the recogniser lost but
the agent's reply names (inferred), and where the customer's words say they are upset.

Pure functions over frozen records; the rules live here and nowhere else (the pipeline and the
scorecard both call them)."""

from __future__ import annotations

from collections.abc import Sequence

from callcoach.records import Event, Evidence, Role, Turn
from callcoach.text.cues import BUILTIN_CUES
from callcoach.text.phrases import find_cues
from callcoach.text.utterances import Utterance, asr_loops, evidence_at, first_hits, sides, utterance

THREAT_KINDS = (("threat_legal", "legal threat"), ("threat_violence", "violent threat"),
                ("threat_review", "review threat"), ("insult", "insult"),
                ("profanity", "profanity"))
THREAT_LABELS = ("legal threat", "violent threat", "review threat")

def find_text_events(turns: tuple[Turn, ...],
                     roles: Sequence[Role] = ("agent", "customer")) -> tuple[Event, ...]:
    """``threat`` events (legal, violent, review threats, insults, profanity) in the words.

    One event per turn that holds any, timed from the first matched words to
    the last; its detail names every kind found, threats first ("legal
    threat, insult: 'sue you idiots'"); ``role`` is who said it.
    """
    events: list[Event] = []
    loops = asr_loops(turns)
    for turn in turns:
        if turn.role not in roles:
            continue
        u = utterance(turn, loops)
        kinds, spans = [], []
        for cue_name, kind in THREAT_KINDS:
            hits, _ = find_cues(BUILTIN_CUES[cue_name], u.norm)
            if hits:
                kinds.append(kind)
                spans += [(h.start, h.end) for h in hits]
        if not kinds:
            continue
        ev = evidence_at(u, min(a for a, _ in spans), max(b for _, b in spans))
        events.append(Event("threat", turn.role, turn.speaker, ev.start_s, ev.end_s, f"{', '.join(kinds)}: '{ev.text}'"))
    return tuple(sorted(events, key=lambda e: e.start_s))


def abuse_inferred_from_replies(agent: Sequence[Utterance], customer: Sequence[Utterance],
                    events: Sequence[Event], grievance: Sequence[Evidence]) -> tuple[Event, ...]:
    """Customer abuse that the recogniser missed, inferred from the agent's reply.

    Shouted abuse is what speech recognition garbles most, so the words of an
    abusive turn are often lost. An agent reply that both sets a limit (a
    ``boundary`` cue) and names the conduct (``abuse_named``: "that language",
    "swearing", "insults") says what the customer did. When such a reply comes
    right after an upset customer turn (raised voice or a complaint) that has
    no abuse event of its own, that turn gets a ``threat`` event whose detail
    says it was inferred; it never counts as a legal, violent or review threat.
    The same reply also covers abuse that the cue lists miss ("every damn egg").
    """
    found: list[Event] = []
    raised = [e for e in events if e.role == "customer" and e.type == "raised_voice"]
    abuse = [e for e in events if e.role == "customer" and e.type == "threat"]
    for a in agent:
        if not (find_cues(BUILTIN_CUES["boundary"], a.norm)[0]
                and (named := find_cues(BUILTIN_CUES["abuse_named"], a.norm)[0])):
            continue
        before = [c for c in customer if c.turn.start_s < a.turn.start_s]
        if not before:
            continue
        t = before[-1].turn
        upset = any(e.start_s < t.end_s and e.end_s > t.start_s for e in raised) or any(
            t.start_s <= g.start_s < t.end_s + 0.01 for g in grievance)
        if not upset or any(e.start_s < t.end_s and e.end_s > t.start_s for e in abuse + found):
            continue
        said = evidence_at(a, named[0].start, named[0].end).text
        found.append(Event("threat", "customer", t.speaker, t.start_s, t.end_s,
                           f"abuse (inferred from the agent's reply about '{said}')"))
    return tuple(found)

def customer_upset_moments(turns: tuple[Turn, ...]) -> tuple[Evidence, ...]:
    """Where the customer's words say they are upset, for the trajectory: a complaint cue (asking
    for someone higher and threatening to leave included: "I'm done with this company, I'm
    switching providers" at the end of a call leaves it ``not_calmer``), or a worry cue in a turn
    where the customer is not settling down ("Okay. Sorry. I'm just stressed." is a customer
    calming, not one still upset)."""
    _, customer, grievance = sides(turns)
    unsettled = [u for u in customer if not find_cues(BUILTIN_CUES["settled"], u.norm)[0]]
    return tuple(sorted(grievance + first_hits(unsettled, "distress"), key=lambda e: e.start_s))


def raised_voice_is_pleased(customer: Sequence[Utterance], events: Sequence[Event],
                            said_upset: bool) -> bool:
    """Whether the customer's raised voice is excitement or a loud line rather than upset.

    Raised pitch and loudness are arousal, not anger: a customer delighted that
    the fault is fixed ("Oh my gosh, you're a miracle worker! Thank you so
    much!") measures as raised. When the customer's words never complain,
    worry, abuse, ask for someone higher or threaten to leave (``said_upset``
    false) and a raised stretch of theirs says they are pleased (a ``settled``
    cue: thanks, "that's great", "sounds good"), the raised voice does not make
    the empathy and de-escalation checks apply.
    """
    raised = [e for e in events if e.role == "customer" and e.type == "raised_voice"]
    if said_upset or not raised:
        return False
    return any(e.start_s < u.turn.end_s and u.turn.start_s < e.end_s
               and find_cues(BUILTIN_CUES["settled"], u.norm)[0]
               for u in customer for e in raised)


def customer_complaints(turns: tuple[Turn, ...]) -> tuple[Evidence, ...]:
    """Where the customer's words complain (the scorecard's grievance cues): an upset turn for patience."""
    return sides(turns)[2]


def inferred_abuse(turns: tuple[Turn, ...], events: Sequence[Event]) -> tuple[Event, ...]:
    """Customer abuse the recogniser lost, inferred from the agent's replies (see ``abuse_inferred_from_replies``),
    so that the call's event list and report show it too."""
    agent, customer, grievance = sides(turns)
    return abuse_inferred_from_replies(agent, customer, events, grievance)
