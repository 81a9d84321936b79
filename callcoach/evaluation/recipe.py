"""The usual recipe, as the evaluation's baseline: pyannote.audio diarization plus faster-whisper.

What whisperX and most tutorials do with these two libraries: faster-whisper
transcribes the whole recording (stereo downmixed to mono) with its Silero
VAD on and word timestamps; pyannote.audio's speaker-diarization pipeline
finds who spoke when; each word goes to the speaker whose turn overlaps it
most (the nearest turn when none does). No roles, prosody or scorecard.

Both models are the ones callcoach itself ships or uses (the same Whisper
model as the run's ``--asr-model``, and the pyannote pipeline of
``--diarizer pyannote``), so the comparison measures the pipelines, not the
weights. Needs the ``pyannote`` extra.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path

from callcoach.records import Audio, SpeechSegment, Word
from callcoach.settings import Settings
from callcoach.speech.audio import load_audio
from callcoach.speech.diarize import PyannoteDiarizer
from callcoach.speech.transcribe import resolve_model


@dataclass(frozen=True)
class RecipeRun:
    """One recording through the recipe."""

    words: tuple[Word, ...]  # each with the speaker it was given
    segments: tuple[SpeechSegment, ...]
    duration_s: float
    diarize_s: float
    transcribe_s: float

    @property
    def seconds(self) -> float:
        return self.diarize_s + self.transcribe_s


class UsualRecipe:
    """Loads both models once; :meth:`run` scores one file. Raises ModelError without the extra."""

    def __init__(self, settings: Settings) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        self.diarizer = PyannoteDiarizer(
            min_speakers=settings.min_speakers, max_speakers=settings.max_speakers, threads=settings.cpu_threads
        )
        from faster_whisper import WhisperModel

        path = resolve_model(settings.asr_model)
        self.language = None if path.name.endswith(".en") or settings.asr_model.endswith(".en") else settings.language
        self.beam_size = settings.beam_size
        self.model = WhisperModel(
            str(path), device="cpu", compute_type="int8", cpu_threads=settings.cpu_threads or min(4, os.cpu_count() or 1),
            local_files_only=True,
        )

    def run(self, path: Path) -> RecipeRun:
        loaded = load_audio(path)
        mono = Audio(loaded.info, loaded.mono()[None, :], loaded.sample_rate_hz)
        t0 = time.perf_counter()
        diarization = self.diarizer.diarize(mono)
        t1 = time.perf_counter()
        segments, _ = self.model.transcribe(
            mono.samples[0], language=self.language, beam_size=self.beam_size, word_timestamps=True, vad_filter=True,
        )
        words = [Word(w.word.strip(), float(w.start), float(w.end), float(w.probability)) for s in segments for w in (s.words or ())]
        t2 = time.perf_counter()
        return RecipeRun(
            words=tuple(assign_speakers(words, diarization.segments)),
            segments=diarization.segments,
            duration_s=loaded.duration_s,
            diarize_s=t1 - t0,
            transcribe_s=t2 - t1,
        )


def assign_speakers(words: list[Word], segments: tuple[SpeechSegment, ...]) -> list[Word]:
    """whisperX's rule: the speaker with the most overlap, else the nearest segment's speaker."""
    out = []
    for w in words:
        overlap: dict[str, float] = {}
        for s in segments:
            o = min(w.end_s, s.end_s) - max(w.start_s, s.start_s)
            if o > 0:
                overlap[s.speaker] = overlap.get(s.speaker, 0.0) + o
        if overlap:
            speaker = max(overlap, key=overlap.get)
        elif segments:
            mid = (w.start_s + w.end_s) / 2
            speaker = min(segments, key=lambda s: max(s.start_s - mid, mid - s.end_s, 0.0)).speaker
        else:
            speaker = ""
        out.append(Word(w.text, w.start_s, w.end_s, w.probability, speaker=speaker))
    return out


__all__ = ["RecipeRun", "UsualRecipe", "assign_speakers"]
