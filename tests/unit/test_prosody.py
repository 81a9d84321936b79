"""Frame features, speech rate and baselines on signals whose answers are known."""

from __future__ import annotations

import numpy as np
import pytest

from callcoach.analysis import baselines, pace, prosody
from callcoach.records import Audio, AudioInfo, SpeechSegment, Turn, Word

SR = 16_000


def harmonic(f0_hz: float, seconds: float, level_db: float = -20.0, *, n_harmonics: int = 12) -> np.ndarray:
    """A harmonic complex at ``f0_hz`` (1/k amplitudes) with RMS ``level_db`` dBFS."""
    t = np.arange(int(seconds * SR)) / SR
    x = sum(np.sin(2 * np.pi * k * f0_hz * t + k) / k for k in range(1, n_harmonics + 1) if k * f0_hz < 3800)
    return (x / np.sqrt(np.mean(x**2)) * 10 ** (level_db / 20)).astype(np.float32)


def noise(seconds: float, level_db: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * SR)) * 10 ** (level_db / 20)).astype(np.float32)


def audio_of(*channels: np.ndarray) -> Audio:
    samples = np.stack(channels)
    return Audio(AudioInfo("test.wav", samples.shape[1] / SR, SR, len(channels)), samples, SR)


def spaced_words(n: int, start_s: float, seconds: float, pause_after: int | None = None, pause_s: float = 0.0) -> tuple[Word, ...]:
    """``n`` words filling ``seconds`` back to back; a pause of ``pause_s`` after word ``pause_after``."""
    step = seconds / n
    out, t = [], start_s
    for i in range(n):
        out.append(Word("today", t, t + step, 0.9))
        t += step + (pause_s if i == pause_after else 0.0)
    return tuple(out)


# --------------------------------------------------------------------------- pitch and loudness


@pytest.mark.parametrize("f0_hz", [80.0, 150.0, 220.0, 350.0])
def test_pitch_of_harmonic_complex(f0_hz: float) -> None:
    f0, aperiodicity = prosody.pitch_track(harmonic(f0_hz, 2.0), SR)
    inner = f0[4:-4]
    assert np.all(np.abs(inner / f0_hz - 1) < 0.03)
    assert np.all(aperiodicity[4:-4] < prosody.VOICING_MAX_APERIODICITY)


def test_pitch_with_missing_fundamental() -> None:
    """Telephone band: no energy below 300 Hz, the periodicity still gives 150 Hz."""
    t = np.arange(2 * SR) / SR
    x = sum(np.sin(2 * np.pi * k * 150.0 * t) for k in range(2, 20)).astype(np.float32) * 0.02
    f0, _ = prosody.pitch_track(x, SR)
    assert np.median(f0[4:-4]) == pytest.approx(150.0, rel=0.03)


def test_pitch_frames_line_up_with_loudness_frames() -> None:
    x = np.concatenate([harmonic(120.0, 1.0), harmonic(240.0, 1.0)])
    f0, _ = prosody.pitch_track(x, SR)
    assert len(f0) == len(prosody.loudness_db(x, SR)) == prosody.n_frames(len(x), SR)
    times = prosody.frame_times_s(len(f0))
    assert np.all(np.abs(f0[(times > 0.1) & (times < 0.9)] - 120) < 4)
    assert np.all(np.abs(f0[(times > 1.1) & (times < 1.9)] - 240) < 7)


def test_loudness_step_of_10_db() -> None:
    x = np.concatenate([harmonic(150.0, 1.0, -30.0), harmonic(150.0, 1.0, -20.0)])
    db = prosody.loudness_db(x, SR)
    times = prosody.frame_times_s(len(db))
    before = np.median(db[(times > 0.2) & (times < 0.8)])
    after = np.median(db[(times > 1.2) & (times < 1.8)])
    assert before == pytest.approx(-30.0, abs=0.5)
    assert after - before == pytest.approx(10.0, abs=0.5)


