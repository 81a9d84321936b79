"""Raised pieces kept out of the mono diarizer's clustering (callcoach.speech.diarize.raised)."""

from __future__ import annotations

import numpy as np

from callcoach.speech.diarize.raised import join_nearest, piece_levels_db, raised_pieces


def test_a_piece_is_raised_against_its_own_track_not_the_call() -> None:
    # track (0, 0): a calm speaker with one shouted piece; track (0, 1): a speaker 8 dB louder throughout
    tracks = [(0, 0), (0, 0), (0, 0), (0, 0), (0, 1), (0, 1), (0, 1)]
    levels = np.array([-30.0, -31.0, -29.5, -22.0, -22.0, -21.5, -22.5])
    assert raised_pieces(tracks, levels).tolist() == [False, False, False, True, False, False, False]


def test_a_piece_alone_on_its_track_is_never_raised() -> None:
    assert not raised_pieces([(3, 1)], np.array([-5.0])).any()


def test_levels_are_the_power_of_the_solo_stretches() -> None:
    x = np.concatenate([np.full(100, 0.1), np.full(100, 0.01)]).astype(np.float32)
    levels = piece_levels_db({0: [(0, 100)], 1: [(100, 200)], 2: [(0, 50), (100, 150)]}, [0, 1, 2], x)
    assert levels[0] == np.float64(levels[0]) and abs(levels[0] - (-20.0)) < 1e-6
    assert abs(levels[1] - (-40.0)) < 1e-6
    assert -23.1 < levels[2] < -22.9  # mean power of both stretches: (0.01 + 0.0001) / 2


def test_unclustered_pieces_join_the_nearest_speaker() -> None:
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(16), rng.standard_normal(16)
    prints = np.array([a + 0.1 * rng.standard_normal(16) for _ in range(4)] + [b + 0.1 * rng.standard_normal(16) for _ in range(4)]
                      + [a * 1.5 + 0.3 * b, b * 1.5 + 0.3 * a])
    labels = np.array([0, 0, 0, 0, 1, 1, 1, 1, 9, 9])
    clustered = np.array([True] * 8 + [False, False])
    out = join_nearest(prints, labels, clustered)
    assert out.tolist() == [0, 0, 0, 0, 1, 1, 1, 1, 0, 1]
