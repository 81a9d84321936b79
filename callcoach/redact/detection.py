"""Finding personal data in turns: e-mail addresses, dates of birth, identifiers, addresses, numbers; :func:`detect`."""

from __future__ import annotations

import re
from collections.abc import Sequence

from callcoach.records import Turn
from callcoach.redact.names import _detect_mentions, _detect_names, _name_keys
from callcoach.redact.tokens import (
    _ALNUM,
    _CONNECT,
    _DATE,
    _DWELLING,
    _EMAIL_JOIN,
    _FILLERS,
    _MONTHS,
    _NOT_NAME,
    _ORDINALS,
    _POSTCODE,
    _PROVIDERS,
    _PUNCT_EDGE,
    _SPELLED,
    _STREET,
    _TENS,
    _TLDS,
    _UNIT_WORDS,
    _WORD_PROVIDERS,
    Kind,
    Span,
    _Ctx,
    _cue_ends,
    _digits_of,
    _is_letter,
    _nearest_cue,
    _number_runs,
    _numeric_parts,
    _numword_parts,
    _parse_groups,
    _Run,
    _Tok,
    _tok,
    luhn_ok,
)

_GLUE = {"is", "it's", "its", "it", "was", "number", "no", "id", "the", "my", "that's", "thats",
         "that", "be", "should", "reference", "code", "ref", "on", "are", "yes", "yeah", "yep",
         "sure", "ok", "okay", "so", "right", "of", "course", "um", "uh", "er", "erm", "is:", "oh",
         "well", "let", "me", "see", "just", "one", "sec", "second", "hang", "got", "here",
         "have", "i've", "i", "i'm", "am", "looking", "at", "a", "an", "says", "said",
         "reads", "shows", "showing"}
_ID_GLUE = _CONNECT | _FILLERS


def _id_run(ctx: _Ctx, j: int, max_len: int = 14) -> int:
    """End of an identifier starting at ``j``: digits, number words, letters, alphanumerics."""
    toks, k = ctx.toks, j
    while k < len(toks) and k - j < max_len and not ctx.taken[k]:
        t = toks[k]
        ok = (_digits_of(t.core) or _numeric_parts(toks, k) or _ALNUM.fullmatch(t.core)
              or _SPELLED.fullmatch(t.core) or _is_letter(t) or _caps_code(t) or (t.core == "a" and k + 1 < len(toks) and _is_letter(toks[k + 1])))
        if ok:
            k += 1
            if t.end == "." and not _is_letter(t):
                break
            continue
        if t.core in _ID_GLUE and k > j and k + 1 < len(toks) and (
                _digits_of(toks[k + 1].core) or _is_letter(toks[k + 1]) or _ALNUM.fullmatch(toks[k + 1].core)
                or _numeric_parts(toks, k + 1)):
            k += 1
            continue
        break
    return k


def _caps_code(t: _Tok) -> bool:
    """A short upper-case letter group inside an identifier ("INV", "HX")."""
    raw = t.raw.strip(_PUNCT_EDGE)
    return 2 <= len(raw) <= 4 and raw.isalpha() and raw.isupper() and raw.lower() not in ("i", "ok")


def _id_chars(toks: Sequence[_Tok], a: int, b: int) -> tuple[int, int]:
    """(digit count, letter count) of an identifier."""
    digits = letters = 0
    for k in range(a, b):
        c = toks[k].core
        if _numword_parts(c):
            digits += len("".join(g.text for g in _parse_groups(_numword_parts(c) or [])))
        elif c not in _ID_GLUE:
            digits += sum(ch.isdigit() for ch in c)
            letters += sum(ch.isalpha() for ch in c)
    return digits, letters


def _detect_email(ctx: _Ctx) -> None:
    toks = ctx.toks
    for i, t in enumerate(toks):
        if "@" in t.core and not ctx.taken[i]:
            a, b = i, i + 1
            if t.core.endswith("@") and b < len(toks):
                b = _domain_end(toks, b) or b + 1
            if t.core.startswith("@") and a > 0:
                a -= 1
            ctx.add(a, b, "email")
    for i, t in enumerate(toks):
        if t.core not in ("at", "@") or ctx.taken[i] or i == 0:
            continue
        end = _domain_end(toks, i + 1)
        if end is None:
            continue
        a = _local_start(ctx, i)
        if a < i:
            ctx.add(a, end, "email")


