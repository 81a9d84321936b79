"""The customer's name: where they give it (with its spelling) and every later mention of it."""

from __future__ import annotations

import re
from collections.abc import Sequence

from callcoach.redact.tokens import (
    _FILLERS,
    _MONTHS,
    _NOT_NAME,
    _NUMWORDS,
    _SPELLED,
    _STREET,
    _TITLES,
    _WORDLIKE_NAMES,
    Kind,
    _Ctx,
    _cue,
    _is_letter,
    _nearest_cue,
    _Tok,
)

_NAME_CUES = _cue(r"my name is|my name's|my name|name's|the name is|name is|(?:sur|last|first|full|second|middle) ?name(?: is|'s)?|"
                  r"call me|in the name of|under the name(?: of)?|it's under|it is under|"
                  r"account holder is|my surname's|surname's|(?:am i|i'm|i am) (?:speaking|talking) (?:with|to)|"
                  r"is this|is that|speaking with|talking with")
_WEAK_CUES = _cue(r"this is|it's|it is|i'm|i am|im|hi|hello|hey|thanks|thank you|cheers|morning|afternoon")
_AGENT_INTRO = _cue(r"my name is|my name's|this is|you're (?:speaking|talking) (?:to|with)|you are (?:speaking|talking) (?:to|with)|"
                    r"you're through to|you are through to|i'm|i am|name's")
_SPELL_GLUE = {"that's", "thats", "spelled", "spelt", "that", "is", "it's", "its", "as", "in", "with", "a",
               "uh", "um", "er", "erm", "so", "double"}


def _nameish(t: _Tok, strict: bool) -> bool:
    c = t.core
    if not re.fullmatch(r"[a-z][a-z'\-]*[a-z]", c) or c in _NOT_NAME or c in _NUMWORDS or c in _MONTHS:
        return False
    if c in _TITLES or c in _STREET and not t.cap:
        return False
    if strict and re.search(r"['\u2019]s\W*$", t.raw):
        return False  # "I'm Northwind's biggest fan"
    return t.cap or not strict


def _name_end(ctx: _Ctx, j: int, strict: bool) -> int:
    """End of a name at ``j``: up to three name words, then an optional spelling."""
    toks, k = ctx.toks, j
    if k < len(toks) and toks[k].core in _TITLES and not ctx.taken[k]:
        k += 1
    first = k
    while k < len(toks) and k - first < 3 and not ctx.taken[k] and _nameish(toks[k], strict or k > first and not toks[k].cap and toks[first].cap):
        k += 1
        if toks[k - 1].end == ".":
            break
    if k == first:
        return j
    return _spelling_end(ctx, k)


def _spelling_end(ctx: _Ctx, k: int) -> int:
    """Extend over a spelling that follows a name: ", H A D L E Y" or "H-A-D-L-E-Y"."""
    toks = ctx.toks
    m = k
    while m < len(toks) and m - k < 3 and toks[m].core in _SPELL_GLUE and not ctx.taken[m]:
        m += 1
    n = m
    while n < len(toks) and not ctx.taken[n] and (_is_letter(toks[n]) or _SPELLED.fullmatch(toks[n].core)
                                                  or toks[n].core in ("double", "a") or toks[n].core in ("dash", "hyphen")):
        n += 1
    letters = sum(1 for t in toks[m:n] if _is_letter(t) or _SPELLED.fullmatch(t.core))
    if letters >= 2 or any(_SPELLED.fullmatch(t.core) for t in toks[m:n]):
        return n
    return k


