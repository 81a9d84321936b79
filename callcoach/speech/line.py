"""How far each party's speech stands above the noise of their line.

A speech-to-noise ratio per diarized speaker decides which speech model
decodes their words: at 10 dB of street babble the small default model
loses two words in three, and the larger one hears more of them (see
BENCHMARKS.md, "noisy lines").

Speech level: the power of the speaker's own diarized speech. Noise level:
the quietest tenth of the frames in and around that speech (word gaps,
breaths), which on a noisy line is the noise that goes on under the words;
or, where lower, the quieter frames of the stretches nobody speaks in. The
first alone would call a clean line with few pauses noisy; the second alone
would count hold music as line noise. On the evaluation corpus the lowest
party of every call with noise added at 10 dB read under 15 dB, and of every
clean, coded, clipped or hold-music call 23.6 dB or more (BENCHMARKS.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from callcoach.records import Audio, Diarization, SpeechSegment
from callcoach.speech.frames import frame_db

FRAME_S = 0.02
# frames within this of a speaker's speech count as "around" it (pauses between words and turns)
AROUND_S = 0.3
NOISE_PERCENTILE_AROUND = 10
NOISE_PERCENTILE_QUIET = 20
MIN_QUIET_S = 1.0


@dataclass(frozen=True)
class LineLevel:
    """One speaker's speech and noise level (dB relative to full scale) on the signal decoded for them."""

    speaker: str
    speech_db: float
    noise_db: float

    @property
    def snr_db(self) -> float:
        return self.speech_db - self.noise_db


def line_levels(audio: Audio, diarization: Diarization) -> tuple[LineLevel, ...]:
    """Speech and noise level per speaker: of their own channel on a two-channel call, else of the mix."""
    rate = audio.sample_rate_hz
    mix_db: np.ndarray | None = None
    out = []
    for speaker in diarization.speakers:
        own = [s for s in diarization.segments if s.speaker == speaker]
        if not own:
            continue
        channel = diarization.channel_of.get(speaker) if diarization.channel_of else None
        if channel is None:
            if mix_db is None:
                mix_db = frame_db(audio.mono(), _frame(rate))
            db = mix_db
        else:
            db = frame_db(audio.channel(channel), _frame(rate))
        speaking = _mask(own, len(db), 0.0)
        if not speaking.any():
            continue
        around = _mask(own, len(db), AROUND_S)
        quiet = ~_mask(diarization.segments, len(db), AROUND_S)
        noise = float(np.percentile(db[around], NOISE_PERCENTILE_AROUND))
        if quiet.sum() * FRAME_S >= MIN_QUIET_S:
            noise = min(noise, float(np.percentile(db[quiet], NOISE_PERCENTILE_QUIET)))
        speech = float(10 * np.log10(np.mean(10 ** (db[speaking] / 10))))
        out.append(LineLevel(speaker, round(speech, 1), round(noise, 1)))
    return tuple(out)


def _mask(segments: Sequence[SpeechSegment], n_frames: int, pad_s: float) -> np.ndarray:
    mask = np.zeros(n_frames, dtype=bool)
    for s in segments:
        mask[max(0, int((s.start_s - pad_s) / FRAME_S)) : max(0, int((s.end_s + pad_s) / FRAME_S))] = True
    return mask


def _frame(rate_hz: int) -> int:
    return max(1, int(rate_hz * FRAME_S))
