"""Frozen records that flow between the pipeline stages.

Every time is in seconds from the start of the recording (``*_s``), every
level in dB (``*_db``), pitch in Hz (``*_hz``) and speech rate in words per
minute (``*_wpm``). No model objects and no numpy arrays leave a stage inside
a record, except :class:`Audio`, which carries the decoded signal between the
loader and the stages that read samples.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any, Literal

import numpy as np

from callcoach.analysis.conversation import measure
from callcoach.scoring.screening import screen

SCHEMA_VERSION = "1.0"

Role = Literal["agent", "customer", "unknown"]
Status = Literal["pass", "fail", "na"]
Trajectory = Literal["calmer", "not_calmer", "not_upset"]


@dataclass(frozen=True)
class AudioInfo:
    """What the loader found in the file, before resampling."""

    source: str
    duration_s: float
    sample_rate_hz: int
    channels: int


@dataclass(frozen=True, eq=False)
class Audio:
    """A decoded call at the analysis rate.

    ``samples`` has shape ``(channels, n)`` and dtype float32 in [-1, 1] at
    ``sample_rate_hz`` (16 kHz in the pipeline). ``mono`` is the channel mean.
    """

    info: AudioInfo
    samples: np.ndarray
    sample_rate_hz: int

    @property
    def channels(self) -> int:
        return int(self.samples.shape[0])

    @property
    def duration_s(self) -> float:
        return self.samples.shape[1] / float(self.sample_rate_hz)

    def mono(self) -> np.ndarray:
        if self.samples.shape[0] == 1:
            return self.samples[0]
        return self.samples.mean(axis=0).astype(np.float32)

    def channel(self, index: int) -> np.ndarray:
        return self.samples[index]


@dataclass(frozen=True)
class SpeechSegment:
    """A stretch where one speaker is active. Overlaps between speakers are kept."""

    speaker: str
    start_s: float
    end_s: float

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s


@dataclass(frozen=True)
class Diarization:
    """Output of a diarizer.

    ``channel_of`` maps a speaker id to the audio channel that carries only
    that speaker (stereo calls), or is empty when all speakers share a
    channel.
    """

    segments: tuple[SpeechSegment, ...]
    speakers: tuple[str, ...]
    method: str
    channel_of: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Word:
    text: str
    start_s: float
    end_s: float
    probability: float
    speaker: str = ""


@dataclass(frozen=True)
class Transcript:
    """Words of one stream (a channel, or the mono mix), in time order."""

    words: tuple[Word, ...]
    language: str
    model: str


@dataclass(frozen=True)
class Turn:
    speaker: str
    role: Role
    start_s: float
    end_s: float
    text: str
    words: tuple[Word, ...]


@dataclass(frozen=True)
class Event:
    type: str
    role: Role
    speaker: str
    start_s: float
    end_s: float
    detail: str


@dataclass(frozen=True)
class ProsodyTrack:
    """A speaker's prosody over time, one value a step (NaN where silent)."""

    speaker: str
    step_s: float
    loudness_db: tuple[float | None, ...]
    pitch_hz: tuple[float | None, ...]
    rate_wpm: tuple[float | None, ...]


@dataclass(frozen=True)
class SpeakerSummary:
    id: str
    role: Role
    role_confidence: float
    talk_time_s: float
    talk_ratio: float
    rate_wpm: float | None
    loudness_db: float | None
    pitch_hz: float | None
    overlap_s: float
    channel: int | None = None


@dataclass(frozen=True)
class Evidence:
    """What decided a check. ``kind``: ``said`` (``text`` is words of ``speaker``'s turn) or ``event``
    (``text`` is an event's detail, a measurement such as "+9 dB ..."); "" when not known (older results)."""

    start_s: float
    end_s: float
    text: str
    kind: str = ""
    speaker: str = ""
    role: str = ""


@dataclass(frozen=True)
class CheckResult:
    id: str
    title: str
    category: str
    status: Status
    role: Role
    weight: float
    evidence: tuple[Evidence, ...]
    tip: str
    better_phrasing: str = ""
    critical: bool = False  # a fail of this check fails the call (scorecard.failed_critical)


@dataclass(frozen=True)
class Scorecard:
    """``score``: the weighted share of applicable checks passed (0-100), unchanged by critical checks;
    ``failed_critical``: ids of the critical checks that failed; any one fails the call."""

    score: float
    checks: tuple[CheckResult, ...]
    went_well: tuple[str, ...]
    work_on: tuple[str, ...]
    failed_critical: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReheardTurn:
    """An agent turn the larger model decoded again: where it was, its first-pass pace and word counts."""

    speaker: str
    start_s: float
    end_s: float
    pace_wpm: float
    words_before: int
    words_after: int


