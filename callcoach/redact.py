"""Personal data in transcripts: find it, replace it, and hide it in the audio.

Detection works on the words as faster-whisper writes them: digits or number
words or both ("4111 1111", "four one one one", "41 11 five", "double five",
"oh" for zero), e-mail addresses spelled out ("john dot smith at example dot
com"), names with their spelling ("Hadley, H-A-D-L-E-Y"). A personal item
often spans several ASR words, each with its own times, so a :class:`Span`
is a range of word indices within one turn.

Kinds and placeholders: ``card`` ``[CARD]``, ``phone`` ``[PHONE]``, ``email``
``[EMAIL]``, ``account`` ``[ACCOUNT]`` (account, reference, order, policy
numbers and other identifiers after a cue), ``address`` ``[ADDRESS]``,
``dob`` ``[DOB]``, ``name`` ``[NAME]`` (the customer's name when they give
it, and every mention of it in the call) and ``number`` ``[NUMBER]`` (any
other string of 4+ digits that is not a year, time, price or quantity).

Not redacted, on purpose: prices, times, durations, quantities, short
numbers ("option 2"), years in general talk, and the agent's own name (the
agent's name is not the customer's personal data).

Entry points: :func:`detect`, :func:`redact_turns`, :func:`redact_result`,
:func:`redact_audio` and :func:`write_wav`. All are pure functions except
:func:`write_wav`.
"""

from __future__ import annotations

import io
import re
import wave
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Iterable, Literal, Mapping, Sequence

import numpy as np

from .attribute import join_words
from .errors import CallcoachError
from .files import write_atomic
from .records import CallResult, Evidence, Turn, Word

Kind = Literal["card", "phone", "email", "account", "address", "dob", "name", "number"]
KINDS: tuple[Kind, ...] = ("card", "phone", "email", "account", "address", "dob", "name", "number")
RedactMode = Literal["off", "text", "text+audio"]
REDACT_MODES: tuple[RedactMode, ...] = ("off", "text", "text+audio")
AudioMode = Literal["tone", "silence"]

TONE_HZ = 1000.0
TONE_DBFS = -20.0  # AES17: a full-scale sine is 0 dBFS, so peak amplitude 0.1
PAD_S = 0.1


class RedactionError(CallcoachError, ValueError):
    """A bad argument to a redaction function (names the value and what is allowed)."""


@dataclass(frozen=True)
class Span:
    """Words ``[start_word, end_word)`` of one turn that carry personal data of ``kind``."""

    start_word: int
    end_word: int
    kind: Kind

    @property
    def placeholder(self) -> str:
        return f"[{self.kind.upper()}]"


@dataclass(frozen=True)
class RedactedSpan:
    """Where a redacted item was said, in seconds from the start of the recording."""

    start_s: float
    end_s: float
    kind: Kind


# --------------------------------------------------------------------------- vocabulary

