"""Tests for scripts/make_calls.py: render tiny dialogues and check the truth."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import make_calls
import numpy as np
import pytest
import soundfile as sf
import yaml

STEREO_SPEC = {
    "id": "tiny_stereo",
    "channels": 2,
    "agent_channel": 1,
    "sample_rate_hz": 8000,
    "format": "wav",
    "voices": {"agent": "flite:slt", "customer": "espeak:en-gb+m3"},
    "turns": [
        {"role": "agent", "text": "Hello, this is Dana, how can I help you today?", "gap_s": 0.3},
        {"role": "customer", "text": "My parcel never arrived and I need it this week.",
         "gap_s": 0.4},
        {"role": "agent", "text": "Listen, that is simply not how this works here.",
         "style": "raised", "gap_s": -1.0},
    ],
}

MONO_SPEC = {
    "id": "tiny_mono",
    "channels": 1,
    "sample_rate_hz": 16000,
    "format": "flac",
    "voices": {"agent": "espeak:en-us+f3", "customer": "flite:awb"},
    "turns": [
        {"role": "customer", "text": "I have been waiting for weeks now.", "style": "rapid"},
        {"role": "agent", "text": "Okay.", "gap_s": -0.4},
        {"role": "customer", "text": "I will get my lawyer on you.", "style": "raised_rapid",
         "threat": True, "gap_s": 0.5},
    ],
    "expected": {"customer_trajectory": "not_calmer", "checks": {"boundary": "fail"}},
}


def _rms_db(x: np.ndarray) -> float:
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def _segment(audio: np.ndarray, sr: int, turn: dict, channel: int) -> np.ndarray:
    return audio[int(turn["start_s"] * sr): int(turn["end_s"] * sr), channel]


@pytest.fixture(scope="module")
def stereo(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, np.ndarray, int]:
    out = tmp_path_factory.mktemp("stereo")
    path = make_calls.render_call(STEREO_SPEC, out)
    assert path == out / "tiny_stereo.wav"
    truth = json.loads((out / "tiny_stereo.truth.json").read_text(encoding="utf-8"))
    with wave.open(str(path), "rb") as wf:
        assert (wf.getnchannels(), wf.getframerate(), wf.getsampwidth()) == (2, 8000, 2)
        frames = wf.readframes(wf.getnframes())
    audio = np.frombuffer(frames, "<i2").reshape(-1, 2).astype(np.float32) / 32768
    return truth, audio, 8000


@pytest.fixture(scope="module")
def mono(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, np.ndarray, int, Path]:
    out = tmp_path_factory.mktemp("mono")
    path = make_calls.render_call(MONO_SPEC, out)
    truth = json.loads((out / "tiny_mono.truth.json").read_text(encoding="utf-8"))
    audio, sr = sf.read(path, dtype="float32", always_2d=True)
    return truth, audio, sr, out


def test_duration_matches_truth(stereo, mono) -> None:
    for truth, audio, sr, *_ in (stereo, mono):
        assert abs(len(audio) / sr - truth["duration_s"]) < 0.1
        assert truth["sample_rate_hz"] == sr
        assert truth["channels"] == audio.shape[1]
        assert truth["turns"][-1]["end_s"] < truth["duration_s"]


def test_turns_in_order_with_overlap(stereo) -> None:
    truth, _, _ = stereo
    t = truth["turns"]
    assert [x["role"] for x in t] == ["agent", "customer", "agent"]
    assert t[0]["start_s"] == pytest.approx(0.3, abs=0.01)
    assert t[1]["start_s"] == pytest.approx(t[0]["end_s"] + 0.4, abs=0.01)
    # gap_s = -1.0: the agent starts one second before the customer stops
    assert t[2]["start_s"] == pytest.approx(t[1]["end_s"] - 1.0, abs=0.01)
    assert all(x["end_s"] > x["start_s"] for x in t)


def test_raised_turn_is_louder(stereo) -> None:
    truth, audio, sr = stereo
    ch = truth["agent_channel"]
    calm, raised = truth["turns"][0], truth["turns"][2]
    assert raised["style"] == "raised"
    assert _rms_db(_segment(audio, sr, raised, ch)) - _rms_db(_segment(audio, sr, calm, ch)) >= 6


def test_agent_channel_holds_agent(stereo) -> None:
    truth, audio, sr = stereo
    assert truth["agent_channel"] == 1
    agent_turn, customer_turn = truth["turns"][0], truth["turns"][1]
    assert (_rms_db(_segment(audio, sr, agent_turn, 1))
            - _rms_db(_segment(audio, sr, agent_turn, 0))) >= 15
    # the customer's turn, before the overlap, is on the other channel
    head = dict(customer_turn, end_s=truth["turns"][2]["start_s"])
    assert _rms_db(_segment(audio, sr, head, 0)) - _rms_db(_segment(audio, sr, head, 1)) >= 15


def test_silence_is_not_digital_zero(stereo) -> None:
    truth, audio, sr = stereo
    lead = audio[: int(truth["turns"][0]["start_s"] * sr) - 80]
    assert -60 < _rms_db(lead[:, 0]) < -40


def test_stereo_events(stereo) -> None:
    truth, _, _ = stereo
    t = truth["turns"]
    events = {(e["type"], e["role"], e["start_s"], e["end_s"]) for e in truth["events"]}
    assert events == {
        ("raised_voice", "agent", t[2]["start_s"], t[2]["end_s"]),
        ("interruption", "agent", t[2]["start_s"], t[1]["end_s"]),
    }


def test_mono_events_and_files(mono) -> None:
    truth, _, _, out = mono
    t = truth["turns"]
    events = sorted((e["type"], e["role"], e["start_s"]) for e in truth["events"])
    # the 1-word backchannel overlap is not an interruption
    assert events == sorted([
        ("rapid_speech", "customer", t[0]["start_s"]),
        ("raised_voice", "customer", t[2]["start_s"]),
        ("rapid_speech", "customer", t[2]["start_s"]),
        ("threat", "customer", t[2]["start_s"]),
    ])
    assert truth["agent_channel"] is None
    assert truth["expected"] == MONO_SPEC["expected"]
    lines = (out / "tiny_mono.txt").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "CUSTOMER: I have been waiting for weeks now."
    assert lines[1] == "AGENT: Okay."
    rttm = (out / "tiny_mono.rttm").read_text(encoding="utf-8").splitlines()
    fields = rttm[2].split()
    assert fields[:3] == ["SPEAKER", "tiny_mono", "1"] and fields[7] == "customer"
    assert float(fields[3]) == pytest.approx(t[2]["start_s"], abs=0.001)
    assert float(fields[4]) == pytest.approx(t[2]["end_s"] - t[2]["start_s"], abs=0.002)


def test_deterministic(tmp_path: Path, stereo) -> None:
    truth, audio, _ = stereo
    path = make_calls.render_call(STEREO_SPEC, tmp_path)
    with wave.open(str(path), "rb") as wf:
        again = np.frombuffer(wf.readframes(wf.getnframes()), "<i2")
    assert np.array_equal(again.reshape(-1, 2).astype(np.float32) / 32768, audio)


@pytest.mark.parametrize("key, value, message", [
    ("channels", 3, "channels"),
    ("format", "aac", "format"),
    ("sample_rate_hz", 44100, "sample_rate_hz"),
    ("voices", {"agent": "festival:kal", "customer": "flite:slt"}, "voices.agent"),
    ("turns", [{"role": "boss", "text": "hi"}], "turns[0].role"),
])
def test_bad_spec_names_the_key(key: str, value: object, message: str) -> None:
    with pytest.raises(make_calls.SpecError, match=message.replace("[", r"\[")):
        make_calls.validate_spec({**STEREO_SPEC, key: value})


def test_self_overlap_is_rejected(tmp_path: Path) -> None:
    spec = {**STEREO_SPEC, "turns": [STEREO_SPEC["turns"][0],
                                     {"role": "agent", "text": "And again.", "gap_s": -0.5}]}
    with pytest.raises(make_calls.SpecError, match="overlap their own"):
        make_calls.render_call(spec, tmp_path)


def test_cli_usage_error() -> None:
    with pytest.raises(SystemExit) as exc:
        make_calls.main(["--out", "somewhere"])
    assert exc.value.code == 2


# ------------------------------------------------- raised speakers need a calm baseline


def test_speaker_raised_in_every_turn_is_rejected(tmp_path: Path) -> None:
    turns = [
        {"role": "agent", "text": "Hello, how can I help?"},
        {"role": "customer", "text": "My parcel never came!", "style": "raised"},
        {"role": "agent", "text": "I'm sorry to hear that."},
        {"role": "customer", "text": "Fix it now!", "style": "raised_rapid"},
    ]
    with pytest.raises(make_calls.SpecError,
                       match=r"turns\[1\]\.style = 'raised'.*customer is raised in every one of "
                             r"their turns \(turns\[1\], turns\[3\]\).*calm or rapid"):
        make_calls.validate_spec({**STEREO_SPEC, "turns": turns})
    # the message names the file when the spec comes from one
    path = tmp_path / "all_raised.yaml"
    path.write_text(yaml.safe_dump({**STEREO_SPEC, "turns": turns}), encoding="utf-8")
    with pytest.raises(make_calls.SpecError, match=r"all_raised\.yaml: turns\[1\]\.style"):
        make_calls.load_spec(path)
    # one calm-level turn (calm or rapid) gives the speaker a baseline
    for style in ("calm", "rapid"):
        ok = [dict(turns[1], style=style)] + turns[2:]
        make_calls.validate_spec({**STEREO_SPEC, "turns": turns[:1] + ok})


# ---------------------------------------------------- speaking-rate normalisation


def test_syllable_count() -> None:
    assert make_calls.syllable_count("Hello, this is Dana.") == 6
    assert make_calls.syllable_count("Take the case home") == 4  # silent final e
    assert make_calls.syllable_count("little tree") == 3
    assert make_calls.syllable_count("Call 911") == 4


@pytest.mark.parametrize("value", ["fast", 0, -2.0, True])
def test_bad_rate_limit_names_the_key(value: object) -> None:
    with pytest.raises(make_calls.SpecError, match="calm_max_syllables_per_s"):
        make_calls.validate_spec({**STEREO_SPEC, "calm_max_syllables_per_s": value})


def test_rate_limit_default_off() -> None:
    assert make_calls.validate_spec(STEREO_SPEC)["calm_max_syllables_per_s"] is None
    spec = make_calls.validate_spec({**STEREO_SPEC, "calm_max_syllables_per_s": 4})
    assert spec["calm_max_syllables_per_s"] == 4.0


def test_load_spec_defaults_fill_only_missing_keys(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(yaml.safe_dump(STEREO_SPEC), encoding="utf-8")
    key = "calm_max_syllables_per_s"
    assert make_calls.load_spec(path)[key] is None
    assert make_calls.load_spec(path, defaults={key: 3.7})[key] == 3.7
    path.write_text(yaml.safe_dump({**STEREO_SPEC, key: 4.5}), encoding="utf-8")
    assert make_calls.load_spec(path, defaults={key: 3.7})[key] == 4.5


FAST_TEXT = "I can see the order was sent to the wrong address, so let me fix that for you today."
RATE_SPEC = {
    "id": "rate_norm",
    "channels": 1,
    "sample_rate_hz": 16000,
    "format": "wav",
    "espeak_wpm": 230,      # far too fast for calm speech
    "flite_stretch": 1.6,   # slower than the limit: left alone
    "voices": {"agent": "espeak:en-us+m3", "customer": "flite:slt"},
    "turns": [
        {"role": "agent", "text": FAST_TEXT},
        {"role": "customer", "text": "Thank you, that would be really helpful.", "gap_s": 0.5},
        {"role": "agent", "text": FAST_TEXT, "style": "rapid", "gap_s": 0.5},
        {"role": "customer", "text": "Why did nobody fix it before?", "style": "raised",
         "gap_s": 0.5},
    ],
}


def _rates(out: Path, spec: dict) -> list[float]:
    truth = json.loads((out / f"{spec['id']}.truth.json").read_text(encoding="utf-8"))
    return [make_calls.syllable_count(t["text"]) / (t["end_s"] - t["start_s"])
            for t in truth["turns"]]


def test_rate_normalisation(tmp_path: Path) -> None:
    limit = 3.7
    off = _rates(Path(make_calls.render_call(RATE_SPEC, tmp_path / "off")).parent, RATE_SPEC)
    on_spec = {**RATE_SPEC, "calm_max_syllables_per_s": limit}
    on_path = make_calls.render_call(on_spec, tmp_path / "on")
    on = _rates(on_path.parent, on_spec)
    assert off[0] > limit * 1.2                        # the TTS alone is too fast
    assert limit * 0.9 < on[0] < limit * 1.08          # slowed to the limit
    assert on[2] / on[0] == pytest.approx(RATE_SPEC.get("rapid_tempo", 1.55), rel=0.08)
    assert on[2] > on[0] * 1.4                         # rapid stays clearly faster
    assert off[1] < limit and on[1] == pytest.approx(off[1], rel=2e-3)  # slow turn: as it was
    assert on[3] <= limit * 1.08
    # deterministic with the option on
    again = make_calls.render_call(on_spec, tmp_path / "again")
    assert again.read_bytes() == on_path.read_bytes()


def _median_pitch_hz(voice: str, tmp_path: Path) -> float:
    import librosa

    wav = tmp_path / "voice.wav"
    make_calls._synthesize("Hello, my new laptop will not even switch on.", voice, make_calls.DEFAULTS, wav)
    y, sr = sf.read(wav)
    f0 = librosa.yin(np.asarray(y, dtype=np.float32), fmin=70, fmax=400, sr=sr)
    return float(np.median(f0))


def test_espeak_variant_after_en_gb_is_applied(tmp_path: Path) -> None:
    """espeak-ng 1.51 drops the variant of 'en-gb+f4' (the plain male voice came out): the
    voice file name takes it, so a female British customer is heard as one."""
    assert make_calls.espeak_voice("en-gb+f4") == "gmw/en+f4"
    assert make_calls.espeak_voice("en-us") == "en-us"
    female = _median_pitch_hz("espeak:en-gb+f4", tmp_path)
    male = _median_pitch_hz("espeak:en-gb+m3", tmp_path)
    assert female > 1.4 * male, (female, male)
