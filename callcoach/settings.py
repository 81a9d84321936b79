"""Run settings: one frozen object whose fields match the CLI options."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

DiarizerName = Literal["auto", "channels", "embedded", "pyannote"]


@dataclass(frozen=True)
class EventThresholds:
    """Thresholds for prosody events, all relative to the speaker's own baseline.

    The defaults follow the usual findings on vocal effort: a sustained rise
    of about 6 dB or more in level with a rise in F0 is heard as a raised
    voice; conversational English runs at 120-170 words per minute and
    listeners hear more than about 180-200 as rushed.

    Checked against callcoach.prosody (1 s mean loudness, 35th-percentile
    baselines) on calm 50 s monologues from five TTS voices (flite slt, kal,
    rms; espeak-ng en-us, en+f3): the calm rise above baseline peaked at
    2.2-3.2 dB (99th percentile 1.4-2.6 dB), well under 6 dB, while the
    1 s pitch ratio reached 1.13-1.25 (99th percentile 1.11-1.17). Pitch
    alone is therefore never enough: 1.12 is only read together with +6 dB,
    and 9 dB covers raised voices without a pitch rise. Real speech varies
    more in level than TTS, so the loudness values were not lowered. The
    relative rate rule (1.35x) also needs the rate above the calm band
    (170 wpm, ``callcoach.events.CALM_MAX_WPM``), so a slow speaker's normal
    pace is not "rapid".
    """

    raised_loudness_db: float = 6.0
    raised_pitch_ratio: float = 1.12
    raised_loudness_only_db: float = 9.0
    raised_min_duration_s: float = 1.5
    rapid_rate_ratio: float = 1.35
    rapid_abs_wpm: float = 200.0
    rapid_min_duration_s: float = 2.5
    rapid_min_words: int = 7
    interruption_min_overlap_s: float = 0.3
    interruption_min_words: int = 3
    backchannel_max_words: int = 2
    long_silence_s: float = 8.0
    patience_gap_s: float = 0.2


@dataclass(frozen=True)
class Settings:
    """Everything that changes a call's result. Hashed for resume (``fingerprint``)."""

    asr_model: str = "tiny.en"
    diarizer: DiarizerName = "auto"
    min_speakers: int = 1
    max_speakers: int = 4
    agent_channel: Literal["left", "right"] | None = None
    agent_speaker: str | None = None
    language: str | None = "en"
    beam_size: int = 1
    cpu_threads: int = 0
    rubric: Path | None = None
    templates: Path | None = None
    embed_audio: bool = False
    pyannote_pipeline: Path | None = None
    thresholds: EventThresholds = field(default_factory=EventThresholds)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("rubric", "templates", "pyannote_pipeline"):
            if data[key] is not None:
                data[key] = str(data[key])
        return data
