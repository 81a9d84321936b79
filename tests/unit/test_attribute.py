"""Stage 4 and 5: words to speakers (overlaps included), turns, and roles."""

from __future__ import annotations

from callcoach.records import Diarization, SpeechSegment, Turn, Word
from callcoach.speech.attribute import assign_words, build_turns, keep_speech_words, speech_mask, with_roles
from callcoach.speech.roles import assign_roles


def w(text, start, end, speaker=""):
    return Word(text, start, end, 0.9, speaker)


def diar(*segs, channel_of=None):
    segments = tuple(SpeechSegment(s, a, b) for s, a, b in segs)
    return Diarization(segments, tuple(sorted({s for s, _, _ in segs})), "test", channel_of or {})


def test_word_goes_to_the_speaker_covering_it_most():
    d = diar(("S1", 0.0, 2.0), ("S2", 1.8, 4.0))
    words = [w("hello", 0.1, 0.5), w("there", 1.7, 2.0), w("hi", 2.5, 2.8)]
    out = assign_words(words, d)
    assert [x.speaker for x in out] == ["S1", "S1", "S2"]


def test_overlap_word_stays_with_the_speaker_already_talking():
    d = diar(("S1", 0.0, 3.0), ("S2", 2.0, 5.0))
    words = [w("I", 0.2, 0.4), w("was", 0.5, 0.8), w("saying", 2.2, 2.6), w("no", 3.2, 3.5)]
    out = assign_words(words, d)
    assert [x.speaker for x in out] == ["S1", "S1", "S1", "S2"]


def test_word_outside_any_speech_goes_to_the_nearest_speaker():
    d = diar(("S1", 0.0, 1.0), ("S2", 3.0, 4.0))
    out = assign_words([w("um", 2.6, 2.8)], d)
    assert out[0].speaker == "S2"


def test_a_pause_whisper_folded_into_a_reply_word_is_taken_out():
    # the customer stops at 23.3 s; the agent answers "I understand" at 24.2 s, but Whisper
    # starts "I" where "today" ended (23.16 s) and stretches it across the pause: "I" is
    # heard at its end, so it is the agent's and the reply starts after the pause
    d = diar(("S2", 18.6, 23.3), ("S1", 24.2, 32.0))
    words = [w("today.", 22.8, 23.16), w("I", 23.16, 24.38), w("understand", 24.37, 24.9)]
    out = assign_words(words, d)
    assert [x.speaker for x in out] == ["S2", "S1", "S1"]
    assert out[1].start_s == 24.38 - 0.5 and out[1].end_s == 24.38
    assert out[0].start_s == 22.8


def test_a_long_word_in_continuous_speech_keeps_its_times():
    # a long word right after the previous one, with speech all through it: no pause was folded
    d = diar(("S1", 0.0, 3.0), ("S2", 3.1, 5.0))
    words = [w("that's", 0.5, 0.9), w("frustrating", 0.9, 1.7), w("okay", 3.2, 3.5)]
    out = assign_words(words, d)
    assert [(x.speaker, x.start_s) for x in out] == [("S1", 0.5), ("S1", 0.9), ("S2", 3.2)]


def test_crosstalk_words_are_dropped_from_a_channel():
    segs = (SpeechSegment("S1", 0.0, 2.0),)
    words = [w("yes", 0.5, 0.8), w("bleed", 5.0, 5.3)]
    assert [x.text for x in keep_speech_words(words, segs, "S1")] == ["yes"]


def test_speech_mask_is_one_inside_zero_outside():
    mask = speech_mask(16000 * 4, 16000, (SpeechSegment("S1", 1.0, 2.0),), "S1", pad_s=0.0)
    assert mask[int(1.5 * 16000)] == 1.0
    assert mask[int(0.5 * 16000)] == 0.0 and mask[int(3.0 * 16000)] == 0.0


def test_turns_split_on_floor_change_and_keep_overlap():
    words = [
        w("I", 0.0, 0.2, "S1"), w("have", 0.3, 0.5, "S1"), w("a", 0.6, 0.7, "S1"), w("problem", 0.8, 1.2, "S1"),
        w("mm-hmm", 1.0, 1.3, "S2"),  # backchannel inside S1's turn
        w("with", 1.4, 1.6, "S1"), w("my", 1.7, 1.8, "S1"), w("bill", 1.9, 2.2, "S1"),
        w("let", 3.0, 3.2, "S2"), w("me", 3.3, 3.4, "S2"), w("check", 3.5, 3.9, "S2"),
        w("okay", 6.0, 6.3, "S1"),
    ]
    turns = build_turns(words)
    texts = [(t.speaker, t.text) for t in turns]
    assert ("S1", "I have a problem with my bill") in texts
    assert ("S2", "mm-hmm") in texts
    assert ("S2", "let me check") in texts
    assert texts[-1] == ("S1", "okay")
    s1 = next(t for t in turns if t.text.startswith("I have"))
    back = next(t for t in turns if t.text == "mm-hmm")
    assert back.start_s < s1.end_s  # the overlap is kept


