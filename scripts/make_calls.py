"""Render synthetic phone calls from written dialogues, with ground truth.

Each dialogue spec (YAML, read with ``yaml.safe_load``) becomes one call
recording made with offline text-to-speech (flite, espeak-ng) and sox, plus
ground-truth files that tests and the evaluation corpus compare against.

Usage::

    python scripts/make_calls.py DIALOGUE.yaml [DIALOGUE.yaml ...] --out DIR
    python scripts/make_calls.py --demo     # regenerate audio_samples/
    python scripts/make_calls.py D.yaml --out DIR --calm-max-syllables-per-s 3.7

As a module (scripts/ is on the path of a script, and of the tests through pytest's ``pythonpath``)::

    from make_calls import render_call, load_spec
    audio_path = render_call(load_spec(path), out_dir)
    # keys the file does not set, e.g. the corpus's rate normalisation:
    spec = load_spec(path, defaults={"calm_max_syllables_per_s": 3.7})

Requires the ``flite``, ``espeak-ng`` and ``sox`` programs on ``PATH``.

Dialogue spec
-------------
::

    id: angry_deescalated      # required; [A-Za-z0-9_-]+, names the output files
    channels: 1                # 1 = mono mix, 2 = stereo (one party per channel)
    agent_channel: 0           # stereo only: 0 = left, 1 = right (default 0)
    sample_rate_hz: 8000       # 8000 (telephone band 300-3400 Hz) or 16000
                               # (wideband 100-7000 Hz)
    format: wav                # wav | flac | mp3 | ogg
    voices:                    # "flite:<kal|kal16|awb|rms|slt>" or
      agent: "flite:slt"       # "espeak:<voice>[+variant]", e.g. espeak:en-gb+m3
      customer: "espeak:en-us+m3"
    turns:                     # at least one
      - role: agent            # agent | customer
        text: "Thank you for calling ..."
        style: calm            # calm | raised | rapid | raised_rapid (default calm)
        gap_s: 0.5             # silence before this turn, after the previous
                               # turn ends (default 0.4; for the first turn:
                               # the leading silence). Negative = overlap: the
                               # turn starts before the previous one ends.
        threat: false          # true when the words are abuse or a threat
    expected:                  # optional ground truth, copied to the truth file
      customer_trajectory: calmer          # calmer | not_calmer | not_upset
      checks: {calm_tone: pass, ...}       # ids of COACHING.md: pass | fail | na

Optional tuning keys, with their defaults: ``levels_dbfs: {agent: -24,
customer: -20}`` (RMS level of calm speech per role), ``raised_gain_db: 9``,
``raised_pitch_semitones: 2.5``, ``rapid_tempo: 1.55``, ``espeak_wpm: 145`` and
``flite_stretch: 1.2`` (calm speaking rate: these give about 150-170 words per
minute measured over a turn; espeak's nominal 165 measures nearer 190),
``noise_dbfs: -50`` (background noise RMS), ``crosstalk_db: -25`` (stereo:
level of the other party leaking into each channel), ``tail_s: 1.0``
(silence after the last turn), ``seed`` (noise seed; default derived from
``id``), ``calm_max_syllables_per_s: null`` (off; see below).

Speaking-rate normalisation (``calm_max_syllables_per_s``, off by default):
TTS rates vary a lot with the voice and the words, so some "calm" turns come
out well above the calm band. When the key is a number, each synthesised turn
is measured as text syllables (:func:`syllable_count`) per second of trimmed
speech, and a turn faster than the limit is slowed with sox ``tempo`` to the
limit; ``rapid``/``raised_rapid`` turns get the same normalisation and then
``rapid_tempo``, so rapid speech stays ``rapid_tempo`` x faster than the
speaker's calm speech. :data:`CALM_MAX_SYLLABLES_PER_S` (3.7) is the value the
evaluation corpus uses (``scripts/make_corpus.py``).

Speakers: a speaker with raised/raised_rapid turns must also have a calm or
rapid turn (raised voice is relative to the speaker's own calm level; with no
calm speech there is nothing to be raised above), else :class:`SpecError`.

"The previous turn" is the turn that ends last among those already placed,
which is the preceding turn unless a turn was nested inside another one.
Turn times are those of the speech itself: TTS leading and trailing silence
is trimmed before placement.

Output files, in ``out_dir``
----------------------------
- ``<id>.<format>``: the call (16-bit PCM for wav and flac).
- ``<id>.truth.json``: ``{"id", "file", "channels", "sample_rate_hz",
  "duration_s", "agent_channel" (null when mono), "turns": [{"role",
  "start_s", "end_s", "text", "style", "threat"}], "events": [{"type",
  "role", "start_s", "end_s"}], "expected": {...}}``. Events are derived
  from the turns: ``raised_voice`` for each raised/raised_rapid turn,
  ``rapid_speech`` for each rapid/raised_rapid turn, ``threat`` for each
  ``threat: true`` turn (all spanning the turn), and ``interruption`` for a
  turn of at least 3 words that starts at least 0.5 s before the previous
  turn of the other role ends, or 0.2 s when that turn's text stops
  mid-sentence (no final . ? !), so its speaker broke off (from the turn's
  start to the end of the overlap; role = the one who interrupts).
- ``<id>.txt``: the dialogue, one ``AGENT: ...`` / ``CUSTOMER: ...`` line per
  turn.
- ``<id>.rttm``: the speaker turns in RTTM (speaker names ``agent`` and
  ``customer``).

Output is deterministic: the same spec gives the same samples (mp3/ogg
encoders included, for a given sox build). For mp3, the encoder+decoder
delay (1105 samples) is compensated so that decoded audio lines up with the
truth; mp3 decoders may append up to ~0.2 s of padding at the end.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import re
import shutil
import subprocess
import sys
import tempfile
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from callcoach.analysis.pace import syllable_count as _word_syllables

ROLES = ("agent", "customer")
STYLES = ("calm", "raised", "rapid", "raised_rapid")
FORMATS = ("wav", "flac", "mp3", "ogg")
SAMPLE_RATES = (8000, 16000)
FLITE_VOICES = ("kal", "kal16", "awb", "rms", "slt")
TRAJECTORIES = ("calmer", "not_calmer", "not_upset")
CHECK_STATUSES = ("pass", "fail", "na")
CHECK_IDS = (
    "calm_tone", "no_mirroring", "measured_pace", "no_talk_over", "patience",
    "acknowledge", "apology", "paraphrase", "open_question", "ownership",
    "personalize", "positive_language", "no_provocation", "professional",
    "solution", "next_steps", "escalation", "boundary", "document_threats",
)
BANDS_HZ = {8000: (300, 3400), 16000: (100, 7000)}
DEFAULTS: dict[str, Any] = {
    "channels": 1,
    "agent_channel": 0,
    "sample_rate_hz": 8000,
    "format": "wav",
    "levels_dbfs": {"agent": -24.0, "customer": -20.0},
    "raised_gain_db": 9.0,
    "raised_pitch_semitones": 2.5,
    "rapid_tempo": 1.55,
    "espeak_wpm": 145,
    "flite_stretch": 1.2,
    "noise_dbfs": -50.0,
    "crosstalk_db": -25.0,
    "tail_s": 1.0,
    "calm_max_syllables_per_s": None,  # rate normalisation off (demo calls unchanged)
}
# Rate limit for calm-level speech used by the evaluation corpus (make_corpus.py),
# in text syllables per second of trimmed speech. Why 3.7: over the 230 corpus
# turns this counter gives 1.38 syllables per word, so 3.7 syl/s is ~161 words/min
# (153 at 1.45 syl/word, 148 at 1.5), inside the calm band of COACHING.md F
# (roughly 120-170 wpm) and below its ">180 sustained" flag. It is also about the
# TTS voices' median at the default espeak_wpm/flite_stretch (3.64 syl/s over
# those turns, 4.0 at the 75th and 4.5 at the 95th percentile), so typical turns
# stay as synthesised and only the fast ones come down. Rapid turns then run at
# most 3.7 x 1.55 = 5.7 syl/s and always 1.55 x their own normalised rate.
CALM_MAX_SYLLABLES_PER_S = 3.7
DEFAULT_GAP_S = 0.4
INTERRUPTION_MIN_OVERLAP_S = 0.5
INTERRUPTION_CUT_OVERLAP_S = 0.2  # when the interrupted text stops mid-sentence (no final . ? !)
INTERRUPTION_MIN_WORDS = 3
MP3_DELAY_SAMPLES = 1105  # LAME encoder delay + mp3 decoder delay
TRIM_BELOW_PEAK_DB = 40.0  # TTS silence trimming threshold (frame RMS)
CALM_LEVEL_STYLES = ("calm", "rapid")  # turns at the speaker's own (unraised) level

REPO_ROOT = Path(__file__).resolve().parent.parent
DEMO_DIR = REPO_ROOT / "audio_samples"


class SpecError(ValueError):
    """A dialogue spec is invalid; the message names the key and what is allowed."""


class RenderError(RuntimeError):
    """An external tool (flite, espeak-ng, sox) failed or is missing."""


@dataclass(frozen=True)
class PlacedTurn:
    """One rendered turn on the call timeline (times in seconds)."""

    role: str
    text: str
    style: str
    threat: bool
    start_s: float
    end_s: float


# --------------------------------------------------------------------- spec


def load_spec(path: Path | str, defaults: dict[str, Any] | None = None) -> dict[str, Any]:
    """Read a dialogue YAML file and return the validated spec.

    ``defaults``: top-level keys to use where the file does not set them
    (e.g. ``{"calm_max_syllables_per_s": CALM_MAX_SYLLABLES_PER_S}``).

    Raises:
        SpecError: the file is not a mapping or a field is invalid.
    """
    path = Path(path)
    with path.open(encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    if defaults and isinstance(raw, dict):
        raw = {**defaults, **raw}
    return validate_spec(raw, source=str(path))


def _fail(source: str, key: str, value: Any, allowed: str) -> SpecError:
    return SpecError(f"{source}: {key} = {value!r} is invalid; allowed: {allowed}")


def _number(source: str, key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _fail(source, key, value, "a number")
    return float(value)


def validate_spec(raw: Any, source: str = "<spec>") -> dict[str, Any]:
    """Check a spec dict and return a copy with defaults filled in.

    Raises:
        SpecError: naming the source, key path, bad value and allowed values.
    """
    if not isinstance(raw, dict):
        raise _fail(source, "<top level>", type(raw).__name__, "a mapping")
    spec = {**DEFAULTS, **raw}
    spec["levels_dbfs"] = {**DEFAULTS["levels_dbfs"], **(raw.get("levels_dbfs") or {})}
    cid = spec.get("id")
    if not isinstance(cid, str) or not re.fullmatch(r"[A-Za-z0-9_-]+", cid):
        raise _fail(source, "id", cid, "a string of letters, digits, '_' or '-'")
    if spec["channels"] not in (1, 2):
        raise _fail(source, "channels", spec["channels"], "1 or 2")
    if spec["agent_channel"] not in (0, 1):
        raise _fail(source, "agent_channel", spec["agent_channel"], "0 or 1")
    if spec["sample_rate_hz"] not in SAMPLE_RATES:
        raise _fail(source, "sample_rate_hz", spec["sample_rate_hz"], "8000 or 16000")
    if spec["format"] not in FORMATS:
        raise _fail(source, "format", spec["format"], " | ".join(FORMATS))
    for key in ("raised_gain_db", "raised_pitch_semitones", "rapid_tempo",
                "espeak_wpm", "flite_stretch", "noise_dbfs", "crosstalk_db", "tail_s"):
        spec[key] = _number(source, key, spec[key])
    for key in ("rapid_tempo", "espeak_wpm", "flite_stretch"):
        if spec[key] <= 0:
            raise _fail(source, key, spec[key], "a number > 0")
    if spec["tail_s"] < 0:
        raise _fail(source, "tail_s", spec["tail_s"], "a number >= 0")
    if spec["calm_max_syllables_per_s"] is not None:
        limit = _number(source, "calm_max_syllables_per_s", spec["calm_max_syllables_per_s"])
        if limit <= 0:
            raise _fail(source, "calm_max_syllables_per_s", limit, "null (off) or a number > 0")
        spec["calm_max_syllables_per_s"] = limit
    for role in ROLES:
        spec["levels_dbfs"][role] = _number(source, f"levels_dbfs.{role}",
                                            spec["levels_dbfs"][role])
    voices = spec.get("voices")
    if not isinstance(voices, dict):
        raise _fail(source, "voices", voices, "a mapping with keys agent and customer")
    for role in ROLES:
        _parse_voice(voices.get(role), source, f"voices.{role}")
    turns = spec.get("turns")
    if not isinstance(turns, list) or not turns:
        raise _fail(source, "turns", turns, "a non-empty list of turns")
    clean = []
    for i, turn in enumerate(turns):
        where = f"turns[{i}]"
        if not isinstance(turn, dict):
            raise _fail(source, where, turn, "a mapping")
        t = {"style": "calm", "gap_s": DEFAULT_GAP_S, "threat": False, **turn}
        if t.get("role") not in ROLES:
            raise _fail(source, f"{where}.role", t.get("role"), "agent | customer")
        if not isinstance(t.get("text"), str) or not t["text"].strip():
            raise _fail(source, f"{where}.text", t.get("text"), "non-empty text")
        if t["style"] not in STYLES:
            raise _fail(source, f"{where}.style", t["style"], " | ".join(STYLES))
        t["gap_s"] = _number(source, f"{where}.gap_s", t["gap_s"])
        if not isinstance(t["threat"], bool):
            raise _fail(source, f"{where}.threat", t["threat"], "true or false")
        unknown = set(t) - {"role", "text", "style", "gap_s", "threat"}
        if unknown:
            raise _fail(source, f"{where}", sorted(unknown), "role, text, style, gap_s, threat")
        clean.append(t)
    spec["turns"] = clean
    _check_raised_has_baseline(clean, source)
    expected = spec.get("expected") or {}
    if not isinstance(expected, dict):
        raise _fail(source, "expected", expected, "a mapping")
    traj = expected.get("customer_trajectory")
    if traj is not None and traj not in TRAJECTORIES:
        raise _fail(source, "expected.customer_trajectory", traj, " | ".join(TRAJECTORIES))
    for cid_, status in (expected.get("checks") or {}).items():
        if cid_ not in CHECK_IDS:
            raise _fail(source, "expected.checks", cid_, ", ".join(CHECK_IDS))
        if status not in CHECK_STATUSES:
            raise _fail(source, f"expected.checks.{cid_}", status, "pass | fail | na")
    spec["expected"] = expected
    if "seed" in spec and (isinstance(spec["seed"], bool) or not isinstance(spec["seed"], int)):
        raise _fail(source, "seed", spec["seed"], "an integer")
    return spec


def _check_raised_has_baseline(turns: Sequence[dict[str, Any]], source: str) -> None:
    """Reject a speaker who is raised in every turn: raised voice is relative to the
    speaker's own calm level (COACHING.md F), so they need a calm or rapid turn."""
    for role in ROLES:
        mine = [(i, t["style"]) for i, t in enumerate(turns) if t["role"] == role]
        raised = [i for i, style in mine if style not in CALM_LEVEL_STYLES]
        if raised and len(raised) == len(mine):
            where = ", ".join(f"turns[{i}]" for i in raised)
            raise SpecError(
                f"{source}: turns[{raised[0]}].style = {turns[raised[0]]['style']!r} is invalid: "
                f"the {role} is raised in every one of their turns ({where}), so there is no "
                f"calm speech of theirs to be raised above; allowed: at least one {role} turn "
                f"with style calm or rapid (e.g. make their first turn calm)")


