"""Scorecard checks on small synthetic calls built by factories."""

from __future__ import annotations

import numpy as np
import pytest

from callcoach.analysis.text_events import customer_upset_moments, find_text_events
from callcoach.records import Event, Turn, Word
from callcoach.scoring.rubric import load_rubric
from callcoach.scoring.scorecard import score_call


def turn(role: str, start_s: float, text: str, *, wps: float = 2.5) -> Turn:
    """A turn whose words are evenly timed at ``wps`` words per second."""
    words = tuple(Word(w, start_s + i / wps, start_s + (i + 1) / wps, 0.9, role)
                  for i, w in enumerate(text.split()))
    return Turn(role, role, start_s, words[-1].end_s, text, words)  # type: ignore[arg-type]


def event(type_: str, role: str, start_s: float, end_s: float, detail: str = "") -> Event:
    return Event(type_, role, role, start_s, end_s, detail or type_)  # type: ignore[arg-type]


def status(card, check_id: str) -> str:
    return next(c for c in card.checks if c.id == check_id).status


def result(card, check_id: str):
    return next(c for c in card.checks if c.id == check_id)


RUBRIC = load_rubric()


def score(turns, events=(), trajectory="not_upset"):
    turns = tuple(turns)
    return score_call(RUBRIC, turns, tuple(events) + find_text_events(turns), trajectory,
                      matcher=False)


def test_apology_na_without_grievance() -> None:
    card = score([turn("agent", 0, "Hi, my name is Sam, how can I help?"),
                  turn("customer", 3, "I'd like to update my address please.")])
    assert status(card, "apology") == "na"
    assert status(card, "boundary") == "na"
    assert status(card, "personalize") == "pass"


def test_missing_apology_points_at_the_agent_reply_to_the_complaint() -> None:
    """An agent check fails on the agent's side: the reply where the apology was owed,
    not the customer's complaint."""
    card = score([turn("customer", 0, "This is ridiculous, my parcel never arrived."),
                  turn("agent", 5, "Okay, what's the order number?")])
    r = result(card, "apology")
    assert r.status == "fail"
    assert r.evidence[0].start_s == pytest.approx(5)
    assert r.evidence[0].text == "Okay, what's the order number?"


def test_boundary_pass_after_abuse_and_agent_not_penalised() -> None:
    turns = [turn("customer", 0, "You're a useless idiot, I'll get my lawyer."),
             turn("agent", 6, "I want to help you, but I need us to keep this respectful.")]
    events = [event("raised_voice", "customer", 0, 4)]
    card = score(turns, events, "not_calmer")
    assert status(card, "boundary") == "pass"
    assert status(card, "document_threats") == "pass"
    for tone in ("calm_tone", "no_mirroring", "professional", "no_provocation"):
        assert status(card, tone) == "pass"


def test_provocation_gives_better_phrasing() -> None:
    card = score([turn("customer", 0, "This is unacceptable!"),
                  turn("agent", 3, "Sir, calm down please.")])
    r = result(card, "no_provocation")
    assert r.status == "fail" and r.better_phrasing
    assert r.evidence[0].text.lower().startswith("calm")
    assert r.evidence[0].start_s == pytest.approx(3.4)


def test_calm_tone_fail_uses_event() -> None:
    card = score([turn("agent", 0, "Hello")], [event("raised_voice", "agent", 10, 14)])
    r = result(card, "calm_tone")
    assert r.status == "fail" and r.evidence[0].start_s == 10


def test_escalation_na_when_calm_but_credited_when_offered() -> None:
    card = score([turn("agent", 0, "Let me connect you with my supervisor.")])
    assert status(card, "escalation") == "pass"
    card = score([turn("agent", 0, "Hello there.")])
    assert status(card, "escalation") == "na"


def test_score_is_weighted_share() -> None:
    card = score([turn("agent", 0, "Hello there.")])
    judged = [c for c in card.checks if c.status != "na"]
    expected = 100 * sum(c.weight for c in judged if c.status == "pass") / sum(c.weight for c in judged)
    assert card.score == pytest.approx(expected, abs=0.1)
    assert 2 <= len(card.went_well) <= 3 and 1 <= len(card.work_on) <= 2


def test_threat_event_timing() -> None:
    t = turn("customer", 10, "Honestly I'll get my lawyer onto you")
    events = find_text_events((t,))
    assert len(events) == 1
    e = events[0]
    assert e.type == "threat" and e.role == "customer" and e.detail == "legal threat: 'I'll get my lawyer'"
    assert e.start_s == pytest.approx(10.4) and e.end_s == pytest.approx(12.0)


