"""Known answers for the evaluation measures."""

import pytest

from callcoach.evaluation.metrics import (
    PRF,
    check_agreement,
    diarization_error_rate,
    match_events,
    normalise_words,
    word_errors,
)


def test_normalise_expands_contractions_and_digits():
    assert normalise_words("I can't, it's 4 o'clock!") == ["i", "can", "not", "it", "is", "four", "o'clock"]
    assert normalise_words("Cannot") == ["can", "not"]
    # Whisper writes a time of day as "8am", "8 a.m." or "8 AM"
    assert normalise_words("8am, 10 a.m. or 3 PM.") == normalise_words("8 a.m., 10 a.m. or 3 p.m.") == [
        "eight", "a", "m", "ten", "a", "m", "or", "three", "p", "m"]
    assert normalise_words("I am here, Pam.") == ["i", "am", "here", "pam"]
    assert normalise_words("You're gonna wanna hold") == ["you", "are", "going", "to", "want", "to", "hold"]


def test_wer_counts_each_kind_of_error():
    e = word_errors("the cat sat on the mat", "the cat sit on mat today")
    assert (e.substitutions, e.deletions, e.insertions, e.reference_words) == (1, 1, 1, 6)
    assert e.wer == pytest.approx(0.5)
    assert word_errors("I can't continue", "I cannot continue").wer == 0.0
    assert word_errors("I can't continue", "I can continue").wer == pytest.approx(1 / 4)


def test_der_perfect_swapped_and_missed():
    ref = [("A", 0, 10), ("B", 10, 20)]
    assert diarization_error_rate(ref, [("x", 0, 10), ("y", 10, 20)]) == pytest.approx(0.0, abs=0.002)
    # half of B missed
    assert diarization_error_rate(ref, [("x", 0, 10), ("y", 10, 15)]) == pytest.approx(0.25, abs=0.002)
    # everything given to one speaker: B is confused
    assert diarization_error_rate(ref, [("x", 0, 20)]) == pytest.approx(0.5, abs=0.002)


def test_der_collar_forgives_boundaries():
    ref = [("A", 0, 10), ("B", 10, 20)]
    hyp = [("x", 0, 10.2), ("y", 10.2, 20)]
    assert diarization_error_rate(ref, hyp) == pytest.approx(0.01, abs=0.002)
    assert diarization_error_rate(ref, hyp, collar_s=0.25) == pytest.approx(0.0, abs=0.002)


def test_event_matching_is_one_to_one():
    prf = match_events([(1, 3), (10, 12)], [(2, 4), (2.5, 3), (20, 21)])
    assert (prf.true_positives, prf.false_positives, prf.false_negatives) == (1, 2, 1)
    assert prf.precision == pytest.approx(1 / 3) and prf.recall == pytest.approx(0.5)
    empty = PRF(0, 0, 0)  # nothing to find and nothing found is perfect
    assert (empty.precision, empty.recall, empty.f1) == (1.0, 1.0, 1.0)


def test_check_agreement():
    assert check_agreement({"a": "pass", "b": "na"}, {"a": "pass", "b": "fail"}) == (1, 2, ["b"])


def test_mono_mix_is_the_mean_of_differing_channels(tmp_path):
    import numpy as np
    from callsynth.speech import write_wav

    from callcoach.evaluation.evaluate import write_mono_mix
    from callcoach.speech.audio import load_audio

    t = np.arange(16_000 * 2) / 16_000
    left, right = 0.4 * np.sin(2 * np.pi * 200 * t), 0.2 * np.sin(2 * np.pi * 330 * t)
    stereo = write_wav(tmp_path / "call.wav", np.stack([left, right]))
    mix = write_mono_mix(stereo, tmp_path)
    audio = load_audio(mix)
    assert audio.channels == 1
    assert np.allclose(audio.samples[0], (left + right) / 2, atol=2e-4)
    same = write_wav(tmp_path / "same.wav", np.stack([left, left]))
    assert write_mono_mix(same, tmp_path) is None  # two identical channels are a mono call already
    assert write_mono_mix(write_wav(tmp_path / "mono.wav", left), tmp_path) is None


def test_bootstrap_interval_of_pooled_agreement():
    import numpy as np

    from callcoach.evaluation.metrics import agreement_of, bootstrap_interval

    same = np.array([[18, 19]] * 10)  # every call alike: nothing to vary
    assert bootstrap_interval(same, agreement_of) == pytest.approx((18 / 19, 18 / 19))
    mixed = np.array([[19, 19], [15, 19]] * 5)  # pooled 34/38
    low, high = bootstrap_interval(mixed, agreement_of)
    assert low < 34 / 38 < high
    assert 15 / 19 <= low and high <= 1.0
    assert bootstrap_interval(mixed, agreement_of) == (low, high)  # seeded
    wide_low, wide_high = bootstrap_interval(mixed[:4], agreement_of)
    narrow_low, narrow_high = bootstrap_interval(np.concatenate([mixed] * 10), agreement_of)
    assert narrow_high - narrow_low < high - low < wide_high - wide_low  # more calls, narrower
    with pytest.raises(ValueError, match="one row per call"):
        bootstrap_interval(np.array([1, 2]), agreement_of)


def test_pooled_f1_matches_prf():
    import numpy as np

    from callcoach.evaluation.metrics import f1_of

    cases = [PRF(3, 1, 2), PRF(0, 2, 0), PRF(0, 0, 3), PRF(0, 0, 0), PRF(5, 0, 0)]
    sums = np.array([[p.true_positives, p.false_positives, p.false_negatives] for p in cases])
    assert f1_of(sums) == pytest.approx([p.f1 for p in cases])