def _parse_voice(voice: Any, source: str, key: str) -> tuple[str, str]:
    allowed = "'flite:<kal|kal16|awb|rms|slt>' or 'espeak:<voice>[+variant]'"
    if not isinstance(voice, str) or ":" not in voice:
        raise _fail(source, key, voice, allowed)
    engine, name = voice.split(":", 1)
    if engine == "flite" and name in FLITE_VOICES:
        return engine, name
    if engine == "espeak" and re.fullmatch(r"[A-Za-z0-9_-]+(\+[A-Za-z0-9_-]+)?", name):
        return engine, name
    raise _fail(source, key, voice, allowed)


# ------------------------------------------------------------------- audio


def _run(cmd: Sequence[str], stdout: bool = False) -> bytes:
    try:
        proc = subprocess.run(list(cmd), capture_output=True, check=False)
    except FileNotFoundError as exc:
        raise RenderError(f"{cmd[0]} is not installed (needed: flite, espeak-ng, sox)") from exc
    if proc.returncode != 0:
        raise RenderError(f"{' '.join(cmd)} failed ({proc.returncode}): "
                          f"{proc.stderr.decode(errors='replace').strip()}")
    return proc.stdout if stdout else b""


def _synthesize(text: str, voice: str, spec: dict[str, Any], wav_path: Path) -> None:
    """Write the TTS of ``text`` with ``voice`` to ``wav_path`` (native rate)."""
    engine, name = _parse_voice(voice, "<voice>", "voice")
    if engine == "flite":
        _run(["flite", "-voice", name, "--setf", f"duration_stretch={spec['flite_stretch']:.3f}",
              "-t", text, "-o", str(wav_path)])
    else:
        _run(["espeak-ng", "-v", espeak_voice(name), "-s", str(int(round(spec["espeak_wpm"]))),
              "-w", str(wav_path), text])


