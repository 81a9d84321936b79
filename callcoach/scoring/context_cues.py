"""Call-level cue detectors: agent words that count only against what the customer said before
(a restatement of their problem, a handover after they asked for someone higher)."""

from __future__ import annotations

from collections.abc import Sequence

from callcoach.records import Evidence
from callcoach.text.cues import BUILTIN_CUES
from callcoach.text.phrases import Hit, after_discourse, find_cues, split_clauses
from callcoach.text.utterances import Utterance

_STOP = frozenset(
    "the and for you your yours are was were will would could should can not that this these those "
    "there here with from about into onto just also very really then than them they their have has had "
    "been being want wanted like need needed know hoping looking trying wondering please thank thanks "
    "okay sure well right what when where which while some more much make made does doing done going "
    "get got getting said tell told help able today tomorrow now yes yeah its our ours".split())


def _content(tokens: Sequence[str]) -> frozenset[str]:
    """Content words of ``tokens`` (3+ letters, not function words or desire verbs) and numbers
    ("three payments" is restated by its number; not "1", which the normaliser also writes for "one")."""
    return frozenset(t for t in tokens if (len(t) >= 3 and t.isalpha() and t not in _STOP) or (t.isdigit() and t != "1"))


def _stems(tokens: Sequence[str]) -> frozenset[str]:
    """Content words cut to 5 letters, so "leak" and "leaking", "charge" and "charged" meet."""
    return frozenset(t[:5] for t in _content(tokens))


_SO_NOT_RESTATING = frozenset({"i", "we", "let", "lets", "what", "how", "why", "when", "where", "who",
                               "which", "can", "could", "would", "will", "shall", "should", "do", "does",
                               "did", "please", "if", "anyway", "yes", "no", "sorry", "thank", "thanks"})
_SO_MODALS = frozenset({"will", "would", "can", "could", "should", "might", "may", "must", "need", "shall"})
SO_RESTATEMENT_MIN_SHARED = 2
_BEFORE_SO = frozenset({"okay", "ok", "right", "alright", "and"})  # what may come before a summing-up "so"


def reflections(agent: Sequence[Utterance], customer: Sequence[Utterance]) -> list[tuple[Utterance, Hit]]:
    """Agent clauses that restate what the customer said.

    Reflective listening without a signpost phrase, which a recogniser that
    garbles "just to confirm" does not need:

    - a pronoun flip: "(so) you want to use your plan in Spain" after the
      customer said what they wanted ("you want / would like / were hoping",
      not "if you want", "do you want"), sharing a content word with an
      earlier customer turn;
    - a summing-up "so": a clause that opens with "so" (after "okay", "right")
      and states (no "so I'll", "so what", "so can you", no modal plan such as
      "so you won't need to") something that shares
      :data:`SO_RESTATEMENT_MIN_SHARED` content words with what the customer
      said before ("So the email price is higher than your quote"); the
      statement may run on into the next clause, since the recogniser's
      commas fall anywhere ("So, the email price ...").

    A shared topic is what makes it a restatement rather than advice.
    """
    said_before = [(u.turn.start_s, _stems(u.norm.tokens)) for u in customer]
    wants = any(find_cues(BUILTIN_CUES["customer_wants"], u.norm)[0] for u in customer)
    out = []
    for u in agent:
        earlier = frozenset().union(*[st for start, st in said_before if start < u.turn.start_s])
        hit = None
        if wants:
            for h in find_cues(BUILTIN_CUES["reflect_want"], u.norm)[0]:
                end = min([b for b in u.norm.breaks if b > h.start] + [len(u.norm.tokens)])
                if _stems(u.norm.tokens[h.end : end]) & earlier:
                    hit = Hit(h.start, end, "context", " ".join(u.norm.tokens[h.start : end]))
                    break
        if hit is None:
            clauses = split_clauses(u.norm)
            for k, (a, b) in enumerate(clauses):
                toks = u.norm.tokens[a:b]
                i = after_discourse(toks, _BEFORE_SO)
                if i >= len(toks) or toks[i] != "so":
                    continue
                # the restatement runs on into the next clause: the recogniser's commas fall anywhere
                # ("So, the email price is higher", "So there are three payments. This morning, ...")
                end = clauses[k + 1][1] if k + 1 < len(clauses) else b
                said = u.norm.tokens[a + i + 1 : end]
                # a consequence or a plan ("so you won't need to ...", "so it'll be ready") restates nothing
                if said and said[0] not in _SO_NOT_RESTATING and not _SO_MODALS & set(said[:3]) \
                        and len(_stems(said) & earlier) >= SO_RESTATEMENT_MIN_SHARED:
                    hit = Hit(a + i, end, "context", " ".join(u.norm.tokens[a + i : end]))
                    break
        if hit is not None:
            out.append((u, hit))
    return out


def handovers(agent: Sequence[Utterance], asked_higher: Sequence[Evidence]) -> list[tuple[Utterance, Hit]]:
    """Agent words that hand the call up after the customer asked for someone higher.

    Once the customer has asked for a manager or someone senior, the agent
    saying they will put them through ("before I pop you through", "I'll
    transfer you") or naming their own superior in what they arrange ("a
    callback from my team leader") is the escalation offered, even when the
    recogniser garbles the rest of the sentence ("my man" for "my manager").
    """
    if not asked_higher:
        return []
    asked = asked_higher[0].start_s
    return [(u, h) for u in agent if u.turn.start_s > asked
            for h in find_cues(BUILTIN_CUES["handover"], u.norm)[0]]


__all__ = ["handovers", "reflections"]
