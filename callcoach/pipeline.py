"""One call through every stage: :func:`analyse_call`, and the stage order, which is written here and nowhere else.

Stages run in order over frozen records (the names are those of ``meta.timings_s``, progress events and
:class:`~callcoach.errors.StageError`): load audio -> diarize -> transcribe (each party's line level first; a noisy
line is decoded by the larger model) -> roles (words to speakers, turns, which speaker is the agent) -> rehear (the
agent's fast turns, by the larger model) -> analyse (text events, prosody and events, scorecard). Models are loaded
once per run in :class:`Models`. The library never prints: progress goes to a callback
(:mod:`callcoach.progress`). Files and folders: :func:`callcoach.score_paths` (:mod:`callcoach.batch.run`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import asdict, replace
from pathlib import Path

from callcoach._version import __version__
from callcoach.analysis.events import analyse
from callcoach.analysis.text_events import customer_complaints, customer_upset_moments, find_text_events, inferred_abuse
from callcoach.errors import CallcoachError, ModelError, StageError
from callcoach.progress import ProgressEvent, ProgressFn
from callcoach.records import (
    SCHEMA_VERSION,
    Audio,
    CallMeta,
    CallResult,
    Diarization,
    LineMeta,
    LineSpeaker,
    RehearMeta,
    RolesMeta,
    Turn,
    Word,
)
from callcoach.scoring.rubric import load_rubric
from callcoach.scoring.scorecard import score_call
from callcoach.settings import Settings
from callcoach.speech.attribute import build_turns, transcribe_speech, with_roles
from callcoach.speech.audio import load_audio
from callcoach.speech.diarize import ChannelDiarizer, Diarizer, EmbeddedDiarizer, PyannoteDiarizer, choose_backend
from callcoach.speech.line import LineLevel, line_levels
from callcoach.speech.rehear import ENCODER_CONTEXT_MIN_S, Rehearing, rehear_fast_turns
from callcoach.speech.roles import RoleAssignment, assign_roles
from callcoach.speech.transcribe import DecodeOptions, Transcriber, WhisperTranscriber, resolve_model

# share of a call's time each stage usually takes, for one smooth progress bar
_STAGE_SPAN = {
    "load": (0.0, 0.03), "diarize": (0.03, 0.12), "transcribe": (0.12, 0.86), "rehear": (0.86, 0.9), "analyse": (0.9, 1.0),
}


class Models:
    """Heavy models, loaded on first use and kept for the whole run."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.rubric = load_rubric(settings.rubric)  # fails before any audio is read
        self._transcriber: Transcriber | None = None
        self._larger: WhisperTranscriber | None = None
        self._diarizers: dict[str, Diarizer] = {}
        if self.rehears():  # a missing model fails before any audio is read
            try:
                resolve_model(settings.rehear_model)
            except ModelError as exc:
                raise ModelError(f"the model that re-hears fast turns (--rehear-model; 'off' for none): {exc}") from None
        if settings.voiceprint_model is not None:  # a file that is not a CAM++ export fails before any audio is read
            try:
                self.diarizer("embedded")
            except ModelError as exc:
                raise ModelError(f"--voiceprint-model: {exc}") from None

    def _whisper(self, model: str) -> WhisperTranscriber:
        s = self.settings
        return WhisperTranscriber(model, language=s.language, cpu_threads=s.cpu_threads, options=DecodeOptions(beam_size=s.beam_size))

    def transcriber(self) -> Transcriber:
        if self._transcriber is None:
            self._transcriber = self._whisper(self.settings.asr_model)
        return self._transcriber

    def larger(self) -> WhisperTranscriber:
        """The larger model (``--rehear-model``), for noisy lines; loaded on the first call that needs it."""
        if self._larger is None:
            self._larger = self._whisper(self.settings.rehear_model)
        return self._larger

    def rehearer(self) -> Transcriber:
        """The larger model for the agent's fast turns, its encoder hearing a few seconds of
        padding instead of 30 s (``DecodeOptions.short_context_min_s``); one loaded model with :meth:`larger`."""
        larger = self.larger()
        return larger.with_options(replace(larger.options, short_context_min_s=ENCODER_CONTEXT_MIN_S))

    def rehears(self) -> bool:
        return self.settings.rehears()

    def noisy_line_limit_db(self) -> float | None:
        return self.settings.noisy_line_limit_db()

    def diarizer(self, name: str) -> Diarizer:
        if name not in self._diarizers:
            s = self.settings
            if name == "channels":
                # the segmentation model tells hold music and tones on a channel from a turn
                self._diarizers[name] = ChannelDiarizer(speech=self.diarizer("embedded").speech_probability)
            elif name == "embedded":
                self._diarizers[name] = EmbeddedDiarizer(
                    min_speakers=s.min_speakers, max_speakers=s.max_speakers, voiceprint_model=s.voiceprint_model
                )
            elif name == "pyannote":
                self._diarizers[name] = PyannoteDiarizer(
                    s.pyannote_pipeline, min_speakers=s.min_speakers, max_speakers=s.max_speakers
                )
            else:
                raise CallcoachError(f"unknown diarizer {name!r}: use auto, channels, embedded or pyannote")
        return self._diarizers[name]


