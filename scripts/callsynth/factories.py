"""Record factories: realistic :class:`CallResult` objects for tests.

``make_call_result()`` builds a difficult but recovered support call (the
customer was double-charged, raises their voice, threatens to sue, and ends
calmer) with turns, word timings, events, a full scorecard over the checks
in COACHING.md and prosody tracks, all mutually consistent: evidence times
point at the turns that contain the evidence text.

``duration_s`` stretches the call by repeating the middle of the script, so
``make_call_result(duration_s=7200)`` gives a two-hour call with thousands of
turns. ``hostile=True`` puts markup-like text (see :data:`HOSTILE`) into
every user-controlled string: call id, source, speaker id, turns, evidence,
event details and coaching lines.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable

from callcoach.records import (
    SCHEMA_VERSION,
    AudioInfo,
    CallMeta,
    CallResult,
    CheckResult,
    Event,
    Evidence,
    ProsodyTrack,
    Scorecard,
    SpeakerSummary,
    Turn,
    Word,
    result_to_dict,
)

HOSTILE = "<script>alert(1)</script> \"quoted\" & 'single' </textarea><b>bold</b>"
"""Text that would become markup if any template forgot to escape it."""

AGENT = "SPEAKER_00"
CUSTOMER = "SPEAKER_01"

# (role, text, flags): flags mark turns that carry events.
_OPENING = [
    ("agent", "Thank you for calling Northwind support, my name is Dana. How can I help you today?", ()),
    ("customer", "I've been charged twice for my order and nobody has fixed it. This is the third time I'm calling!", ("raised",)),
    ("agent", "I understand how frustrating that must be. Could you tell me more about the charges?", ()),
    ("customer", "I already told the last person everything. You people never listen to a word I say!", ("raised",)),
    ("agent", "Calm down, please. As I already said, I need the order number before I can do anything.", ("interrupt", "rapid")),
    ("customer", "Don't tell me to calm down! If this isn't fixed today I'm going to sue you.", ("raised", "threat")),
    ("agent", "I'm really sorry for the trouble. Let me make sure I understand: you were charged twice for order 4471?", ()),
    ("customer", "Yes. Twice. Forty-nine dollars each time.", ()),
    ("agent", "I can't reverse the charge myself, it's our policy.", ()),
    ("customer", "That's ridiculous.", ("silence_after",)),
]
_MIDDLE = [
    ("agent", "Here's what I can do: I'll issue a refund for the duplicate charge right now.", ()),
    ("customer", "Okay. How long will that take?", ()),
    ("agent", "While I have you, could you confirm the card ending and the billing address on the account?", ()),
    ("customer", "It ends in 0192 and the address is 14 Elm Street, apartment 3.", ()),
    ("agent", "Thank you, that matches. I'm adding a note so the next person sees the whole history.", ()),
    ("customer", "Good, because I don't want to explain this a fourth time.", ()),
]
_CLOSING = [
    ("agent", "You'll receive the refund within 3 business days, and your reference number is R-2231.", ()),
    ("customer", "Alright, thank you. That's better.", ()),
    ("agent", "Thanks for your patience, is there anything else I can help with?", ()),
    ("customer", "No, that's all. Bye.", ()),
]

CHECKS = [
    ("calm_tone", "Calm, steady voice", "Tone and composure"),
    ("no_mirroring", "Does not mirror anger", "Tone and composure"),
    ("measured_pace", "Unhurried pace", "Tone and composure"),
    ("no_talk_over", "Lets the customer finish", "Tone and composure"),
    ("patience", "Gives the customer room to vent", "Tone and composure"),
    ("acknowledge", "Acknowledges feelings", "Empathy and listening"),
    ("apology", "Sincere apology", "Empathy and listening"),
    ("paraphrase", "Confirms the problem", "Empathy and listening"),
    ("open_question", "Asks open questions", "Empathy and listening"),
    ("ownership", "Takes ownership", "Empathy and listening"),
    ("personalize", "Personal touch", "Empathy and listening"),
    ("positive_language", "Positive language", "Language"),
    ("no_provocation", "Avoids inflaming phrases", "Language"),
    ("professional", "Professional language", "Language"),
    ("solution", "Offers a solution", "Resolution"),
    ("next_steps", "States next steps", "Resolution"),
    ("escalation", "Offers escalation", "Resolution"),
    ("boundary", "Sets respectful boundaries", "Boundaries"),
    ("document_threats", "Threats documented", "Boundaries"),
]

_TIPS = {
    "measured_pace": "Slow down when the customer is upset: a steady pace sounds in control.",
    "no_talk_over": "Let the customer finish their sentence before you answer, even when you know the answer.",
    "ownership": "Say what you will personally do: \u201cI'll make sure this is fixed today.\u201d",
    "positive_language": "Lead with what you can do rather than what you cannot.",
    "no_provocation": "Phrases like \u201ccalm down\u201d usually make an upset caller angrier.",
    "boundary": "When a customer threatens you, stay respectful and name the limit before moving on.",
}
_PASS_TIP = "Keep doing this."

# check id -> (status, phrase found in a turn, better phrasing)
_PLAN = {
    "calm_tone": ("pass", None, ""),
    "no_mirroring": ("pass", None, ""),
    "measured_pace": ("fail", "As I already said, I need the order number", ""),
    "no_talk_over": ("fail", "Calm down, please", ""),
    "patience": ("pass", None, ""),
    "acknowledge": ("pass", "I understand how frustrating that must be", ""),
    "apology": ("pass", "I'm really sorry for the trouble", ""),
    "paraphrase": ("pass", "Let me make sure I understand", ""),
    "open_question": ("pass", "Could you tell me more", ""),
    "ownership": ("fail", None, ""),
    "personalize": ("pass", "my name is Dana", ""),
    "positive_language": ("fail", "I can't reverse the charge myself, it's our policy",
                          "Here's what I can do: I'll ask billing to reverse it today."),
    "no_provocation": ("fail", "Calm down", "I can hear how frustrating this is. Let's fix it together."),
    "professional": ("pass", None, ""),
    "solution": ("pass", "I'll issue a refund", ""),
    "next_steps": ("pass", "You'll receive the refund within 3 business days", ""),
    "escalation": ("na", None, ""),
    "boundary": ("fail", None, ""),
    "document_threats": ("pass", "I'm going to sue you", ""),
}


def _script(duration_s: float) -> list[tuple[str, str, tuple[str, ...]]]:
    """Opening, enough repeats of the middle to reach ``duration_s``, closing."""
    base = _OPENING + _MIDDLE + _CLOSING
    script = list(_OPENING)
    est_base = sum(len(t.split()) for _, t, _ in base) / 2.6 + len(base) * 0.5 + 10
    est_mid = sum(len(t.split()) for _, t, _ in _MIDDLE) / 2.6 + len(_MIDDLE) * 0.5
    repeats = max(1, math.ceil((duration_s - est_base) / est_mid) + 1) if duration_s > est_base else 1
    for _ in range(repeats):
        script += _MIDDLE
    return script + _CLOSING


def _words(text: str, start_s: float, end_s: float, speaker: str, rng: random.Random) -> tuple[Word, ...]:
    tokens = text.split()
    step = (end_s - start_s) / max(1, len(tokens))
    return tuple(
        Word(text=tok, start_s=round(start_s + i * step, 3), end_s=round(start_s + (i + 0.85) * step, 3),
             probability=round(rng.uniform(0.72, 0.99), 3), speaker=speaker)
        for i, tok in enumerate(tokens)
    )


def _find(turns: Iterable[Turn], phrase: str) -> Turn | None:
    return next((t for t in turns if phrase.lower() in t.text.lower()), None)


def make_call_result(
    call_id: str = "call-0001",
    *,
    duration_s: float = 0.0,
    hostile: bool = False,
    seed: int = 0,
    agent_speaker: str = AGENT,
    customer_speaker: str = CUSTOMER,
    source: str | None = None,
    step_s: float = 0.5,
) -> CallResult:
    """A consistent, realistic scored call (about 75 s, or ``duration_s`` when longer)."""
    rng = random.Random(seed)
    if hostile:
        call_id = f"{call_id}{HOSTILE}"
        customer_speaker = f"{customer_speaker}{HOSTILE}"
    speaker_of = {"agent": agent_speaker, "customer": customer_speaker}
    turns: list[Turn] = []
    events: list[Event] = []
    t = 0.6
    for n, (role, text, flags) in enumerate(_script(duration_s)):
        if hostile and n == 3:
            text = f"{text} {HOSTILE}"
        rate = (150.0 if role == "agent" else 165.0) * ("rapid" in flags and 1.45 or 1.0)
        length = len(text.split()) / rate * 60.0
        start = t - (0.6 if "interrupt" in flags else 0.0)
        end = start + length
        speaker = speaker_of[role]
        turns.append(Turn(speaker=speaker, role=role, start_s=round(start, 3), end_s=round(end, 3),
                          text=text, words=_words(text, start, end, speaker, rng)))
        detail_suffix = f" {HOSTILE}" if hostile else ""
        if "raised" in flags:
            events.append(Event("raised_voice", role, speaker, round(start + 0.3, 3), round(end, 3),
                                "+8.5 dB and +18% pitch over the speaker's baseline" + detail_suffix))
        if "interrupt" in flags:
            events.append(Event("interruption", role, speaker, round(start, 3), round(start + 0.6, 3),
                                "agent started while the customer was still speaking" + detail_suffix))
        if "rapid" in flags:
            events.append(Event("rapid_speech", role, speaker, round(start, 3), round(end, 3),
                                f"{rate:.0f} words/min, agent baseline 150" + detail_suffix))
        if "threat" in flags:
            events.append(Event("threat", role, speaker, round(end - 1.6, 3), round(end, 3),
                                "legal threat: \u201cI'm going to sue you\u201d" + detail_suffix))
        t = end + rng.uniform(0.25, 0.7)
        if "silence_after" in flags:
            events.append(Event("long_silence", "unknown", "", round(end, 3), round(end + 9.2, 3),
                                "9.2 s with nobody speaking"))
            t = end + 9.2
    total = max(duration_s, t + 1.0)

    evidence_for: dict[str, tuple[Evidence, ...]] = {}
    for cid, (status, phrase, _) in _PLAN.items():
        turn = _find(turns, phrase) if phrase else None
        if turn is not None:
            ev_text = phrase
            if hostile and cid == "acknowledge":
                ev_text = phrase  # stays findable; hostile text lives in the turn
            evidence_for[cid] = (Evidence(turn.start_s, turn.end_s, ev_text),)
        elif cid == "boundary":
            threat = next(e for e in events if e.type == "threat")
            evidence_for[cid] = (Evidence(threat.start_s, threat.end_s,
                                          "no boundary set after the threat" + (f" {HOSTILE}" if hostile else "")),)
        else:
            evidence_for[cid] = ()
    checks = tuple(
        CheckResult(
            id=cid, title=title, category=category, status=_PLAN[cid][0], role="agent", weight=1.0,
            evidence=evidence_for[cid],
            tip=(_TIPS.get(cid, _PASS_TIP) if _PLAN[cid][0] != "na" else "Not needed on this call."),
            better_phrasing=_PLAN[cid][2],
        )
        for cid, title, category in CHECKS
    )
    n_pass = sum(c.status == "pass" for c in checks)
    n_fail = sum(c.status == "fail" for c in checks)
    score = round(100.0 * n_pass / max(1, n_pass + n_fail), 1)
    work_on = [
        "Drop \u201ccalm down\u201d: acknowledge the frustration instead, it lowers the temperature faster.",
        "Let the customer finish before answering: you cut in once while they were upset.",
        "Lead with what you can do (\u201cHere's what I can do\u201d) rather than policy.",
    ]
    if hostile:
        work_on[0] += f" {HOSTILE}"
    scorecard = Scorecard(
        score=score, checks=checks,
        went_well=("You acknowledged the customer's frustration early.",
                   "You offered a concrete refund and a clear timeline.",
                   "The customer ended the call calmer than they started."),
        work_on=tuple(work_on),
    )

    n = int(math.ceil(total / step_s))
    tracks = []
    summaries = []
    for role in ("agent", "customer"):
        speaker = speaker_of[role]
        loud: list[float | None] = [None] * n
        pitch: list[float | None] = [None] * n
        rate_l: list[float | None] = [None] * n
        base_db, base_hz = (-24.0, 180.0) if role == "agent" else (-21.0, 145.0)
        raised = [(e.start_s, e.end_s) for e in events if e.type == "raised_voice" and e.speaker == speaker]
        mine = [tr for tr in turns if tr.speaker == speaker]
        for tr in mine:
            wpm = len(tr.words) / max(tr.end_s - tr.start_s, 1e-3) * 60.0
            for i in range(int(tr.start_s / step_s), min(n, int(math.ceil(tr.end_s / step_s)))):
                ts = i * step_s
                up = any(a <= ts <= b for a, b in raised)
                loud[i] = round(base_db + (8.5 if up else 0.0) + rng.gauss(0, 1.2), 2)
                pitch[i] = round(base_hz * (1.18 if up else 1.0) + rng.gauss(0, 6), 1)
                rate_l[i] = round(wpm + rng.gauss(0, 6), 1)
        tracks.append(ProsodyTrack(speaker, step_s, tuple(loud), tuple(pitch), tuple(rate_l)))
        talk = sum(tr.end_s - tr.start_s for tr in mine)
        words = sum(len(tr.words) for tr in mine)
        summaries.append(SpeakerSummary(
            id=speaker, role=role, role_confidence=0.93, talk_time_s=round(talk, 3),
            talk_ratio=round(talk / total, 3), rate_wpm=round(words / talk * 60.0, 1) if talk else None,
            loudness_db=base_db + 1.0, pitch_hz=base_hz, overlap_s=0.6 if role == "agent" else 0.0,
            channel=0 if role == "agent" else 1,
        ))

    return CallResult(
        schema_version=SCHEMA_VERSION,
        call_id=call_id,
        call=AudioInfo(source=source or f"/recordings/{call_id.replace('/', '_')}.wav", duration_s=round(total, 3),
                       sample_rate_hz=16000, channels=2),
        speakers=tuple(summaries),
        turns=tuple(turns),
        events=tuple(events),
        scorecard=scorecard,
        customer_trajectory="calmer",
        prosody=tuple(tracks),
        meta=CallMeta(extra={"factory": "make_call_result", "seed": seed}),
    )


def make_calm_call(call_id: str = "call-calm", *, seed: int = 1) -> CallResult:
    """A short, easy call: no events, customer never upset, high score."""
    base = make_call_result(call_id, seed=seed)
    checks = tuple(
        CheckResult(**{**c.__dict__, "status": "na" if c.id in ("apology", "boundary", "document_threats",
                                                                 "escalation") else "pass",
                       "better_phrasing": "", "tip": _PASS_TIP})
        for c in base.scorecard.checks
    )
    return CallResult(**{
        **base.__dict__,
        "events": (),
        "customer_trajectory": "not_upset",
        "scorecard": Scorecard(score=100.0, checks=checks,
                               went_well=("Clear, friendly greeting.", "Steady pace throughout."), work_on=()),
    })


def make_scored_dict(call_id: str, seed: int = 0, *, fail: tuple[str, ...] = (), critical: tuple[str, ...] = ()) -> dict:
    """:func:`make_call_result` as its JSON result, with the checks in ``fail`` failed and those in ``critical``
    marked critical (score and ``failed_critical`` kept consistent): calls for the QA programme's tests."""
    data = result_to_dict(make_call_result(call_id, seed=seed))
    sc = data["scorecard"]
    for c in sc["checks"]:
        if c["id"] in fail:
            c["status"] = "fail"
        c["critical"] = c["id"] in critical
    judged = [c for c in sc["checks"] if c["status"] != "na"]
    sc["score"] = round(100 * sum(c["weight"] for c in judged if c["status"] == "pass") / sum(c["weight"] for c in judged), 1)
    sc["failed_critical"] = [c["id"] for c in sc["checks"] if c["critical"] and c["status"] == "fail"]
    return data


__all__ = ["AGENT", "CHECKS", "CUSTOMER", "HOSTILE", "make_calm_call", "make_call_result", "make_scored_dict"]