_UNITS = {"zero": 0, "oh": 0, "o": 0, "nought": 0, "nil": 0, "one": 1, "two": 2, "three": 3,
          "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9}
_TEENS = {w: 10 + i for i, w in enumerate(
    "ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen nineteen".split())}
_TENS = {w: 20 + 10 * i for i, w in enumerate(
    "twenty thirty forty fifty sixty seventy eighty ninety".split())}
_SCALES = {"hundred": 100, "thousand": 1000}
_REPEAT = {"double": 2, "triple": 3, "treble": 3}
_NUMWORDS = set(_UNITS) | set(_TEENS) | set(_TENS) | set(_SCALES)
_ORDINALS = {w: i + 1 for i, w in enumerate(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "thirteenth fourteenth fifteenth sixteenth seventeenth eighteenth nineteenth twentieth".split())}
_ORDINALS.update({"thirtieth": 30})
_MONTHS = set("january february march april may june july august september october november "
              "december jan feb mar apr jun jul aug sep sept oct nov dec".split())
_FILLERS = {"um", "umm", "uh", "uhh", "er", "erm", "ah", "eh", "hmm", "mm"}
_CONNECT = {"dash", "hyphen", "slash", "-", "/"}
_EMAIL_JOIN = {"dot": ".", "period": ".", "underscore": "_", "dash": "-", "hyphen": "-"}
_TLDS = set("com co uk org net io ie de fr es it nl eu edu gov info biz us ca au nz me tv ac "
            "uk.com in za ch be at se no dk fi pl pt".split())
_PROVIDERS = set("gmail googlemail hotmail yahoo outlook icloud aol live btinternet sky "
                 "protonmail proton msn me mac virginmedia talktalk ntlworld mail gmx zoho".split())
# providers that are also everyday words ("don't shout at me", "watch it live"): on their own
# they are no domain; "at sky dot com" still is
_WORD_PROVIDERS = {"me", "live", "sky", "mac", "mail", "proton"}
_UNIT_WORDS = set(
    "pounds pound quid pence p dollars dollar bucks cents cent euros euro percent per % "
    "seconds second secs minutes minute mins hours hour hrs days day weeks week months month "
    "years year times o'clock oclock am pm a.m. p.m. ish items item boxes box units unit pieces "
    "packs pack bottles orders parcels packages calls emails texts miles mile km kilometres "
    "kilometers metres meters feet foot inches kilos kg grams g pounds gb mb tb gigs megs "
    "people customers staff points stars rings attempts tries loads lots kids children "
    "sessions lines devices phones accounts bills letters".split())
_STREET = set(
    "street st road rd avenue ave lane ln drive close way court ct crescent cres place pl "
    "terrace grove gardens gdns boulevard blvd square sq hill row mews walk parade rise park "
    "green view highway hwy circle parkway pkwy trail vale wharf quay path gate gardens "
    "heights meadow meadows croft fields end approach broadway".split())
_DWELLING = {"flat", "apartment", "apt", "unit", "suite", "floor", "house", "number", "no"}
_TITLES = {"mr", "mrs", "ms", "miss", "mx", "dr", "doctor", "mister", "missus", "sir", "dame"}
# words that follow "this is", "it's", "I'm" and are not names (lowercase)
_NOT_NAME = frozenset("""
a an the just calling ringing phoning trying not so very really sorry fine good great okay ok
well here there about from with on in at for to afraid sure glad happy looking wondering still
having getting going gonna done ready waiting frustrated upset angry annoyed fed tired sick my
your his her their our it that this what me you we they he she been being is was actually
basically literally also only back again now today yesterday tomorrow ridiculous unacceptable
correct right wrong true yes yeah yep no nope hello hi hey regarding concerning because but
and or if as all everything nothing something anything customer account order number card
phone email address name names surname calling speaking please thanks thank hold holding
returning following regarding after before over under up down out off new old same other
another one two three four five six seven eight nine ten first second third last next
monday tuesday wednesday thursday friday saturday sunday january february march april june
july august september october november december christmas easter visa mastercard amex paypal
bank support team service services billing manager supervisor agent department company
online website app internet broadband mobile landline north south east west street road
lane avenue drive close way city town yes sir madam maam mate love dear guys folks
who whom whose which where when why how there's it's its i'm im i'd i'll i've you're we're
they're that's what's let's can't don't won't isn't wasn't aren't doesn't didn't
possible impossible late early urgent important serious weird strange odd fair terrible
awful horrible rubbish unbelievable outrageous disgusting shocking absurd crazy insane
interested worried concerned confused lost stuck cross furious livid disappointed pleased
delighted available busy free home work away abroad outside inside driving travelling
mum dad wife husband son daughter partner mother father brother sister friend neighbour
regards re ref reference about account holder holder owner the-account here's whats
trying hoping phoning enquiring inquiring ringing asking complaining writing chasing
also again anyway though although however instead such quite rather pretty kind sort
gonna wanna gotta fine alright all-right aight cool nice lovely brilliant perfect
""".split())
# first names that are also ordinary words: only matched when capitalised, not first in a turn
_WORDLIKE_NAMES = frozenset("will may mark bill grant frank hope joy rose dawn june april sue "
                            "art pat rob bob jack ray guy sky amber ruby summer faith grace "
                            "penny sandy rich chase drew lane".split())

_PUNCT_EDGE = "\"'()[]{}<>.,;:!?\u2018\u2019\u201c\u201d*_`"


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True)
class _Tok:
    raw: str
    core: str  # lowercase, edge punctuation stripped
    cap: bool  # starts with an upper-case letter
    end: str  # "" | "," | "." (sentence end: . ? !)