def test_one_threat_event_per_turn_names_every_kind() -> None:
    events = find_text_events((turn("customer", 0, "You bloody idiots, I'm calling my lawyer"),))
    assert len(events) == 1
    assert events[0].detail.startswith("legal threat, insult, profanity: 'You bloody idiots")


def test_negated_threat_is_not_an_event() -> None:
    assert find_text_events((turn("customer", 0, "I'm not going to sue you, relax"),)) == ()


def test_paraphrase_restating_what_the_customer_wants() -> None:
    """"you want to ..." restating the customer's "I'd like to ..." is reflective listening."""
    customer = turn("customer", 0, "Hi, I'm going to Spain and I'd like to know if my phone plan works there.")
    card = score([customer, turn("agent", 8, "Sure. You want to use your plan in Spain. It includes roaming.")])
    r = result(card, "paraphrase")
    assert r.status == "pass" and r.evidence[0].text.startswith("You want to use your plan")


@pytest.mark.parametrize("agent", [
    "If you want, you can check your plan online.",           # conditional, not a restatement
    "Do you want to use your plan abroad?",                    # a question
    "You want to restart the router first.",                   # advice
    "You want to check the settings, then try again.",         # no word of the customer's
])
def test_paraphrase_needs_a_restatement(agent: str) -> None:
    customer = turn("customer", 0, "I'd like to know if my plan works abroad, my router keeps dropping.")
    assert status(score([customer, turn("agent", 8, agent)]), "paraphrase") == "fail"


@pytest.mark.parametrize("agent", [
    "I want to help you, but I can't continue if the language stays like this.",
    # asking for respect says it was missing (a legal threat that tiny.en heard as "my life")
    "I'm sorry it's so late. Let's keep this respectful so we can sort it out.",
])
def test_abuse_the_recogniser_lost_is_inferred_from_the_agent_limit(agent: str) -> None:
    """A shouted turn garbled by the recogniser; the agent's limit names the conduct."""
    turns = [turn("customer", 0, "I've had so much longer managed life. You've visited."),
             turn("agent", 6, agent)]
    card = score(turns, [event("raised_voice", "customer", 0, 5)], "calmer")
    assert status(card, "boundary") == "pass"
    r = result(card, "document_threats")
    assert r.status == "pass"
    assert r.evidence[0].start_s == 0 and "inferred" in r.evidence[0].text


@pytest.mark.parametrize("customer_events,agent", [
    # a calm customer: nothing to infer, whatever the agent says
    ((), "Please don't use that language, I'm trying to help."),
    # an upset customer, but the agent names no abusive conduct
    ((("raised_voice", 0, 5),), "We don't accept returns after thirty days, let's keep this calm."),
    # an upset customer, the agent mentions language but sets no limit
    ((("raised_voice", 0, 5),), "I can change the language on your account to Welsh."),
])
def test_no_abuse_inferred_without_a_limit_on_named_conduct(customer_events, agent: str) -> None:
    turns = [turn("customer", 0, "Hello, I'm calling about the order I placed."), turn("agent", 6, agent)]
    card = score(turns, [event(k, "customer", a, b) for k, a, b in customer_events])
    assert status(card, "boundary") == "na" and status(card, "document_threats") == "na"


def test_threat_after_a_negated_condition() -> None:
    """The negator of "if it isn't here" does not reach the threat in the main clause."""
    events = find_text_events((turn("customer", 0, "If it isn't here Friday my lawyer will be in touch"),))
    assert [e.detail.split(":")[0] for e in events] == ["legal threat"]


@pytest.mark.parametrize("agent,expected", [
    ("Okay. So only your bins have been missed on Cedar Road.", "pass"),
    ("Right, so every other house gets collected but not yours.", "pass"),
    ("So I'll send the crew out to Cedar Road tomorrow.", "fail"),     # what the agent will do
    ("So what's the postcode on Cedar Road?", "fail"),                 # a question
    ("So the weather has been lovely this week.", "fail"),             # nothing the customer said
    ("So, only your bins on Cedar Road.", "pass"),                     # the recogniser's comma after "so"
    ("So it's your bins. The ones on Cedar Road.", "pass"),            # running on past a full stop
    ("So you won't need to chase the bins on Cedar Road again.", "fail"),  # a consequence, not a restatement
])
def test_paraphrase_by_a_summing_up_so(agent: str, expected: str) -> None:
    customer = turn("customer", 0, "Nobody has collected my bins on Cedar Road for three weeks, every other house gets collected.")
    assert status(score([customer, turn("agent", 9, agent)]), "paraphrase") == expected