@functools.cache
def espeak_voice(name: str) -> str:
    """The ``-v`` argument that makes espeak-ng speak ``<language>[+variant]`` as written.

    espeak-ng 1.51 ignores a variant given after some language names without
    a word: ``en-gb+f4`` and ``en-gb+m3`` both render the plain (male) en-gb
    voice, so a dialogue's female customer came out with the agent's pitch.
    Its voice file (``gmw/en+f4``) takes the variant, so a language with a
    variant is looked up in ``espeak-ng --voices=<language>`` and named by file.
    """
    language, plus, variant = name.partition("+")
    if not plus:
        return name
    listing = _run(["espeak-ng", f"--voices={language}"], stdout=True).decode(errors="replace")
    for line in listing.splitlines()[1:]:
        fields = line.split()
        # Pty Language Age/Gender VoiceName File [Other languages]
        if len(fields) >= 5 and fields[1].lower() == language.lower() and not fields[4].startswith("mb/"):
            return f"{fields[4]}+{variant}"
    return name


def syllable_count(text: str) -> int:
    """Estimated syllables of ``text``: ``callcoach.analysis.pace.syllable_count`` (vowel groups
    per word, a final silent 'e' dropped, each digit as said on its own; spell numbers
    out in dialogues)."""
    return _word_syllables(text)


