"""Personal-data redaction: the labelled-set targets, results with nothing left, audio."""

from __future__ import annotations

import json
import re
import wave
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from callsynth.factories import make_call_result
from eval_redact import DATA, evaluate, load_items

from callcoach.records import Event, Evidence, Turn, Word, result_to_dict
from callcoach.redact import (
    RedactedSpan,
    RedactionError,
    Span,
    detect,
    luhn_ok,
    redact_audio,
    redact_result,
    redact_turns,
    redacted_spans,
    write_wav,
)

ROOT = Path(__file__).resolve().parents[2]

RECALL = {"card": 0.95, "phone": 0.95, "email": 0.95, "address": 0.85, "name": 0.85,
          "account": 0.85, "dob": 0.85, "number": 0.85}


def _turn(role: str, text: str, t0: float = 0.0, step: float = 0.4) -> Turn:
    words = tuple(Word(w, round(t0 + i * step, 3), round(t0 + i * step + 0.3, 3), 0.9, role)
                  for i, w in enumerate(text.split()))
    return Turn(role, role, t0, round(t0 + len(words) * step, 3), text, words)  # type: ignore[arg-type]


def _turns(*lines: str) -> list[Turn]:
    out, t0 = [], 0.0
    for line in lines:
        role, text = line.split(": ", 1)
        out.append(_turn(role, text, t0))
        t0 = out[-1].end_s + 1.0
    return out


def _texts(*lines: str) -> list[str]:
    return [t.text for t in redact_turns(_turns(*lines))[0]]


# --------------------------------------------------------------------------- labelled set


@pytest.fixture(scope="module")
def labelled() -> dict:
    return evaluate(DATA / "pii.yaml")


@pytest.mark.parametrize("kind", sorted(RECALL))
def test_labelled_recall(labelled: dict, kind: str) -> None:
    assert labelled[kind]["gold"] >= 25
    assert labelled[kind]["recall"] >= RECALL[kind], labelled[kind]


@pytest.mark.parametrize("kind", sorted(RECALL))
def test_labelled_precision(labelled: dict, kind: str) -> None:
    assert labelled[kind]["precision"] >= 0.9, labelled[kind]


def test_hard_negatives_are_kept() -> None:
    negatives = [(turns, gold) for section, turns, gold in load_items(DATA / "pii.yaml") if section == "negative"]
    assert len(negatives) >= 40
    flagged = [" | ".join(t.text for t in turns) for turns, _ in negatives if detect(turns)]
    assert flagged == []


def test_holdout_set_has_every_kind() -> None:
    result = evaluate(DATA / "pii_holdout.yaml")
    assert all(r["gold"] >= 8 for r in result.values())


# --------------------------------------------------------------------------- words and turns


@pytest.mark.parametrize("text,expected", [
    ("customer: the card is four one one one, one one one one, one one one one, one one one one.", "the card is [CARD]."),
    ("customer: call me on 07700 900123 please", "call me on [PHONE] please"),
    ("customer: it's 41 11 five five", "it's [NUMBER]"),
    ("customer: my email is john dot smith at example dot com", "my email is [EMAIL]"),
    ("customer: I live at forty two Elm Road, flat three", "I live at [ADDRESS]"),
    ("customer: I was born on the third of May nineteen eighty", "I was born on [DOB]"),
    ("customer: my reference is B W 742", "my reference is [ACCOUNT]"),
    ("customer: It's Hadley, H A D L E Y.", "It's [NAME]."),
    ("customer: it's sixty pounds, at three thirty, within two days, press one", None),
])
def test_redacted_text(text: str, expected: str | None) -> None:
    assert _texts(text) == [expected or text.split(": ", 1)[1]]


def test_placeholder_is_one_word_with_the_span_times() -> None:
    turn = _turn("customer", "my number is oh seven seven double oh nine eight three four five six thanks", 10.0)
    (new,), spans = redact_turns([turn])
    assert [w.text for w in new.words] == ["my", "number", "is", "[PHONE]", "thanks"]
    placeholder = new.words[3]
    assert placeholder.start_s == turn.words[3].start_s
    assert placeholder.end_s == turn.words[-2].end_s
    assert spans == [RedactedSpan(turn.words[3].start_s, turn.words[-2].end_s, "phone")]
    assert new.start_s == turn.start_s and new.end_s == turn.end_s


