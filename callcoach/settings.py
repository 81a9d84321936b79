"""Run settings: one frozen object whose fields match the CLI options."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

DiarizerName = Literal["auto", "channels", "embedded", "pyannote"]
RedactMode = Literal["text", "text+audio", "off"]
REDACT_MODES: tuple[RedactMode, ...] = get_args(RedactMode)  # the CLI's choices and redaction's check, default first
DIARIZERS: tuple[DiarizerName, ...] = get_args(DiarizerName)  # the CLI's choices


@dataclass(frozen=True)
class EventThresholds:
    """Thresholds for prosody events, all relative to the speaker's own baseline and its spread.

    Real speech rises and falls by 6-10 dB and 20-50 % in pitch on ordinary emphasis, questions and
    surprise, and short turns have extreme word rates; synthetic voices hardly vary. So every rule
    is measured against how much the speaker's own ordinary speech varies (the spreads of
    :class:`callcoach.analysis.prosody.Baseline`), over stretches long enough to mean something:

    - raised voice: a stretch's median level ``raised_loudness_db`` above the speaker's level with
      pitch ``raised_pitch_ratio`` above, or ``raised_loudness_only_db`` on level alone, or
      ``raised_loudness_with_strong_pitch_db`` with pitch ``raised_strong_pitch_ratio``; every level
      threshold moves up by ``raised_spread_k`` x the loudness spread beyond ``raised_loudness_db``
      (``raised_unknown_spread_db`` assumed with under 20 s of speech), the strong-pitch ratio by
      ``raised_spread_k`` x the pitch spread. A stretch lasts ``raised_min_duration_s`` (in a long
      turn ``raised_turn_share`` of it, up to ``raised_long_turn_min_s``), and counts only inside a
      run of the speaker's raised stretches with no calm words between that holds
      ``raised_min_words`` words and ``raised_min_speech_s`` of speech: a loud "Thank you." alone
      never is.
    - rapid speech: pace over ``rapid_min_words`` words and ``rapid_min_duration_s``, at
      ``rapid_rate_ratio`` x the speaker's usual pace (floor 180, cap ``rapid_max_limit_wpm``) and
      never under the usual pace + ``rapid_spread_k`` x their pace spread; ``rapid_abs_wpm`` for a
      speaker fast all call and steady (spread <= ``rapid_steady_share`` of their pace). The
      speaker's speech around it (``rapid_context_words`` words, ``rapid_context_s`` of speaking
      time) must run at ``rapid_context_share`` of the limit too.
    - interruption: ``interruption_min_overlap_s`` of overlap, or ``interruption_cut_overlap_s``
      when the other's sentence breaks off within ``interruption_cut_stop_s``.

    How the synthetic-call defaults were first chosen: docs/benchmarks/thresholds_history.md; these
    rules on real calls (dev and held-out splits): docs/benchmarks/real_events.md.
    """

    raised_loudness_db: float = 5.0
    raised_pitch_ratio: float = 1.06
    raised_loudness_only_db: float = 9.0
    raised_strong_pitch_ratio: float = 1.2
    raised_loudness_with_strong_pitch_db: float = 3.0
    raised_min_duration_s: float = 1.0
    raised_turn_share: float = 0.3
    raised_long_turn_min_s: float = 3.0
    raised_spread_k: float = 3.0
    raised_unknown_spread_db: float = 2.0
    raised_min_words: int = 7
    raised_min_speech_s: float = 2.0
    rapid_rate_ratio: float = 1.35
    rapid_abs_wpm: float = 200.0
    rapid_max_limit_wpm: float = 222.0
    rapid_min_duration_s: float = 0.8
    rapid_min_words: int = 5
    rapid_context_words: int = 10
    rapid_context_s: float = 4.0
    rapid_context_share: float = 0.95
    rapid_spread_k: float = 2.0
    rapid_steady_share: float = 0.15
    interruption_min_overlap_s: float = 0.5
    interruption_min_words: int = 3
    interruption_cut_overlap_s: float = 0.2
    interruption_cut_stop_s: float = 0.8
    backchannel_max_words: int = 2
    long_silence_s: float = 8.0
    patience_gap_s: float = 0.3  # the patience rule: callcoach.analysis.turn_taking.patience_violations


@dataclass(frozen=True)
class Settings:
    """Everything that changes a call's result. Hashed for resume (``fingerprint``)."""

    asr_model: str = "tiny.en"
    # the agent's fast turns are decoded again with this model ("off": not at all)
    rehear_model: str = "base"
    rehear_min_pace_wpm: float = 200.0
    # a party whose speech stands less than this above their line's noise (callcoach.speech.line) is decoded
    # whole by rehear_model: on the corpus, calls with noise added at 10 dB read under 15 dB, clean and coded ones 23.6 or more
    noisy_line_snr_db: float = 18.0
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
    redact: RedactMode = "text"
    pyannote_pipeline: Path | None = None
    # a CAM++ ONNX export for the embedded diarizer's voice prints; None: the one shipped in the package
    voiceprint_model: Path | None = None
    thresholds: EventThresholds = field(default_factory=EventThresholds)

    def rehears(self) -> bool:
        """Whether the larger model decodes anything again: on, and other than the first pass's."""
        return self.rehear_model != "off" and self.rehear_model != self.asr_model

    def noisy_line_limit_db(self) -> float | None:
        """The SNR under which a party's line is decoded whole by the larger model; None when that is off."""
        return self.noisy_line_snr_db if self.rehears() and self.noisy_line_snr_db > 0 else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("rubric", "templates", "pyannote_pipeline", "voiceprint_model"):
            if data[key] is not None:
                data[key] = str(data[key])
        return data