def _tok(raw: str) -> _Tok:
    text = raw.strip().replace("\u2019", "'").replace("\u2018", "'")
    core = text.lower().strip(_PUNCT_EDGE).removeprefix("#")
    if core.endswith("'s") and not core[:-2].isdigit() and core not in ("it's", "that's", "what's", "here's", "there's", "let's", "name's"):
        core = core[:-2]
    tail = text.rstrip()
    end = "." if tail.endswith((".", "?", "!")) and not re.search(r"\d\.\d*$|^[a-z]\.$", tail.lower()) else (
        "," if tail.endswith((",", ";", ":")) else "")
    first = text.lstrip(_PUNCT_EDGE)
    return _Tok(raw, core, bool(first) and first[0].isupper(), end)


_DIGITS = re.compile(r"\+?\d+(?:[-\u2013]\d+)*")
_DATE = re.compile(r"\d{1,2}[/.\-]\d{1,2}[/.\-](?:\d{2}|\d{4})")
_ALNUM = re.compile(r"(?=[a-z0-9-]*\d)(?=[a-z0-9-]*[a-z])[a-z0-9]+(?:-[a-z0-9]+)*")
_SPELLED = re.compile(r"[a-z](?:[-.][a-z])+\.?")
_POSTCODE = re.compile(r"[a-z]{1,2}\d[a-z\d]?\d[a-z]{2}")


def _digits_of(core: str) -> str | None:
    """Digits of a digit token ("4111-1111", "+44"), else None."""
    return re.sub(r"\D", "", core) if _DIGITS.fullmatch(core) else None


def _numword_parts(core: str) -> list[str] | None:
    parts = [p for p in core.split("-") if p]
    if parts and all(p in _NUMWORDS or p in _REPEAT for p in parts):
        return parts
    return None


def _is_letter(t: _Tok) -> bool:
    """A single spelled letter ("H", "h,", "b"): lowercase 'a' and 'i' only when upper case."""
    c = t.core.rstrip(".")
    return len(c) == 1 and c.isalpha() and (c not in "ai" or t.raw.strip(_PUNCT_EDGE)[:1].isupper())


# --------------------------------------------------------------------------- numbers


@dataclass
class _Group:
    text: str
    kind: str  # lit unit teen tens compound scaled
    value: int = 0
    open: int = 0  # a following number word up to this size joins the group


def _parse_groups(parts: Sequence[str]) -> list[_Group]:
    """Spoken or written number pieces -> digit groups ("forty two" -> 42, "double five" -> 55)."""
    groups: list[_Group] = []
    repeat = 1
    for p in parts:
        last = groups[-1] if groups else None
        if p.isdigit():
            groups.append(_Group(p * repeat, "lit"))
            repeat = 1
        elif p in _REPEAT:
            repeat = _REPEAT[p]
        elif p in _UNITS:
            v = _UNITS[p]
            if repeat > 1:
                groups.append(_Group(str(v) * repeat, "unit"))
                repeat = 1
            elif last and last.open >= 10 and p not in ("oh", "o") and v > 0:
                last.value += v
                last.open = 0
                last.text = str(last.value)
                last.kind = "compound" if last.kind == "tens" else last.kind
            else:
                groups.append(_Group(str(v), "unit", v))
        elif p in _TEENS:
            if last and last.open >= 100:
                last.value += _TEENS[p]
                last.open, last.text = 0, str(last.value)
            else:
                groups.append(_Group(str(_TEENS[p]), "teen", _TEENS[p]))
        elif p in _TENS:
            if last and last.open >= 100:
                last.value += _TENS[p]
                last.open, last.text = 10, str(last.value)
            else:
                groups.append(_Group(str(_TENS[p]), "tens", _TENS[p], 10))
        elif p in _SCALES:
            scale = _SCALES[p]
            if last and last.kind in ("unit", "teen", "tens", "compound") and last.text != "0":
                last.value *= scale
                last.open, last.kind, last.text = scale, "scaled", str(last.value)
            elif last and last.kind == "scaled" and scale == 100 and last.open == 1000:
                continue  # "two thousand five hundred": rare, keep the thousands
            else:
                groups.append(_Group(str(scale), "scaled", scale, scale))
    return groups