def _decode(wav_path: Path, chain: Sequence[str] = ()) -> np.ndarray:
    raw = _run(["sox", "-R", "-D", str(wav_path), "-t", "raw", "-e", "floating-point",
                "-b", "32", "-c", "1", "-L", "-"] + list(chain), stdout=True)
    return np.frombuffer(raw, dtype="<f4").astype(np.float32)


def speaking_rate(text: str, wav_path: Path) -> float:
    """Text syllables per second of the TTS speech in ``wav_path`` (silence trimmed)."""
    with wave.open(str(wav_path), "rb") as wf:
        sr = wf.getframerate()
    duration_s = len(_trim(_decode(wav_path), sr)) / sr
    return syllable_count(text) / max(duration_s, 1e-3)


def _rate_tempo(text: str, wav_path: Path, spec: dict[str, Any]) -> float:
    """sox tempo factor (<= 1) bringing the turn down to ``calm_max_syllables_per_s``;
    1.0 when the option is off or the turn is not faster than the limit."""
    limit = spec.get("calm_max_syllables_per_s")
    if limit is None:
        return 1.0
    rate = speaking_rate(text, wav_path)
    return limit / rate if rate > limit else 1.0


def _effects(wav_path: Path, style: str, spec: dict[str, Any],
             rate_tempo: float = 1.0) -> np.ndarray:
    """Resample, apply style effects and the channel band; return float32 (n,).

    ``rate_tempo``: the rate normalisation factor (:func:`_rate_tempo`), applied
    to every style, times ``rapid_tempo`` for rapid styles.
    """
    sr = spec["sample_rate_hz"]
    chain: list[str] = []
    if style in ("raised", "raised_rapid"):
        chain += ["pitch", str(int(round(100 * spec["raised_pitch_semitones"])))]
    rapid = style in ("rapid", "raised_rapid")
    if rapid or rate_tempo != 1.0:
        tempo = rate_tempo * (spec["rapid_tempo"] if rapid else 1.0)
        chain += ["tempo", "-s", f"{tempo:.3f}"]
    lo, hi = BANDS_HZ[sr]
    chain += ["rate", "-v", str(sr), "sinc", f"{lo}-{hi}"]
    return _decode(wav_path, chain)


