"""Redacting a result: its turns, every other text that quotes them, and the record of what was redacted."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from callcoach.records import CallResult, RedactedSpan, RedactionMeta, Turn, Word
from callcoach.redact.detection import (
    _contexts,
    _detect_address,
    _detect_dob,
    _detect_email,
    _detect_ids,
    _detect_numbers,
    _detect_postcodes,
    _words_of,
    detect,
)
from callcoach.redact.names import _detect_mentions, _name_keys
from callcoach.redact.tokens import Kind, RedactionError, Span, _tok
from callcoach.settings import REDACT_MODES, RedactMode
from callcoach.speech.attribute import join_words


def _check_mode(mode: str) -> None:
    if mode not in REDACT_MODES:
        raise RedactionError(f"redaction mode {mode!r} is not known; use one of: {', '.join(REDACT_MODES)}")


def _trailing_punct(text: str) -> str:
    m = re.search(r"[.,;:!?\"')\]]+$", text.strip())
    return m.group(0) if m else ""


def _redact_turn(turn: Turn, spans: Sequence[Span]) -> tuple[Turn, list[RedactedSpan]]:
    words = list(turn.words)
    if not words:  # text only: rebuild the text from its whitespace words
        parts = turn.text.split()
        out, k = [], 0
        for s in spans:
            out += parts[k:s.start_word] + [s.placeholder + _trailing_punct(parts[s.end_word - 1])]
            k = s.end_word
        out += parts[k:]
        return replace(turn, text=" ".join(out)), [RedactedSpan(turn.start_s, turn.end_s, s.kind) for s in spans]
    new: list[Word] = []
    red: list[RedactedSpan] = []
    k = 0
    for s in spans:
        new += words[k:s.start_word]
        chunk = words[s.start_word:s.end_word]
        new.append(Word(s.placeholder + _trailing_punct(chunk[-1].text), chunk[0].start_s,
                        max(w.end_s for w in chunk), min(w.probability for w in chunk), chunk[0].speaker))
        red.append(RedactedSpan(chunk[0].start_s, max(w.end_s for w in chunk), s.kind))
        k = s.end_word
    new += words[k:]
    return replace(turn, words=tuple(new), text=join_words(new)), red


def redact_turns(turns: Sequence[Turn], mode: RedactMode = "text",
                 ) -> tuple[tuple[Turn, ...], list[RedactedSpan]]:
    """Replace every detected item with one placeholder word (``[CARD]``, ``[NAME]`` ...).

    The placeholder keeps the item's first start and last end time, the
    lowest word probability and the last word's trailing punctuation; the
    turn's text is rebuilt from its words. ``mode="off"`` returns the turns
    unchanged and no spans. Returns the turns and where each item was said,
    in time order.

    Raises:
        RedactionError: for an unknown ``mode``.
    """
    _check_mode(mode)
    if mode == "off":
        return tuple(turns), []
    found = detect(turns)
    out: list[Turn] = []
    spans: list[RedactedSpan] = []
    for i, turn in enumerate(turns):
        if i in found:
            turn, red = _redact_turn(turn, found[i])
            spans += red
        out.append(turn)
    return tuple(out), sorted(spans, key=lambda s: s.start_s)


# --------------------------------------------------------------------------- other text


def _core(word: str) -> str:
    return _tok(word).core


class _Scrubber:
    """Redacts free text that quotes the transcript (evidence, event details, tips)."""

    def __init__(self, turns: Sequence[Turn], found: Mapping[int, Sequence[Span]], names: set[str]) -> None:
        self.items: list[tuple[tuple[str, ...], Kind]] = []
        for i, spans in found.items():
            cores = [_core(w) for w in _words_of(turns[i])]
            for s in spans:
                seq = tuple(c for c in cores[s.start_word:s.end_word] if c)
                if seq:
                    self.items.append((seq, s.kind))
        self.items.sort(key=lambda it: -len(it[0]))
        self.names = names
        self.context = [_tok(w).core for w in _words_of(turns[-1])] if turns else []

    def __call__(self, text: str) -> str:
        if not text or not text.strip():
            return text
        parts = text.split()
        cores = [_core(p) for p in parts]
        kinds: list[Kind | None] = [None] * len(parts)
        marks: list[int] = [-1] * len(parts)  # id of the item that covers a word
        item_id = 0

        def mark(a: int, b: int, kind: Kind) -> None:
            nonlocal item_id
            if any(kinds[a:b]):
                return
            for k in range(a, b):
                kinds[k], marks[k] = kind, item_id
            item_id += 1

        n = len(cores)
        for seq, kind in self.items:  # whole items quoted anywhere
            L = len(seq)
            for a in range(0, n - L + 1):
                if tuple(cores[a:a + L]) == seq:
                    mark(a, a + L, kind)
        for seq, kind in self.items:  # a quote that starts or ends inside an item
            L = len(seq)
            for k in range(min(L - 1, n), 0, -1):
                if tuple(cores[:k]) == seq[L - k:] and (k > 1 or any(ch.isdigit() for ch in seq[-1])):
                    mark(0, k, kind)
                if tuple(cores[n - k:]) == seq[:k] and (k > 1 or any(ch.isdigit() for ch in seq[0])):
                    mark(n - k, n, kind)
        # anything else the detector finds in the text itself
        pseudo = Turn("", "customer", 0.0, 1.0, text, ())
        ctx = _contexts([pseudo])[0]
        ctx.taken = [k is not None for k in kinds]
        for step in (_detect_email, _detect_dob, _detect_ids, _detect_address, _detect_postcodes, _detect_numbers):
            step(ctx)
        _detect_mentions(ctx, self.names, set())
        for s in ctx.spans:
            mark(s.start_word, s.end_word, s.kind)
        out: list[str] = []
        for k, part in enumerate(parts):
            if kinds[k] is None:
                out.append(part)
            elif k == 0 or marks[k - 1] != marks[k]:
                last = max(m for m in range(k, n) if marks[m] == marks[k])
                lead = re.match(r"^[\"'(\[\u2018\u201c]*", part)
                out.append((lead.group(0) if lead else "") + f"[{kinds[k].upper()}]" + _trailing_punct(parts[last]))
        return " ".join(out)


def redact_result(result: CallResult, mode: RedactMode = "text") -> CallResult:
    """A copy of ``result`` with personal data replaced everywhere it is quoted.

    Turns and words as :func:`redact_turns`; evidence texts, event details,
    better phrasings, tips, went-well/work-on lines and the role reasons in
    ``meta`` are redacted by the same items (and by the detector run on them).
    ``meta.redaction`` records the mode, the count per kind and the times
    of the redacted items (no content), for :func:`redacted_spans`.
    Call it after scoring: checks such as ``personalize`` need the names.

    Raises:
        RedactionError: for an unknown ``mode``.
    """
    _check_mode(mode)
    if mode == "off":
        return result
    found = detect(result.turns)
    turns: list[Turn] = []
    spans: list[RedactedSpan] = []
    for i, turn in enumerate(result.turns):
        if i in found:
            turn, red = _redact_turn(turn, found[i])
            spans += red
        turns.append(turn)
    ctxs = _contexts(result.turns)
    names: set[str] = set()
    for i, ctx in enumerate(ctxs):
        ctx.spans = list(found.get(i, ()))
        if ctx.role != "agent":
            names |= _name_keys(ctx)
    scrub = _Scrubber(result.turns, found, names)
    checks = tuple(
        replace(c, evidence=tuple(replace(e, text=scrub(e.text)) for e in c.evidence),
                tip=scrub(c.tip), better_phrasing=scrub(c.better_phrasing))
        for c in result.scorecard.checks
    )
    scorecard = replace(result.scorecard, checks=checks,
                        went_well=tuple(scrub(x) for x in result.scorecard.went_well),
                        work_on=tuple(scrub(x) for x in result.scorecard.work_on))
    events = tuple(replace(e, detail=scrub(e.detail)) for e in result.events)
    roles = result.meta.roles
    if roles is not None:
        roles = replace(roles, reasons=tuple(scrub(r) for r in roles.reasons))
    spans.sort(key=lambda s: s.start_s)
    counts: dict[str, int] = {}
    for s in spans:
        counts[s.kind] = counts.get(s.kind, 0) + 1
    rounded = tuple(RedactedSpan(round(s.start_s, 3), round(s.end_s, 3), s.kind) for s in spans)
    meta = replace(result.meta, roles=roles, redaction=RedactionMeta(mode=mode, counts=counts, spans=rounded))
    return replace(result, turns=tuple(turns), events=events, scorecard=scorecard, meta=meta)


def redacted_spans(result: CallResult | Mapping[str, Any]) -> list[RedactedSpan]:
    """The redacted items recorded by :func:`redact_result` (a result or its JSON dict)."""
    if isinstance(result, CallResult):
        return list(result.meta.redaction.spans) if result.meta.redaction else []
    items = (result.get("meta") or {}).get("redaction", {}).get("spans", ())
    return [RedactedSpan(float(s["start_s"]), float(s["end_s"]), s["kind"]) for s in items]
