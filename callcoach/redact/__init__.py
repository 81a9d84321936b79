"""Redaction: personal data in transcripts found, replaced, and hidden in the audio.

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

Redaction: finding personal data (``detect``, ``tokens``, ``names``), redacting a result (``result``)
and hiding it in the audio (``audio``).

Entry points: :func:`detect`, :func:`redact_turns`, :func:`redact_result`,
:func:`redact_audio` and :func:`write_wav`. All are pure functions except
:func:`write_wav`.
"""

from callcoach.records import RedactedSpan
from callcoach.redact.audio import AudioMode, redact_audio, write_wav
from callcoach.redact.detection import detect
from callcoach.redact.result import redact_result, redact_turns, redacted_spans
from callcoach.redact.tokens import KINDS, Kind, RedactionError, Span, luhn_ok
from callcoach.settings import REDACT_MODES, RedactMode

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