@dataclass(frozen=True)
class _Run:
    start: int  # token range [start, end)
    end: int
    digits: str
    groups: tuple[_Group, ...]
    plus: bool

    @property
    def by_digit(self) -> bool:
        """Read digit by digit ("four one one one"), as identifiers are."""
        return len(self.groups) >= 2 and all(len(g.text) <= 3 and g.kind == "unit" or
                                             (g.kind == "lit" and len(g.text) == 1) for g in self.groups)

    @property
    def year_like(self) -> bool:
        d, g = self.digits, self.groups
        if len(d) != 4 or not 1900 <= int(d) <= 2099:
            return False
        if len(g) == 1:
            return g[0].kind in ("lit", "scaled")
        if len(g) == 2:
            return g[0].text in ("19", "20") and g[1].kind in ("compound", "tens", "teen")
        return len(g) == 3 and g[0].text in ("19", "20") and g[1].text == "0" and g[2].kind == "unit"

    @property
    def time_like(self) -> bool:
        g = self.groups
        return (len(g) == 2 and g[0].kind in ("unit", "teen") and 1 <= g[0].value <= 12
                and g[1].kind in ("compound", "tens") and 10 <= g[1].value <= 59)

    @property
    def pair_read(self) -> bool:
        """Two spoken pairs ("forty nine ninety nine", "nineteen eighty"): prices, years, times."""
        return len(self.groups) == 2 and all(g.kind in ("teen", "tens", "compound") for g in self.groups)

    @property
    def quantity_like(self) -> bool:
        return any(g.kind == "scaled" for g in self.groups) and len(self.groups) <= 2 and not self.by_digit


def _numeric_parts(toks: Sequence[_Tok], i: int) -> list[str] | None:
    """The number pieces of token ``i`` when it can be part of a number run."""
    t = toks[i]
    if _DATE.fullmatch(t.core) or re.fullmatch(r"\d+[.,]\d+", t.core):
        return None  # a date, a decimal, a 1,500
    d = _digits_of(t.core)
    if d is not None:
        return [d] if d else None
    parts = _numword_parts(t.core)
    if parts is None:
        if t.core == "a" and i + 1 < len(toks) and toks[i + 1].core in _SCALES:
            return ["one"]
        return None
    if parts[0] in _REPEAT or parts[0] in ("oh", "o"):
        # "double", "oh", "o" count only next to other digits
        nxt = _numword_parts(toks[i + 1].core) if i + 1 < len(toks) else None
        nxt_d = _digits_of(toks[i + 1].core) if i + 1 < len(toks) else None
        prv = (_numword_parts(toks[i - 1].core) or _digits_of(toks[i - 1].core)) if i > 0 else None
        if parts[0] in _REPEAT and not (nxt or nxt_d):
            return None
        if parts[0] in ("oh", "o") and not (nxt or nxt_d or prv):
            return None
    return parts


def _number_runs(toks: Sequence[_Tok], taken: Sequence[bool]) -> list[_Run]:
    runs: list[_Run] = []
    i = 0
    while i < len(toks):
        if taken[i] or _numeric_parts(toks, i) is None:
            i += 1
            continue
        start, parts, j, last_num = i, [], i, i
        plus_word = i > 0 and toks[i - 1].core == "plus" and not taken[i - 1]
        plus = plus_word or toks[i].core.startswith("+")
        while j < len(toks) and not taken[j]:
            p = _numeric_parts(toks, j)
            if p is None:
                # fillers and "and" after hundred/thousand may sit inside a number
                glue = toks[j].core in _FILLERS or (toks[j].core == "and" and parts and parts[-1] in _SCALES)
                if glue and j + 1 < len(toks) and not taken[j + 1] and _numeric_parts(toks, j + 1):
                    j += 1
                    continue
                break
            prev = toks[last_num]
            if j > start and prev.end == "." and not (len(parts[-1]) == 1 or parts[-1] in _UNITS):
                break  # a sentence ended; digit-by-digit readings keep going ("four. one. one.")
            if j > start and prev.end == "," and _year_token(prev) and _year_token(toks[j]):
                break  # "2019, 2020"
            parts += p
            last_num = j
            j += 1
        end = last_num + 1
        groups = _parse_groups(parts)
        digits = "".join(g.text for g in groups)
        if plus_word:
            start -= 1
        runs.append(_Run(start, end, digits, tuple(groups), bool(plus)))
        i = end
    return runs