def test_garbled_name_in_the_opening_still_counts_as_giving_a_name() -> None:
    """The recogniser heard 'Daniel speaking' as 'manual speaking': the frame survives."""
    opening = [turn("agent", 0, "Road one hotel reception, manual speaking."),
               turn("customer", 3, "My room has no hot water.")]
    assert status(score(opening), "personalize") == "pass"
    later = [turn("agent", 0, "Hotel reception."), turn("customer", 3, "My room has no hot water."),
             turn("agent", 6, "okay manual speaking now")]
    assert status(score(later), "personalize") == "fail"


def test_greeting_formula_is_no_open_question() -> None:
    card = score([turn("agent", 0, "Hello, Northwind, how can I help?"),
                  turn("customer", 3, "I'd like to change my address."),
                  turn("agent", 6, "Sure, what's the new postcode?")])
    assert status(card, "open_question") == "fail"


def test_worried_customer_needs_acknowledging_not_an_apology() -> None:
    card = score([turn("agent", 0, "Maple Bank fraud line, this is Peter."),
                  turn("customer", 3, "Hi, I'm worried sick, there are payments on my card I never made."),
                  turn("agent", 8, "I understand you're worried. I'll block the card and refund them.")])
    assert status(card, "acknowledge") == "pass"
    assert status(card, "apology") == "na"
    assert status(card, "solution") == "pass"


@pytest.mark.parametrize("agent", [
    "I'll make sure the crew comes tomorrow morning.",
    "A refund will go to your card within five days.",
    "There's a slot on Thursday at ten.",
    "We're open from ten until two on Monday.",
])
def test_solution_as_a_commitment_a_remedy_on_its_way_or_an_answer(agent: str) -> None:
    card = score([turn("customer", 0, "Hello, I'd like to sort out my bin collection please."),
                  turn("agent", 5, agent)])
    assert status(card, "solution") == "pass"


# ------------------------------------------------------------ applicability follows the call

_EMPATHY_AND_DEESCALATION = ("acknowledge", "apology", "patience", "ownership", "escalation",
                             "no_mirroring", "boundary")


def _calm_purchase() -> list[Turn]:
    return [turn("agent", 0, "Thanks for calling Northwind, this is Dana, how can I help?"),
            turn("customer", 4, "Hi, I'd like to buy the blue kettle from your website."),
            turn("agent", 9, "Of course. I can order that for you now, it will arrive on Friday."),
            turn("customer", 15, "Oh that's great, thank you so much!"),
            turn("agent", 19, "You're welcome, have a lovely day.")]


@pytest.mark.parametrize("trajectory", ["not_upset", "not_calmer"])
def test_calm_call_without_grievance_leaves_empathy_and_deescalation_na(trajectory: str) -> None:
    """A polite purchase: no complaint, no worry, no abuse. Even when the prosody marks the
    delighted customer's "thank you so much!" as raised (and the trajectory follows it),
    the checks that answer an upset customer do not apply."""
    raised = [event("raised_voice", "customer", 15, 17)] if trajectory == "not_calmer" else []
    card = score(_calm_purchase(), raised, trajectory)
    for check in _EMPATHY_AND_DEESCALATION:
        assert status(card, check) == "na", check
    assert status(card, "solution") == "pass"


def test_raised_voice_still_counts_when_the_words_are_not_pleased() -> None:
    """A raised customer whose complaint the cue lists miss is still upset: the raised
    voice is set aside only when the raised words themselves say the customer is pleased."""
    turns = [turn("agent", 0, "Hello, Northwind, this is Dana."),
             turn("customer", 3, "My laptop won't even switch on and I bought it on Saturday."),
             turn("agent", 9, "Have you charged it?"),
             turn("customer", 12, "Of course I charged it!")]
    card = score(turns, [event("raised_voice", "customer", 12, 14)], "not_calmer")
    assert status(card, "acknowledge") == "fail"
    assert status(card, "no_mirroring") == "pass"


def test_pleased_raised_voice_does_not_hide_a_complaint() -> None:
    turns = _calm_purchase()
    turns[1] = turn("customer", 4, "Hi, the kettle I bought arrived broken, this is ridiculous.")
    card = score(turns, [event("raised_voice", "customer", 15, 17)], "calmer")
    assert status(card, "apology") == "fail" and status(card, "acknowledge") == "fail"


