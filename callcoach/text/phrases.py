"""The phrase engine: cue patterns and cue detection over normalised transcript words (normalising:
:mod:`callcoach.text.normalize`; the cue data: :mod:`callcoach.text.cues`).

A cue is found by small token patterns over *normalised* tokens (lowercase,
contractions expanded, fillers removed, number words as digits, ASR variants
folded), with two kinds of scope rules:

- a negator ("not", "never", "no", ...) shortly before a cue, in the same
  clause, cancels it ("I'm not sorry", "I don't understand why you're upset");
- *exclude* patterns that overlap a cue cancel it ("sorry, can you repeat
  that", "sorry you feel that way").

Pattern syntax (one string, space-separated elements):

``word``           a literal token
``a|b|c``          one of several tokens
``x?`` / ``a|b?``  optional element
``*N``             a gap of 0..N arbitrary tokens
``{slot}``         one of the tokens of a named slot (see ``SLOTS``)
``#``              a number token (digits after normalisation)
``@``              any one token

A :class:`CueSet` optionally carries example sentences for the semantic
matcher, which is asked only when no pattern matched and nothing in the
clause negates or excludes the cue.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Protocol

import numpy as np

from callcoach.text.normalize import NEGATORS, Normalized, normalize, normalize_words

# --------------------------------------------------------------------------- patterns

SLOTS: dict[str, tuple[str, ...]] = {
    "feel": ("upset", "frustrated", "frustrating", "angry", "annoyed", "annoying", "mad",
             "disappointed", "disappointing", "stressful", "stressed", "worried",
             "concerned", "confusing", "confused", "inconvenient", "unhappy", "irritated",
             "irritating", "aggravating", "aggravated", "hard", "difficult", "awful",
             "exhausting", "infuriating", "maddening", "upsetting", "furious", "tiring",
             "heartbreaking", "devastating", "scary", "worrying", "horrible", "terrible"),
    "anger": ("upset", "frustrated", "frustrating", "angry", "annoyed", "annoying", "mad",
              "disappointed", "disappointing", "unhappy", "irritated", "irritating", "aggravating",
              "aggravated", "infuriating", "maddening", "upsetting", "furious", "livid", "fuming",
              "disgusted", "outraged", "appalled", "gutted", "ruined"),
    "worry": ("worried", "anxious", "scared", "nervous", "panicking", "panicked", "frightened",
              "stressed", "concerned", "afraid", "terrified", "confused", "desperate", "lost"),
    "intens": ("so", "really", "very", "truly", "terribly", "deeply", "incredibly",
               "extremely", "sincerely", "genuinely", "awfully"),
    "trouble": ("inconvenience", "trouble", "delay", "delays", "wait", "confusion",
                "frustration", "mix", "mistake", "error", "problem", "problems", "hassle",
                "experience", "issue", "issues", "situation", "mess", "mixup"),
    "give": ("send", "offer", "issue", "give", "arrange", "process", "refund", "credit",
             "replace", "ship", "waive", "reverse", "apply", "book", "schedule", "reset",
             "upgrade", "fix", "restore", "reactivate", "cancel", "reinstate", "expedite",
             "rush", "reimburse", "compensate", "set", "switch", "change", "update", "add",
             "remove", "push", "put", "get", "mail", "order", "sort", "repair", "activate",
             "transfer", "extend", "lower", "adjust", "correct", "honor", "match", "move",
             "wave"),  # "I can wave the fee": the recogniser's usual spelling of waive
    "remedy": ("replacement", "refund", "credit", "discount", "voucher", "exchange",
               "repair", "technician", "engineer", "upgrade", "reimbursement", "waiver",
               "coupon", "compensation", "new", "loaner", "courtesy", "rebate",
               "partial", "full"),
    "boss": ("manager", "supervisor", "team", "lead", "leader", "senior", "specialist",
             "escalations", "escalation", "complaints", "department", "management"),
    "time": ("day", "days", "hour", "hours", "minute", "minutes", "week", "weeks",
             "business", "working", "month"),
    "when": ("tomorrow", "today", "tonight", "monday", "tuesday", "wednesday", "thursday",
             "friday", "saturday", "sunday", "morning", "afternoon", "evening", "week",
             "shortly", "soon", "later", "end"),
    "contact": ("call", "email", "text", "message", "ring", "phone", "contact", "update",
                "notify", "reach", "write"),
    "profane": ("fuck", "fucking", "fucked", "fucker", "fuckin", "motherfucker", "shit",
                "shitty", "bullshit", "bitch", "bastard", "asshole", "arsehole", "dick",
                "dickhead", "prick", "cunt", "twat", "wanker", "bollocks", "goddamn",
                "damn", "dammit", "crap", "crappy", "piss", "pissed", "screw"),
    "insult": ("idiot", "idiots", "moron", "morons", "stupid", "useless", "incompetent",
               "pathetic", "clown", "clowns", "imbecile", "dumb", "retard", "loser",
               "liar", "liars", "thief", "thieves", "scammer", "scammers", "crooks",
               "joke", "worthless", "brainless", "clueless", "ignorant"),
    # who a customer asks for when they want the call taken higher
    "higher": ("manager", "managers", "supervisor", "supervisors", "boss", "bosses", "superior",
               "superiors", "senior", "leader", "lead", "management", "escalations", "charge",
               "authority"),
    # the agent's superiors, when the customer names them
    "chief": ("manager", "managers", "supervisor", "supervisors", "boss", "bosses", "superior",
              "superiors", "management"),
    # who a customer takes their custom to
    "rival": ("provider", "providers", "company", "companies", "supplier", "suppliers", "bank",
              "banks", "network", "networks", "firm", "insurer", "competitor", "competitors",
              "broadband", "carrier", "airline"),
    # what a customer goes through, for open questions about it ("how are you finding it", "what do you use it for")
    "experience": ("finding", "find", "use", "using", "notice", "noticing", "noticed", "see", "seeing",
                   "saw", "hear", "hearing", "heard", "think", "thinking", "experience",
                   "experiencing", "expect", "expecting", "try", "tried", "trying",
                   "doing", "do", "get", "getting", "got", "feel", "feeling", "remember", "prefer",
                   "like", "have", "having", "mostly", "usually", "normally", "currently"),
    "lawyer": ("lawyer", "lawyers", "attorney", "attorneys", "solicitor", "solicitors",
               "legal", "court", "lawsuit", "sue", "suing", "ombudsman", "regulator",
               "bbb", "fcc", "ftc", "police", "cops"),
}


@dataclass(frozen=True)
class Pattern:
    """One compiled token pattern; ``suggestion`` is a better phrasing for a flagged cue."""

    source: str
    regex: re.Pattern[str]
    suggestion: str = ""


def _element(elem: str) -> str:
    optional = elem.endswith("?") and len(elem) > 1
    body = elem[:-1] if optional else elem
    gap = re.fullmatch(r"\*(\d+)", body)
    if gap:
        return rf"(?:\S+ ){{0,{gap.group(1)}}}"
    alts: list[str] = []
    for alt in body.strip("()").split("|"):
        if alt == "#":
            alts.append(r"\d+(?:st|nd|rd|th)?")
        elif alt == "@":
            alts.append(r"\S+")
        elif alt.startswith("{") and alt.endswith("}"):
            alts.extend(re.escape(t) for t in SLOTS[alt[1:-1]])
        elif alt.endswith("*") and len(alt) > 1:
            alts.append(re.escape(alt[:-1]) + r"\S*")
        else:
            alts.append(re.escape(alt))
    piece = "(?:" + "|".join(alts) + ") "
    return f"(?:{piece})?" if optional else piece


@lru_cache(maxsize=4096)
def compile_pattern(source: str, suggestion: str = "") -> Pattern:
    """Compile the pattern syntax described in the module docstring.

    Raises:
        ValueError: for an unknown ``{slot}`` or an empty pattern.
    """
    elems = source.split()
    if not elems:
        raise ValueError("empty pattern")
    try:
        body = "".join(_element(e) for e in elems)
    except KeyError as exc:
        raise ValueError(f"unknown slot {exc.args[0]!r}; known: {', '.join(sorted(SLOTS))}") from exc
    return Pattern(source, re.compile(r"(?:(?<= )|^)" + body), suggestion)


def phrase_pattern(phrase: str) -> str:
    """A rubric's literal cue phrase as a pattern over normalised tokens."""
    return " ".join(re.escape(t) if not t.isalnum() else t for t in normalize(phrase).tokens)