def _year_token(t: _Tok) -> bool:
    return bool(re.fullmatch(r"(19|20)\d\d", t.core))


def luhn_ok(digits: str) -> bool:
    """Whether a card number passes the Luhn checksum."""
    total = 0
    for k, ch in enumerate(reversed(digits)):
        v = int(ch) * (2 if k % 2 else 1)
        total += v - 9 if v > 9 else v
    return total % 10 == 0


# --------------------------------------------------------------------------- cues

def _cue(pattern: str) -> re.Pattern[str]:
    return re.compile(rf"(?<!\S)(?:{pattern})(?!\S)")


_CUES: dict[str, re.Pattern[str]] = {
    # nearest cue before a number decides what it is; more specific families first on ties
    "card_tail": _cue(r"ending(?: in| with)?|ends (?:in|with)|last (?:four|4)(?: digits| numbers)?(?: are| is)?|final (?:four|4)"),
    "card_exp": _cue(r"expiry(?: date)?|expiration(?: date)?|expires|exp|valid (?:until|thru|through|to)|"
                     r"security (?:code|number)|cvv|cvc|cv2|(?:three|3)(?: |-)digit(?:s)?(?: code| number)?|"
                     r"(?:digits|numbers|code) on the back"),
    "card": _cue(r"card|visa|mastercard|master card|amex|american express|debit|credit|long number|"
                 r"card number|maestro|the long one"),
    "postcode": _cue(r"post ?code|postal code|zip(?: code)?|zipcode"),
    "dob": _cue(r"date of birth|d o b|dob|d\.o\.b|born(?: on| in)?|birthday(?: is)?|birth ?date|"
                r"when (?:were|was) (?:you|she|he) born"),
    "account": _cue(r"account(?: number| no| id| ref)?|reference(?: number| code| no)?|ref(?: number| no)?|"
                    r"order(?: number| no| id| ref(?:erence)?)?|policy(?: number| no)?|"
                    r"customer (?:number|id|reference)|member(?:ship)? (?:number|id)|"
                    r"booking (?:number|reference|ref|code)|ticket(?: number| id)?|case(?: number| reference| id| ref)|"
                    r"claim(?: number| reference| ref)|invoice(?: number| no)?|tracking(?: number| code| id)?|"
                    r"confirmation(?: number| code)|sort code|"
                    r"password|passcode|security (?:answer|word|password)|"
                    r"registration(?: number)?|reg(?: number)?|licen[cs]e(?: number)?|"
                    r"national insurance(?: number)?|ni number|social security(?: number)?|ssn|iban|"
                    r"routing number|subscriber (?:number|id)|user ?name|username|user id|login"),
    "phone": _cue(r"phone(?: number)?|telephone(?: number)?|mobile(?: number)?|cell(?: phone| number)?|"
                  r"landline|contact number|(?:my|your|the best|best|callback|call back|home|work|office|direct) number|"
                  r"number (?:to call|to reach|you can|i can)|(?:call|ring|reach|text|contact|get) (?:me|you|him|her|us) (?:on|at)|"
                  r"whatsapp|extension|ext|dial|on plus"),
    "email": _cue(r"e-?mail(?: address)?|mail address"),
    "address": _cue(r"address(?: is)?|i live (?:at|on|in)|live at|lives at|living at|we are at|we're at|"
                    r"moved to|deliver(?:ed)? (?:it )?to|send it to|ship(?:ped)? (?:it )?to|postal address"),
    "name": _cue(r"(?:your|the|his|her|full|first|last|sur|account holder's|account holder|the account holder's) ?name|"
                 r"who am i (?:speaking|talking) (?:to|with)|who(?:'s| is) (?:calling|speaking)|"
                 r"spell (?:that|it|your|the)|how do you spell|name please|with whom"),
}
_PRIORITY = list(_CUES)


