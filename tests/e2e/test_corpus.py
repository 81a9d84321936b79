"""Tests for the evaluation corpus: dialogue coverage, degradations, and make_corpus rendering."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import make_calls
import make_corpus
import numpy as np
import pytest

from callcoach.evaluation import degrade

REPO = Path(__file__).resolve().parents[2]

DIALOGUES = sorted((REPO / "corpus" / "dialogues").glob("*.yaml"))
SR = 8000


def _speechlike(seconds: float = 4.0, sr: int = SR, seed: int = 1) -> np.ndarray:
    """Harmonic bursts with silences between them: a stand-in for speech."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    x = sum(np.sin(2 * np.pi * f * t) / k for k, f in enumerate((140, 280, 420, 700, 1100), 1))
    env = (np.sin(2 * np.pi * 1.5 * t) > 0.2).astype(float)  # on/off like turns
    x = x * env * 0.05 + rng.standard_normal(len(t)) * 1e-5
    return x.astype(np.float32)


# ---------------------------------------------------------------- dialogues


@pytest.fixture(scope="module")
def specs():
    return [make_calls.load_spec(p) for p in DIALOGUES]


def test_corpus_size_and_ids(specs):
    assert len(specs) >= 30
    for path, spec in zip(DIALOGUES, specs):
        assert spec["id"] == path.stem
        assert spec["voices"]["agent"] != spec["voices"]["customer"], spec["id"]
        assert set(spec["expected"]["checks"]) == set(make_calls.CHECK_IDS), spec["id"]
        assert spec["expected"]["customer_trajectory"] in make_calls.TRAJECTORIES


def test_corpus_variety(specs):
    layouts = Counter((s["channels"], s["sample_rate_hz"]) for s in specs)
    assert set(layouts) == {(1, 8000), (1, 16000), (2, 8000), (2, 16000)}
    voices = {s["voices"][r] for s in specs for r in ("agent", "customer")}
    assert {"flite:slt", "flite:awb", "flite:rms", "flite:kal16"} <= voices
    engines = {v.split(":")[1].split("+")[0] for v in voices if v.startswith("espeak:")}
    assert {"en-us", "en-gb", "en-gb-scotland", "en-029"} <= engines
    assert Counter(s["expected"]["customer_trajectory"] for s in specs).keys() == {"calmer", "not_calmer", "not_upset"}
    for fast_id in make_corpus.FAST_IDS:
        assert any(s["id"] == fast_id for s in specs)


def test_every_check_passes_and_fails_somewhere(specs):
    counts: dict[str, Counter] = defaultdict(Counter)
    for s in specs:
        for cid, status in s["expected"]["checks"].items():
            counts[cid][status] += 1
    for cid in make_calls.CHECK_IDS:
        assert counts[cid]["pass"] >= 2, cid
        if cid != "document_threats":  # a threat the tool must log: pass or na, never a wrong-doing
            assert counts[cid]["fail"] >= 2, cid
    for cid in ("no_mirroring", "patience", "acknowledge", "apology", "ownership", "escalation",
                "boundary", "document_threats"):
        assert counts[cid]["na"] >= 2, cid


def _derived(spec):
    """Events implied by the spec's turns, without rendering (words per second as duration)."""
    durs = [max(0.6, len(t["text"].split()) / (3.6 if "rapid" in t["style"] else 2.6)) for t in spec["turns"]]
    return make_calls.derive_events(make_calls.place_turns(spec["turns"], durs))


