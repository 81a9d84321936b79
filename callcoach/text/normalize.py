"""Normalising transcript text for the cue patterns: lowercase, contractions expanded, fillers removed,
number words as digits, ASR variants folded, clause breaks kept."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# --------------------------------------------------------------------------- normalising

_CONTRACTIONS: dict[str, str] = {
    # full forms for the common contractions, plus their apostrophe-less ASR spellings
    "i'm": "i am", "im": "i am", "i'll": "i will", "i'd": "i would", "i've": "i have",
    "ive": "i have", "you're": "you are", "youre": "you are", "you'll": "you will",
    "youll": "you will", "you've": "you have", "youve": "you have", "you'd": "you would",
    "we're": "we are", "we'll": "we will", "we've": "we have", "we'd": "we would",
    "they're": "they are", "they'll": "they will", "they've": "they have",
    "it's": "it is", "that's": "that is", "thats": "that is", "there's": "there is",
    "theres": "there is", "here's": "here is", "heres": "here is", "what's": "what is",
    "whats": "what is", "let's": "let us", "lets": "let us", "he's": "he is",
    "she's": "she is", "who's": "who is", "how's": "how is", "where's": "where is",
    "can't": "can not", "cant": "can not", "cannot": "can not", "won't": "will not",
    "wont": "will not", "shan't": "shall not", "ain't": "is not", "don't": "do not",
    "dont": "do not", "doesn't": "does not", "doesnt": "does not", "didn't": "did not",
    "didnt": "did not", "isn't": "is not", "isnt": "is not", "aren't": "are not",
    "arent": "are not", "wasn't": "was not", "wasnt": "was not", "weren't": "were not",
    "haven't": "have not", "havent": "have not", "hasn't": "has not", "hasnt": "has not",
    "hadn't": "had not", "couldn't": "could not", "couldnt": "could not",
    "wouldn't": "would not", "wouldnt": "would not", "shouldn't": "should not",
    "shouldnt": "should not", "gonna": "going to", "wanna": "want to", "gotta": "got to",
    "y'all": "you all", "ya": "you",
}
_SPELLING: dict[str, str] = {
    # British/US and ASR variants folded onto one spelling
    "apologise": "apologize", "apologised": "apologized", "apologising": "apologizing",
    "apologies": "apology", "apologys": "apology", "appologize": "apologize",
    "apologice": "apologize", "sory": "sorry", "sorrry": "sorry", "soz": "sorry",
    "realise": "realize", "realised": "realized", "recognise": "recognize",
    "prioritise": "prioritize", "organise": "organize", "cancelled": "canceled",
    "supervisor's": "supervisor", "manager's": "manager", "ok": "okay", "k": "okay",
    "understandd": "understand", "undestand": "understand", "frustrating": "frustrating",
    "frustated": "frustrated", "frustating": "frustrating", "mam": "maam", "ma'am": "maam",
    "mr.": "mr", "mrs.": "mrs", "ms.": "ms", "dr.": "dr", "refundd": "refund",
    "email": "email", "e-mail": "email", "tommorow": "tomorrow", "tomorow": "tomorrow",
}
_NUMBERS: dict[str, str] = {
    w: str(i) for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split())
}
_NUMBERS.update({"thirty": "30", "forty": "40", "fifty": "50", "hundred": "100",
                 "a couple": "2"})
_FILLERS = {"um", "umm", "uh", "uhh", "uhm", "erm", "er", "ah", "hmm", "mm", "mmm", "eh"}
_FILLER_BIGRAMS = {("you", "know"), ("i", "mean")}
# "like" is a filler unless it follows a word that makes it a verb or a comparison
_LIKE_KEEPERS = {"would", "i", "you", "we", "they", "feel", "feels", "felt", "look", "looks",
                 "sound", "sounds", "seem", "seems", "just", "not", "do", "did", "d", "more",
                 "something", "anything", "nothing", "she", "he", "really"}
_PUNCT = re.compile(r"[^\w'\s#-]+")
_BREAK = re.compile(r"[.,;:!?\u2014\u2013]+\s*$|^-+$")
NEGATORS = frozenset({"not", "never", "no", "nothing", "nobody", "neither", "nor", "hardly"})


@dataclass(frozen=True)
class Normalized:
    """Normalised tokens of an utterance.

    ``source[i]`` is the index of the input word that produced token ``i``;
    ``breaks`` holds the token indices that start a new clause (after . , ; ! ?).
    """

    tokens: tuple[str, ...]
    source: tuple[int, ...]
    breaks: frozenset[int]

    @property
    def text(self) -> str:
        return " ".join(self.tokens)

    def clause_start(self, index: int) -> int:
        """First token of the clause that holds token ``index``."""
        starts = [b for b in self.breaks if b <= index]
        return max(starts) if starts else 0


def _word_tokens(word: str) -> list[str]:
    w = word.lower().replace("\u2019", "'").replace("\u2018", "'").strip()
    w = _PUNCT.sub(" ", w).strip(" -'")
    out: list[str] = []
    for part in w.split():
        part = part.strip("'-")
        if not part:
            continue
        part = _SPELLING.get(part, part)
        if part in _CONTRACTIONS:
            out.extend(_CONTRACTIONS[part].split())
        elif part.endswith("n't"):
            out.extend([part[:-3], "not"])
        elif part.endswith(("'ll", "'re", "'ve")):
            out.extend([part[:-3], {"'ll": "will", "'re": "are", "'ve": "have"}[part[-3:]]])
        elif part.endswith("'d"):
            out.extend([part[:-2], "would"])
        elif part.endswith("'s"):
            out.append(part[:-2])
        elif part in _NUMBERS:
            out.append(_NUMBERS[part])
        else:
            out.extend(p for p in part.split("-") if p)
    return out


def normalize_words(words: Sequence[str]) -> Normalized:
    """Normalise a sequence of ASR words, keeping which word each token came from."""
    tokens: list[str] = []
    source: list[int] = []
    breaks: set[int] = set()
    for wi, word in enumerate(words):
        for tok in _word_tokens(word):
            tokens.append(tok)
            source.append(wi)
        if _BREAK.search(word.strip()) and tokens:
            breaks.add(len(tokens))
    keep = [True] * len(tokens)
    for i, tok in enumerate(tokens):
        if tok in _FILLERS:
            keep[i] = False
        elif tok == "like" and (i == 0 or tokens[i - 1] not in _LIKE_KEEPERS) and tuple(
                tokens[i + 1 : i + 3]) not in {("i", "said"), ("i", "told"), ("i", "mentioned")}:
            keep[i] = False
        elif i + 1 < len(tokens) and (tok, tokens[i + 1]) in _FILLER_BIGRAMS and (
            i == 0 or tokens[i - 1] not in {"let", "do", "did", "if", "as", "tell", "will"}) and (
            i + 2 == len(tokens) or tokens[i + 2] not in {"what", "that", "how", "why", "if"}
        ):
            keep[i] = keep[i + 1] = False
    new_index: dict[int, int] = {}
    out_t: list[str] = []
    out_s: list[int] = []
    for i, (tok, src) in enumerate(zip(tokens, source)):
        new_index[i] = len(out_t)
        if keep[i]:
            out_t.append(tok)
            out_s.append(src)
    new_index[len(tokens)] = len(out_t)
    out_breaks = frozenset(new_index[b] for b in breaks if 0 < new_index[b] < len(out_t))
    return Normalized(tuple(out_t), tuple(out_s), out_breaks)


def normalize(text: str) -> Normalized:
    """Normalise free text (split on whitespace, then :func:`normalize_words`)."""
    return normalize_words(text.split())
