"""Required and forbidden statements: fuzzy matching of a sentence over the words a recogniser wrote.

A QA form asks whether the agent read a statement out (a recording notice,
identity verification, a closing disclosure) or said one they must never
say. Speech recognition rarely writes such a sentence word for word
("this call may bee recorded for quality and training purposes"), so a
statement is found by approximate matching over word sequences: the
statement's normalised words are aligned with every stretch of the
speaker's normalised words (a word-level edit distance in which the stretch
may start and end anywhere, so its length floats around the statement's).
A missing or extra word costs 1; a misheard word costs its character
distance from the statement's word (rapidfuzz's normalised Levenshtein
distance: "recoded" for "recorded" costs 0.12, "made" for "may" 0.5, an
unrelated word 1). The similarity is ``100 * (1 - cost / words in the
statement)``: two wholly misrecognised words in ten give 80. A stretch whose
negators ("not", "never", ...) differ from the statement's, counting the
words just outside it that the alignment skipped, is never a match: "this
call may not be recorded" is not the recording notice.

The default threshold, :data:`DEFAULT_MIN_SIMILARITY`, was chosen on the dev
part of ``tests/data/statements.yaml`` and is reported on its held-out part
by ``scripts/eval_statements.py``.

Pure functions; words come in as ``(text, start_s, end_s)`` triples.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING

from rapidfuzz.distance import Levenshtein

from callcoach.records import Evidence
from callcoach.text.normalize import NEGATORS, normalize, normalize_words

if TYPE_CHECKING:
    from callcoach.scoring.rubric import Check

DEFAULT_MIN_SIMILARITY = 80.0
"""Lowest similarity (0-100) that counts as the statement said (tuned on the dev set)."""
MIN_STATEMENT_WORDS = 3
"""Shorter statements match too much by chance: the rubric refuses them (use ``phrases``)."""
STATEMENT_NEGATORS = NEGATORS - {"no", "hardly"}
"""Negators that flip a statement. Not "no": recognisers write it for "know" ("let you no that")."""

TimedWord = tuple[str, float, float]


@dataclass(frozen=True)
class StatementMatch:
    """Where a statement was said: the words as written by the recogniser, their times, and the score."""

    statement: str
    similarity: float
    start_s: float
    end_s: float
    text: str


@lru_cache(maxsize=1024)
def statement_tokens(statement: str) -> tuple[str, ...]:
    """The statement as normalised tokens (same normaliser as the words it is matched against)."""
    return normalize(statement).tokens


def _negators(tokens: Sequence[str]) -> int:
    return sum(1 for t in tokens if t in STATEMENT_NEGATORS)


@lru_cache(maxsize=65536)
def word_cost(a: str, b: str) -> float:
    """Cost (0-1) of hearing word ``b`` where ``a`` was said: normalised character edit distance."""
    return 0.0 if a == b else float(Levenshtein.normalized_distance(a, b))


def _align(target: Sequence[str], tokens: Sequence[str]) -> list[tuple[float, int, int, int, int]]:
    """Every end of the best alignment of ``target`` with a stretch of ``tokens``.

    Returns ``(cost, start, end, skipped_first, skipped_last)`` per token end
    (``tokens[start:end]`` is the stretch; ``skipped_*``: statement words at
    either end that the stretch left out). O(len(target) * len(tokens)).
    """
    n, m = len(target), len(tokens)
    inf = float("inf")
    # per column j: (cost, start, skipped_first) of aligning target[:i] ending before token j
    prev = [(0.0, j, 0) for j in range(m + 1)]
    rows = [prev]
    for i in range(1, n + 1):
        word = target[i - 1]
        cur = [(float(i), 0, i)] + [(inf, 0, 0)] * m
        for j in range(1, m + 1):
            c_sub, s_sub, k_sub = prev[j - 1]
            best = (c_sub + word_cost(word, tokens[j - 1]), s_sub, k_sub)
            c_del, s_del, k_del = prev[j]  # statement word not heard
            if c_del + 1.0 < best[0]:
                # a path that has heard no word yet (it starts at this token) is skipping the statement's start
                best = (c_del + 1.0, s_del, k_del + (1 if s_del == j and k_del == i - 1 else 0))
            c_ins, s_ins, k_ins = cur[j - 1]  # an extra word heard
            if c_ins + 1.0 < best[0]:
                best = (c_ins + 1.0, s_ins, k_ins)
            cur[j] = best
        rows.append(cur)
        prev = cur
    out = []
    for j in range(1, m + 1):
        cost, start, lead = prev[j]
        # statement words skipped at the end: walk back the deletions in column j
        trail, i = 0, n
        while i > 0 and rows[i][j][0] == rows[i - 1][j][0] + 1.0:
            trail += 1
            i -= 1
        out.append((cost, start, j, lead, trail))
    return out


def find_statement(
    statement: str,
    words: Sequence[TimedWord],
    *,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
    start_s: float | None = None,
    end_s: float | None = None,
) -> StatementMatch | None:
    """The best match of ``statement`` in ``words`` (one speaker's words in time order), or None.

    ``start_s``/``end_s`` (seconds from the start of the call) keep only
    matches whose first word starts inside ``[start_s, end_s]``: "in the
    first 30 s" is ``end_s=30``. Ties go to the earliest match.
    """
    target = statement_tokens(statement)
    if not target or not words:
        return None
    if start_s is not None:
        words = [w for w in words if w[1] >= start_s]
    norm = normalize_words([w[0] for w in words])
    tokens = norm.tokens
    if end_s is not None:  # the statement must start by end_s; it may run on after it
        last = max((k for k, src in enumerate(norm.source) if words[src][1] <= end_s), default=-1)
        tokens = tokens[: last + 1 + 2 * len(target)]
    if not tokens:
        return None
    n = len(target)
    max_cost = n * (1.0 - min_similarity / 100.0) + 1e-9
    want = _negators(target)
    best: tuple[float, int, int] | None = None
    for cost, a, b, lead, trail in _align(target, tokens):
        if cost > max_cost or b <= a or (best is not None and cost >= best[0]):
            continue
        if end_s is not None and words[norm.source[a]][1] > end_s:
            continue
        lo = max([a - lead] + [k for k in norm.breaks if k <= a])  # the skipped words' places, same clause
        hi = min([b + trail] + [k for k in norm.breaks if k >= b])
        if _negators(tokens[min(lo, a):max(hi, b)]) != want:
            continue
        best = (cost, a, b)
    if best is None:
        return None
    cost, a, b = best
    said = words[norm.source[a] : norm.source[b - 1] + 1]
    text = " ".join(w[0].strip() for w in said).strip(" ,.;:")
    return StatementMatch(statement, round(100.0 * (1.0 - cost / n), 1), said[0][1], said[-1][2], text)


def find_any(
    statements: Sequence[str],
    words: Sequence[TimedWord],
    *,
    min_similarity: float = DEFAULT_MIN_SIMILARITY,
    start_s: float | None = None,
    end_s: float | None = None,
) -> list[StatementMatch]:
    """The best match of each statement that was said, in the order given."""
    found = []
    for s in statements:
        m = find_statement(s, words, min_similarity=min_similarity, start_s=start_s, end_s=end_s)
        if m is not None:
            found.append(m)
    return found


def judge(check: Check, words: Sequence[TimedWord], call_end_s: float) -> tuple[str, list[Evidence], str]:
    """``(status, evidence, better_phrasing)`` of a ``required_statement`` or ``forbidden_statement`` check.

    ``words``: the judged side's words in time order. Any one of the check's
    ``statements`` counts (they are alternative wordings). Evidence is each
    match's words and times, with its similarity. A required statement not
    said fails with the first statement as the phrasing to use; a forbidden
    one said fails with the check's ``better_phrasing``.
    """
    det = check.detector
    first, last = det.get("within_first_s"), det.get("within_last_s")
    found = find_any(check.statements, words, min_similarity=det.get("min_similarity"),
                     start_s=max(0.0, call_end_s - last) if last else None, end_s=first or None)
    evidence = [Evidence(m.start_s, m.end_s, m.text) for m in found[:3]]
    if det.type == "required_statement":
        return ("pass", evidence, "") if found else ("fail", [], check.statements[0])
    return ("fail", evidence, check.better_phrasing) if found else ("pass", [], "")


__all__ = ["DEFAULT_MIN_SIMILARITY", "MIN_STATEMENT_WORDS", "STATEMENT_NEGATORS", "StatementMatch", "find_any",
           "find_statement", "judge", "statement_tokens", "word_cost"]