@pytest.mark.parametrize("path", DIALOGUES, ids=[p.stem for p in DIALOGUES])
def test_expected_consistent_with_turns(path):
    """Grading rules that follow from the turns alone (COACHING.md A, E, F)."""
    spec = make_calls.load_spec(path)
    exp = spec["expected"]["checks"]
    turns = spec["turns"]
    agent_raised = any(t["role"] == "agent" and "raised" in t["style"] for t in turns)
    cust_raised = any(t["role"] == "customer" and "raised" in t["style"] for t in turns)
    agent_rapid = any(t["role"] == "agent" and "rapid" in t["style"] for t in turns)
    threat = any(t["role"] == "customer" and t["threat"] for t in turns)
    for role in ("agent", "customer"):  # raised is relative to the speaker's own calm level (F)
        styles = [t["style"] for t in turns if t["role"] == role]
        if any("raised" in s for s in styles):
            assert any(s in ("calm", "rapid") for s in styles), f"{role} has no calm-level turn"
    assert exp["calm_tone"] == ("fail" if agent_raised else "pass")
    assert (exp["no_mirroring"] == "na") == (not cust_raised)
    if cust_raised:
        assert exp["no_mirroring"] == ("fail" if agent_raised else "pass")
    assert exp["measured_pace"] == ("fail" if agent_rapid else "pass")
    cuts = [e for e in _derived(spec) if e["type"] == "interruption" and e["role"] == "agent"]
    assert exp["no_talk_over"] == ("fail" if len(cuts) >= 2 else "pass"), cuts
    assert (exp["boundary"] == "na") == (not threat)
    assert exp["document_threats"] == ("pass" if threat else "na")
    if spec["expected"]["customer_trajectory"] == "not_upset":
        assert exp["patience"] == "na" and exp["apology"] == "na"
    if spec["expected"]["customer_trajectory"] == "not_calmer":
        assert exp["escalation"] in ("pass", "fail")


# ------------------------------------------------------------ degradations


@pytest.mark.parametrize("snr", [20.0, 10.0, 5.0])
def test_add_noise_snr(snr):
    x = _speechlike()
    y = degrade.add_noise(x, SR, snr, np.random.default_rng(0))
    measured = degrade.active_level_db(x, SR) - degrade.rms_db(y - x)
    assert abs(measured - snr) < 0.5
    assert y.shape == x.shape and y.dtype == np.float32


def test_add_noise_stereo_per_channel():
    x = np.stack([_speechlike(seed=1), 0.1 * _speechlike(seed=2)], axis=1)
    y = degrade.add_noise(x, SR, 10.0, np.random.default_rng(0), kind="pink")
    for c in range(2):
        snr = degrade.active_level_db(x[:, c], SR) - degrade.rms_db(y[:, c] - x[:, c])
        assert abs(snr - 10.0) < 0.5
    assert not np.allclose(y[:, 0] - x[:, 0], (y[:, 1] - x[:, 1]) * 10)  # independent noise


def test_noise_is_seeded():
    x = _speechlike()
    a = degrade.add_noise(x, SR, 10, np.random.default_rng(3))
    b = degrade.add_noise(x, SR, 10, np.random.default_rng(3))
    assert np.array_equal(a, b)


def test_pink_noise_spectrum_falls():
    n = pink = degrade.pink_noise(2 ** 16, np.random.default_rng(0))
    spec = np.abs(np.fft.rfft(pink)) ** 2
    f = np.fft.rfftfreq(len(n), 1 / SR)
    low = spec[(f > 100) & (f < 200)].mean()
    high = spec[(f > 1600) & (f < 3200)].mean()
    assert 10 * np.log10(low / high) == pytest.approx(10 * np.log10(16), abs=2.0)  # -3 dB/octave


def test_hard_clip_fraction():
    x = _speechlike()
    y = degrade.hard_clip(x, 0.02)
    frac = degrade.clipped_fraction(y)
    assert 0.015 <= frac <= 0.025
    assert np.abs(y).max() == pytest.approx(0.95, abs=1e-6)


def test_mulaw_roundtrip_error():
    x = _speechlike()
    y = degrade.mulaw_roundtrip(x, SR)
    assert len(y) == len(x)
    snr = degrade.roundtrip_snr_db(x, y)
    assert 25.0 < snr < 45.0  # 8-bit companding: audible but small error