def _reporter(progress: ProgressFn | None, call_id: str, index: int, total: int, audio_s: float):
    def report(stage: str, fraction: float) -> None:
        if progress is None:
            return
        lo, hi = _STAGE_SPAN[stage]
        progress(ProgressEvent(call_id, stage, lo + (hi - lo) * min(max(fraction, 0.0), 1.0), index, total, audio_s))

    return report


def analyse_call(
    path: Path | str,
    settings: Settings | None = None,
    *,
    models: Models | None = None,
    call_id: str | None = None,
    source_name: str | None = None,
    progress: ProgressFn | None = None,
    call_index: int = 0,
    calls_total: int = 1,
) -> CallResult:
    """Score one recording. Raises AudioError for bad input, StageError when a stage breaks."""
    settings = settings or Settings()
    models = models or Models(settings)
    path = Path(path)
    call_id = call_id or path.stem
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    audio = load_audio(path)
    if source_name:
        audio = Audio(
            info=type(audio.info)(source_name, audio.info.duration_s, audio.info.sample_rate_hz, audio.info.channels),
            samples=audio.samples,
            sample_rate_hz=audio.sample_rate_hz,
        )
    report = _reporter(progress, call_id, call_index, calls_total, audio.duration_s)
    report("load", 1.0)
    timings["load_s"] = time.perf_counter() - t0

    backend = choose_backend(audio, settings.diarizer)
    if backend == "channels" and audio.channels != 2:
        raise StageError("diarize", str(path), "--diarizer channels needs a two-channel recording; this one is mono")
    with _stage("diarize", path, timings):
        diarization = models.diarizer(backend).diarize(audio, progress=lambda f: report("diarize", f))
    with _stage("transcribe", path, timings):
        levels = line_levels(audio, diarization)
        noisy = _noisy_lines(levels, diarization, models.noisy_line_limit_db())
        larger = {spk: models.larger() for spk in noisy}
        # only diarized speech is decoded: the diarizer is the voice activity detector; a mono mix is one line
        everyone_noisy = bool(noisy) and (not diarization.channel_of or set(diarization.channel_of) <= noisy)
        first = models.larger() if everyone_noisy else models.transcriber()
        words = transcribe_speech(audio, diarization, first, per_speaker=larger, progress=lambda f: report("transcribe", f))
    with _stage("roles", path, timings):
        turns, assignment = _turns_and_roles(words, diarization, settings)
    with _stage("rehear", path, timings):
        heard = (rehear_fast_turns(audio, diarization, turns, assignment.roles, models.rehearer, settings.rehear_min_pace_wpm,
                                   already_heard=noisy)
                 if models.rehears() else Rehearing(turns, ()))
    report("rehear", 1.0)
    with _stage("analyse", path, timings):
        line = LineMeta(
            noisy_below_snr_db=models.noisy_line_limit_db(),
            speakers={
                lv.speaker: LineSpeaker(lv.speech_db, lv.noise_db, round(lv.snr_db, 1), larger.get(lv.speaker, first).name)
                for lv in levels
            },
        )
        result = _analyse(audio, diarization, turns, heard, assignment, line, first.name, models, settings, call_id, backend)
    report("analyse", 1.0)
    timings["total_s"] = time.perf_counter() - t0
    return replace(result, meta=replace(result.meta, timings_s={k: round(v, 3) for k, v in timings.items()}))


