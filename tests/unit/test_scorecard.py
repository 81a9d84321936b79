"""Scorecard checks on small synthetic calls built by factories."""

from __future__ import annotations

import pytest

from callcoach.analysis.text_events import find_text_events
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


def test_missing_apology_points_at_complaint() -> None:
    card = score([turn("customer", 0, "This is ridiculous, my parcel never arrived."),
                  turn("agent", 5, "Okay, what's the order number?")])
    r = result(card, "apology")
    assert r.status == "fail"
    assert r.evidence[0].start_s == pytest.approx(0.8)  # the word "ridiculous"
    assert "ridiculous" in r.evidence[0].text


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