def test_detect_returns_word_spans() -> None:
    found = detect([_turn("customer", "card 4111 1111 1111 1111 ok")])
    assert found == {0: [Span(1, 5, "card")]}
    assert found[0][0].placeholder == "[CARD]"
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


def test_customer_name_repeated_by_the_agent_is_redacted() -> None:
    texts = _texts(
        "agent: Thanks for calling, my name is Dana. Who am I speaking to?",
        "customer: Hi Dana, my name is Tom Hadley.",
        "agent: Thanks Tom. I can see the order.",
        "customer: Great.",
        "agent: Okay Mr Hadley, that's sorted. Anything else, Tom?",
    )
    assert texts[0] == "Thanks for calling, my name is Dana. Who am I speaking to?"  # the agent's own name stays
    assert texts[1] == "Hi Dana, my name is [NAME]."
    assert texts[2] == "Thanks [NAME]. I can see the order."
    assert texts[4] == "Okay [NAME], that's sorted. Anything else, [NAME]?"


def test_answer_is_typed_by_the_question() -> None:
    texts = _texts("agent: Can I take the postcode please?", "customer: yeah it's L S 6, 2 A B")
    assert texts[1] == "yeah it's [ADDRESS]"
    texts = _texts("agent: And your date of birth?", "customer: Oh seven, oh four, ninety one")
    assert texts[1] == "[DOB]"


def test_off_and_bad_modes() -> None:
    turns = _turns("customer: call me on 07700 900123")
    assert redact_turns(turns, "off") == (tuple(turns), [])
    with pytest.raises(RedactionError, match="'loud'"):
        redact_turns(turns, "loud")  # type: ignore[arg-type]


def test_next_steps_cue_still_passes_with_a_placeholder() -> None:
    from callcoach.scoring.rubric import load_rubric
    from callcoach.scoring.scorecard import says_cue

    check = load_rubric().check("next_steps")
    (turn,), _ = redact_turns([_turn("agent", "Your reference number is R-2231.")])
    assert turn.text == "Your reference number is [ACCOUNT]."
    assert says_cue(check, turn.text, None)


# --------------------------------------------------------------------------- whole results

_PII = [
    ("customer", "My name is Tom Hadley and my card number is 4111 1111 1111 1111."),
    ("agent", "Thanks Tom. And a phone number?"),
    ("customer", "It's oh seven seven double oh nine eight three four five six, or 0207 946 0958."),
    ("customer", "Email is tom dot hadley at example dot com."),
    ("agent", "Lovely, Mr Hadley, I've updated that."),
]
_DIGITS = re.compile(r"\d(?:[\s,.\-]*\d){3,}")
_UNIT = r"(?:zero|oh|one|two|three|four|five|six|seven|eight|nine|double|triple)"
_WORD_DIGITS = re.compile(rf"\b{_UNIT}(?:[\s,.\-]+{_UNIT}){{3,}}\b", re.IGNORECASE)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def _result_with_pii():
    base = make_call_result("call-demo", source="/recordings/demo.wav")  # file names are not redacted
    t0 = base.turns[-1].end_s + 1.0
    extra = []
    for role, text in _PII:
        extra.append(replace(_turn(role, text, t0), speaker=base.turns[0].speaker if role == "agent" else base.turns[1].speaker))
        t0 = extra[-1].end_s + 0.5
    quoted = extra[2]
    checks = tuple(
        replace(c, evidence=c.evidence + (Evidence(quoted.start_s, quoted.end_s, quoted.text),
                                          Evidence(extra[0].start_s, extra[0].end_s, "card number is 4111 1111")),
                better_phrasing=c.better_phrasing + (" Say: thanks Tom." if c.better_phrasing else ""))
        if c.id in ("paraphrase", "positive_language") else c
        for c in base.scorecard.checks)
    events = base.events + (Event("threat", "customer", extra[0].speaker, extra[0].start_s, extra[0].end_s,
                                  "insult: 'Tom Hadley and my card number is 4111 1111 1111'"),)
    return replace(base, turns=base.turns + tuple(extra), events=events,
                   scorecard=replace(base.scorecard, checks=checks))


