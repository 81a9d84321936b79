"""Accuracy measures used by the evaluation and benchmark scripts.

Pure functions over plain values with known answers in tests:
word error rate, diarization error rate (with an optional forgiveness collar
around reference boundaries, as in NIST md-eval and pyannote.metrics),
event precision/recall/F1 and agreement of check statuses.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

_NUMBERS = {
    "0": "zero", "1": "one", "2": "two", "3": "three", "4": "four", "5": "five",
    "6": "six", "7": "seven", "8": "eight", "9": "nine", "10": "ten",
}
_CONTRACTIONS = {
    "can't": "can not", "cannot": "can not", "won't": "will not", "n't": " not", "i'm": "i am",
    "you're": "you are", "we're": "we are", "they're": "they are", "it's": "it is", "that's": "that is",
    "gonna": "going to", "wanna": "want to", "gotta": "got to",
    "i'll": "i will", "we'll": "we will", "you'll": "you will", "i've": "i have", "we've": "we have",
    "i'd": "i would", "let's": "let us", "there's": "there is", "what's": "what is",
}


def normalise_words(text: str) -> list[str]:
    """Lower case, contractions expanded, digits spelt, punctuation dropped (for WER)."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"(\d)\s*([ap])\.?\s?m\b\.?", r"\1 \2 m", text)  # 8am, 8 a.m., 8 AM: the same three words
    text = re.sub(r"[-–]", " ", text)
    for short, long in sorted(_CONTRACTIONS.items(), key=lambda kv: -len(kv[0])):
        text = re.sub(rf"\b{re.escape(short)}" if short[0].isalpha() else re.escape(short), long, text)
    text = re.sub(r"[^a-z0-9' ]+", " ", text)
    words = []
    for token in text.split():
        token = token.strip("'")
        if not token:
            continue
        if token.isdigit():
            words += [_NUMBERS.get(d, d) for d in token] if len(token) > 1 and token not in _NUMBERS else [_NUMBERS.get(token, token)]
        else:
            words.append(token)
    return words


@dataclass(frozen=True)
class WordErrors:
    substitutions: int
    deletions: int
    insertions: int
    reference_words: int

    @property
    def wer(self) -> float:
        return (self.substitutions + self.deletions + self.insertions) / max(self.reference_words, 1)

    def __add__(self, other: WordErrors) -> WordErrors:
        return WordErrors(
            self.substitutions + other.substitutions,
            self.deletions + other.deletions,
            self.insertions + other.insertions,
            self.reference_words + other.reference_words,
        )


def word_errors(reference: str | Sequence[str], hypothesis: str | Sequence[str]) -> WordErrors:
    """Levenshtein alignment of word sequences (strings are normalised first)."""
    ref = normalise_words(reference) if isinstance(reference, str) else list(reference)
    hyp = normalise_words(hypothesis) if isinstance(hypothesis, str) else list(hypothesis)
    n, m = len(ref), len(hyp)
    # cost, subs, dels, ins
    prev = [(j, 0, 0, j) for j in range(m + 1)]
    for i in range(1, n + 1):
        cur = [(i, 0, i, 0)]
        for j in range(1, m + 1):
            if ref[i - 1] == hyp[j - 1]:
                cur.append(prev[j - 1])
                continue
            sub = prev[j - 1]
            dele = prev[j]
            ins = cur[j - 1]
            best = min(
                (sub[0] + 1, sub[1] + 1, sub[2], sub[3]),
                (dele[0] + 1, dele[1], dele[2] + 1, dele[3]),
                (ins[0] + 1, ins[1], ins[2], ins[3] + 1),
            )
            cur.append(best)
        prev = cur
    _, s, d, ins = prev[m]
    return WordErrors(s, d, ins, n)


Segment = tuple[str, float, float]  # (speaker, start_s, end_s)