@pytest.mark.parametrize("asked", [
    "I want to speak to someone who can actually help me.",
    "Put me through to whoever's in charge.",
    "Can I talk to your boss?",
    "Get me someone else.",
    "I'd like to take this higher.",
    "Is there anyone above you?",
])
def test_a_request_for_someone_higher_makes_escalation_apply(asked: str) -> None:
    """Asked for someone else at any point, the agent is judged on escalating: it fails when
    they do not, passes when they do, and the request is a grievance (apology applies)."""
    turns = [turn("agent", 0, "Hello, Northwind billing, this is Dana."),
             turn("customer", 3, "My bill went up again."),
             turn("agent", 7, "That's the new tariff, it applies to everyone."),
             turn("customer", 12, asked),
             turn("agent", 17, "Let me see what I can do about the tariff."),
             turn("customer", 22, "Okay."),
             turn("agent", 24, "Anything else today?"),
             turn("customer", 27, "No."),
             turn("agent", 29, "Thanks for calling, goodbye.")]
    card = score(turns)
    assert status(card, "escalation") == "fail" and status(card, "apology") == "fail"
    assert result(card, "escalation").evidence[0].start_s == 17  # the agent's answer to it
    turns[4] = turn("agent", 17, "Of course, let me get my supervisor for you.")
    assert status(score(turns), "escalation") == "pass"


def test_customer_asking_after_their_own_boss_is_no_escalation_request() -> None:
    card = score([turn("agent", 0, "Hello, Northwind, this is Dana."),
                  turn("customer", 3, "I'd like to book a delivery, I need to call my boss at work first."),
                  turn("agent", 9, "Sure, I can book it for Friday.")])
    assert status(card, "escalation") == "na"


@pytest.mark.parametrize("threat", [
    "I'm done with this company.",
    "Forget it, I'm cancelling.",
    "I'm switching providers.",
    "You've lost a customer.",
    "I'll take my business elsewhere.",
])
def test_a_closing_threat_to_leave_is_an_upset_moment_late_in_the_call(threat: str) -> None:
    """The text side of the trajectory: the customer's closing threat to leave is among the
    upset words handed to events.analyse, at its time; the scorecard sees a customer still
    upset late, so escalation applies."""
    turns = [turn("agent", 0, "Hello, Northwind, this is Dana."),
             turn("customer", 3, "My order is late again."),
             turn("agent", 8, "It's with the courier, there's nothing I can do."),
             turn("customer", 13, threat)]
    moments = customer_upset_moments(tuple(turns))
    assert [m.start_s for m in moments] == [pytest.approx(3.8), pytest.approx(13, abs=0.9)]  # "is late", the threat
    assert status(score(turns), "escalation") == "fail"


def test_trajectory_not_calmer_when_the_customer_ends_on_a_threat_to_leave() -> None:
    """Through events.analyse, as the pipeline calls it: the same complaining customer ends
    calmer with thanks, and not calmer when the last words are a threat to leave."""
    from callcoach.analysis.events import analyse
    from callcoach.records import Audio, AudioInfo, Diarization, SpeechSegment
    from callcoach.settings import EventThresholds

    def trajectory(last: str) -> str:
        turns = (turn("agent", 0, "Hello, Northwind, this is Dana, how can I help?"),
                 turn("customer", 5, "This is ridiculous, my order never arrived, it's the third time."),
                 turn("agent", 11, "I'm sorry, I can send a replacement tomorrow."),
                 turn("customer", 17, "Tomorrow? I needed it today, what a waste of my time."),
                 turn("agent", 23, "I understand, I'll also refund the delivery charge."),
                 turn("customer", 29, last))
        sr = 16_000
        samples = np.random.default_rng(0).normal(0, 1e-4, (2, 35 * sr)).astype(np.float32)
        audio = Audio(AudioInfo("call.wav", 35.0, sr, 2), samples, sr)
        diar = Diarization(tuple(SpeechSegment(t.role, t.start_s, t.end_s) for t in turns),
                           ("agent", "customer"), "test", {"agent": 0, "customer": 1})
        upset = tuple((m.start_s, m.end_s) for m in customer_upset_moments(turns))
        return analyse(audio, diar, turns, {"agent": "agent", "customer": "customer"},
                       {"agent": 0.9, "customer": 0.9}, find_text_events(turns), EventThresholds(),
                       upset).trajectory

    assert trajectory("Okay, that's fine, thank you.") == "calmer"
    assert trajectory("Forget it, you've lost a customer, I'm switching providers.") == "not_calmer"