def test_mulaw_from_16k_gives_8k():
    x = _speechlike(sr=16000)
    y = degrade.mulaw_roundtrip(np.stack([x, x], axis=1), 16000)
    assert y.shape == (len(x) // 2, 2)


def test_gsm_roundtrip_codes_and_keeps_timing():
    x = _speechlike()
    y = degrade.gsm_roundtrip(x, SR)
    assert abs(len(y) - len(x)) <= 160  # one 20 ms frame
    n = min(len(x), len(y))
    assert not np.allclose(x[:n], y[:n], atol=1e-3)  # lossy
    lag = np.argmax(np.correlate(y[: SR], x[: SR], "full")) - (SR - 1)
    assert abs(lag) <= 2
    assert abs(degrade.rms_db(y) - degrade.rms_db(x)) < 3.0


def test_quiet_agent_level():
    x = np.stack([_speechlike(seed=1), _speechlike(seed=2)], axis=1)
    y = degrade.gain(x, -15.0, channel=1)
    assert degrade.rms_db(y[:, 1]) - degrade.rms_db(x[:, 1]) == pytest.approx(-15.0, abs=0.01)
    assert np.array_equal(y[:, 0], x[:, 0])


def test_crosstalk_level():
    a, b = _speechlike(seed=1), np.zeros(int(4 * SR), np.float32)
    y = degrade.add_crosstalk(np.stack([a, b], axis=1), -12.0)
    assert degrade.rms_db(y[:, 1]) - degrade.rms_db(a) == pytest.approx(-12.0, abs=0.01)
    with pytest.raises(ValueError):
        degrade.add_crosstalk(a, -12.0)


def test_mix_to_mono_keeps_levels():
    a = _speechlike(seed=1)
    y = degrade.mix_to_mono(np.stack([a, np.zeros_like(a)], axis=1))
    assert y.ndim == 1 and np.allclose(y, a)


def test_hold_music_and_truth_shift():
    rng = np.random.default_rng(0)
    music = degrade.hold_music(12.0, SR, rng)
    assert len(music) == 12 * SR
    assert degrade.rms_db(music) == pytest.approx(-26.0, abs=0.1)
    # tonal: a few strong spectral peaks, unlike noise
    spec = np.abs(np.fft.rfft(music))
    assert np.sort(spec)[-20:].sum() / spec.sum() > 0.05
    truth = {"duration_s": 12.0,
             "turns": [{"role": "agent", "start_s": 0.5, "end_s": 3.0},
                       {"role": "customer", "start_s": 4.0, "end_s": 6.0},
                       {"role": "agent", "start_s": 7.0, "end_s": 9.0}],
             "events": [{"type": "raised_voice", "role": "customer", "start_s": 4.0, "end_s": 6.0},
                        {"type": "rapid_speech", "role": "agent", "start_s": 0.5, "end_s": 3.0}]}
    at = degrade.quietest_gap(truth["turns"], truth["duration_s"])
    assert at == pytest.approx(6.5)
    shifted = degrade.shift_truth(truth, at, 12.0)
    assert [t["start_s"] for t in shifted["turns"]] == [0.5, 4.0, 19.0]
    assert shifted["turns"][2]["end_s"] == 21.0
    assert [e["start_s"] for e in shifted["events"]] == [4.0, 0.5]
    assert shifted["duration_s"] == 24.0
    x = np.zeros((12 * SR, 2), np.float32)
    x[7 * SR: 9 * SR] = 0.1
    y = degrade.insert_segment(x, music, at, SR)
    assert y.shape == (24 * SR, 2)
    assert np.allclose(y[19 * SR: 21 * SR], 0.1)  # the last turn moved by the music's length
    assert np.allclose(y[int(at * SR): int(at * SR) + len(music), 0], music)


def test_aggregate_expected():
    parts = [{"customer_trajectory": "not_calmer", "checks": {"calm_tone": "pass", "apology": "fail", "boundary": "na"}},
             {"customer_trajectory": "calmer", "checks": {"calm_tone": "fail", "apology": "pass", "boundary": "na"}}]
    agg = make_corpus.aggregate_expected(parts)
    assert agg == {"customer_trajectory": "calmer",
                   "checks": {"calm_tone": "fail", "apology": "pass", "boundary": "na"}}
    assert make_corpus.aggregate_expected(parts[::-1])["customer_trajectory"] == "not_calmer"


# ------------------------------------------------------------ make_corpus


def test_corpus_renders_with_rate_normalisation(specs):
    key = "calm_max_syllables_per_s"
    assert make_corpus.RENDER_DEFAULTS[key] == make_calls.CALM_MAX_SYLLABLES_PER_S
    assert 3.0 <= make_calls.CALM_MAX_SYLLABLES_PER_S <= 4.2  # ~150-165 words/min
    assert all(s[key] is None for s in specs)  # dialogues leave it to make_corpus
    assert make_calls.load_spec(DIALOGUES[0], make_corpus.RENDER_DEFAULTS)[key] == \
        make_calls.CALM_MAX_SYLLABLES_PER_S


def test_make_corpus_renders_conditions(tmp_path):
    dialogues = [p for p in DIALOGUES if p.stem in ("c04_agent_mirrors", "c05_rushing_agent")]
    out = tmp_path / "corpus"
    conds = ["clean", "mono", "g711", "gsm", "noise_10db", "clipping", "quiet_agent", "crosstalk",
             "hold_music", "long"]
    counts = make_corpus.build(out, conds, dialogues, seed=0, long_minutes=1.0, log=lambda s: None)
    # c04 is mono, c05 stereo: stereo-only conditions render one call
    assert counts == {"clean": 2, "mono": 1, "g711": 2, "gsm": 2, "noise_10db": 2, "clipping": 2,
                      "quiet_agent": 1, "crosstalk": 1, "hold_music": 2, "long": 1}
    for cond in conds:
        for truth_path in (out / cond).glob("*.truth.json"):
            truth = json.loads(truth_path.read_text())
            assert truth["condition"] == cond
            x, sr = make_corpus.read_audio(truth_path.parent / truth["file"])
            assert sr == truth["sample_rate_hz"] and x.shape[1] == truth["channels"]
            assert abs(len(x) / sr - truth["duration_s"]) < 0.01
            assert max(t["end_s"] for t in truth["turns"]) <= truth["duration_s"]
    # rate normalisation: calm-level turns at most ~3.7 syllables/s, rapid ones well above
    limit = make_calls.CALM_MAX_SYLLABLES_PER_S
    for truth_path in (out / "clean").glob("*.truth.json"):
        for t in json.loads(truth_path.read_text())["turns"]:
            rate = make_calls.syllable_count(t["text"]) / (t["end_s"] - t["start_s"])
            if "rapid" in t["style"]:
                assert rate > limit * 1.2, t
            else:
                assert rate < limit * 1.1, t
    g711 = json.loads((out / "g711" / "c05_rushing_agent.truth.json").read_text())
    assert g711["sample_rate_hz"] == 8000
    hold = json.loads((out / "hold_music" / "c05_rushing_agent.truth.json").read_text())
    clean = json.loads((out / "clean" / "c05_rushing_agent.truth.json").read_text())
    span = hold["hold"]["end_s"] - hold["hold"]["start_s"]
    assert 10.0 <= span <= 20.0
    for a, b in zip(clean["turns"], hold["turns"]):
        moved = a["start_s"] >= hold["hold"]["start_s"]
        assert b["start_s"] == pytest.approx(a["start_s"] + (span if moved else 0.0), abs=0.002)
    long = json.loads((out / "long" / "long_1min.truth.json").read_text())
    assert long["duration_s"] >= 60.0 and long["channels"] == 1
    assert len(long["turns"]) >= 2 * len(clean["turns"])
    # deterministic
    again = tmp_path / "again"
    make_corpus.build(again, ["noise_10db"], dialogues[:1], seed=0, log=lambda s: None)
    a = make_corpus.read_audio(out / "noise_10db" / f"{dialogues[0].stem}.wav")[0]
    b = make_corpus.read_audio(again / "noise_10db" / f"{dialogues[0].stem}.wav")[0]
    assert np.array_equal(a, b)
    assert not (again / "clean").exists()


def test_make_corpus_cli_rejects_unknown_condition(capsys):
    with pytest.raises(SystemExit) as exc:
        make_corpus.main(["--conditions", "clean,underwater", "--out", "/nonexistent"])
    assert exc.value.code == 2