def _nearest_cue(window: Sequence[str], families: Iterable[str] = _PRIORITY) -> str | None:
    """The cue family whose match ends nearest to the end of ``window`` (lowercase cores)."""
    text = " ".join(window)
    best: tuple[int, int, str] | None = None
    for rank, fam in enumerate(families):
        for m in _CUES[fam].finditer(text):
            key = (m.end(), -rank, fam)
            if best is None or key[:2] > best[:2]:
                best = key
    return best[2] if best else None


def _cue_ends(cores: Sequence[str], fam: str) -> list[tuple[int, int]]:
    """Token ranges of the matches of cue family ``fam`` in ``cores``."""
    text = " ".join(cores)
    starts, pos = [], 0
    for c in cores:
        starts.append(pos)
        pos += len(c) + 1
    out = []
    for m in _CUES[fam].finditer(text):
        a = next((k for k, s in enumerate(starts) if s == m.start()), None)
        if a is None:
            continue
        b = a + len(m.group(0).split())
        out.append((a, b))
    return out


# --------------------------------------------------------------------------- one turn


@dataclass
class _Ctx:
    toks: list[_Tok]
    role: str
    prev: list[str]  # lowercase cores of the end of the previous turn by another speaker
    taken: list[bool]
    spans: list[Span]

    def window(self, i: int, size: int = 8) -> list[str]:
        own = [t.core for t in self.toks[max(0, i - size): i]]
        return (self.prev[-12:] + own) if i <= 6 else own

    def add(self, a: int, b: int, kind: Kind) -> bool:
        if b <= a or any(self.taken[a:b]):
            return False
        self.spans.append(Span(a, b, kind))
        for k in range(a, b):
            self.taken[k] = True
        return True

    def skip(self, j: int, words: set[str]) -> int:
        while j < len(self.toks) and (self.toks[j].core in words or self.toks[j].core in _FILLERS
                                      or not self.toks[j].core):
            j += 1
        return j


_GLUE = {"is", "it's", "its", "it", "was", "number", "no", "id", "the", "my", "that's", "thats",
         "that", "be", "should", "reference", "code", "ref", "on", "are", "yes", "yeah", "yep",
         "sure", "ok", "okay", "so", "right", "of", "course", "um", "uh", "er", "erm", "is:", "oh",
         "well", "let", "me", "see", "just", "one", "sec", "second", "hang", "on", "got", "here",
         "have", "i've", "i", "i'm", "am", "looking", "at", "it", "a", "an", "of", "says", "said",
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
              "er", "yeah", "yes", "sure", "so", "its:", "i", "was", "born", "date", "birth", "erm"}


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


def _scrub_value(value: Any, scrub: _Scrubber) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, Mapping):
        return {k: _scrub_value(v, scrub) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_scrub_value(v, scrub) for v in value)
    return value


