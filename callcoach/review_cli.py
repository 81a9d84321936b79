"""The ``callcoach review`` command, and ``callcoach eval --reviews``: a reviewer's corrections from the command line
or from a corrections file saved in a call report (:mod:`callcoach.batch.review`). Kept beside ``cli.py``, which
adds the command to its parser."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import TextIO

from callcoach.batch.review import Review, agreement, agreement_table, read_corrections
from callcoach.batch.run import MARKER, review_calls
from callcoach.batch.store import STORE_NAME, Store
from callcoach.errors import UsageError

REVIEW_EPILOG = """\
examples:
  callcoach review calm_billing apology --status pass --note "apologised at 0:41" --out qa
  callcoach review calm_billing --confirm --out qa          # every other check is right
  callcoach review --import ~/Downloads/calm_billing.corrections.json --out qa

The call's JSON and report, the index, calls.csv and trends.csv are rewritten
with the corrected statuses, each marked as corrected; the store keeps who,
when and why (docs/STORE.md). 'callcoach eval --reviews DIR' prints how often
the scorer agrees with the reviewers, per check.
"""


def add_review(sub) -> None:
    """Add ``review`` to the CLI's sub-parsers."""
    review = sub.add_parser(
        "review",
        help="correct a check's status (or import a corrections file saved from a report)",
        description="Record a reviewer's verdict on a scored call's check: what its status should be, and why.",
        epilog=REVIEW_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    review.set_defaults(handler=_review)
    review.add_argument("call", nargs="?", metavar="CALL", help="the call id (its report is CALL.html)")
    review.add_argument("check", nargs="?", metavar="CHECK", help="the check id (e.g. apology)")
    review.add_argument("--status", choices=["pass", "fail", "na"], help="what the check's status should be")
    review.add_argument("--note", default="", metavar="TEXT", help="why (shown in the report)")
    review.add_argument("--confirm", action="store_true", help="the call's other checks are right as scored")
    review.add_argument("--reviewer", metavar="NAME", help="who reviews (default: your login name)")
    review.add_argument("--import", dest="imports", action="append", type=Path, default=[], metavar="FILE",
                        help="a corrections file saved from a call report's 'Mark as wrong' controls (repeatable)")
    review.add_argument("--out", "-o", type=Path, default=Path("."), metavar="DIR",
                        help="the report folder written by 'callcoach score' (default: the current folder)")
    review.add_argument("--templates", type=Path, metavar="DIR", help="folder of report templates overriding the defaults")


def _review(args: argparse.Namespace, err: TextIO) -> int:
    reviews: list[Review] = []
    confirm: dict[str, str] = {}
    if args.imports:
        if args.call or args.check or args.status or args.confirm:
            raise UsageError("--import takes the corrections from the file: give no CALL, CHECK, --status or --confirm")
        for path in args.imports:
            found = read_corrections(path)
            reviews += found.reviews
            if found.confirm_others:
                confirm[found.call_id] = found.reviewer
    else:
        if not args.call:
            raise UsageError("give CALL and CHECK with --status (or CALL --confirm), or --import FILE")
        if args.check and not args.status:
            raise UsageError(f"what should {args.check!r} be? add --status pass|fail|na")
        if not args.check and not args.confirm:
            raise UsageError("give the CHECK to correct with --status, or --confirm to accept the call's checks as scored")
        try:
            reviewer = args.reviewer or getpass.getuser()
        except (KeyError, OSError):
            raise UsageError("cannot tell who you are: add --reviewer NAME") from None
        if args.check:
            reviews.append(Review(args.call, args.check, args.status, reviewer, args.note))
        if args.confirm:
            confirm[args.call] = reviewer
    recorded = review_calls(args.out, reviews, confirm, templates=args.templates)
    changed = [r for r in recorded if r.status != r.machine_status]
    for r in changed:
        err.write(f"{r.call_id} {r.check_id}: {r.machine_status} -> {r.status} (by {r.reviewer}"
                  f"{': ' + r.note if r.note else ''})\n")
    err.write(f"recorded {len(recorded)} review(s): {len(changed)} correction(s), {len(recorded) - len(changed)} "
              f"confirmation(s); reports updated in {args.out}\n")
    return 0


def print_agreement(out_dir: Path) -> None:
    """``eval --reviews DIR``: the scorer's agreement with the reviewers, per check (Markdown on stdout)."""
    if not (out_dir / MARKER).is_file() or not (out_dir / STORE_NAME).is_file():
        raise UsageError(f"--reviews {out_dir}: not a folder of callcoach reports with a results store")
    with Store(out_dir / STORE_NAME) as store:
        rows = agreement(store)
        n_calls = store.db.execute("SELECT COUNT(DISTINCT call_id) FROM reviews").fetchone()[0]
    if not rows:
        raise UsageError(f"--reviews {out_dir}: no reviews yet (callcoach review ... --out {out_dir})")
    sys.stdout.write(f"## Scorer agreement with reviewers ({n_calls} reviewed call(s) in {out_dir})\n\n"
                     + agreement_table(rows) + "\n")



__all__ = ["add_review", "print_agreement"]