@dataclass(frozen=True)
class RehearMeta:
    """``meta.rehear``: the model that re-heard fast agent turns (``"off"`` when none did), its pace limit, the turns."""

    model: str
    min_pace_wpm: float
    turns: tuple[ReheardTurn, ...] = ()


@dataclass(frozen=True)
class LineSpeaker:
    """One party's line in ``meta.line``: speech and noise level (dBFS), their difference and the model that decoded them."""

    speech_db: float
    noise_db: float
    snr_db: float
    model: str


@dataclass(frozen=True)
class LineMeta:
    """``meta.line``: the SNR under which a party is decoded by the larger model (None: off), and each party's line."""

    noisy_below_snr_db: float | None
    speakers: Mapping[str, LineSpeaker] = field(default_factory=dict)


@dataclass(frozen=True)
class RolesMeta:
    """``meta.roles``: how the agent was found (``cues`` or ``user``), each speaker's confidence, and why."""

    method: str
    confidence: Mapping[str, float] = field(default_factory=dict)
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class RedactedSpan:
    """Where a redacted item was said, in seconds from the start of the recording."""

    start_s: float
    end_s: float
    kind: str


@dataclass(frozen=True)
class RedactionMeta:
    """``meta.redaction``: the mode, how many items of each kind were redacted, and where (no content)."""

    mode: str
    counts: Mapping[str, int] = field(default_factory=dict)
    spans: tuple[RedactedSpan, ...] = ()


