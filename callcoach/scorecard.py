"""The scorecard stage: threat events from the words, then every rubric check.

Pure functions over frozen records. The only model is the optional semantic
matcher (:mod:`callcoach.semantic`), loaded once per process.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Sequence

from callcoach.phrases import (BUILTIN_CUES, CueSet, Hit, Normalized, Similarity, compile_pattern,
                               detect, find_cues, normalize_words, phrase_cue_set, semantic_hits)
from callcoach.records import CheckResult, Event, Evidence, Role, Scorecard, Turn
from callcoach.rubric import Check, Rubric

THREAT_KINDS = (("threat_legal", "legal threat"), ("threat_violence", "violent threat"),
                ("threat_review", "review threat"), ("insult", "insult"),
                ("profanity", "profanity"))
_THREAT_ONLY = ("legal threat", "violent threat", "review threat")
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
_NAME_INTRO = [compile_pattern(p) for p in (
    "my name is @", "this is @ speaking|from|with|here|at", "you are speaking|talking to|with @",
    "@ speaking", "my name @", "i am @ from|with")]
_TITLE = compile_pattern("mr|mrs|ms|miss|mister|dr|doctor @")
_NOT_NAMES = frozenset({"a", "an", "the", "my", "your", "not", "just", "calling", "about", "is",
                        "very", "so", "really", "going", "sorry", "here", "that", "it", "this",
                        "customer", "service", "support", "i", "you", "we", "on", "in", "for",
                        "are", "am", "was", "be", "now", "name"})


@dataclass(frozen=True)
class _Utterance:
    turn: Turn
    norm: Normalized
    words: tuple[tuple[str, float, float], ...]  # (text, start_s, end_s) of each source word


def _utterance(turn: Turn) -> _Utterance:
    if turn.words:
        words = tuple((w.text, w.start_s, w.end_s) for w in turn.words)
    else:
        parts = turn.text.split()
        step = (turn.end_s - turn.start_s) / max(len(parts), 1)
        words = tuple((p, turn.start_s + i * step, turn.start_s + (i + 1) * step)
                      for i, p in enumerate(parts))
    return _Utterance(turn, normalize_words([w[0] for w in words]), words)


def _evidence(u: _Utterance, start: int, end: int) -> Evidence:
    """Evidence for tokens ``[start, end)``: the source words with their times."""
    if not u.norm.tokens or not u.words:
        return Evidence(u.turn.start_s, u.turn.end_s, u.turn.text)
    first = u.norm.source[min(start, len(u.norm.source) - 1)]
    last = u.norm.source[min(max(end - 1, start), len(u.norm.source) - 1)]
    chunk = u.words[first : last + 1]
    text = " ".join(w[0].strip() for w in chunk).strip(" ,.;:")
    return Evidence(chunk[0][1], chunk[-1][2], text)


def _turn_evidence(turn: Turn) -> Evidence:
    return Evidence(turn.start_s, turn.end_s, turn.text)


def _event_evidence(e: Event) -> Evidence:
    return Evidence(e.start_s, e.end_s, e.detail or e.type)


def find_text_events(turns: tuple[Turn, ...],
                     roles: Sequence[Role] = ("agent", "customer")) -> tuple[Event, ...]:
    """``threat`` events (legal, violent, review threats, insults, profanity) in the words.

    One event per kind per turn, timed by the matched words; ``role`` is who said it.
    """
    events: list[Event] = []
    for turn in turns:
        if turn.role not in roles:
            continue
        u = _utterance(turn)
        for cue_name, kind in THREAT_KINDS:
            hits, _ = find_cues(BUILTIN_CUES[cue_name], u.norm)
            if not hits:
                continue
            first = min(hits, key=lambda h: h.start)
            ev = _evidence(u, first.start, first.end)
            events.append(Event("threat", turn.role, turn.speaker, ev.start_s, ev.end_s,
                                f"{kind}: '{ev.text}'"))
    return tuple(sorted(events, key=lambda e: e.start_s))


@dataclass(frozen=True)
class _Context:
    agent: tuple[_Utterance, ...]
    customer: tuple[_Utterance, ...]
    events: tuple[Event, ...]
    trajectory: str
    end_s: float
    grievance: tuple[Evidence, ...]

    def of(self, role: str, *types: str) -> list[Event]:
        return [e for e in self.events if e.role == role and e.type in types]

    def abuse(self) -> list[Event]:
        return self.of("customer", "threat")


def _condition(name: str, ctx: _Context) -> tuple[bool, list[Evidence]]:
    """Whether a check applies, and the moments that made it apply (for fail evidence)."""
    raised = ctx.of("customer", "raised_voice")
    abuse = ctx.abuse()
    grievance = list(ctx.grievance) + [_event_evidence(e) for e in raised + abuse]
    grievance.sort(key=lambda e: e.start_s)
    if name == "always":
        return True, []
    if name == "customer_grievance":
        return bool(grievance), grievance
    if name == "customer_upset":
        upset = grievance + [_event_evidence(e) for e in ctx.of("customer", "rapid_speech")]
        return bool(upset) or ctx.trajectory in ("calmer", "not_calmer"), sorted(upset, key=lambda e: e.start_s)
    if name == "customer_raised":
        return bool(raised), [_event_evidence(e) for e in raised]
    if name == "customer_abusive":
        return bool(abuse), [_event_evidence(e) for e in abuse]
    if name == "customer_threat":
        threats = [e for e in abuse if e.detail.startswith(_THREAT_ONLY)]
        return bool(threats), [_event_evidence(e) for e in threats]
    if name == "customer_upset_late":
        late = [e for e in raised + abuse if e.start_s >= ctx.end_s * 2 / 3]
        late_ev = [_event_evidence(e) for e in late]
        if not late_ev and ctx.customer and ctx.trajectory == "not_calmer":
            late_ev = [_turn_evidence(ctx.customer[-1].turn)]
        return bool(late) or ctx.trajectory == "not_calmer", late_ev
    raise ValueError(f"unknown condition {name!r}")  # the rubric loader prevents this


def _cue_set(check: Check) -> CueSet:
    if check.phrases:
        return _phrase_set(check.id, check.phrases, check.negative_phrases)
    return BUILTIN_CUES[check.detector.get("cues")]


@lru_cache(maxsize=256)
def _phrase_set(name: str, phrases: tuple[str, ...], negative: tuple[str, ...]) -> CueSet:
    return phrase_cue_set(name, phrases, negative)


def _hits(cues: CueSet, utterances: Sequence[_Utterance], matcher: Similarity | None,
          ) -> list[tuple[_Utterance, Hit]]:
    """Pattern hits; only when there are none, one batched semantic pass over all utterances."""
    found = [(u, h) for u in utterances for h in find_cues(cues, u.norm)[0]]
    if found or matcher is None:
        return found
    return [(utterances[i], h) for i, h in semantic_hits(cues, [u.norm for u in utterances], matcher)]


def _personalize(ctx: _Context) -> list[Evidence]:
    names: set[str] = set()
    for u in ctx.customer:
        for pat in _NAME_INTRO:
            for m in pat.regex.finditer(u.norm.text + " "):
                name = m.group(0).split()[pat.source.split().index("@")]
                if name not in _NOT_NAMES:
                    names.add(name)
    found: list[Evidence] = []
    for u in ctx.agent:
        text = u.norm.text + " "
        spans: list[tuple[int, int]] = []
        for pat in (*_NAME_INTRO, _TITLE):
            m = pat.regex.search(text)
            if m and m.group(0).split()[pat.source.split().index("@")] not in _NOT_NAMES:
                start = text[: m.start()].count(" ")
                spans.append((start, start + len(m.group(0).split())))
        for i, tok in enumerate(u.norm.tokens):
            if tok in names:
                spans.append((i, i + 1))
        if spans:
            s, e = min(spans)
            found.append(_evidence(u, s, e))
    return found


def _run(check: Check, ctx: _Context, needed: list[Evidence], matcher: Similarity | None,
         ) -> tuple[str, list[Evidence], str]:
    """(status, evidence, better_phrasing) for an applicable check."""
    det = check.detector
    if det.type == "event_absent":
        found = ctx.of("agent", det.get("event"))
        ok = len(found) <= det.get("max_count")
        return ("pass" if ok else "fail"), [_event_evidence(e) for e in found], ""
    if det.type == "no_mirroring":
        win = det.get("window_s")
        cust = ctx.of("customer", "raised_voice")
        mirrored = [a for a in ctx.of("agent", "raised_voice")
                    if any(a.start_s < c.end_s + win and c.start_s - win < a.end_s for c in cust)]
        if mirrored:
            return "fail", [_event_evidence(e) for e in mirrored], ""
        return "pass", [_event_evidence(e) for e in cust[:1]], ""
    if det.type == "threats_documented":
        return "pass", [_event_evidence(e) for e in ctx.abuse()], ""
    if det.type == "personalize":
        found = _personalize(ctx)
        return ("pass" if found else "fail"), found[:3], ""
    if det.type == "boundary":
        abuse = ctx.abuse()
        first = abuse[0].start_s if abuse else 0.0
        after = [u for u in ctx.agent if u.turn.end_s > first]
        hits = _hits(_cue_set(check), after, None)
        if hits:
            return "pass", [_evidence(u, h.start, h.end) for u, h in hits[:3]], ""
        return "fail", [_event_evidence(e) for e in abuse[:3]], ""
    cues = _cue_set(check)
    if det.type == "cue_present":
        hits = _hits(cues, ctx.agent, matcher)
        if hits:
            return "pass", [_evidence(u, h.start, h.end) for u, h in hits[:3]], ""
        return "fail", needed[:1] or [_turn_evidence(u.turn) for u in ctx.customer[:1]], ""
    # cue_absent: the cues are the things the agent should not say
    hits = _hits(cues, ctx.agent, None)
    if hits:
        better = next((h.suggestion for _, h in hits if h.suggestion), "") or check.better_phrasing
        return "fail", [_evidence(u, h.start, h.end) for u, h in hits[:3]], better
    return "pass", [], ""


def says_cue(check: Check, text: str, matcher: Similarity | None = None) -> bool:
    """Whether one agent utterance carries ``check``'s cue (flagged phrase for cue_absent)."""
    turn = Turn("agent", "agent", 0.0, 1.0, text, ())
    u = _utterance(turn)
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
        from callcoach.semantic import load_matcher

        matcher = load_matcher()
    elif matcher is False:
        matcher = None
    utterances = [_utterance(t) for t in turns]
    agent = tuple(u for u in utterances if u.turn.role == "agent")
    customer = tuple(u for u in utterances if u.turn.role == "customer")
    grievance = tuple(_evidence(u, h.start, h.end) for u in customer
                      for h in find_cues(BUILTIN_CUES["grievance"], u.norm)[0][:1])
    end_s = max([t.end_s for t in turns] + [e.end_s for e in events] + [0.0])
    ctx = _Context(agent, customer, tuple(sorted(events, key=lambda e: e.start_s)), trajectory,
                   end_s, grievance)

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
                                   "agent", check.weight, tuple(evidence), check.tip, better))
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
    work_on = tuple(r.tip for r in worst)
    return Scorecard(score, results, went_well, work_on)


__all__ = ["THREAT_KINDS", "find_text_events", "says_cue", "score_call"]