def diarization_error_rate(
    reference: Sequence[Segment], hypothesis: Sequence[Segment], *, collar_s: float = 0.0, step_s: float = 0.01
) -> float:
    """Frame-level DER = (missed + false alarm + confusion) / reference speech.

    Speakers of the hypothesis are mapped to reference speakers by the
    assignment that maximises overlap. With ``collar_s``, frames within that
    distance of a reference boundary are not scored.
    """
    if not reference:
        return 0.0
    end = max(e for _, _, e in itertools.chain(reference, hypothesis or [("", 0.0, 0.0)]))
    n = int(np.ceil(end / step_s)) + 1
    ref_names = sorted({s for s, _, _ in reference})
    hyp_names = sorted({s for s, _, _ in hypothesis})
    ref = _activity(reference, ref_names, n, step_s)
    hyp = _activity(hypothesis, hyp_names, n, step_s)
    scored = np.ones(n, dtype=bool)
    if collar_s > 0:
        for _, a, b in reference:
            for t in (a, b):
                scored[max(0, int((t - collar_s) / step_s)) : int((t + collar_s) / step_s) + 1] = False
    overlap = (ref[:, None, :] & hyp[None, :, :] & scored).sum(axis=2)
    mapping = _best_mapping(overlap)
    mapped = np.zeros_like(ref)
    for h, r in mapping.items():
        mapped[r] |= hyp[h]
    n_ref = ref.sum(axis=0)
    n_hyp = hyp.sum(axis=0)
    n_correct = (ref & mapped).sum(axis=0)
    errors = np.maximum(n_ref, n_hyp) - n_correct
    total = n_ref[scored].sum()
    return float(errors[scored].sum() / max(total, 1))


def _activity(segments: Iterable[Segment], names: Sequence[str], n: int, step_s: float) -> np.ndarray:
    index = {name: i for i, name in enumerate(names)}
    out = np.zeros((max(len(names), 1), n), dtype=bool)
    for s, a, b in segments:
        out[index[s], int(round(a / step_s)) : int(round(b / step_s))] = True
    return out


def _best_mapping(overlap: np.ndarray) -> dict[int, int]:
    """hypothesis index -> reference index, maximising total overlap (Hungarian)."""
    from scipy.optimize import linear_sum_assignment

    rows, cols = linear_sum_assignment(-overlap.T)
    return {int(h): int(r) for h, r in zip(rows, cols) if overlap[r, h] > 0}


@dataclass(frozen=True)
class PRF:
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def __add__(self, other: PRF) -> PRF:
        return PRF(
            self.true_positives + other.true_positives,
            self.false_positives + other.false_positives,
            self.false_negatives + other.false_negatives,
        )


def match_events(
    truth: Sequence[tuple[float, float]], found: Sequence[tuple[float, float]], *, tolerance_s: float = 0.5
) -> PRF:
    """An event matches a true one when their spans overlap (within ``tolerance_s``); one-to-one."""
    used: set[int] = set()
    tp = 0
    for a, b in truth:
        for i, (c, d) in enumerate(found):
            if i not in used and c <= b + tolerance_s and d >= a - tolerance_s:
                used.add(i)
                tp += 1
                break
    return PRF(tp, len(found) - len(used), len(truth) - tp)


def check_agreement(expected: Mapping[str, str], found: Mapping[str, str]) -> tuple[int, int, list[str]]:
    """(agreeing, compared, ids that disagree) over the check ids in ``expected``."""
    wrong = [cid for cid, status in expected.items() if found.get(cid) != status]
    return len(expected) - len(wrong), len(expected), wrong


def bootstrap_interval(
    counts: np.ndarray,
    statistic: Callable[[np.ndarray], np.ndarray],
    *,
    level: float = 0.95,
    resamples: int = 2000,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile interval of a pooled figure when the calls are drawn again with replacement.

    ``counts`` has one row per call (its counts, say agreeing and compared
    checks); ``statistic`` maps summed counts, shape ``(resamples, k)``, to the
    figure, shape ``(resamples,)``. The interval says how far the figure could
    move on another set of calls like these: two settings whose figures differ
    by less than its width are not told apart by this corpus. Seeded, so the
    same calls give the same interval.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 2 or len(counts) == 0:
        raise ValueError(f"counts must have one row per call, got shape {counts.shape}")
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(counts), size=(resamples, len(counts)))
    values = statistic(counts[picks].sum(axis=1))
    tail = (1.0 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail])
    return float(low), float(high)


def agreement_of(sums: np.ndarray) -> np.ndarray:
    """Pooled agreement from summed (agreeing, compared) counts."""
    return sums[:, 0] / np.maximum(sums[:, 1], 1)


def f1_of(sums: np.ndarray) -> np.ndarray:
    """Pooled F1 from summed (true positives, false positives, false negatives), as :class:`PRF` defines it."""
    tp, fp, fn = sums[:, 0], sums[:, 1], sums[:, 2]
    denominator = 2 * tp + fp + fn
    return np.where(denominator > 0, 2 * tp / np.maximum(denominator, 1), 1.0)