class _stage:
    """Times a stage and turns an unexpected exception into a StageError naming file and stage."""

    def __init__(self, name: str, path: Path, timings: dict[str, float]) -> None:
        self.name, self.path, self.timings = name, path, timings

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, exc_type, exc, tb) -> bool:
        self.timings[f"{self.name}_s"] = time.perf_counter() - self.t0
        if exc is None or isinstance(exc, CallcoachError) or not isinstance(exc, Exception):
            return False
        raise StageError(self.name, str(self.path), f"{type(exc).__name__}: {exc}") from exc


def _noisy_lines(levels: Sequence[LineLevel], diarization: Diarization, limit_db: float | None) -> frozenset[str]:
    """Speakers whose speech the larger model decodes whole: those on a line under ``limit_db`` (None: none);
    on a mono call, every speaker when any one is (the mix is decoded in one pass)."""
    if limit_db is None:
        return frozenset()
    noisy = {lv.speaker for lv in levels if lv.snr_db < limit_db}
    if noisy and not diarization.channel_of:
        return frozenset(lv.speaker for lv in levels)
    return frozenset(noisy)


def _turns_and_roles(words: tuple[Word, ...], diarization: Diarization, settings: Settings) -> tuple[tuple[Turn, ...], RoleAssignment]:
    agent_channel = {"left": 0, "right": 1}.get(settings.agent_channel or "")
    turns = build_turns(words)
    assignment = assign_roles(turns, diarization, agent_channel=agent_channel, agent_speaker=settings.agent_speaker)
    return with_roles(turns, assignment.roles), assignment


def _analyse(
    audio: Audio, diarization: Diarization, first_turns: tuple[Turn, ...], heard: Rehearing, assignment: RoleAssignment,
    line: LineMeta, asr_model: str, models: Models, settings: Settings, call_id: str, backend: str,
) -> CallResult:
    """Prosody and events from the first pass's turns (one model counts each speaker's pace);
    the words, text events and scorecard from the turns as re-heard. ``line``: ``meta.line``;
    ``asr_model``: the first pass's model."""

    turns = heard.turns
    text_events = find_text_events(turns)
    upset_words = tuple((e.start_s, e.end_s) for e in customer_upset_moments(turns))
    complaints = tuple((e.start_s, e.end_s) for e in customer_complaints(turns))
    prosody = analyse(
        audio, diarization, first_turns, assignment.roles, assignment.confidence, text_events, settings.thresholds,
        upset_words, complaints,
    )
    events = prosody.events + tuple(text_events)
    events = tuple(sorted(events + inferred_abuse(turns, events), key=lambda e: (e.start_s, e.type)))
    scorecard = score_call(models.rubric, turns, events, prosody.trajectory)
    meta = CallMeta(
        callcoach_version=__version__,
        diarizer=backend,
        asr_model=asr_model,
        rehear=RehearMeta(
            model=settings.rehear_model if models.rehears() else "off",
            min_pace_wpm=settings.rehear_min_pace_wpm,
            turns=heard.reheard,
        ),
        line=line,
        roles=RolesMeta(method=assignment.method, confidence=dict(assignment.confidence), reasons=tuple(assignment.reasons)),
        baselines={s: asdict(b) for s, b in prosody.baselines.items()},
        thresholds=settings.to_dict()["thresholds"],
        rubric=str(settings.rubric) if settings.rubric else "default",
    )
    return CallResult(
        schema_version=SCHEMA_VERSION,
        call_id=call_id,
        call=audio.info,
        speakers=prosody.speakers,
        turns=turns,
        events=events,
        scorecard=scorecard,
        customer_trajectory=prosody.trajectory,
        prosody=prosody.tracks,
        meta=meta,
        speech=diarization.segments,
    )

