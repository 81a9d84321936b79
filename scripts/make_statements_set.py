"""Write tests/data/statements.yaml: a labelled set for required/forbidden statement matching.

Each item is an agent utterance and a statement, labelled ``said`` (true/false).
Positives are the statement with ASR-like corruption (homophones, misspelt
near-sounds, dropped and inserted words, digits for number words) at up to two
misrecognised words in ten, inside ordinary talk; a negator ("not") is never
the misrecognised word, since losing it makes another statement. Negatives are the statements
*not* said: similar but different statements written by hand (same topic,
other content), the statement cut short, its negation, and unrelated talk,
each lightly corrupted as well.

``dev`` (the threshold is tuned on it with ``scripts/eval_statements.py --tune``)
and ``heldout`` use different statements, different negatives and another
seed. Run again only to change the set; the file is committed::

    python scripts/make_statements_set.py
"""

from __future__ import annotations

import random
from pathlib import Path

import yaml

OUT = Path(__file__).resolve().parent.parent / "tests" / "data" / "statements.yaml"

HOMOPHONES = {
    "their": "there", "there": "their", "to": "too", "two": "to", "for": "four", "right": "write",
    "hear": "here", "here": "hear", "know": "no", "no": "know", "your": "you're", "by": "buy",
    "whether": "weather", "our": "are", "one": "won", "be": "bee", "see": "sea", "new": "knew",
    "through": "threw", "wait": "weight", "mail": "male", "fee": "free", "may": "made",
    "is": "as", "this": "his", "the": "a", "a": "the", "and": "in", "in": "and", "of": "have",
    "will": "we'll", "we": "will", "you": "ya", "with": "which", "any": "and", "it": "at",
}
CONTEXT_BEFORE = ["Okay, thanks for holding.", "Right.", "Alright, so", "Sure, no problem.", "Hi there,",
                  "Okay, just before we go on,", "Mm, okay.", "Thanks for that.", "", ""]
CONTEXT_AFTER = ["How can I help?", "Okay?", "So, what seems to be the problem?", "Great.", "Let's get started.",
                 "Does that sound okay?", "", ""]
UNRELATED = [
    "I can see the parcel left our warehouse on Tuesday and should be with you tomorrow.",
    "Let me just pull up your account, it'll take a second.",
    "So the engineer will come out between eight and twelve on Friday.",
    "I've added a note to the account so the next person you speak to will see it.",
    "That's been refunded now, you should see it in a few days.",
    "Can you read me the number on the back of the router?",
    "I'm sorry to hear that, that must have been really frustrating.",
    "The new handset will be sent out today by tracked delivery.",
    "I'll transfer you to the billing team, they'll be able to sort that out.",
    "Your order number is four seven two nine, do you have a pen?",
]

DEV = {
    "This call may be recorded for quality and training purposes": [
        "This call may be transferred to another department if needed",
        "Your calls are free for the first three months of the plan",
        "We use call quality surveys for training our new staff",
    ],
    "Before we continue I need to verify your identity": [
        "Before we continue I need to check your postcode is still the same",
        "We verified your identity on the last call so we can skip that",
        "Once we continue I will need your order number",
    ],
    "Can you please confirm your full name and date of birth": [
        "Can you please confirm the delivery address on the order",
        "Can you please spell your surname for me",
        "I have your full name here, thank you",
    ],
    "Is there anything else I can help you with today": [
        "Is there anything on the bill you do not recognise",
        "Is there a better number I can reach you on today",
        "There is not much else I can do with this today",
    ],
    "Your payment will be processed within three to five business days": [
        "Your parcel will be delivered within two working days",
        "Your payment failed, can you try a different card",
        "The refund could take up to ten days to appear on your statement",
    ],
    "Please note that cancelling may incur an early termination fee": [
        "Please note that the fee has already been waived on your account",
        "Cancelling is free if you do it within the trial period",
        "Please note that your contract ends in March",
    ],
    "I am required to let you know that this is an attempt to collect a debt": [
        "I am required to let you know about our new opening hours",
        "This is a courtesy call about your recent order",
        "I need to let you know that your payment has been received",
    ],
    "The interest rate on this plan is variable and may change": [
        "The interest rate on this plan is fixed for the full two years",
        "The price of this plan will not change during the contract",
        "You may change your plan at any time online",
    ],
    "You have fourteen days to cancel this agreement without penalty": [
        "You have fourteen days to return the item for a full refund",
        "You cannot cancel this agreement without paying the penalty",
        "You have until Friday to send the form back",
    ],
    "Please do not share your password with anyone including our staff": [
        "Please share your account number with me so I can find you",
        "Our staff will never ask you to reset your password by text",
        "Please do not worry, anyone can make that mistake",
    ],
}

