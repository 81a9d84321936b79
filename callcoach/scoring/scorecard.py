"""The scorecard: every rubric check over the turns, the events and the trajectory.

Pure functions over frozen records. The only model is the optional semantic
matcher (:mod:`callcoach.text.semantic`), loaded once per process. The text
events it reads come from :mod:`callcoach.analysis.text_events`."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from callcoach.analysis.text_events import THREAT_LABELS, abuse_inferred_from_replies, raised_voice_is_pleased
from callcoach.analysis.turn_taking import customer_upset_spans, patience_violations
from callcoach.records import CheckResult, Event, Evidence, Scorecard, Turn
from callcoach.scoring import statements
from callcoach.scoring.context_cues import handovers, reflections
from callcoach.scoring.rubric import STATEMENT_DETECTORS, Check, Rubric
from callcoach.text.cues import BUILTIN_CUES
from callcoach.text.phrases import (
    NEGATORS,
    CueSet,
    Hit,
    Similarity,
    compile_pattern,
    detect,
    find_cues,
    phrase_cue_set,
    semantic_hits,
)
from callcoach.text.semantic import load_matcher
from callcoach.text.utterances import (
    Utterance,
    capitalised,
    event_evidence,
    evidence_at,
    first_hits,
    sides,
    turn_evidence,
    utterance,
)

_PRAISE = {
    "calm_tone": "You kept your voice calm and steady throughout.",
    "no_mirroring": "You stayed calm while the customer was raising their voice.",
    "measured_pace": "Your pace was unhurried and easy to follow.",
    "no_talk_over": "You let the customer finish without talking over them.",
    "patience": "You gave the customer room to finish before answering.",
    "acknowledge": "You named the customer's feelings, which helps them feel heard.",
    "apology": "You apologised sincerely for the problem.",
    "paraphrase": "You reflected the problem back to check you had it right.",
    "open_question": "You asked open questions to get the full story.",
    "ownership": "You took ownership of the problem.",
    "personalize": "You kept it personal by using names.",
    "positive_language": "You focused on what you could do, not what you couldn't.",
    "no_provocation": "You avoided phrases that could inflame the customer.",
    "professional": "Your language stayed professional throughout.",
    "solution": "You offered a concrete solution.",
    "next_steps": "You were clear about next steps and timing.",
    "escalation": "You offered to escalate when the customer was still upset.",
    "boundary": "You set a calm, respectful limit when the customer became abusive.",
    "document_threats": "Threats in the call are logged with their times.",
}
# "@" is the name; patterns whose name must be written with a capital by the recogniser
# (a plain "this is @" would also take "this is ridiculous") are in the second list.
_NAME_INTRO = [compile_pattern(p) for p in (
    "my name is @", "you are speaking|talking to|with @", "my name @")]
_NAME_INTRO_CAP = [compile_pattern(p) for p in (
    "this is @", "@ speaking", "i am @ from|with|here", "it is @", "@ here", "name is @",
    "@ from")]
# only in the agent's first turn, and only before a capitalised word: "Hi, I'm Pam"
_NAME_INTRO_OPENING = [compile_pattern("i am @")]
_TITLE = compile_pattern("mr|mrs|ms|miss|mister|dr|doctor @")
# a customer greeting or thanking someone by name right after the agent spoke
_GREETING = compile_pattern("hi|hello|hey|thanks|morning|afternoon|evening|cheers @")
_THANK_YOU = compile_pattern("thank you @")
_NOT_NAMES = frozenset({"a", "an", "the", "my", "your", "not", "just", "calling", "about", "is",
                        "very", "so", "really", "going", "sorry", "here", "that", "it", "this",
                        "customer", "service", "support", "i", "you", "we", "on", "in", "for",
                        "are", "am", "was", "be", "now", "name", "there", "again", "all",
                        "everyone", "everybody", "guys", "folks", "sir", "maam", "madam",
                        "yes", "no", "okay", "well", "and", "but", "great", "good", "fine",
                        "ridiculous", "unacceptable", "terrible", "what", "how", "why", "who",
                        "please", "thanks", "thank", "hello", "hi", "much", "anyway", "though",
                        "bye", "goodbye", "today", "tomorrow", "team", "department", "one"})


def _name_at(u: Utterance, pat, m: re.Match[str], text: str) -> tuple[int, str] | None:
    """Token index and text of the ``@`` of a name pattern match, if it looks like a name."""
    start = text[: m.start()].count(" ")
    idx = start + pat.source.split().index("@")
    name = u.norm.tokens[idx] if idx < len(u.norm.tokens) else ""
    if not name.isalpha() or name in _NOT_NAMES or name in NEGATORS:
        return None
    return idx, name


def _names(u: Utterance, patterns, capital: bool) -> list[tuple[int, int, str]]:
    """``(match start, name index, name)`` for each name-giving phrase in ``u``."""
    text = u.norm.text + " "
    out = []
    for pat in patterns:
        for m in pat.regex.finditer(text):
            found = _name_at(u, pat, m, text)
            if found and (not capital or capitalised(u, found[0])):
                out.append((text[: m.start()].count(" "), found[0], found[1]))
    return out


def _similar(a: str, b: str) -> bool:
    """Same name, allowing one letter off for names of 4+ letters (ASR spelling)."""
    if a == b:
        return True
    if min(len(a), len(b)) < 4 or abs(len(a) - len(b)) > 1:
        return False
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1] <= 1


@dataclass(frozen=True)
class _Context:
    agent: tuple[Utterance, ...]
    customer: tuple[Utterance, ...]
    events: tuple[Event, ...]
    trajectory: str
    end_s: float
    grievance: tuple[Evidence, ...]
    request: tuple[Evidence, ...] = ()
    distress: tuple[Evidence, ...] = ()
    asked_higher: tuple[Evidence, ...] = ()  # the customer asking for someone else or higher

    def of(self, role: str, *types: str) -> list[Event]:
        return [e for e in self.events if e.role == role and e.type in types]

    def abuse(self) -> list[Event]:
        return self.of("customer", "threat")


def _condition(name: str, ctx: _Context) -> tuple[bool, list[Evidence]]:
    """Whether a check applies, and the customer's moments that made it apply.

    The moments only time the agent's reply that a failed check points at
    (:func:`_reply_to`); they are never the evidence of an agent check.
    """
    raised = ctx.of("customer", "raised_voice")
    abuse = ctx.abuse()
    grievance = list(ctx.grievance) + [event_evidence(e) for e in raised + abuse]
    grievance.sort(key=lambda e: e.start_s)
    if name == "always":
        return True, []
    if name == "customer_grievance":
        return bool(grievance), grievance
    if name == "customer_request":
        # a complaint is a problem too; otherwise a request/problem cue in the customer's words
        request = grievance or list(ctx.request)
        return bool(request), request
    if name == "customer_upset":
        # a complaint, or worry or upset said without blaming anyone ("I'm worried sick");
        # rapid speech alone is not upset: plenty of calm customers talk fast
        upset = sorted(grievance + list(ctx.distress), key=lambda e: e.start_s)
        return bool(upset) or ctx.trajectory in ("calmer", "not_calmer"), upset
    if name == "customer_raised":
        return bool(raised), [event_evidence(e) for e in raised]
    if name == "customer_abusive":
        return bool(abuse), [event_evidence(e) for e in abuse]
    if name == "customer_threat":
        threats = [e for e in abuse if e.detail.startswith(THREAT_LABELS)]
        return bool(threats), [event_evidence(e) for e in threats]
    if name == "customer_upset_late":
        # still upset in the last third (raised, abusive, complaining or threatening to leave), or
        # asking for someone higher at any point: that request is the agent's cue to escalate
        late = [g for g in grievance if g.start_s >= ctx.end_s * 2 / 3]
        moments = sorted(late + list(ctx.asked_higher), key=lambda e: e.start_s)
        if not moments and ctx.customer and ctx.trajectory == "not_calmer":
            moments = [turn_evidence(ctx.customer[-1].turn)]
        return bool(moments) or ctx.trajectory == "not_calmer", moments
    raise ValueError(f"unknown condition {name!r}")  # the rubric loader prevents this


def _patience_violations(ctx: _Context, gap_s: float, min_words: int) -> list[Event]:
    """The patience rule (:func:`~callcoach.analysis.turn_taking.patience_violations`) on the turns scored,
    with the rubric's ``gap_s`` and ``min_words``; the customer is upset where the events stage says so
    (raised voice, unless :func:`raised_voice_is_pleased`; threats and abuse, including abuse inferred from
    the agent's replies) or their words complain."""
    utterances = sorted(ctx.agent + ctx.customer, key=lambda u: u.turn.start_s)
    role = {u.turn.speaker: u.turn.role for u in utterances}
    upset = customer_upset_spans(ctx.events, [(g.start_s, g.end_s) for g in ctx.grievance])
    found = patience_violations([u.turn for u in utterances], role, upset, gap_s=gap_s, min_words=min_words)
    return sorted(found, key=lambda e: e.start_s)


def _cue_set(check: Check) -> CueSet:
    if check.phrases:
        return _phrase_set(check.id, check.phrases, check.negative_phrases)
    return BUILTIN_CUES[check.detector.get("cues")]


@lru_cache(maxsize=256)
def _phrase_set(name: str, phrases: tuple[str, ...], negative: tuple[str, ...]) -> CueSet:
    return phrase_cue_set(name, phrases, negative)


# cue sets with a detector that needs the whole call (the customer's words too)
_IN_CONTEXT = {"paraphrase": lambda ctx: reflections(ctx.agent, ctx.customer),
               "escalation": lambda ctx: handovers(ctx.agent, ctx.asked_higher)}


def _hits(cues: CueSet, utterances: Sequence[Utterance], matcher: Similarity | None,
          ctx: _Context | None = None) -> list[tuple[Utterance, Hit]]:
    """Pattern hits; when there are none, the call-level detector of the cue set
    (with ``ctx``), then one batched semantic pass over all utterances."""
    found = [(u, h) for u in utterances for h in find_cues(cues, u.norm)[0]]
    if not found and ctx is not None and cues.name in _IN_CONTEXT:
        found = _IN_CONTEXT[cues.name](ctx)
    if found or matcher is None:
        return found
    return [(utterances[i], h) for i, h in semantic_hits(cues, [u.norm for u in utterances], matcher)]


def _personalize(ctx: _Context) -> list[Evidence]:
    """Moments where the agent gives their name or uses the customer's.

    Agent: "my name is X", "this is X", "X speaking", "Mr/Ms X", or a word that
    matches (one letter of ASR slack) a name the customer gave ("this is X",
    "it's X Y", "my name is X"). When the recogniser garbles the agent's own
    name, the customer answering "Hi <Name>" right after the agent's first
    words still shows the agent introduced themselves: that agent turn counts.
    """
    customer_names: set[str] = set()
    found: list[Evidence] = []
    for u in ctx.customer:
        for _, idx, name in _names(u, _NAME_INTRO, False) + _names(u, _NAME_INTRO_CAP, True):
            customer_names.add(name)
            # "It's Helen Brooks": a second capitalised word is the surname
            if idx + 1 < len(u.norm.tokens) and capitalised(u, idx + 1) \
                    and u.norm.tokens[idx + 1] not in _NOT_NAMES:
                customer_names.add(u.norm.tokens[idx + 1])
    for k, u in enumerate(ctx.agent):
        text = u.norm.text + " "
        spans: list[tuple[int, int]] = []
        # in the agent's opening the frame ("this is X", "X speaking") survives a recogniser that
        # garbles the name itself ("manual speaking" for "Daniel speaking"): no capital needed there
        opening = _names(u, _NAME_INTRO_OPENING, True) if k == 0 else []
        for at, idx, _ in _names(u, _NAME_INTRO, False) + _names(u, _NAME_INTRO_CAP, k > 0) + opening:
            spans.append((at, idx + 1))
        for m in _TITLE.regex.finditer(text):
            if _name_at(u, _TITLE, m, text):
                at = text[: m.start()].count(" ")
                spans.append((at, at + 2))
        for i, tok in enumerate(u.norm.tokens):
            if any(_similar(tok, n) for n in customer_names) and tok not in _NOT_NAMES:
                spans.append((i, i + 1))
        if spans:
            s, e = min(spans)
            found.append(evidence_at(u, s, e))
    if not found:
        for u in ctx.customer:
            before = [a for a in ctx.agent if a.turn.start_s < u.turn.start_s]
            if not before or before[-1] is not ctx.agent[0]:
                continue  # only the customer's reply to the agent's opening
            text = u.norm.text + " "
            for pat in (_GREETING, _THANK_YOU):
                m = pat.regex.match(text)
                if m and (hit := _name_at(u, pat, m, text)) and capitalised(u, hit[0]):
                    found.append(turn_evidence(before[-1].turn))
                    break
            break
    return found


REPLY_MIN_WORDS = 3


def _reply_to(ctx: _Context, moments: Sequence[Evidence]) -> list[Evidence]:
    """The agent's answer to the first of ``moments``: where a missing cue was owed.

    An agent check is judged on the agent's side only, so a failed check points
    at the agent's own turn, never at the customer's words or voice: the first
    agent turn of :data:`REPLY_MIN_WORDS`+ words that starts after the moment
    (any agent turn when none is that long; the agent's last turn when the
    customer had the last word). With no moment, the agent's first such turn.
    """
    if not ctx.agent:
        return []
    at = moments[0].start_s if moments else float("-inf")
    after = [u for u in ctx.agent if u.turn.start_s > at] or [ctx.agent[-1]]
    reply = next((u for u in after if len(u.norm.tokens) >= REPLY_MIN_WORDS), after[0])
    return [turn_evidence(reply.turn)]


def _run(check: Check, ctx: _Context, needed: list[Evidence], matcher: Similarity | None,
         ) -> tuple[str, list[Evidence], str]:
    """(status, evidence, better_phrasing) for an applicable check."""
    det = check.detector
    if det.type in STATEMENT_DETECTORS:
        return statements.judge(check, [w for u in ctx.agent for w in u.words], ctx.end_s)
    if det.type == "event_absent":
        found = ctx.of("agent", det.get("event"))
        ok = len(found) <= det.get("max_count")
        return ("pass" if ok else "fail"), [event_evidence(e) for e in found], ""
    if det.type == "no_mirroring":
        win = det.get("window_s")
        cust = ctx.of("customer", "raised_voice")
        mirrored = [a for a in ctx.of("agent", "raised_voice")
                    if any(a.start_s < c.end_s + win and c.start_s - win < a.end_s for c in cust)]
        if mirrored:
            return "fail", [event_evidence(e) for e in mirrored], ""
        return "pass", _reply_to(ctx, [event_evidence(e) for e in cust[:1]]), ""
    if det.type == "patience":
        found = _patience_violations(ctx, det.get("gap_s"), det.get("min_words"))
        ok = len(found) <= det.get("max_count")
        return ("pass" if ok else "fail"), [event_evidence(e) for e in found[:3]], ""
    if det.type == "threats_documented":
        return "pass", [event_evidence(e) for e in ctx.abuse()], ""
    if det.type == "personalize":
        found = _personalize(ctx)
        return ("pass" if found else "fail"), found[:3], ""
    if det.type == "boundary":
        abuse = ctx.abuse()
        first = abuse[0].start_s if abuse else 0.0
        after = [u for u in ctx.agent if u.turn.end_s > first]
        hits = _hits(_cue_set(check), after, None)
        if hits:
            return "pass", [evidence_at(u, h.start, h.end) for u, h in hits[:3]], ""
        return "fail", _reply_to(ctx, [event_evidence(e) for e in abuse[:1]]), ""
    cues = _cue_set(check)
    if det.type == "cue_present":
        hits = _hits(cues, ctx.agent, matcher, ctx)
        if hits:
            return "pass", [evidence_at(u, h.start, h.end) for u, h in hits[:3]], ""
        return "fail", _reply_to(ctx, needed), ""
    # cue_absent: the cues are the things the agent should not say
    hits = _hits(cues, ctx.agent, None)
    if hits:
        better = next((h.suggestion for _, h in hits if h.suggestion), "") or check.better_phrasing
        return "fail", [evidence_at(u, h.start, h.end) for u, h in hits[:3]], better
    return "pass", [], ""


def says_cue(check: Check, text: str, matcher: Similarity | None = None) -> bool:
    """Whether one agent utterance carries ``check``'s cue (flagged phrase for cue_absent)."""
    turn = Turn("agent", "agent", 0.0, 1.0, text, ())
    u = utterance(turn)
    if check.detector.type == "personalize":
        ctx = _Context((u,), (), (), "not_upset", 1.0, ())
        return bool(_personalize(ctx))
    semantic = matcher if check.detector.type == "cue_present" else None
    return bool(detect(_cue_set(check), u.norm, semantic))

def score_call(rubric: Rubric, turns: tuple[Turn, ...], events: tuple[Event, ...],
               trajectory: str, *, matcher: Similarity | None | bool = True) -> Scorecard:
    """Run every enabled check of ``rubric`` on one call.

    ``matcher``: True loads the shared semantic matcher when its model package is
    installed; False/None runs on patterns alone; or pass a matcher object.
    Score (0-100) is the weighted share of applicable checks that passed.
    """
    if matcher is True:
        matcher = load_matcher()
    elif matcher is False:
        matcher = None
    agent, customer, grievance = sides(turns)
    request = first_hits(customer, "request")
    distress = first_hits(customer, "distress")
    if not request:
        request = tuple(turn_evidence(u.turn) for u in customer if "?" in u.turn.text)[:1]
    end_s = max([t.end_s for t in turns] + [e.end_s for e in events] + [0.0])
    events = tuple(events) + abuse_inferred_from_replies(agent, customer, events, grievance)
    abuse = any(e.role == "customer" and e.type == "threat" for e in events)
    if raised_voice_is_pleased(customer, events, bool(grievance or distress or abuse)):
        # nothing else says upset, so neither does the trajectory built on the raised voice
        events = tuple(e for e in events if not (e.role == "customer" and e.type == "raised_voice"))
        trajectory = "not_upset"
    ctx = _Context(agent, customer, tuple(sorted(events, key=lambda e: e.start_s)), trajectory,
                   end_s, grievance, request, distress, first_hits(customer, "escalation_request"))

    results: list[CheckResult] = []
    for check in rubric.enabled_checks():
        applies, needed = _condition(check.applies_when, ctx)
        status, evidence, better = "na", [], ""
        if applies:
            status, evidence, better = _run(check, ctx, needed, matcher)  # type: ignore[arg-type]
        elif check.credit_when_offered:
            s, ev, _ = _run(check, ctx, needed, matcher)  # type: ignore[arg-type]
            if s == "pass":
                status, evidence = "pass", ev
        results.append(CheckResult(check.id, check.title, check.category, status,  # type: ignore[arg-type]
                                   "agent", check.weight, tuple(evidence), check.tip, better, check.critical))
    return _summarise(tuple(results))


def _summarise(results: tuple[CheckResult, ...]) -> Scorecard:
    judged = [r for r in results if r.status != "na"]
    total = sum(r.weight for r in judged)
    passed = sum(r.weight for r in judged if r.status == "pass")
    score = round(100.0 * passed / total, 1) if total > 0 else 100.0
    order = {r.id: i for i, r in enumerate(results)}
    best = sorted((r for r in judged if r.status == "pass" and r.weight > 0),
                  key=lambda r: (-r.weight, order[r.id]))[:3]
    worst = sorted((r for r in judged if r.status == "fail"),
                   key=lambda r: (-r.weight, order[r.id]))[:2]
    went_well = tuple(_PRAISE.get(r.id, f"{r.title}: well done.") for r in best)
    # a failed critical check is what to work on first, whatever its weight
    critical = [r for r in results if r.critical and r.status == "fail"]
    work_on = tuple(dict.fromkeys(r.tip for r in critical + worst))[: max(2, len(critical))]
    return Scorecard(score, results, went_well, work_on, tuple(r.id for r in critical))


__all__ = ["says_cue", "score_call"]