@dataclass(frozen=True)
class Span:
    """A matched cue: token range ``[start, end)`` in a :class:`Normalized`."""

    start: int
    end: int
    pattern: Pattern


def _find(patterns: Iterable[Pattern], norm: Normalized) -> list[Span]:
    text = norm.text + " "
    # char offset -> token index
    starts = [0]
    for tok in norm.tokens:
        starts.append(starts[-1] + len(tok) + 1)
    index = {c: i for i, c in enumerate(starts)}
    spans: list[Span] = []
    for pat in patterns:
        pos = 0
        while pos <= len(text):
            m = pat.regex.search(text, pos)
            if not m or m.end() == m.start():
                break
            s = index.get(m.start())
            e = index.get(m.end(), len(norm.tokens))
            if s is not None:
                spans.append(Span(s, e, pat))
            pos = starts[s + 1] if s is not None and s + 1 < len(starts) else m.end()
    return spans


# --------------------------------------------------------------------------- cue sets


@dataclass(frozen=True)
class CueSet:
    """Patterns that say a cue was said, patterns that cancel it, and examples.

    ``negatable``: a negator within ``negation_window`` tokens before the cue,
    in the same clause, cancels it. ``examples`` feed the semantic matcher;
    ``questions=False`` keeps it off clauses that ask the customer something
    ("have you restarted the router"): they share the topic words of an offer
    or an apology but are neither. ``announcements=False`` keeps it off clauses
    in which the agent announces their own next action ("let me look at how it
    happened"): they share the words of a question about the problem but invite
    nothing from the customer.
    """

    name: str
    patterns: tuple[Pattern, ...]
    excludes: tuple[Pattern, ...] = ()
    examples: tuple[str, ...] = ()
    negatable: bool = True
    negation_window: int = 3
    semantic_threshold: float = 0.55  # tuned on tests/data/paraphrases.yaml (eval_phrases.py --tune)
    questions: bool = True
    announcements: bool = True


