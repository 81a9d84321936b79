"""Short turns checked again after clustering: each short local run's own CAM++ print against the speakers'.

The embedded diarizer's piece prints pool CAM++ frame features of a 10 s
block, and CAM++'s frame features carry the whole block's context (its
context-aware masking pools over the input). A short turn inside a block
where the other person talks most of the time therefore gets a print that
leans to that other person: on the real telephone call (two women on one
line) the 0.8 s turn at 7.55-8.35 s read closer to the wrong woman in all
three windows that hear it alone, and was given to her.

This pass embeds each short local run's solo audio on its own (no context
but the run) and compares it with per-speaker centroids made the same way:
1 s chunks of the speaker's longest runs, each embedded on its own. A long
run can itself hold a short turn of the other person (the telephone call's
0.8 s turn sits in a 3.3 s run of the other woman), so only the half of a
speaker's chunks closest to their mean make the centroid. Prints and
centroids are centred on the centroids' mean, which removes what the
speakers share (line, room), as the clustering does. A run is moved to
another speaker only when it is clearly closer to that speaker's centroid
(``margin`` in cosine).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from callcoach.speech.diarize.campp import cosine
from callcoach.speech.frames import mask_runs


@dataclass(frozen=True)
class LocalRun:
    """One run of activity of one local speaker in one segmentation window.

    ``start_sample``/``end_sample``: the run's extent in samples of the call;
    ``solo_spans``: where it is the only local speaker, samples of the call;
    ``speaker``: the cluster its pieces were given; ``pieces``: their indices."""

    window: int
    track: int
    start_sample: int
    end_sample: int
    solo_spans: tuple[tuple[int, int], ...]
    speaker: int
    pieces: tuple[int, ...]

    @property
    def duration_s(self) -> float:
        return (self.end_sample - self.start_sample) / 16_000

    @property
    def solo_s(self) -> float:
        return sum(b - a for a, b in self.solo_spans) / 16_000


def local_runs(
    pieces: list[tuple[int, int, int, int]],
    piece_label: dict[int, int],
    window_starts: np.ndarray,
    active: np.ndarray,
    *,
    frame_step: int,
    frame_offset: int,
) -> list[LocalRun]:
    """Every run of ``active`` (windows, frames, local speakers) whose labelled pieces share one speaker.

    ``pieces``: (window, local speaker, first frame, end frame) cuts of the runs;
    ``frame_step``/``frame_offset``: the segmentation frames' step and first
    centre, in samples. Runs whose pieces have two labels, or none, are left out."""
    alone = active.sum(axis=2) == 1
    by_track: dict[tuple[int, int], list[int]] = {}
    for i, (w, k, _a, _b) in enumerate(pieces):
        by_track.setdefault((w, k), []).append(i)
    half = frame_step // 2
    out = []
    for (w, k), members in by_track.items():
        for a, b in mask_runs(active[w, :, k]):
            inside = tuple(i for i in members if a <= pieces[i][2] < b and i in piece_label)
            labels = {piece_label[i] for i in inside}
            if len(labels) != 1:
                continue
            base = int(window_starts[w]) + frame_offset - half
            solo = alone[w, a:b] & active[w, a:b, k]
            spans = tuple((max(0, base + (a + ra) * frame_step), base + (a + rb) * frame_step) for ra, rb in mask_runs(solo))
            out.append(LocalRun(w, k, max(0, base + a * frame_step), base + b * frame_step, spans, labels.pop(), inside))
    return out


def recheck_short_runs(
    runs: list[LocalRun],
    x: np.ndarray,
    embed: Callable[[np.ndarray], np.ndarray],
    n_speakers: int,
    *,
    max_s: float,
    min_solo_s: float,
    margin: float,
    centroid_runs: int,
    centroid_min_s: float,
    centroid_cap_s: float,
    centroid_chunk_s: float,
    track_support_s: float,
    window_stride: int,
) -> dict[int, int]:
    """New speaker of the pieces of each short run that is clearly another speaker's; {} when none is.

    ``x``: the call, 16 kHz mono; ``embed``: audio -> raw voice print.
    Checked: runs of at most ``max_s`` with ``min_solo_s`` of solo speech; a
    run seen again in another window (same speaker, overlapping by more than
    half) reuses the first one's print, and what is decided for one of them
    holds for all. A run is moved only where two signals agree: its own print
    is ``margin`` closer to another speaker's centroid, and in one of its
    windows the segmentation model keeps it on one local track with at least
    ``track_support_s`` of that speaker's solo speech. Centroids: per speaker, its
    ``centroid_runs`` longest runs with at least ``centroid_min_s`` solo, in
    every ``window_stride``-th window (windows that do not overlap, so no
    speech counts twice); the first ``centroid_cap_s`` of each run's solo
    audio cut into ``centroid_chunk_s`` chunks, each embedded; the mean unit
    print of the half of the chunks closest to their mean. Without a centroid
    for every speaker nothing changes."""
    if n_speakers < 2:
        return {}
    short = sorted((r for r in runs if r.duration_s <= max_s and r.solo_s >= min_solo_s), key=lambda r: r.start_sample)
    group = _repeats(short, int(max_s * 16_000))
    by_track: dict[tuple[int, int], list[LocalRun]] = {}
    for r in runs:
        by_track.setdefault((r.window, r.track), []).append(r)
    # the speakers each group could move to: those the segmentation model keeps on one local track with it
    support: dict[int, set[int]] = {}
    for i, run in enumerate(short):
        others = {q.speaker for q in by_track[(run.window, run.track)] if q.speaker != run.speaker and q.solo_s >= track_support_s}
        support.setdefault(group[i], set()).update(others)
    support = {g: spk for g, spk in support.items() if spk}
    if not support:
        return {}  # nothing could move: no print is needed

    def unit_print(audio: np.ndarray) -> np.ndarray:
        e = np.asarray(embed(audio), dtype=np.float64)
        return e / (np.linalg.norm(e) + 1e-12)

    centroids = _centroids(runs, x, unit_print, n_speakers, centroid_runs, centroid_min_s, centroid_cap_s, centroid_chunk_s, window_stride)
    if centroids is None:
        return {}
    mean = centroids.mean(axis=0)
    verdict: dict[int, int] = {}
    for g, candidates in support.items():
        run = short[g]
        sims = cosine((unit_print(_solo_audio(x, run)) - mean)[None, :], centroids - mean)
        best = int(np.argmax(sims))
        if best in candidates and sims[best] - sims[run.speaker] > margin:
            verdict[g] = best
    moved: dict[int, int] = {}
    for i, run in enumerate(short):
        if group[i] in verdict:
            moved.update(dict.fromkeys(run.pieces, verdict[group[i]]))
    return moved


def _solo_audio(x: np.ndarray, run: LocalRun) -> np.ndarray:
    return np.concatenate([x[a:b] for a, b in run.solo_spans])


def _repeats(short: list[LocalRun], reach: int) -> list[int]:
    """Per run (sorted by start), the index of the first run it repeats: same speaker, another window,
    overlapping by more than half of it; its own index if none. ``reach``: the longest run, in samples."""
    group: list[int] = []
    for i, run in enumerate(short):
        seen = i
        for j in range(i - 1, -1, -1):
            other = short[j]
            if other.start_sample < run.start_sample - reach:
                break  # sorted by start: nothing earlier can overlap
            overlap = min(run.end_sample, other.end_sample) - max(run.start_sample, other.start_sample)
            if other.speaker == run.speaker and overlap > 0.5 * (run.end_sample - run.start_sample):
                seen = group[j]
                break
        group.append(seen)
    return group


def _centroids(
    runs: list[LocalRun],
    x: np.ndarray,
    unit_print: Callable[[np.ndarray], np.ndarray],
    n_speakers: int,
    n_runs: int,
    min_s: float,
    cap_s: float,
    chunk_s: float,
    window_stride: int,
) -> np.ndarray | None:
    """(speakers, dim) centroids: per speaker, the mean unit print of the half of its chunks closest to their
    mean (module docstring); None when a speaker has no long run."""
    cap, chunk = int(cap_s * 16_000), int(chunk_s * 16_000)
    out = []
    for spk in range(n_speakers):
        long = [r for r in runs if r.speaker == spk and r.window % window_stride == 0 and r.solo_s >= min_s]
        if not long:
            return None
        long.sort(key=lambda r: -r.solo_s)
        chunks = []
        for run in long[:n_runs]:
            audio = _solo_audio(x, run)[:cap]
            chunks += [unit_print(audio[c : c + chunk]) for c in range(0, len(audio) - chunk + 1, chunk)]
        prints = np.array(chunks)
        closeness = prints @ prints.mean(axis=0)
        out.append(prints[closeness >= np.median(closeness)].mean(axis=0))
    return np.array(out)