@dataclass(frozen=True)
class CallMeta:
    """How a result was made (``meta`` in docs/SCHEMA.md).

    Every field is optional so that results of older versions read back: a
    field left None is left out of the JSON. The pipeline fills the fields
    from ``callcoach_version`` to ``timings_s``; redaction adds
    ``redaction``; a batch run adds ``metadata`` and ``fingerprint``.
    ``baselines`` is per speaker ``loudness_db``, ``pitch_hz``, ``rate_wpm``,
    ``syllables_per_s`` and ``pace_wpm``; ``thresholds`` every event
    threshold by name (units in the names); ``timings_s`` seconds per stage.
    ``extra`` keeps keys this version does not know (a newer callcoach's),
    written after the known ones.
    """

    callcoach_version: str | None = None
    diarizer: str | None = None
    asr_model: str | None = None
    rehear: RehearMeta | None = None
    line: LineMeta | None = None
    roles: RolesMeta | None = None
    baselines: Mapping[str, Mapping[str, float | None]] | None = None
    thresholds: Mapping[str, Any] | None = None
    rubric: str | None = None
    timings_s: Mapping[str, float] | None = None
    redaction: RedactionMeta | None = None
    metadata: Mapping[str, str] | None = None
    fingerprint: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON ``meta`` object: the fields that are set, in field order, then ``extra``."""
        out = {f.name: _plain(getattr(self, f.name)) for f in fields(self) if f.name != "extra" and getattr(self, f.name) is not None}
        return {**out, **_plain(self.extra)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any] | None) -> CallMeta:
        """Inverse of :meth:`to_dict`."""
        data = dict(data or {})
        known = {f.name for f in fields(cls)} - {"extra"}
        rehear = data.get("rehear")
        line = data.get("line")
        roles = data.get("roles")
        redaction = data.get("redaction")
        return cls(
            callcoach_version=data.get("callcoach_version"),
            diarizer=data.get("diarizer"),
            asr_model=data.get("asr_model"),
            rehear=None if rehear is None else RehearMeta(
                rehear["model"], rehear["min_pace_wpm"], tuple(ReheardTurn(**t) for t in rehear.get("turns", ()))
            ),
            line=None if line is None else LineMeta(
                line.get("noisy_below_snr_db"), {k: LineSpeaker(**v) for k, v in (line.get("speakers") or {}).items()}
            ),
            roles=None if roles is None else RolesMeta(
                roles["method"], dict(roles.get("confidence") or {}), tuple(roles.get("reasons") or ())
            ),
            baselines=data.get("baselines"),
            thresholds=data.get("thresholds"),
            rubric=data.get("rubric"),
            timings_s=data.get("timings_s"),
            redaction=None if redaction is None else RedactionMeta(
                redaction["mode"], dict(redaction.get("counts") or {}),
                tuple(RedactedSpan(**s) for s in redaction.get("spans", ())),
            ),
            metadata=data.get("metadata"),
            fingerprint=data.get("fingerprint"),
            extra={k: v for k, v in data.items() if k not in known},
        )


@dataclass(frozen=True)
class CallResult:
    schema_version: str
    call_id: str
    call: AudioInfo
    speakers: tuple[SpeakerSummary, ...]
    turns: tuple[Turn, ...]
    events: tuple[Event, ...]
    scorecard: Scorecard
    customer_trajectory: Trajectory
    prosody: tuple[ProsodyTrack, ...]
    meta: CallMeta = field(default_factory=CallMeta)
    speech: tuple[SpeechSegment, ...] = ()  # the diarizer's who-spoke-when, overlaps kept


def _plain(value: Any) -> Any:
    """Turn records, tuples and numpy scalars into JSON-ready values."""
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, float):
        return round(value, 3)
    return value


def result_to_dict(result: CallResult) -> dict[str, Any]:
    """The public JSON shape (see docs/SCHEMA.md)."""
    call = _plain(result.call)
    call = {"id": result.call_id, **call}
    turns = []
    for t in result.turns:
        turns.append(
            {
                "speaker": t.speaker,
                "role": t.role,
                "start_s": round(t.start_s, 3),
                "end_s": round(t.end_s, 3),
                "text": t.text,
                "words": [
                    {
                        "text": w.text,
                        "start_s": round(w.start_s, 3),
                        "end_s": round(w.end_s, 3),
                        "probability": round(w.probability, 3),
                    }
                    for w in t.words
                ],
            }
        )
    data = {
        "schema_version": result.schema_version,
        "call": call,
        "speakers": _plain(result.speakers),
        "turns": turns,
        "events": _plain(result.events),
        "scorecard": _plain(result.scorecard),
        "customer_trajectory": result.customer_trajectory,
        "prosody": _plain(result.prosody),
        "speech": [{"speaker": s.speaker, "start_s": round(s.start_s, 3), "end_s": round(s.end_s, 3)} for s in result.speech],
        "meta": result.meta.to_dict(),
    }
    # derived from the fields above, for readers of the JSON (docs/SCHEMA.md); result_from_dict ignores them
    data["screening"] = screen(data).to_dict()
    data["conversation"] = measure(data)
    return data


def result_from_dict(data: Mapping[str, Any]) -> CallResult:
    """Inverse of :func:`result_to_dict` (words lose their speaker only in name)."""
    call = dict(data["call"])
    call_id = call.pop("id")
    turns = tuple(
        Turn(
            speaker=t["speaker"],
            role=t["role"],
            start_s=t["start_s"],
            end_s=t["end_s"],
            text=t["text"],
            words=tuple(Word(speaker=t["speaker"], **w) for w in t["words"]),
        )
        for t in data["turns"]
    )
    sc = data["scorecard"]
    known = {f.name for f in fields(CheckResult)}  # a reviewer's correction fields are read by callcoach.batch.review
    scorecard = Scorecard(
        score=sc["score"],
        checks=tuple(
            CheckResult(**{**{k: v for k, v in c.items() if k in known},
                           "evidence": tuple(Evidence(**e) for e in c["evidence"])})
            for c in sc["checks"]
        ),
        went_well=tuple(sc.get("went_well", ())),
        work_on=tuple(sc.get("work_on", ())),
        failed_critical=tuple(sc.get("failed_critical", ())),
    )
    return CallResult(
        schema_version=data["schema_version"],
        call_id=call_id,
        call=AudioInfo(**call),
        speakers=tuple(SpeakerSummary(**s) for s in data["speakers"]),
        turns=turns,
        events=tuple(Event(**e) for e in data["events"]),
        scorecard=scorecard,
        customer_trajectory=data["customer_trajectory"],
        prosody=tuple(
            ProsodyTrack(
                speaker=p["speaker"],
                step_s=p["step_s"],
                loudness_db=tuple(p["loudness_db"]),
                pitch_hz=tuple(p["pitch_hz"]),
                rate_wpm=tuple(p["rate_wpm"]),
            )
            for p in data.get("prosody", ())
        ),
        meta=CallMeta.from_dict(data.get("meta")),
        speech=tuple(SpeechSegment(**seg) for seg in data.get("speech", ())),
    )


__all__ = [
    "SCHEMA_VERSION",
    "Audio",
    "AudioInfo",
    "CallMeta",
    "CallResult",
    "CheckResult",
    "Diarization",
    "Event",
    "Evidence",
    "LineMeta",
    "LineSpeaker",
    "ProsodyTrack",
    "RedactedSpan",
    "RedactionMeta",
    "ReheardTurn",
    "RehearMeta",
    "RolesMeta",
    "Role",
    "Scorecard",
    "SpeakerSummary",
    "SpeechSegment",
    "Status",
    "Trajectory",
    "Transcript",
    "Turn",
    "Word",
    "asdict",
    "result_from_dict",
    "result_to_dict",
]