@dataclass(frozen=True)
class Hit:
    """A cue found in an utterance: token range, how it was found and what it matched."""

    start: int
    end: int
    how: str  # "pattern" | "semantic" | "context" (a call-level detector in the scorecard)
    matched: str
    suggestion: str = ""
    score: float = 1.0


_NOT_NEGATING_AFTER = frozenset({"problem", "problems", "worries", "worry", "doubt", "matter",
                                 "only", "sooner", "later", "more", "longer"})


def _is_negator(tokens: Sequence[str], i: int) -> bool:
    nxt = tokens[i + 1] if i + 1 < len(tokens) else ""
    return tokens[i] in NEGATORS and nxt not in _NOT_NEGATING_AFTER


_CONDITIONAL = frozenset({"if", "unless"})
_SUBJECTS = frozenset({"i", "we", "you", "my", "our", "they", "he", "she", "your"})


def _in_antecedent(tokens: Sequence[str], clause: int, neg: int, cue: int) -> bool:
    """Whether negator ``neg`` sits in an if/unless clause that ends before the cue.

    "If it isn't here Friday my lawyer will hear of it": the negator belongs to
    the condition; a subject word between it and the cue ("my", "I") starts
    the main clause, which the negator does not reach (ASR often drops the comma).
    """
    if neg >= cue or not any(t in _CONDITIONAL for t in tokens[clause:neg]):
        return False
    return any(t in _SUBJECTS for t in tokens[neg + 1 : cue + 1])


def _negated(norm: Normalized, span: Span, window: int) -> bool:
    """A negator in the ``window`` tokens before the cue (same clause) or inside it.

    Negators that the pattern itself spells out ("that is not true") do not
    count, nor do negators of an earlier if/unless condition.
    """
    literal = set(re.findall(r"[a-z]+", span.pattern.source))
    clause = norm.clause_start(span.start)
    lo = max(clause, span.start - window)
    return any(_is_negator(norm.tokens, i) and norm.tokens[i] not in literal
               and not _in_antecedent(norm.tokens, clause, i, span.start)
               for i in range(lo, span.end))


def find_cues(cues: CueSet, norm: Normalized) -> tuple[list[Hit], bool]:
    """Pattern hits of ``cues`` in ``norm``, after negation and exclusion scope.

    Returns the hits and whether a hit was cancelled (so the semantic matcher
    must not be asked: it would not see the negation).
    """
    hits: list[Hit] = []
    cancelled = False
    excl = _find(cues.excludes, norm) if cues.excludes else []
    for span in _find(cues.patterns, norm):
        if cues.negatable and _negated(norm, span, cues.negation_window):
            cancelled = True
            continue
        if any(x.start < span.end and span.start < x.end for x in excl):
            cancelled = True
            continue
        hits.append(Hit(span.start, span.end, "pattern", " ".join(norm.tokens[span.start:span.end]),
                        span.pattern.suggestion))
    if excl and not hits:
        cancelled = True
    return hits, cancelled


class Similarity(Protocol):
    def similarity(self, texts: Sequence[str], cue_examples: Sequence[str]) -> np.ndarray: ...


def split_clauses(norm: Normalized) -> list[tuple[int, int]]:
    """Token ranges of the sentences/clauses of ``norm`` (for semantic matching)."""
    cuts = sorted({0, *norm.breaks, len(norm.tokens)})
    return [(a, b) for a, b in zip(cuts, cuts[1:]) if b > a]


_DISCOURSE = frozenset({"okay", "so", "and", "right", "alright", "now", "well", "oh", "sure",
                        "great", "yes", "yeah", "no", "hi", "hello", "sir", "maam", "then", "but"})
_ASK_AUX = frozenset({"have", "has", "did", "do", "does", "are", "is", "was", "were", "can", "could"})
_ASK_SUBJECT = frozenset({"you", "your", "it", "that", "this", "the", "there", "they"})