def test_noise_only_frames_are_not_speech() -> None:
    # 0-2 s noise inside the segment, 2-4 s voice, 4-6 s noise outside it
    x = np.concatenate([noise(2.0, -55.0), harmonic(150.0, 2.0, -25.0) + noise(2.0, -55.0, 1), noise(2.0, -55.0, 2)])
    frames = prosody.measure_speakers(audio_of(x), {"S1": [SpeechSegment("S1", 0.0, 4.0)]}, {})["S1"]
    times = prosody.frame_times_s(len(frames.loudness_db))
    assert np.all(np.isnan(frames.loudness_db[times < 1.9]))
    assert np.all(np.isnan(frames.pitch_hz[times < 1.9]))
    assert np.all(np.isfinite(frames.loudness_db[(times > 2.1) & (times < 3.9)]))
    assert np.all(np.isnan(frames.loudness_db[times > 4.1]))


def test_white_noise_is_unvoiced() -> None:
    _, aperiodicity = prosody.pitch_track(noise(3.0, -20.0), SR)
    assert np.mean(aperiodicity < prosody.VOICING_MAX_APERIODICITY) < 0.02


def test_mono_overlap_frames_are_excluded() -> None:
    x = harmonic(150.0, 4.0, -25.0) + harmonic(230.0, 4.0, -25.0) * (np.arange(4 * SR) >= 3 * SR)
    segments = {"A": [SpeechSegment("A", 0.0, 4.0)], "B": [SpeechSegment("B", 3.0, 4.0)]}
    frames = prosody.measure_speakers(audio_of(x.astype(np.float32)), segments, {})
    times = prosody.frame_times_s(len(frames["A"].loudness_db))
    assert np.all(np.isnan(frames["A"].loudness_db[times > 3.05]))
    assert np.nanmedian(frames["A"].pitch_hz) == pytest.approx(150.0, rel=0.03)


def test_stereo_speakers_are_measured_on_their_own_channel() -> None:
    left, right = harmonic(120.0, 3.0, -20.0), harmonic(210.0, 3.0, -35.0)
    segments = {"A": [SpeechSegment("A", 0.0, 3.0)], "B": [SpeechSegment("B", 0.0, 3.0)]}
    frames = prosody.measure_speakers(audio_of(left, right), segments, {"A": 0, "B": 1})
    assert np.nanmedian(frames["A"].loudness_db) == pytest.approx(-20.0, abs=0.5)
    assert np.nanmedian(frames["B"].loudness_db) == pytest.approx(-35.0, abs=0.5)
    assert np.nanmedian(frames["B"].pitch_hz) == pytest.approx(210.0, rel=0.03)


# --------------------------------------------------------------------------- speech rate


def test_rate_of_20_words_in_8_seconds() -> None:
    assert pace.rate_wpm(spaced_words(20, 3.0, 8.0)) == pytest.approx(150.0)


def test_rate_ignores_a_long_pause() -> None:
    ws = spaced_words(20, 3.0, 8.0, pause_after=9, pause_s=3.0)
    assert ws[-1].end_s - ws[0].start_s == pytest.approx(11.0)
    assert pace.rate_wpm(ws) == pytest.approx(150.0)


def test_short_gaps_count_as_speaking_time() -> None:
    ws = spaced_words(20, 0.0, 8.0, pause_after=9, pause_s=0.4)
    assert pace.rate_wpm(ws) == pytest.approx(20 / 8.4 * 60)


@pytest.mark.parametrize(("text", "syllables"), [("today", 2), ("please", 1), ("refund", 2), ("cancellation", 4), ("I'm", 1), ("little", 2), ("rhythm", 1),
                                                  ("55390.", 6), ("70", 4)])
def test_syllable_count(text: str, syllables: int) -> None:
    assert pace.syllable_count(text) == syllables