HELDOUT = {
    "This conversation is being recorded and may be monitored": [
        "This conversation has been really helpful, thank you",
        "Your meter is being monitored remotely from now on",
        "The recording you sent us was not clear enough",
    ],
    "For security purposes can I take the first line of your address": [
        "For delivery purposes can I take a contact phone number",
        "Can I take the first payment today or next week",
        "The security team will contact you at your address",
    ],
    "Any refund will be returned to the original payment method": [
        "Any replacement will be sent to the original delivery address",
        "The refund has been returned to us by the bank",
        "Your original payment method has expired, do you have another card",
    ],
    "Calls to this number may be charged at your standard network rate": [
        "Calls to this number are free from a landline or a mobile",
        "This number may be busy at lunchtime so try the morning",
        "Your standard rate will go up in April",
    ],
    "I will now read you the terms and conditions of this offer": [
        "I will now send you the link to the offer by email",
        "The terms of this offer are on our website",
        "I will now put you on hold for a moment",
    ],
    "Our complaints procedure is available on our website": [
        "Our opening hours are available on our website",
        "Your complaint has been passed to the procedure team",
        "The website is not available at the moment",
    ],
    "You can ask for a copy of this recording at any time": [
        "You can ask for a copy of your bill at any time",
        "You can ask us to call you back at a time that suits you",
        "A copy of the contract was sent to you last week",
    ],
    "Is there anything else I can do for you this afternoon": [
        "Is there anything in particular you would like this afternoon",
        "There is nothing else I can do for you on this",
        "Is this the best number for you this afternoon",
    ],
}


def _near_sound(word: str, rng: random.Random) -> str:
    """A misspelt near-sound: a letter dropped, doubled or changed, or the word cut at the end."""
    if len(word) < 4:
        return HOMOPHONES.get(word.lower(), word + "s")
    i = rng.randrange(1, len(word) - 1)
    op = rng.choice(["drop", "double", "vowel", "cut"])
    if op == "drop":
        return word[:i] + word[i + 1:]
    if op == "double":
        return word[:i] + word[i] + word[i:]
    if op == "vowel":
        vowels = [j for j, c in enumerate(word) if c in "aeiou" and j > 0]
        if vowels:
            j = rng.choice(vowels)
            return word[:j] + rng.choice([v for v in "aeiou" if v != word[j]]) + word[j + 1:]
        return word[:i] + word[i + 1:]
    return word[:-2] if len(word) > 5 else word + "ed"


NUMBER_WORDS = {"three": "3", "five": "5", "fourteen": "14", "two": "2", "ten": "10", "one": "1"}