def redact_result(result: CallResult, mode: RedactMode = "text") -> CallResult:
    """A copy of ``result`` with personal data replaced everywhere it is quoted.

    Turns and words as :func:`redact_turns`; evidence texts, event details,
    better phrasings, tips, went-well/work-on lines and the role reasons in
    ``meta`` are redacted by the same items (and by the detector run on them).
    ``meta["redaction"]`` records the mode, the count per kind and the times
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
        replace(c, evidence=tuple(Evidence(e.start_s, e.end_s, scrub(e.text)) for e in c.evidence),
                tip=scrub(c.tip), better_phrasing=scrub(c.better_phrasing))
        for c in result.scorecard.checks
    )
    scorecard = replace(result.scorecard, checks=checks,
                        went_well=tuple(scrub(x) for x in result.scorecard.went_well),
                        work_on=tuple(scrub(x) for x in result.scorecard.work_on))
    events = tuple(replace(e, detail=scrub(e.detail)) for e in result.events)
    meta = dict(result.meta)
    if isinstance(meta.get("roles"), Mapping):
        meta["roles"] = _scrub_value(meta["roles"], scrub)
    spans.sort(key=lambda s: s.start_s)
    counts: dict[str, int] = {}
    for s in spans:
        counts[s.kind] = counts.get(s.kind, 0) + 1
    meta["redaction"] = {
        "mode": mode,
        "counts": counts,
        "spans": [{"start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3), "kind": s.kind} for s in spans],
    }
    return replace(result, turns=tuple(turns), events=events, scorecard=scorecard, meta=meta)


def redacted_spans(result: CallResult | Mapping[str, Any]) -> list[RedactedSpan]:
    """The redacted items recorded by :func:`redact_result` (a result or its JSON dict)."""
    meta = result.meta if isinstance(result, CallResult) else result.get("meta", {})
    items = (meta or {}).get("redaction", {}).get("spans", ())
    return [RedactedSpan(float(s["start_s"]), float(s["end_s"]), s["kind"]) for s in items]


# --------------------------------------------------------------------------- audio


def redact_audio(samples: np.ndarray, rate_hz: int, spans: Iterable[RedactedSpan | tuple[float, float]],
                 *, mode: AudioMode = "tone", pad_s: float = PAD_S) -> np.ndarray:
    """A copy of ``samples`` with every span (padded by ``pad_s`` each side) replaced.

    ``samples``: shape ``(channels, n)``, float32 in [-1, 1] at ``rate_hz``.
    ``mode="tone"``: a 1 kHz sine at -20 dBFS (peak 0.1; AES17: a full-scale
    sine is 0 dBFS) on every channel, phase-continuous across spans;
    ``"silence"``: zeros. Samples outside the spans are returned unchanged.

    Raises:
        RedactionError: for a bad shape, rate, mode or padding.
    """
    arr = np.asarray(samples)
    if arr.ndim != 2:
        raise RedactionError(f"samples must have shape (channels, n); got shape {arr.shape}")
    if rate_hz <= 0:
        raise RedactionError(f"rate_hz must be positive; got {rate_hz}")
    if mode not in ("tone", "silence"):
        raise RedactionError(f"audio redaction mode {mode!r} is not known; use 'tone' or 'silence'")
    if pad_s < 0:
        raise RedactionError(f"pad_s must be >= 0; got {pad_s}")
    out = arr.astype(np.float32, copy=True)
    n = out.shape[1]
    amp = np.float32(10 ** (TONE_DBFS / 20.0))
    for s in spans:
        start_s, end_s = (s.start_s, s.end_s) if isinstance(s, RedactedSpan) else (float(s[0]), float(s[1]))
        a = max(0, int(np.floor((start_s - pad_s) * rate_hz)))
        b = min(n, int(np.ceil((end_s + pad_s) * rate_hz)))
        if b <= a:
            continue
        if mode == "silence":
            out[:, a:b] = 0.0
        else:
            t = np.arange(a, b, dtype=np.float64) / rate_hz
            out[:, a:b] = (amp * np.sin(2 * np.pi * TONE_HZ * t)).astype(np.float32)
    return out


def write_wav(path: Path | str, samples: np.ndarray, rate_hz: int) -> Path:
    """Write ``samples`` (shape ``(channels, n)``, float in [-1, 1]) as 16-bit PCM WAV, atomically.

    Raises:
        RedactionError: for a bad shape or rate.
    """
    arr = np.asarray(samples)
    if arr.ndim != 2 or arr.shape[0] < 1:
        raise RedactionError(f"samples must have shape (channels, n); got shape {arr.shape}")
    if rate_hz <= 0:
        raise RedactionError(f"rate_hz must be positive; got {rate_hz}")
    path = Path(path)
    pcm = (np.clip(arr, -1.0, 1.0) * 32767.0).round().astype("<i2").T.copy()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(arr.shape[0])
        w.setsampwidth(2)
        w.setframerate(int(rate_hz))
        w.writeframes(pcm.tobytes())
    write_atomic(path, buffer.getvalue())
    return path


__all__ = [
    "KINDS",
    "REDACT_MODES",
    "AudioMode",
    "Kind",
    "RedactMode",
    "RedactedSpan",
    "RedactionError",
    "Span",
    "detect",
    "luhn_ok",
    "redact_audio",
    "redact_result",
    "redact_turns",
    "redacted_spans",
    "write_wav",
]