def after_discourse(tokens: Sequence[str], words: Collection[str] = _DISCOURSE) -> int:
    """Index of the first token that is not a leading discourse word ("okay so", "right and"), from ``words``."""
    i = 0
    while i < len(tokens) and tokens[i] in words:
        i += 1
    return i


def asks_customer(tokens: Sequence[str]) -> bool:
    """Whether a clause is a yes/no question about the customer's side ("have you tried ...").

    Leading discourse words are skipped; a clause that goes on to say what the
    agent will do ("do you want me to send ...", "is it okay if I ...") is an
    offer, not a question about the customer.
    """
    i = after_discourse(tokens)
    if i + 1 >= len(tokens) or tokens[i] not in _ASK_AUX or tokens[i + 1] not in _ASK_SUBJECT:
        return False
    return not any(t in ("me", "i", "we", "us") for t in tokens[i + 2 :])


_ANNOUNCE = (("let", "me"), ("let", "us"), ("i", "will"), ("i", "am", "going", "to"), ("we", "will"),
             ("i", "am", "just", "going", "to"), ("i", "need", "to"), ("i", "have", "to"))


def announces_action(tokens: Sequence[str]) -> bool:
    """Whether a clause opens (after discourse words) with the agent announcing their own action
    ("let me check", "I'll look at how it happened", "I'm going to pull up the account")."""
    rest = tuple(tokens[after_discourse(tokens):])
    return any(rest[: len(a)] == a for a in _ANNOUNCE)


def semantic_clauses(cues: CueSet, norm: Normalized) -> list[tuple[int, int]]:
    """Clauses of ``norm`` that the semantic matcher may compare with ``cues.examples``.

    None when a pattern of ``cues`` matched or was cancelled; otherwise clauses of
    >= 3 tokens with no negator (and, for ``questions=False``, not a question
    about the customer's side).
    """
    if not cues.examples:
        return []
    hits, cancelled = find_cues(cues, norm)
    if hits or cancelled:
        return []
    return [(a, b) for a, b in split_clauses(norm)
            if b - a >= 3 and not any(t in NEGATORS for t in norm.tokens[a:b])
            and (cues.questions or not asks_customer(norm.tokens[a:b]))
            and (cues.announcements or not announces_action(norm.tokens[a:b]))]


def semantic_hits(cues: CueSet, norms: Sequence[Normalized], matcher: Similarity,
                  ) -> list[tuple[int, Hit]]:
    """Semantic fallback over many utterances in one batch: ``(utterance index, hit)``.

    Only the :func:`semantic_clauses` of each utterance are compared with
    ``cues.examples``.
    """
    if not cues.examples:
        return []
    where = [(i, a, b) for i, norm in enumerate(norms) for a, b in semantic_clauses(cues, norm)]
    if not where:
        return []
    texts = [" ".join(norms[i].tokens[a:b]) for i, a, b in where]
    sims = np.asarray(matcher.similarity(texts, list(cues.examples)))
    out = []
    for (i, a, b), row in zip(where, sims):
        best = int(np.argmax(row))
        if float(row[best]) >= cues.semantic_threshold:
            out.append((i, Hit(a, b, "semantic", cues.examples[best], score=float(row[best]))))
    return out


def detect(cues: CueSet, norm: Normalized, matcher: Similarity | None = None) -> list[Hit]:
    """Patterns first; then, if none matched and nothing was negated, the semantic matcher."""
    hits, cancelled = find_cues(cues, norm)
    if hits or cancelled or matcher is None:
        return hits
    return [h for _, h in semantic_hits(cues, [norm], matcher)]


def cue_set(name: str, patterns: Iterable[str | tuple[str, str]], excludes: Iterable[str] = (),
            examples: Iterable[str] = (), **options: object) -> CueSet:
    """Build a :class:`CueSet`; a pattern may be ``(pattern, better_phrasing)``."""
    pats = tuple(compile_pattern(p) if isinstance(p, str) else compile_pattern(*p)
                 for p in patterns)
    return CueSet(name, pats, tuple(compile_pattern(x) for x in excludes), tuple(examples),
                  **options)  # type: ignore[arg-type]


def phrase_cue_set(name: str, phrases: Sequence[str], negative_phrases: Sequence[str] = ()) -> CueSet:
    """A cue set from a rubric's literal phrases, matched with the same normaliser."""
    return cue_set(name, [phrase_pattern(p) for p in phrases],
                   [phrase_pattern(p) for p in negative_phrases], examples=tuple(phrases))


__all__ = [
    "CueSet",
    "after_discourse",
    "Hit",
    "NEGATORS",
    "Normalized",
    "Pattern",
    "SLOTS",
    "compile_pattern",
    "cue_set",
    "detect",
    "semantic_hits",
    "find_cues",
    "normalize",
    "normalize_words",
    "phrase_cue_set",
    "split_clauses",
]