def _turn(speaker, start, text):
    words = tuple(w(x, start + i * 0.3, start + i * 0.3 + 0.25, speaker) for i, x in enumerate(text.split()))
    return Turn(speaker, "unknown", start, words[-1].end_s, text, words)


def test_agent_is_the_one_who_greets_even_when_speaking_second():
    turns = (
        _turn("S1", 0.0, "hello?"),
        _turn("S2", 1.0, "thank you for calling northwind energy this is dana how can i help you today"),
        _turn("S1", 5.0, "hi i'm calling about my bill i was charged twice"),
    )
    roles = assign_roles(turns, diar(("S1", 0, 1), ("S2", 1, 5)))
    assert roles.roles == {"S2": "agent", "S1": "customer"}
    assert roles.confidence["S2"] > 0.6


def test_cold_desk_greeting_is_the_agent_and_this_is_my_third_call_is_no_name():
    turns = (
        _turn("S1", 0.0, "Accounts department."),
        _turn("S2", 2.0, "This is my third call about the same wrong charge on my invoice. I'm getting really angry now."),
        _turn("S1", 9.0, "I can't see any notes from those calls."),
        _turn("S2", 12.0, "This is absolutely hopeless!"),
    )
    roles = assign_roles(turns, diar(("S1", 0, 2), ("S2", 2, 9), ("S1", 9, 12), ("S2", 12, 14)))
    assert roles.roles == {"S1": "agent", "S2": "customer"}


def test_desk_greeting_counts_only_as_a_speakers_first_words():
    # tiny.en's words for corpus c17 over a GSM line: the agent's "Account's department." (an
    # apostrophe in the desk's name) and the customer's garbled "then [the billing] department is"
    # late in the call, which is someone being sent elsewhere, not a greeting
    turns = (
        _turn("S2", 0.1, "Account's department."),
        _turn("S1", 2.3, "This is my third call about the same wrong charge on my invoice."),
        _turn("S2", 9.9, "I can't see any notes from both calls."),
        _turn("S1", 12.8, "So I have to explain it all again every single time"),
        _turn("S2", 18.2, "They're not being I can to amount the invoice."),
        _turn("S1", 23.4, "Then missed department is"),
        _turn("S2", 26.2, "You can't write the reading."),
    )
    segs = [(t.speaker, t.start_s, t.end_s) for t in turns]
    roles = assign_roles(turns, diar(*segs))
    assert roles.roles == {"S2": "agent", "S1": "customer"}
    assert any("account's department" in r for r in roles.reasons), roles.reasons


def test_agent_found_by_what_only_agents_do_when_the_greeting_is_garbled():
    # tiny.en's words for the corpus' mono call c22: no "thank you for calling", one "I want"
    turns = (
        _turn("S1", 0.0, "City parking enforcement, my name is Ruth."),
        _turn("S2", 4.0, "You told my car from outside my old house."),
        _turn("S1", 8.0, "I can see why this is a setting what happened when you came home."),
        _turn("S2", 13.0, "It was gone. Give it back. I'll come down there. I'm smashing a plate up."),
        _turn("S1", 19.0, "I want to help you, but I can continue if you threaten us."),
        _turn("S2", 26.0, "Okay. Sorry. I'm just ripped."),
        _turn("S1", 30.0, "My supervisor will call you back within the hour and I can wave the relief key."),
    )
    segs = [(t.speaker, t.start_s, t.end_s) for t in turns]
    assert assign_roles(turns, diar(*segs)).roles == {"S1": "agent", "S2": "customer"}
    # the same words with the speakers' order swapped: the cues, not who spoke first, decide
    swapped = tuple(Turn("S2" if t.speaker == "S1" else "S1", t.role, t.start_s, t.end_s, t.text, t.words) for t in turns)
    assert assign_roles(swapped, diar(*[(t.speaker, t.start_s, t.end_s) for t in swapped])).roles == {"S2": "agent", "S1": "customer"}


def test_user_can_name_the_agent_channel():
    turns = (_turn("S1", 0.0, "thank you for calling how can i help"), _turn("S2", 3.0, "my order is late"))
    d = diar(("S1", 0, 3), ("S2", 3, 5), channel_of={"S1": 0, "S2": 1})
    roles = assign_roles(turns, d, agent_channel=1)
    assert roles.roles == {"S2": "agent", "S1": "customer"}
    assert roles.method == "user"


def test_third_speaker_is_labelled_unknown_and_one_speaker_without_cues_too():
    turns = (
        _turn("S1", 0.0, "thank you for calling how can i help you"),
        _turn("S2", 3.0, "my order never arrived and i want a refund now please"),
        _turn("S3", 9.0, "yes"),
    )
    roles = assign_roles(turns, diar(("S1", 0, 3), ("S2", 3, 9), ("S3", 9, 10)))
    assert roles.roles == {"S1": "agent", "S2": "customer", "S3": "unknown"}
    single = assign_roles((_turn("S1", 0.0, "the weather is nice"),), diar(("S1", 0, 2)))
    assert single.roles == {"S1": "unknown"}
    assert with_roles(turns, roles.roles)[1].role == "customer"