# ------------------------------------------------------------ evidence is the agent's own

def _within_agent(ev, turns, events) -> bool:
    """Whether an evidence span is the agent's: inside an agent turn, or an agent event."""
    return any(t.role == "agent" and t.start_s - 0.01 <= ev.start_s and ev.end_s <= t.end_s + 0.01
               for t in turns) or any(
        e.role == "agent" and (e.start_s, e.end_s) == (ev.start_s, ev.end_s) for e in events)


def test_boundary_fail_points_at_the_agent_reply_not_the_abuse() -> None:
    turns = [turn("customer", 0, "You're a useless idiot."),
             turn("agent", 4, "What's your account number?")]
    r = result(score(turns), "boundary")
    assert r.status == "fail" and r.evidence[0].start_s == 4


def test_no_agent_check_quotes_the_customer() -> None:
    """Every check is the agent's, so its evidence (pass or fail) is the agent's words or the
    agent's own events, on every demo call and corpus dialogue (from their true words).
    document_threats is the exception by design: it is the log of the customer's threats."""
    import json
    from pathlib import Path

    import make_calls

    root = Path(__file__).resolve().parents[2]

    calls = []
    for path in sorted((root / "corpus" / "dialogues").glob("*.yaml")):
        spec = make_calls.load_spec(path)
        durations = [len(t["text"].split()) / 2.5 + 0.2 for t in spec["turns"]]
        placed = make_calls.place_turns(spec["turns"], durations)
        turns = [Turn(p.role, p.role, p.start_s, p.end_s, p.text, tuple(
            Word(w, p.start_s + i * (p.end_s - p.start_s) / len(p.text.split()),
                 p.start_s + (i + 1) * (p.end_s - p.start_s) / len(p.text.split()), 1.0, p.role)
            for i, w in enumerate(p.text.split()))) for p in placed]
        events = [event(e["type"], e["role"], e["start_s"], e["end_s"])
                  for e in make_calls.derive_events(placed) if e["type"] != "threat"]
        calls.append((path.stem, turns, events, spec["expected"]["customer_trajectory"]))
    for path in sorted((root / "audio_samples").glob("*.truth.json")):
        truth = json.loads(path.read_text(encoding="utf-8"))
        turns = [Turn(t["role"], t["role"], t["start_s"], t["end_s"], t["text"], ()) for t in truth["turns"]]
        events = [event(e["type"], e["role"], e["start_s"], e["end_s"]) for e in truth["events"] if e["type"] != "threat"]
        calls.append((path.stem, turns, events, truth["expected"]["customer_trajectory"]))
    failed = 0
    for name, turns, events, trajectory in calls:
        all_events = tuple(events) + find_text_events(tuple(turns))
        card = score_call(RUBRIC, tuple(turns), all_events, trajectory, matcher=False)
        for c in card.checks:
            failed += c.status == "fail"
            if c.id == "document_threats":
                continue
            for ev in c.evidence:
                assert _within_agent(ev, turns, all_events), (name, c.id, c.status, ev)
    assert failed > 100  # the failed checks were looked at too


def test_putting_the_customer_through_after_they_asked_for_a_manager_is_escalation() -> None:
    """After "I want to speak to a manager", "before I pop you through" offers the escalation even when the
    recogniser garbles "my manager" into "my man"."""
    turns = [turn("customer", 0, "I've had enough of this, I want to speak to a manager now please."),
             turn("agent", 6, "Of course. Before I pop you through, let me note the claim."),
             turn("customer", 12, "Fine, but I still want the manager, this is ridiculous."),
             turn("agent", 18, "I'll transfer you to my man now.")]
    assert status(score(turns, trajectory="not_calmer"), "escalation") == "pass"


def test_transfer_talk_without_a_request_for_someone_higher_is_no_escalation() -> None:
    turns = [turn("customer", 0, "This is ridiculous, my bill is wrong again."),
             turn("agent", 6, "I'll put you through to billing to check the amount."),
             turn("customer", 12, "Still not fixed, this is unacceptable.")]
    assert status(score(turns, trajectory="not_calmer"), "escalation") == "fail"


def test_apology_credited_for_a_minor_complaint() -> None:
    """No grievance detected, but a sincere apology (for rushing) still earns the check."""
    card = score([turn("agent", 0, "Right so your excess is two hundred and fifty pounds."),
                  turn("customer", 5, "Could you slow down a bit? I didn't catch most of that."),
                  turn("agent", 10, "Sorry, yes, I was going far too fast there.")])
    assert status(card, "apology") == "pass"