def test_a_number_read_digit_by_digit_counts_one_word_per_digit() -> None:
    """rushed_agent's customer reads "five five three nine two", which tiny.en writes "55390": one token
    had made her turn slow and her usual pace low, so a calm turn read as rapid against it."""
    texts = ["It's", "Helen", "and", "the", "number", "is", "55390."]
    ws = tuple(Word(t, 0.4 * i, 0.4 * i + 0.35, 0.9) for i, t in enumerate(texts))
    assert pace.spoken_words(ws) == 11
    assert pace.rate_wpm(ws) == pytest.approx(60 * 11 / ws[-1].end_s)
    assert pace.spoken_words((Word("3,000", 0, 1, 0.9), Word("4.50", 1, 2, 0.9), Word("UK?", 2, 3, 0.9))) == 5


def test_syllables_per_second() -> None:
    assert pace.syllables_per_s(spaced_words(20, 0.0, 8.0)) == pytest.approx(40 / 8)


# --------------------------------------------------------------------------- baselines and tracks


def test_baseline_ignores_a_third_of_raised_speech() -> None:
    calm, raised = harmonic(150.0, 20.0, -30.0), harmonic(180.0, 10.0, -20.0)
    x = np.concatenate([calm[: 10 * SR], raised, calm[10 * SR :]])
    frames = prosody.measure_speakers(audio_of(x), {"S1": [SpeechSegment("S1", 0.0, 30.0)]}, {})["S1"]
    loud, pitch = baselines.level_baseline(frames, [SpeechSegment("S1", 0.0, 30.0)])
    assert loud == pytest.approx(-30.0, abs=0.5)
    assert pitch == pytest.approx(150.0, rel=0.02)


def test_rate_baseline_is_the_median_over_turns() -> None:
    turns = [Turn("S1", "agent", 0, 8, "", spaced_words(20, 10.0 * i, 8.0)) for i in range(4)]
    turns.append(Turn("S1", "agent", 40, 46, "", spaced_words(25, 40.0, 6.0)))  # 250 wpm
    wpm, sps = pace.rate_baseline(turns)
    assert wpm == pytest.approx(150.0)
    assert sps == pytest.approx(5.0)


def test_track_has_one_value_a_second_and_none_in_silence() -> None:
    x = np.concatenate([harmonic(150.0, 3.0, -25.0), noise(2.0, -70.0)])
    frames = prosody.measure_speakers(audio_of(x), {"S1": [SpeechSegment("S1", 0.0, 3.0)]}, {})["S1"]
    track = baselines.track("S1", frames, spaced_words(8, 0.0, 3.0), 5.0)
    assert track.step_s == 1.0 and len(track.loudness_db) == len(track.pitch_hz) == len(track.rate_wpm) == 5
    assert all(v == pytest.approx(-25.0, abs=0.5) for v in track.loudness_db[:3])
    assert all(v == pytest.approx(150.0, rel=0.03) for v in track.pitch_hz[:3])
    assert track.loudness_db[3:] == (None, None) and track.rate_wpm[3:] == (None, None)
    assert track.rate_wpm[1] == pytest.approx(160.0)


def test_weighted_percentile_is_one_real_value_weighted_by_speech() -> None:
    from callcoach.analysis.baselines import weighted_percentile

    assert weighted_percentile([(3.0, 1), (1.0, 1), (2.0, 1), (5.0, 1), (4.0, 1)], 20) == 1.0
    assert weighted_percentile([(3.0, 1), (1.0, 1), (2.0, 1), (5.0, 1), (4.0, 1)], 50) == 3.0
    # a 0.8 s sliver of the other party's level cannot set a customer's baseline of 7.8 s
    pieces = [(-25.5, 32), (-20.4, 152), (-18.1, 64), (-19.1, 64)]
    assert weighted_percentile(pieces, 15) == -20.4
    assert weighted_percentile([(-12.0, 10)], 15) == -12.0