def _detect_names(ctx: _Ctx, agent_names: set[str]) -> None:
    toks = ctx.toks
    cores = [t.core for t in toks]
    customer = ctx.role != "agent"
    if not customer:
        for a, e in _match(_AGENT_INTRO, cores):
            if e < len(toks) and _nameish(toks[e], strict=False):
                agent_names.add(toks[e].core)
    for pat, strict in ((_NAME_CUES, False), (_WEAK_CUES, True)):
        for a, e in _match(pat, cores):
            src = " ".join(cores[a:e])
            if not customer and not re.search(r"am i|i'm|i am|is this|is that|speaking with|talking with|thank|cheers|hi|hello|hey|morning|afternoon", src):
                continue
            if customer and src in ("hi", "hello", "hey", "thanks", "thank you", "cheers", "morning", "afternoon"):
                continue
            j = e + (1 if e < len(toks) and toks[e].core in _FILLERS else 0)
            if j < len(toks) and toks[j].core in _TITLES:
                strict = False
            end = _name_end(ctx, j, strict)
            if end > j and not (j < len(toks) and toks[j].core in agent_names and not customer):
                ctx.add(j, end, "name")
    for i in range(min(3, len(toks) - 1)):  # "Kamal speaking", "Fiona Grant here"
        if toks[i + 1].core in ("speaking", "here") and i + 2 >= len(toks) or toks[i + 1].core == "speaking":
            a = i - 1 if i > 0 and _nameish(toks[i - 1], strict=True) else i
            if _nameish(toks[i], strict=True) and all(_nameish(toks[k], strict=True) for k in range(a, i + 1)):
                if customer:
                    ctx.add(a, i + 1, "name")
                else:
                    agent_names.update(toks[k].core for k in range(a, i + 1))
    for i, t in enumerate(toks):  # Mr Hadley, Mrs. Patel
        if t.core in _TITLES and i + 1 < len(toks) and not ctx.taken[i] and not ctx.taken[i + 1] and _nameish(toks[i + 1], strict=True):
            k = i + 2
            while k < len(toks) and k - i < 4 and not ctx.taken[k] and _nameish(toks[k], strict=True):
                k += 1
            ctx.add(i, k, "name")
    if customer and _nearest_cue(ctx.prev[-10:], ["name"]) == "name":
        j = ctx.skip(0, {"yes", "yeah", "sure", "ok", "okay", "it's", "its", "it", "is", "so", "yep", "that's",
                         "right", "oh", "well", "of", "course", "mine", "i'm", "certainly"})
        end = _name_end(ctx, j, strict=False) if j < len(toks) else j
        if end == j:
            end = _spelling_end(ctx, j)
        if end > j:
            ctx.add(j, end, "name")
    # spelled-out words: a name unless an identifier cue is nearer
    i = 0
    while i < len(toks):
        if ctx.taken[i] or not (_is_letter(toks[i]) or _SPELLED.fullmatch(toks[i].core)):
            i += 1
            continue
        end = _spelling_end(ctx, i)
        letters = sum(1 for t in toks[i:end] if _is_letter(t)) + sum(len(t.core.replace("-", "").replace(".", "")) for t in toks[i:end] if _SPELLED.fullmatch(t.core))
        if letters >= 4:
            fam = _nearest_cue(ctx.window(i), ["account", "postcode", "email", "name"])
            kind: Kind = {"account": "account", "postcode": "address", "email": "email"}.get(fam or "", "name")  # type: ignore[assignment]
            ctx.add(i, end, kind)
        i = max(end, i + 1)


def _match(pat: re.Pattern[str], cores: Sequence[str]) -> list[tuple[int, int]]:
    text = " ".join(cores)
    index, pos = {}, 0
    for k, c in enumerate(cores):
        index[pos] = k
        pos += len(c) + 1
    out = []
    for m in pat.finditer(text):
        if m.start() in index:
            a = index[m.start()]
            out.append((a, a + len(m.group(0).split())))
    return out


def _name_keys(ctx: _Ctx) -> set[str]:
    keys = set()
    for s in ctx.spans:
        if s.kind == "name":
            for t in ctx.toks[s.start_word:s.end_word]:
                if _nameish(t, strict=False) and len(t.core) >= 2:
                    keys.add(t.core)
    return keys


def _detect_mentions(ctx: _Ctx, keys: set[str], agent_names: set[str]) -> None:
    toks = ctx.toks
    for i, t in enumerate(toks):
        if ctx.taken[i] or t.core not in keys or t.core in agent_names:
            continue
        if t.core in _WORDLIKE_NAMES and (not t.cap or i == 0):
            continue
        a, b = i, i + 1
        if a > 0 and toks[a - 1].core in _TITLES and not ctx.taken[a - 1]:
            a -= 1
        while b < len(toks) and not ctx.taken[b] and toks[b].core in keys:
            b += 1
        ctx.add(a, b, "name")
