"""The short-run recheck (callcoach.speech.diarize.recheck) with a stand-in embedder of known answers."""

from __future__ import annotations

import numpy as np

from callcoach.speech.diarize.recheck import LocalRun, recheck_short_runs

SR = 16_000
SETTINGS = dict(
    max_s=1.2, min_solo_s=0.4, margin=0.25, centroid_runs=5, centroid_min_s=2.0, centroid_cap_s=3.0,
    centroid_chunk_s=1.0, track_support_s=1.0, window_stride=1,
)


def _voices(dim: int = 8) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    eye = np.eye(dim)
    return eye[0], eye[1], 0.5 * eye[2]  # voice of speaker 0, of speaker 1, what the line adds to both


class _Embedder:
    """Audio filled with v in [0, 1] -> v * voice 0 + (1 - v) * voice 1 + line, and for a v strictly between
    0 and 1 a component neither voice has (a muffled print); counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, audio: np.ndarray) -> np.ndarray:
        self.calls += 1
        v0, v1, line = _voices()
        v = float(np.mean(audio))
        muffled = 0.4 * np.eye(len(v0))[3] if 0.0 < v < 1.0 else 0.0
        return v * v0 + (1 - v) * v1 + line + muffled


def _run(window, track, start_s, end_s, speaker, piece) -> LocalRun:
    a, b = int(start_s * SR), int(end_s * SR)
    return LocalRun(window, track, a, b, ((a, b),), speaker, (piece,))


def _call(short_voice: float) -> tuple[np.ndarray, list[LocalRun]]:
    """Speaker 0 talks 0-4 s, speaker 1 5-9 s and 11-15 s; a 0.8 s turn at 9.5-10.3 s, given to speaker 1,
    has the voice ``short_voice`` (1.0: speaker 0's)."""
    x = np.zeros(16 * SR, dtype=np.float32)
    x[: 4 * SR] = 1.0
    x[int(9.5 * SR) : int(10.3 * SR)] = short_voice
    runs = [_run(0, 0, 0.0, 4.0, 0, 0), _run(0, 1, 5.0, 9.0, 1, 1), _run(1, 0, 11.0, 15.0, 1, 2)]
    return x, runs


def test_a_short_turn_in_the_other_voice_moves_when_its_track_holds_that_speaker():
    x, runs = _call(short_voice=1.0)
    runs.append(_run(0, 0, 9.5, 10.3, 1, 3))  # on the local track of speaker 0's long run
    assert recheck_short_runs(runs, x, _Embedder(), 2, **SETTINGS) == {3: 0}


def test_a_short_turn_stays_when_no_local_track_links_it_to_the_other_speaker():
    """The print alone is not enough (a shouted turn reads far from its speaker), and nothing is embedded."""
    x, runs = _call(short_voice=1.0)
    runs.append(_run(1, 2, 9.5, 10.3, 1, 3))  # a track of its own
    embed = _Embedder()
    assert recheck_short_runs(runs, x, embed, 2, **SETTINGS) == {}
    assert embed.calls == 0


def test_a_short_turn_only_a_little_closer_to_the_other_speaker_stays():
    x, runs = _call(short_voice=0.52)  # centred cosine 0.14 closer to speaker 0 (0.07 against -0.07): under 0.25
    runs.append(_run(0, 0, 9.5, 10.3, 1, 3))
    assert recheck_short_runs(runs, x, _Embedder(), 2, **SETTINGS) == {}


def test_a_repeat_of_the_turn_in_another_window_moves_with_it_and_is_embedded_once():
    x, runs = _call(short_voice=1.0)
    runs += [_run(0, 0, 9.5, 10.3, 1, 3), _run(1, 2, 9.55, 10.3, 1, 4)]  # the second window's track has no link
    embed = _Embedder()
    assert recheck_short_runs(runs, x, embed, 2, **SETTINGS) == {3: 0, 4: 0}
    assert embed.calls == 3 + 6 + 1  # 1 s centroid chunks (first 3 s of each long run) and the turn once


def test_one_speaker_and_long_runs_are_left_alone():
    x, runs = _call(short_voice=1.0)
    assert recheck_short_runs(runs, x, _Embedder(), 1, **SETTINGS) == {}
    runs.append(_run(0, 0, 9.5, 11.0, 1, 3))  # 1.5 s: longer than max_s
    assert recheck_short_runs(runs, x, _Embedder(), 2, **SETTINGS) == {}
