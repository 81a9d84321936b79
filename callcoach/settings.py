"""Run settings: one frozen object whose fields match the CLI options."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

DiarizerName = Literal["auto", "channels", "embedded", "pyannote"]
RedactMode = Literal["text", "text+audio", "off"]


@dataclass(frozen=True)
class EventThresholds:
    """Thresholds for prosody events, all relative to the speaker's own baseline.

    The defaults follow the usual findings on vocal effort: a sustained rise
    of about 6 dB in level with a rise in F0 is heard as a raised voice;
    conversational English runs at 120-170 words per minute and listeners
    hear more than about 180-200 as rushed (COACHING.md: flag sustained >180).

    Measured through the real pipeline (tiny.en, channel and embedded
    diarizers) on the 5 demo calls and mono mixes of the 3 stereo ones (TTS:
    flite and espeak-ng; raised = +9 dB and +2.5 semitones, rapid = tempo
    1.55), per hyp turn, against the 20th-percentile baselines of that time
    (``callcoach.prosody``):

    - Loudness: median rise of calm turns about -4..+3 dB; raised turns
      +6.4..+8.8 dB (the embedded-diarizer calls are lowest: their baseline
      holds some raised speech, and overlap frames are not measured). ``raised_loudness_db`` 5 dB sits 2 dB above
      calm and 1.4 dB below the weakest raised turn; real speech varies more
      in level than TTS, hence a pitch rise is also required at 5 dB.
    - Pitch: raised turns x1.11..x1.27 of baseline, calm turns x0.95..x1.09.
      ``raised_pitch_ratio`` 1.06 (one semitone) only confirms a loudness
      rise; it is never enough alone. ``raised_loudness_only_db`` 9 dB keeps
      the vocal-effort figure for a raised voice without pitch rise (none of
      the calm turns came within 6 dB of it).
    - ``raised_strong_pitch_ratio`` 1.2 (three semitones) with
      ``raised_loudness_with_strong_pitch_db`` 3 dB: F0 climbs with vocal
      effort, and a shout at 8 kHz often gains less level than pitch (the
      corpus's violent-threat customer: +4.6/+5.0 dB at x1.27/x1.30); calm
      turns stayed under x1.09 in the demo calls.
    - ``raised_min_duration_s`` 1.0: seconds, not a syllable; a shouted
      "That's not good enough!" lasts 1.3 s (the shortest raised demo turn
      lasts 3.4 s, the shortest corpus one 1.34 s).
    - ``raised_turn_share`` 0.3 and ``raised_long_turn_min_s`` 2.0: in a long
      turn a raised stretch must last 30 % of the turn, up to 2 s. A calm
      agent's 7 s summing-up on the corpus (c19) began with 1.15 s at +6 dB and
      x1.13 pitch, the stress of a sentence's first words; every raised turn
      of the demo calls and corpus is raised for most of its length.
    - Pace (geometric mean of word, text-syllable and acoustic-nucleus rates,
      ``callcoach.prosody.pace_wpm``) of whole turns or <= 8 s pieces: on the
      demo calls calm pieces reached at most 180, rapid ones at least 187. On the 33 corpus dialogues (calm TTS turns held at <= 3.7 text
      syllables/s) calm pieces measured up to 217 and the demo mono mixes'
      rapid ones from 194, so no single figure separates them:
      ``rapid_abs_wpm`` 200 (was 185) dropped 4 of 7 corpus false alarms and
      1 of 9 mono-mix rapid turns. It catches a speaker who is rapid for most
      of the call (the rushed agent: 5 of 6 turns, baseline pace 228). Raw
      ASR word rates were not separable (calm turns up to 210 wpm, rapid ones
      from 171 wpm).
    - ``rapid_rate_ratio`` 1.35 against the speaker's median pace, floored at
      COACHING.md's ">180 sustained" (``callcoach.events.CALM_MAX_WPM``), so a
      slow speaker's normal pace is never "rapid" (a customer at 179 against
      a usual 127 was flagged with the old floor of 170).
    - ``rapid_max_limit_wpm`` 222: the ratio's limit is capped there, and the
      200 wpm line applies only to a speaker whose usual pace reaches it.
      A calm speaker's quicker sentences were the corpus's false alarms
      (pace 201-220 at 1.12-1.38x a usual 152-181: 12 pieces over the clean,
      mono-mix, G.711 and 10 dB SNR copies); the rapid turns of speakers
      with a calm usual pace measured 226 and up, except the rushed agent of
      c24 in babble noise (202 at 10 dB SNR), now missed at 20, 10 and 5 dB.
      Clean corpus rapid-speech false alarms 4 -> 0 (event F1 0.897 -> 0.921).
    - ``rapid_min_words`` 5 and ``rapid_min_duration_s`` 0.8: a rapid turn can
      be a short sentence ("Okay, have you restarted it?" took 1.0 s at tempo
      1.55); fewer words give rates that swing by 30 % with one ASR word.
    - ``interruption_min_overlap_s`` 0.5: overlap at a turn's end shorter than
      about half a second is the next speaker coming in at a possible
      completion (Jefferson's "terminal overlap"), not an interruption. On
      the mono mixes the two false interruptions overlapped 0.45 and 0.52 s,
      where word ends had stretched past the speaker's voice; the true ones
      overlap 1.0-1.3 s.
    """

    raised_loudness_db: float = 5.0
    raised_pitch_ratio: float = 1.06
    raised_loudness_only_db: float = 9.0
    raised_strong_pitch_ratio: float = 1.2
    raised_loudness_with_strong_pitch_db: float = 3.0
    raised_min_duration_s: float = 1.0
    raised_turn_share: float = 0.3
    raised_long_turn_min_s: float = 2.0
    rapid_rate_ratio: float = 1.35
    rapid_abs_wpm: float = 200.0
    rapid_max_limit_wpm: float = 222.0
    rapid_min_duration_s: float = 0.8
    rapid_min_words: int = 5
    interruption_min_overlap_s: float = 0.5
    interruption_min_words: int = 3
    backchannel_max_words: int = 2
    long_silence_s: float = 8.0
    patience_gap_s: float = 0.2


@dataclass(frozen=True)
class Settings:
    """Everything that changes a call's result. Hashed for resume (``fingerprint``)."""

    asr_model: str = "tiny.en"
    # the agent's fast turns are decoded again with this model ("off": not at all)
    rehear_model: str = "base"
    rehear_min_pace_wpm: float = 200.0
    # a party whose speech stands less than this above their line's noise (callcoach.line) is decoded
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
    thresholds: EventThresholds = field(default_factory=EventThresholds)

    def rehears(self) -> bool:
        """Whether the larger model decodes anything again: on, and other than the first pass's."""
        return self.rehear_model != "off" and self.rehear_model != self.asr_model

    def noisy_line_limit_db(self) -> float | None:
        """The SNR under which a party's line is decoded whole by the larger model; None when that is off."""
        return self.noisy_line_snr_db if self.rehears() and self.noisy_line_snr_db > 0 else None

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        for key in ("rubric", "templates", "pyannote_pipeline"):
            if data[key] is not None:
                data[key] = str(data[key])
        return data