def test_redacted_result_keeps_no_long_digit_string() -> None:
    result = _result_with_pii()
    raw = _strings(result_to_dict(result))
    assert any(_DIGITS.search(s) for s in raw) and any(_WORD_DIGITS.search(s) for s in raw)  # the test has teeth
    data = result_to_dict(redact_result(result))
    strings = _strings(data)
    assert [s for s in strings if _DIGITS.search(s)] == []
    assert [s for s in strings if _WORD_DIGITS.search(s)] == []
    text = json.dumps(data, ensure_ascii=False)
    for secret in ("Hadley", "hadley", "Tom", "example dot com", "4111"):
        assert secret not in text
    assert "[CARD]" in text and "[PHONE]" in text and "[EMAIL]" in text and "[NAME]" in text
    assert data["meta"]["redaction"]["counts"]["card"] == 2  # and the factory's "ends in 0192"
    assert "Dana" in text  # the agent's name is not the customer's data


def test_redacted_result_keeps_structure_and_times() -> None:
    result = _result_with_pii()
    red = redact_result(result)
    assert len(red.turns) == len(result.turns)
    assert [(t.start_s, t.end_s) for t in red.turns] == [(t.start_s, t.end_s) for t in result.turns]
    assert red.scorecard.score == result.scorecard.score
    assert [c.status for c in red.scorecard.checks] == [c.status for c in result.scorecard.checks]
    spans = redacted_spans(red)
    assert spans == redacted_spans(result_to_dict(red))
    assert {s.kind for s in spans} >= {"card", "phone", "email", "name"}
    assert redact_result(result, "off") is result


# --------------------------------------------------------------------------- audio

RATE = 16000


def _noise(channels: int = 2, seconds: float = 3.0) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (0.3 * rng.standard_normal((channels, int(seconds * RATE)))).astype(np.float32)


def _bounds(span: RedactedSpan, pad: float = 0.1) -> tuple[int, int]:
    return int(np.floor((span.start_s - pad) * RATE)), int(np.ceil((span.end_s + pad) * RATE))


def test_redact_audio_tone_is_1khz_at_minus_20_dbfs_and_the_rest_untouched() -> None:
    audio = _noise()
    span = RedactedSpan(1.0, 1.6, "card")
    out = redact_audio(audio, RATE, [span], mode="tone")
    a, b = _bounds(span)
    assert out.shape == audio.shape and out.dtype == np.float32
    assert np.array_equal(out[:, :a], audio[:, :a]) and np.array_equal(out[:, b:], audio[:, b:])
    for ch in out[:, a:b]:
        spectrum = np.abs(np.fft.rfft(ch * np.hanning(len(ch))))
        freqs = np.fft.rfftfreq(len(ch), 1 / RATE)
        assert abs(freqs[int(np.argmax(spectrum))] - 1000.0) < 5.0
        level_dbfs = 20 * np.log10(np.sqrt(np.mean(ch.astype(np.float64) ** 2)) * np.sqrt(2))
        assert abs(level_dbfs - (-20.0)) <= 1.0


def test_redact_audio_silence_and_padding() -> None:
    audio = _noise(channels=1)
    spans = [RedactedSpan(0.05, 0.3, "name"), RedactedSpan(2.5, 2.95, "phone")]
    out = redact_audio(audio, RATE, spans, mode="silence")
    mask = np.zeros(audio.shape[1], bool)
    for s in spans:
        a, b = _bounds(s)
        mask[max(a, 0):min(b, audio.shape[1])] = True
    assert np.all(out[:, mask] == 0.0)
    assert np.array_equal(out[:, ~mask], audio[:, ~mask])
    assert mask[: int(0.39 * RATE)].all() and not mask[int(0.41 * RATE)]  # 0.1 s pad, clipped at the start


def test_redact_audio_rejects_bad_input() -> None:
    with pytest.raises(RedactionError, match="shape"):
        redact_audio(np.zeros(10, np.float32), RATE, [])
    with pytest.raises(RedactionError, match="'beep'"):
        redact_audio(np.zeros((1, 10), np.float32), RATE, [], mode="beep")  # type: ignore[arg-type]
    with pytest.raises(RedactionError, match="rate_hz"):
        redact_audio(np.zeros((1, 10), np.float32), 0, [])


def test_write_wav_round_trip(tmp_path: Path) -> None:
    audio = redact_audio(_noise(seconds=1.0) * 0.5, RATE, [RedactedSpan(0.2, 0.4, "dob")])
    path = write_wav(tmp_path / "call.redacted.wav", audio, RATE)
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getframerate(), w.getsampwidth(), w.getnframes()) == (2, RATE, 2, audio.shape[1])
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, 2).T / 32767.0
    assert np.max(np.abs(pcm - audio)) < 1e-4
    assert [p.name for p in tmp_path.iterdir()] == ["call.redacted.wav"]