def corrupt(sentence: str, errors: int, rng: random.Random) -> str:
    """``sentence`` with ``errors`` misrecognised words (substitution, deletion, insertion), plus
    free formatting noise (digits for number words, lower case, no punctuation) that is not an error."""
    words = sentence.split()
    for w_i, w in enumerate(words):  # formatting, not an error: Whisper writes digits
        if w.lower() in NUMBER_WORDS and rng.random() < 0.5:
            words[w_i] = NUMBER_WORDS[w.lower()]
    # the negators stay as said: a recogniser that drops the "not" of a statement makes it another statement
    free = [i for i, w in enumerate(words) if w.lower() not in ("not", "never", "no", "nothing", "nobody")]
    positions = rng.sample(free, min(errors, len(free)))
    inserts = []
    for p in sorted(positions, reverse=True):
        op = rng.choices(["homophone", "near", "delete", "insert"], [3, 4, 2, 1])[0]
        w = words[p]
        if op == "homophone" and w.lower() in HOMOPHONES:
            words[p] = HOMOPHONES[w.lower()]
        elif op in ("homophone", "near"):
            words[p] = _near_sound(w, rng)
        elif op == "delete":
            words[p] = ""
        else:
            inserts.append(p)
    for p in inserts:
        words.insert(p, rng.choice(["the", "uh", "and", "so", "it", "I"]))
    text = " ".join(w for w in words if w)
    if rng.random() < 0.5:
        text = text.lower()
    return text


def _utterance(core: str, rng: random.Random) -> str:
    before, after = rng.choice(CONTEXT_BEFORE), rng.choice(CONTEXT_AFTER)
    return " ".join(p for p in (before, core + ("," if after else "."), after) if p).strip()


def _negation(statement: str) -> str:
    """The statement with its first auxiliary negated ("may be" -> "may not be"; "do not" -> "do"),
    or the statement itself when it has none after the first word."""
    words = statement.split()
    for i, w in enumerate(words[1:], 1):
        if w == "do" and words[i + 1:i + 2] == ["not"]:
            return " ".join(words[: i + 1] + words[i + 2:])
        if w in ("may", "will", "is", "can", "have", "need"):
            return " ".join(words[: i + 1] + ["not"] + words[i + 1:])
    return statement


def make_part(statements: dict[str, list[str]], seed: int) -> list[dict]:
    rng = random.Random(seed)
    items = []
    for statement, similar in statements.items():
        n = len(statement.split())
        max_errors = (2 * n) // 10  # up to two misrecognised words in ten
        for errors in sorted({0, 1, max_errors, max_errors, rng.randint(0, max_errors)} | {max_errors}):
            for _ in range(2 if errors == max_errors else 1):
                items.append({"statement": statement, "said": True, "errors": errors, "kind": "said",
                              "text": _utterance(corrupt(statement, errors, rng), rng)})
        negatives = [(s, "similar") for s in similar]
        words = statement.split()
        negatives.append((" ".join(words[: max(2, n // 2)]) + ", sorry, one moment", "cut_short"))
        negated = _negation(statement)
        if negated != statement:
            negatives.append((negated, "negated"))
        negatives += [(u, "unrelated") for u in rng.sample(UNRELATED, 2)]
        for text, kind in negatives:
            errors = 0 if kind == "negated" else rng.randint(0, 1)  # a garbled negator is no test of the negator
            items.append({"statement": statement, "said": False, "errors": errors, "kind": kind,
                          "text": _utterance(corrupt(text, errors, rng), rng)})
    return items


def main() -> None:
    data = {
        "about": "Labelled agent utterances for statement matching (scripts/make_statements_set.py). "
                 "said: whether the agent said the statement; errors: misrecognised words put in; "
                 "kind: said, similar, cut_short, negated, unrelated. Tune on dev, report heldout.",
        "dev": make_part(DEV, seed=28),
        "heldout": make_part(HELDOUT, seed=2028),
    }
    OUT.write_text(yaml.safe_dump(data, sort_keys=False, width=200, allow_unicode=True), encoding="utf-8")
    for part in ("dev", "heldout"):
        said = sum(1 for i in data[part] if i["said"])
        print(f"{part}: {len(data[part])} items, {said} said, {len(data[part]) - said} not said")


if __name__ == "__main__":
    main()
