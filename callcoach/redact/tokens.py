"""Words as tokens, spoken numbers, cue phrases and the per-turn context that the detectors share."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

from callcoach.errors import CallcoachError

Kind = Literal["card", "phone", "email", "account", "address", "dob", "name", "number"]
KINDS: tuple[Kind, ...] = ("card", "phone", "email", "account", "address", "dob", "name", "number")

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