def _trim(x: np.ndarray, sr: int) -> np.ndarray:
    """Cut leading/trailing silence: frames (10 ms) 40 dB below the loudest."""
    hop = sr // 100
    n = len(x) // hop
    if n == 0:
        return x
    frames = x[: n * hop].reshape(n, hop)
    db = 10 * np.log10(np.mean(frames ** 2, axis=1) + 1e-12)
    on = np.flatnonzero(db > db.max() - TRIM_BELOW_PEAK_DB)
    return x[on[0] * hop: (on[-1] + 1) * hop]


def rms_db(x: np.ndarray) -> float:
    """RMS level in dBFS of a float signal (full scale = 1.0)."""
    return float(10 * np.log10(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


def _soft_limit(x: np.ndarray, threshold: float = 0.5, ceiling: float = 0.8) -> np.ndarray:
    """Leave |x| <= threshold alone; squash peaks above it smoothly below ``ceiling``.

    The ceiling leaves headroom for mp3/ogg encoder overshoot.
    """
    mag = np.abs(x)
    over = mag > threshold
    if not over.any():
        return x
    y = x.copy()
    head = ceiling - threshold
    y[over] = np.sign(x[over]) * (threshold + head * np.tanh((mag[over] - threshold) / head))
    return y


def _render_turn(turn: dict[str, Any], spec: dict[str, Any], tmp: Path, idx: int) -> np.ndarray:
    wav = tmp / f"turn{idx:03d}.wav"
    _synthesize(turn["text"], spec["voices"][turn["role"]], spec, wav)
    rate_tempo = _rate_tempo(turn["text"], wav, spec)
    x = _trim(_effects(wav, turn["style"], spec, rate_tempo), spec["sample_rate_hz"])
    level = spec["levels_dbfs"][turn["role"]]
    if turn["style"] in ("raised", "raised_rapid"):
        level += spec["raised_gain_db"]
    x = x * np.float32(10 ** ((level - rms_db(x)) / 20))
    return _soft_limit(x).astype(np.float32)


def _noise(n: int, spec: dict[str, Any], channel: int) -> np.ndarray:
    """Seeded band-limited noise at ``noise_dbfs`` RMS, float32 (n,)."""
    seed = spec.get("seed")
    if seed is None:
        seed = int.from_bytes(hashlib.sha256(spec["id"].encode()).digest()[:4], "little")
    rng = np.random.default_rng([seed, channel])
    sr = spec["sample_rate_hz"]
    spectrum = np.fft.rfft(rng.standard_normal(n))
    freqs = np.fft.rfftfreq(n, 1 / sr)
    lo, hi = BANDS_HZ[sr]
    spectrum[(freqs < lo) | (freqs > hi)] = 0
    x = np.fft.irfft(spectrum, n)
    x *= 10 ** ((spec["noise_dbfs"] - rms_db(x)) / 20)
    return x.astype(np.float32)


def _to_int16(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32767.0), -32768, 32767).astype("<i2")


def _write_wav(path: Path, audio: np.ndarray, sr: int) -> None:
    """Write float32 audio of shape (n, channels) as 16-bit PCM WAV."""
    with wave.open(str(path), "wb") as wf:
        wf.setnchannels(audio.shape[1])
        wf.setsampwidth(2)
        wf.setframerate(sr)
        wf.writeframes(_to_int16(audio).tobytes())


def _write_audio(path: Path, audio: np.ndarray, sr: int, fmt: str, tmp: Path) -> None:
    if fmt == "wav":
        _write_wav(path, audio, sr)
        return
    if fmt == "mp3":  # pre-compensate the codec delay so decoded times line up
        audio = audio[MP3_DELAY_SAMPLES:]
    src = tmp / "mix.wav"
    _write_wav(src, audio, sr)
    quality = {"flac": ["-C", "8"], "mp3": ["-C", "32" if sr <= 8000 else "48"],
               "ogg": ["-C", "3"]}[fmt]
    _run(["sox", "-R", "-D", str(src)] + quality + [str(path)])


# ---------------------------------------------------------------- timeline


def place_turns(turns: Sequence[dict[str, Any]], durations_s: Sequence[float]) -> list[PlacedTurn]:
    """Lay turns on the timeline from their gaps and rendered durations.

    Each turn starts ``gap_s`` after the latest end so far (the first turn at
    ``gap_s``, clamped at 0).

    Raises:
        SpecError: a negative gap makes a speaker overlap their own speech.
    """
    placed: list[PlacedTurn] = []
    latest_end = 0.0
    for i, (turn, dur) in enumerate(zip(turns, durations_s)):
        start = max(0.0, latest_end + turn["gap_s"])
        mine = [p for p in placed if p.role == turn["role"]]
        if mine and start < mine[-1].end_s:
            raise SpecError(f"turns[{i}].gap_s = {turn['gap_s']!r} is invalid: the "
                            f"{turn['role']} would overlap their own previous turn; "
                            f"allowed: a gap that starts after {mine[-1].end_s:.2f} s")
        placed.append(PlacedTurn(turn["role"], turn["text"], turn["style"],
                                 turn["threat"], start, start + dur))
        latest_end = max(latest_end, start + dur)
    return placed


def derive_events(turns: Sequence[PlacedTurn]) -> list[dict[str, Any]]:
    """Ground-truth events implied by turn styles, overlaps and threat flags."""
    events: list[dict[str, Any]] = []
    for i, t in enumerate(turns):
        span = {"role": t.role, "start_s": t.start_s, "end_s": t.end_s}
        if t.style in ("raised", "raised_rapid"):
            events.append({"type": "raised_voice", **span})
        if t.style in ("rapid", "raised_rapid"):
            events.append({"type": "rapid_speech", **span})
        other = [p for p in turns[:i] if p.role != t.role]
        if other and len(t.text.split()) >= INTERRUPTION_MIN_WORDS:
            prev = other[-1]
            overlap = prev.end_s - t.start_s
            # a sentence cut off (no final stop) counts even when the overlap is short: its speaker stopped
            broken = not prev.text.rstrip().endswith((".", "?", "!")) or prev.text.rstrip().endswith("...")
            if overlap >= INTERRUPTION_MIN_OVERLAP_S or (broken and overlap >= INTERRUPTION_CUT_OVERLAP_S):
                events.append({"type": "interruption", "role": t.role, "start_s": t.start_s,
                               "end_s": min(prev.end_s, t.end_s)})
        if t.threat:
            events.append({"type": "threat", **span})
    events.sort(key=lambda e: (e["start_s"], e["type"]))
    return [{**e, "start_s": round(e["start_s"], 3), "end_s": round(e["end_s"], 3)}
            for e in events]


# ------------------------------------------------------------------ render


def render_call(spec: dict[str, Any], out_dir: Path) -> Path:
    """Render one dialogue spec to ``out_dir``; return the audio file's path.

    Writes ``<id>.<format>``, ``<id>.truth.json``, ``<id>.txt`` and
    ``<id>.rttm`` (see the module docstring).

    Raises:
        SpecError: the spec is invalid.
        RenderError: flite, espeak-ng or sox failed or is missing.
    """
    spec = validate_spec(spec, source=str(spec.get("id", "<spec>")) if isinstance(spec, dict)
                         else "<spec>")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    sr = spec["sample_rate_hz"]
    with tempfile.TemporaryDirectory(prefix="make_calls_") as tmp_name:
        tmp = Path(tmp_name)
        clips = [_render_turn(t, spec, tmp, i) for i, t in enumerate(spec["turns"])]
        placed = place_turns(spec["turns"], [len(c) / sr for c in clips])
        starts = [int(round(p.start_s * sr)) for p in placed]
        n = max(s + len(c) for s, c in zip(starts, clips)) + int(round(spec["tail_s"] * sr))
        tracks = {role: np.zeros(n, np.float32) for role in ROLES}
        for p, s, c in zip(placed, starts, clips):
            tracks[p.role][s: s + len(c)] += c
        if spec["channels"] == 1:
            audio = (tracks["agent"] + tracks["customer"] + _noise(n, spec, 0))[:, None]
        else:
            leak = np.float32(10 ** (spec["crosstalk_db"] / 20))
            a_ch = spec["agent_channel"]
            audio = np.zeros((n, 2), np.float32)
            audio[:, a_ch] = tracks["agent"] + leak * tracks["customer"] + _noise(n, spec, a_ch)
            audio[:, 1 - a_ch] = (tracks["customer"] + leak * tracks["agent"]
                                  + _noise(n, spec, 1 - a_ch))
        audio = _soft_limit(audio)
        audio_path = out_dir / f"{spec['id']}.{spec['format']}"
        _write_audio(audio_path, audio, sr, spec["format"], tmp)
    # exact sample positions, so the truth matches the written audio
    placed = [PlacedTurn(p.role, p.text, p.style, p.threat, s / sr, (s + len(c)) / sr)
              for p, s, c in zip(placed, starts, clips)]
    _write_truth(spec, placed, audio_path, n / sr, out_dir)
    return audio_path


def _write_truth(spec: dict[str, Any], placed: list[PlacedTurn], audio_path: Path,
                 duration_s: float, out_dir: Path) -> None:
    cid = spec["id"]
    truth = {
        "id": cid,
        "file": audio_path.name,
        "channels": spec["channels"],
        "sample_rate_hz": spec["sample_rate_hz"],
        "duration_s": round(duration_s, 3),
        "agent_channel": spec["agent_channel"] if spec["channels"] == 2 else None,
        "turns": [{"role": p.role, "start_s": round(p.start_s, 3), "end_s": round(p.end_s, 3),
                   "text": p.text, "style": p.style, "threat": p.threat} for p in placed],
        "events": derive_events(placed),
        "expected": spec["expected"],
    }
    (out_dir / f"{cid}.truth.json").write_text(json.dumps(truth, indent=2) + "\n",
                                               encoding="utf-8")
    (out_dir / f"{cid}.txt").write_text(
        "".join(f"{p.role.upper()}: {p.text}\n" for p in placed), encoding="utf-8")
    (out_dir / f"{cid}.rttm").write_text(
        "".join(f"SPEAKER {cid} 1 {p.start_s:.3f} {p.end_s - p.start_s:.3f} "
                f"<NA> <NA> {p.role} <NA> <NA>\n" for p in placed), encoding="utf-8")


# --------------------------------------------------------------------- CLI


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry; exit status 0 all rendered, 1 some failed, 2 usage error."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dialogues", nargs="*", type=Path, help="dialogue YAML files")
    parser.add_argument("--out", type=Path, help="output folder")
    parser.add_argument("--demo", action="store_true",
                        help="regenerate audio_samples/ from audio_samples/dialogues/*.yaml")
    parser.add_argument("--calm-max-syllables-per-s", type=float, default=None, metavar="N",
                        help="slow calm-level turns faster than N syllables/s (for dialogues "
                             f"that do not set calm_max_syllables_per_s; default off; the "
                             f"corpus uses {CALM_MAX_SYLLABLES_PER_S})")
    args = parser.parse_args(argv)
    if args.demo:
        if args.dialogues:
            parser.error("--demo takes no dialogue files")
        dialogues = sorted((DEMO_DIR / "dialogues").glob("*.yaml"))
        out = args.out or DEMO_DIR
    else:
        if not args.dialogues or args.out is None:
            parser.error("give DIALOGUE.yaml files and --out DIR, or --demo")
        dialogues, out = args.dialogues, args.out
    missing = [str(p) for p in dialogues if not p.is_file()]
    if missing or not dialogues:
        parser.error(f"no such dialogue file(s): {', '.join(missing) or '(none found)'}")
    if shutil.which("sox") is None:
        print("error: sox is not installed", file=sys.stderr)
        return 1
    failed = 0
    defaults = ({"calm_max_syllables_per_s": args.calm_max_syllables_per_s}
                if args.calm_max_syllables_per_s is not None else None)
    for path in dialogues:
        try:
            audio = render_call(load_spec(path, defaults), out)
        except (SpecError, RenderError, yaml.YAMLError, OSError) as exc:
            print(f"FAILED {path}: {exc}", file=sys.stderr)
            failed += 1
            continue
        truth = json.loads((out / f"{audio.stem}.truth.json").read_text(encoding="utf-8"))
        print(f"{audio}  {truth['duration_s']:.1f} s  {audio.stat().st_size / 1024:.0f} KiB  "
              f"{len(truth['turns'])} turns  {len(truth['events'])} events")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
