#!/usr/bin/env python3
"""Score calls that have ground truth (``<id>.truth.json`` beside the audio) and print the accuracy tables.

    python scripts/evaluate.py audio_samples            # the demo calls
    python scripts/evaluate.py audio_samples --markdown BENCHMARKS-demo.md
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from callcoach.evaluate import benchmarks_document, evaluate, markdown_report, summary
from callcoach.settings import Settings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--markdown", type=Path, help="also write the tables, with machine and settings, to this file")
    parser.add_argument("--title", default="Evaluation", help="heading of the Markdown section")
    parser.add_argument("--asr-model", default="tiny.en")
    parser.add_argument("--mono-mix", action="store_true", help="also score each stereo call as the mono mix of its channels")
    args = parser.parse_args()

    def progress(score):
        print(f"  {score.call_id}: checks {score.checks_agree}/{score.checks_total}, DER {score.der:.3f}, RTF {score.rtf:.3f}", file=sys.stderr)

    settings = Settings(asr_model=args.asr_model)
    ev = evaluate(args.paths, settings, mono_mix=args.mono_mix, on_call=progress)
    text = markdown_report(ev)
    print(text)
    print("summary:", {k: round(v, 3) for k, v in summary(ev).items()})
    if args.markdown:
        command = "python scripts/evaluate.py " + " ".join(str(p) for p in args.paths) + (" --mono-mix" if args.mono_mix else "")
        args.markdown.write_text(benchmarks_document(ev, settings, args.title, command), encoding="utf-8")
    return 1 if ev.failures else 0


if __name__ == "__main__":
    sys.exit(main())