def _domain_end(toks: Sequence[_Tok], j: int) -> int | None:
    """End of a spoken domain starting at ``j`` ("example dot co dot uk", "gmail.com"), else None."""
    labels: list[str] = []
    k = j
    while k < len(toks):
        c = toks[k].core
        if labels and c in ("dot", "period", "."):
            if k + 1 < len(toks) and re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*", toks[k + 1].core):
                labels += toks[k + 1].core.split(".")
                k += 2
                if toks[k - 1].end == ".":
                    break
                continue
            break
        if not labels and re.fullmatch(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*", c):
            labels += c.split(".")
            k += 1
            if toks[k - 1].end == "." and "." not in c:
                break
            continue
        break
    if not labels:
        return None
    if (len(labels) >= 2 and labels[-1] in _TLDS) or (labels[0] in _PROVIDERS and (len(labels) >= 2 or labels[0] not in _WORD_PROVIDERS)):
        return k
    return None


_LOCAL_STOP = {"is", "it's", "its", "email", "e-mail", "mail", "address", "me", "my", "at", "on", "to",
               "use", "try", "send", "that", "and", "or", "was", "be", "the", "it", "under", "yes",
               "yeah", "so", "um", "uh", "er", "sure", "okay", "ok", "is:", "that's", "thats", "like"}


def _local_start(ctx: _Ctx, at: int) -> int:
    """Start of a spoken e-mail local part that ends before token ``at``."""
    toks, k, plain = ctx.toks, at, 0
    while k > 0 and at - k < 8:
        t = toks[k - 1]
        if ctx.taken[k - 1] or t.core in _LOCAL_STOP or not t.core or (t.end and k < at):
            break
        if t.core in _EMAIL_JOIN:
            k -= 1
            continue
        joined = k < at and toks[k].core in _EMAIL_JOIN
        short = len(t.core) == 1 or bool(_digits_of(t.core)) or bool(_numword_parts(t.core))
        if not (k == at or joined or short or "." in t.core or "_" in t.core):
            if plain >= 1:
                break
            plain += 1
        k -= 1
    while k < at and toks[k].core in _EMAIL_JOIN:
        k += 1
    return k


_DATE_GLUE = {"on", "in", "the", "is", "was", "it's", "its", ":", "my", "of", "it", "that's", "uh", "um",
              "er", "yeah", "yes", "sure", "so", "its:", "i", "born", "date", "birth", "erm"}


def _date_end(ctx: _Ctx, j: int) -> tuple[int, bool]:
    """End of a date expression at ``j`` and whether it holds a month, year or full date."""
    toks, k, solid = ctx.toks, j, False
    digits = ordinals = 0
    while k < len(toks) and not ctx.taken[k]:
        c = toks[k].core
        parts = c.split("-")
        if _DATE.fullmatch(c) or c in _MONTHS or (c.isdigit() and len(c) == 4):
            solid = True
        elif re.fullmatch(r"\d{1,2}(?:st|nd|rd|th)", c) or all(p in _ORDINALS or p in _TENS for p in parts):
            ordinals += 1
        elif _numeric_parts(toks, k) or c.isdigit():
            digits += len("".join(g.text for g in _parse_groups(_numeric_parts(toks, k) or [c])))
        elif c in ("of", "the", "and") and k > j:
            pass
        else:
            break
        k += 1
        if toks[k - 1].end == ".":
            break
    while k > j and toks[k - 1].core in ("of", "the", "and"):
        k -= 1
    return k, solid or digits >= 4 or (ordinals >= 1 and digits >= 1) or ordinals >= 2


def _detect_dob(ctx: _Ctx) -> None:
    cores = [t.core for t in ctx.toks]
    starts = [e for _, e in _cue_ends(cores, "dob")]
    if _nearest_cue(ctx.prev[-12:], ["dob"]) == "dob":
        starts.append(0)
    for e in starts:
        j = ctx.skip(e, _DATE_GLUE)
        end, ok = _date_end(ctx, j)
        if ok and j - e <= 6:
            if j > e and ctx.toks[j - 1].core == "the":
                j -= 1
            ctx.add(j, end, "dob")


def _detect_ids(ctx: _Ctx) -> None:
    """Identifiers after account/reference/order cues, postcodes after a postcode cue."""
    cores = [t.core for t in ctx.toks]
    for fam, kind in (("account", "account"), ("postcode", "address")):
        starts = [(a, e, " ".join(cores[a:e])) for a, e in _cue_ends(cores, fam)]
        if _nearest_cue(ctx.prev[-12:]) == fam:
            starts.append((0, 0, "reply"))
        for a, e, cue in starts:
            j = ctx.skip(e, _GLUE) if cue != "order" else ctx.skip(e, {"number", "no", "#", "is", "it's"})
            if j - e > 7:
                continue
            end = _id_run(ctx, j)
            if end <= j:
                continue
            d, l = _id_chars(ctx.toks, j, end)
            short = cue in ("order", "account", "ticket", "invoice", "tracking", "reference", "ref", "reply")
            if kind == "address":
                ok = d + l >= 3
            elif cue in ("password", "passcode", "username", "user name", "login", "security word",
                         "security answer", "security password"):
                ok = True
                end = max(end, min(j + 1, len(ctx.toks)))
            else:
                ok = (d >= 1 and d + l >= (4 if short else 3)) or l >= 4 and d == 0 and end - j >= 4
            nxt = ctx.toks[end].core if end < len(ctx.toks) else ""
            if ok and not (l == 0 and nxt in _UNIT_WORDS):
                ctx.add(j, end, kind)  # type: ignore[arg-type]


def _detect_address(ctx: _Ctx) -> None:
    toks = ctx.toks
    for i, t in enumerate(toks):
        if t.core not in _STREET or ctx.taken[i] or i == 0:
            continue
        # back over 1-3 street-name words to a house number
        k, names = i, 0
        while k > 0 and names < 3:
            p = toks[k - 1]
            if ctx.taken[k - 1] or _numeric_parts(toks, k - 1) or re.fullmatch(r"\d+[a-z]?", p.core):
                break
            the = p.core == "the" and k >= 2 and bool(_numeric_parts(toks, k - 2) or re.fullmatch(r"\d+[a-z]?", toks[k - 2].core))
            if (p.core in _NOT_NAME and not the and p.core not in ("north", "south", "east", "west", "new", "old", "park")) or p.end:
                break
            k -= 1
            names += 1
        if names == 0:
            continue
        a = k
        while a > 0 and not ctx.taken[a - 1] and (_numeric_parts(toks, a - 1) or re.fullmatch(r"\d+[a-z]?", toks[a - 1].core)) and k - a < 3:
            a -= 1
        cue = _nearest_cue([c.core for c in toks[max(0, k - 6): k]], ["address"]) == "address"
        if a == k and not cue:
            continue
        # a flat or house number before: "flat three, forty two Elm Road"
        b = a
        while b > 0 and not ctx.taken[b - 1] and b > a - 4 and (
                _numeric_parts(toks, b - 1) or toks[b - 1].core in _DWELLING or re.fullmatch(r"\d+[a-z]?", toks[b - 1].core)):
            b -= 1
        a = b if b < a and toks[b].core in _DWELLING else a
        end = _address_tail(ctx, i + 1)
        ctx.add(a, end, "address")
    # "my address is 5 Mill Lane" without a known street word: up to the clause end
    cores = [t.core for t in toks]
    for _, e in _cue_ends(cores, "address"):
        j = ctx.skip(e, {"is", "it's", "its", "the", "at", "on", "um", "uh"})
        if j < len(toks) and not ctx.taken[j] and (_numeric_parts(toks, j) or re.fullmatch(r"\d+[a-z]?", toks[j].core)
                                                   or toks[j].core in _DWELLING):
            k = j
            while k < len(toks) and k - j < 8 and not ctx.taken[k]:
                k += 1
                if toks[k - 1].end == ".":
                    break
            ctx.add(j, k, "address")


def _address_tail(ctx: _Ctx, j: int) -> int:
    """Extend an address over ", flat 3", a town and a postcode or zip."""
    toks, k = ctx.toks, j
    for _ in range(6):
        if k >= len(toks) or ctx.taken[k] or toks[k - 1].end == ".":
            break
        c = toks[k].core
        if c in _DWELLING - {"number", "no"} and k + 1 < len(toks) and (_numeric_parts(toks, k + 1) or _ALNUM.fullmatch(toks[k + 1].core) or _is_letter(toks[k + 1])):
            k += 2
        elif _postcode_end(toks, k, ctx.taken):
            k = _postcode_end(toks, k, ctx.taken) or k
        elif toks[k].cap and c.isalpha() and c not in _NOT_NAME and toks[k - 1].end == ",":
            k += 1
        elif re.fullmatch(r"\d{5}(?:-\d{4})?", c):
            k += 1
        else:
            break
    return k


def _postcode_end(toks: Sequence[_Tok], j: int, taken: Sequence[bool]) -> int | None:
    """End of a UK postcode spoken or written from ``j`` ("SW1A 1AA", "s w one a, one a a")."""
    text = ""
    best = None
    for k in range(j, min(len(toks), j + 8)):
        if taken[k]:
            break
        c = toks[k].core
        if _numword_parts(c):
            c = "".join(g.text for g in _parse_groups(_numword_parts(c) or []))
        if not re.fullmatch(r"[a-z0-9]{1,4}", c):
            break
        text += c
        if _POSTCODE.fullmatch(text):
            best = k + 1
        if len(text) > 7:
            break
    return best


def _detect_postcodes(ctx: _Ctx) -> None:
    for i, t in enumerate(ctx.toks):
        if ctx.taken[i] or not re.fullmatch(r"[a-z]{1,2}\d[a-z\d]?", t.core):
            continue
        end = _postcode_end(ctx.toks, i, ctx.taken)
        if end:
            ctx.add(i, end, "address")


def _classify(run: _Run, ctx: _Ctx) -> Kind | None:
    d, n = run.digits, len(run.digits)
    window = ctx.window(run.start)
    fam = _nearest_cue(window)
    nxt = ctx.toks[run.end].core if run.end < len(ctx.toks) else ""
    prv = ctx.toks[run.start - 1].core if run.start > 0 else ""
    nxt2 = ctx.toks[run.end + 1].core if run.end + 1 < len(ctx.toks) else ""
    money = prv in ("$", "£", "€") or nxt in _UNIT_WORDS or (nxt in ("a", "per", "each", "an") and nxt2 in _UNIT_WORDS)
    if run.plus and n >= 7:
        return "phone"
    if fam == "card" and n >= 12:
        return "card"
    after = [t.core for t in ctx.toks[run.end:run.end + 5]]
    card_near = any(w in ("card", "visa", "mastercard", "debit", "credit", "amex") for w in window + ctx.prev[-12:] + after)
    tail = fam == "card_tail" or (fam == "card" and _nearest_cue(window, ["card_tail"]) is not None)
    if tail and 3 <= n <= 4 and card_near:
        return "card"
    if fam == "card_exp" and 3 <= n <= 6:
        return "card"
    if 13 <= n <= 19 and luhn_ok(d) and fam != "phone":
        return "card"
    if fam == "account" and n >= 3 and not money:
        return "account"
    if fam == "postcode" and n >= 3:
        return "address"
    if fam == "phone" and n >= 6:
        return "phone"
    if fam == "dob" and n >= 4 and not money:
        return "dob"
    if (n in (10, 11) and d[0] == "0") or (n == 11 and d[0] == "1") or (n == 12 and d[:2] in ("44", "61", "33", "49")):
        return "phone"
    if n == 10 and not money:
        return "phone"
    if n >= 14:
        return "card"
    if money or run.time_like:
        return None
    if n >= 4 and (run.by_digit or not (run.year_like or run.quantity_like or run.pair_read)):
        return "number"
    return None


def _detect_numbers(ctx: _Ctx) -> None:
    for run in _number_runs(ctx.toks, ctx.taken):
        kind = _classify(run, ctx)
        if kind:
            a, b = run.start, run.end
            if kind in ("number", "account"):  # "S N 4 4 9 2": letters read with the digits
                while a > 0 and run.start - a < 3 and not ctx.taken[a - 1] and _is_letter(ctx.toks[a - 1]) and ctx.toks[a - 1].raw.strip(_PUNCT_EDGE).isupper():
                    a -= 1
                while b < len(ctx.toks) and b - run.end < 3 and not ctx.taken[b] and _is_letter(ctx.toks[b]) and ctx.toks[b].raw.strip(_PUNCT_EDGE).isupper():
                    b += 1
            ctx.add(a, b, kind)

# --------------------------------------------------------------------------- public API


def _words_of(turn: Turn) -> list[str]:
    return [w.text for w in turn.words] if turn.words else turn.text.split()


def _contexts(turns: Sequence[Turn]) -> list[_Ctx]:
    out = []
    for i, turn in enumerate(turns):
        prev: list[str] = []
        for k in range(i - 1, max(-1, i - 3), -1):
            if turns[k].speaker != turn.speaker or k == i - 1 and not prev:
                prev = [_tok(w).core for w in _words_of(turns[k])]
                if turns[k].speaker != turn.speaker:
                    break
        toks = [_tok(w) for w in _words_of(turn)]
        out.append(_Ctx(toks, turn.role, prev, [False] * len(toks), []))
    return out


def detect(turns: Sequence[Turn]) -> dict[int, list[Span]]:
    """Personal data in ``turns``: turn index -> spans over that turn's words, in word order.

    Context crosses turns: an agent's question ("can I take your postcode?")
    types the answer, and a name the customer gives is found again wherever
    it is said later (by either side). Turns without words are read from
    their text, split on whitespace.
    """
    ctxs = _contexts(turns)
    agent_names: set[str] = set()
    for ctx in ctxs:
        for step in (_detect_email, _detect_dob, _detect_ids, _detect_address, _detect_postcodes,
                     _detect_numbers):
            step(ctx)
        _detect_names(ctx, agent_names)
    keys: set[str] = set()
    for ctx in ctxs:
        if ctx.role != "agent":
            keys |= _name_keys(ctx)
        else:  # a name the agent used with a title ("Mr Hadley") is the customer's
            keys |= {k for k in _name_keys(ctx) if k not in agent_names}
    keys -= agent_names
    for ctx in ctxs:
        _detect_mentions(ctx, keys, agent_names)
    return {i: sorted(c.spans, key=lambda s: s.start_word) for i, c in enumerate(ctxs) if c.spans}
