"""Reviewers' corrections: a person says what a check's status should have been, and why.

Reviews live in the results store (table ``reviews``, docs/STORE.md), never
in the machine's result: the store keeps what the scorer said, the reviews
say what the reviewer said, and the outputs (``<id>.json``, ``<id>.html``,
the index, ``calls.csv``, the trends) show the two merged by
:func:`apply_reviews`, each corrected check marked as corrected. The latest
review of a check wins. A review that agrees with the scorer is a
confirmation: it changes nothing shown, and counts as agreement in
:func:`agreement`, the scorer's accuracy on the team's own calls
(``callcoach eval --reviews DIR``).

Reviews come from ``callcoach review`` (:func:`callcoach.batch.run.review_calls`) or from a corrections file, the JSON
the call report's "Mark as wrong" controls save (:func:`read_corrections`)::

    {"callcoach_corrections": 1, "call_id": "calm_billing", "reviewer": "Dana",
     "confirm_others": true,
     "corrections": [{"check": "apology", "status": "pass", "note": "said sorry at 0:41"}]}

``confirm_others`` (default false) confirms every other check of the call as
the scorer judged it: the reviewer went through the whole form.
"""

from __future__ import annotations

import copy
import datetime as _dt
import html
import json
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from callcoach.batch.store import Store
from callcoach.errors import UsageError
from callcoach.files import write_atomic
from callcoach.records import result_to_dict

REVIEW_STATUSES = ("pass", "fail", "na")
CORRECTIONS_FORMAT = 1


@dataclass(frozen=True)
class Review:
    """One reviewer's verdict on one check of one call. ``created_at`` is ISO 8601 UTC; ``origin`` is
    ``cli`` or ``file:<name>``; ``machine_status`` is the scorer's status when the review was recorded."""

    call_id: str
    check_id: str
    status: str
    reviewer: str
    note: str = ""
    created_at: str = ""
    origin: str = "cli"
    machine_status: str | None = None


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _machine_statuses(store: Store, call_id: str) -> dict[str, str]:
    row = store.db.execute("SELECT status FROM calls WHERE call_id = ?", (call_id,)).fetchone()
    if row is None:
        known = [r[0] for r in store.db.execute("SELECT call_id FROM calls WHERE status = 'scored' ORDER BY call_id LIMIT 5")]
        raise UsageError(f"call {call_id!r} is not in {store.path}" + (f" (calls there include {', '.join(known)})" if known else ""))
    if row[0] != "scored":
        raise UsageError(f"call {call_id!r} failed to score; there is nothing to review")
    return {r[0]: r[1] for r in store.db.execute("SELECT check_id, status FROM checks WHERE call_id = ?", (call_id,))}


def record_reviews(store: Store, reviews: Sequence[Review], *, confirm_others: Mapping[str, str] | None = None,
                   ) -> list[Review]:
    """Validate ``reviews`` against the store and record them in one transaction; returns what was recorded.

    ``confirm_others``: call id -> reviewer; that call's checks without a
    review (in ``reviews`` or from before) are confirmed as the scorer judged them.

    Raises:
        UsageError: an unknown call or check, or a status other than pass, fail, na.
    """
    recorded: list[Review] = []
    machine: dict[str, dict[str, str]] = {}
    for r in reviews:
        statuses = machine.setdefault(r.call_id, _machine_statuses(store, r.call_id))
        if r.check_id not in statuses:
            raise UsageError(f"call {r.call_id!r} has no check {r.check_id!r}; its checks: {', '.join(sorted(statuses))}")
        if r.status not in REVIEW_STATUSES:
            raise UsageError(f"status must be one of {', '.join(REVIEW_STATUSES)}; got {r.status!r}")
        if not r.reviewer.strip():
            raise UsageError("a review needs the reviewer's name (--reviewer NAME)")
        recorded.append(Review(r.call_id, r.check_id, r.status, r.reviewer.strip(), r.note.strip(),
                               r.created_at or _now(), r.origin, statuses[r.check_id]))
    by_call = {r.call_id: r for r in recorded}
    for call_id, reviewer in (confirm_others or {}).items():
        if not reviewer.strip():
            raise UsageError("a review needs the reviewer's name (--reviewer NAME)")
        statuses = machine.setdefault(call_id, _machine_statuses(store, call_id))
        # a check reviewed before (or in this batch) keeps that verdict: confirming "the rest" is not re-judging it
        done = {r.check_id for r in recorded if r.call_id == call_id} | {
            row[0] for row in store.db.execute("SELECT DISTINCT check_id FROM reviews WHERE call_id = ?", (call_id,))}
        first = by_call.get(call_id)
        for check_id, status in statuses.items():
            if check_id not in done:
                recorded.append(Review(call_id, check_id, status, reviewer.strip(), "",
                                       first.created_at if first else _now(), first.origin if first else "cli", status))
    with store._tx():
        store.db.executemany(
            "INSERT INTO reviews (call_id, check_id, status, machine_status, reviewer, note, created_at, origin)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [(r.call_id, r.check_id, r.status, r.machine_status, r.reviewer, r.note, r.created_at, r.origin)
             for r in recorded],
        )
    return recorded


def latest_reviews(store: Store) -> dict[str, dict[str, Review]]:
    """The latest review of every reviewed check: ``{call_id: {check_id: Review}}``."""
    out: dict[str, dict[str, Review]] = defaultdict(dict)
    rows = store.db.execute(
        "SELECT call_id, check_id, status, reviewer, note, created_at, origin, machine_status FROM reviews"
        " WHERE review_id IN (SELECT MAX(review_id) FROM reviews GROUP BY call_id, check_id)"
    )
    for row in rows:
        out[row[0]][row[1]] = Review(*row)
    return dict(out)


def weighted_score(checks: Iterable[Mapping[str, Any]]) -> float:
    """The scorecard's score (0-100) from checks' ``status`` and ``weight``: the weighted share of
    applicable checks passed, 100 when none applies (as :mod:`callcoach.scorecard` computes it)."""
    judged = [(str(c.get("status")), float(c.get("weight") or 0.0)) for c in checks if c.get("status") != "na"]
    total = sum(w for _, w in judged)
    return round(100.0 * sum(w for s, w in judged if s == "pass") / total, 1) if total > 0 else 100.0


def apply_reviews(result: Mapping[str, Any], reviews: Mapping[str, Review]) -> dict[str, Any]:
    """``result`` (a JSON result) with each reviewed check's status as the reviewer set it.

    A check whose status changed gets ``corrected: true``, ``machine_status``
    and ``review`` (``reviewer``, ``at``, ``note``); the scorecard's ``score``
    and ``failed_critical`` follow the corrected statuses, with the scorer's
    own in ``machine_score`` and ``corrected`` (how many checks changed); a
    check corrected to pass or na loses its ``better_phrasing`` and its tip
    leaves ``work_on``.
    Returns ``result`` itself when no review changes anything.
    """
    checks = (result.get("scorecard") or {}).get("checks") or ()
    if not any(c.get("id") in reviews and reviews[c["id"]].status != c.get("status") for c in checks):
        return dict(result)
    out = copy.deepcopy(dict(result))
    sc = out["scorecard"]
    n = 0
    cleared: set[str] = set()
    for c in sc["checks"]:
        r = reviews.get(c.get("id"))
        if r is None or r.status == c.get("status"):
            continue
        c.update(corrected=True, machine_status=c.get("status"), status=r.status,
                 review={"reviewer": r.reviewer, "at": r.created_at, "note": r.note})
        if r.status != "fail":  # no longer something to work on
            cleared.add(str(c.get("tip") or ""))
            c["better_phrasing"] = ""
        n += 1
    sc["work_on"] = [t for t in sc.get("work_on") or () if t not in cleared]
    sc["machine_score"] = sc.get("score")
    sc["score"] = weighted_score(sc["checks"])
    sc["failed_critical"] = [c["id"] for c in sc["checks"] if c.get("critical") and c.get("status") == "fail"]
    sc["corrected"] = n
    return out


# --------------------------------------------------------------- corrections file


@dataclass(frozen=True)
class Corrections:
    """A corrections file: its call, reviewer, corrections and whether the call's other checks are confirmed."""

    call_id: str
    reviewer: str
    reviews: tuple[Review, ...]
    confirm_others: bool


def read_corrections(path: Path | str) -> Corrections:
    """Read and validate a corrections file saved from a call report.

    Raises:
        UsageError: naming the file, the key and the bad value.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"{path}: file not found") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise UsageError(f"{path}: not a readable JSON corrections file ({exc})") from None

    def bad(key: str, problem: str) -> UsageError:
        return UsageError(f"{path}: {key}: {problem}")

    if not isinstance(data, dict) or data.get("callcoach_corrections") != CORRECTIONS_FORMAT:
        raise bad("callcoach_corrections", f"must be {CORRECTIONS_FORMAT} (a file saved from a callcoach report), "
                  f"got {data.get('callcoach_corrections') if isinstance(data, dict) else type(data).__name__!r}")
    call_id, reviewer = data.get("call_id"), data.get("reviewer")
    if not isinstance(call_id, str) or not call_id:
        raise bad("call_id", f"must be the call's id, got {call_id!r}")
    if not isinstance(reviewer, str) or not reviewer.strip():
        raise bad("reviewer", f"must be the reviewer's name, got {reviewer!r}")
    confirm = data.get("confirm_others", False)
    if not isinstance(confirm, bool):
        raise bad("confirm_others", f"must be true or false, got {confirm!r}")
    items = data.get("corrections", [])
    if not isinstance(items, list):
        raise bad("corrections", f"must be a list, got {items!r}")
    reviews = []
    for i, item in enumerate(items):
        key = f"corrections[{i}]"
        if not isinstance(item, dict):
            raise bad(key, f"must be an object with check, status and note, got {item!r}")
        check, status, note = item.get("check"), item.get("status"), item.get("note", "")
        if not isinstance(check, str) or not check:
            raise bad(f"{key}.check", f"must be a check id, got {check!r}")
        if status not in REVIEW_STATUSES:
            raise bad(f"{key}.status", f"must be one of {', '.join(REVIEW_STATUSES)}; got {status!r}")
        if not isinstance(note, str):
            raise bad(f"{key}.note", f"must be text, got {note!r}")
        at = item.get("at") or data.get("saved_at") or ""
        reviews.append(Review(call_id, check, status, reviewer, note, str(at), f"file:{path.name}"))
    if not reviews and not confirm:
        raise bad("corrections", "holds no correction and does not confirm the call (confirm_others)")
    return Corrections(call_id, reviewer.strip(), tuple(reviews), confirm)


# ------------------------------------------------------------- outputs and agreement

_PLAYER = re.compile(r'<audio id="player"[^>]*\ssrc="([^"]*)"')


def _audio_href(html_path: Path) -> str | None:
    """The recording link of an existing call report (reports are re-rendered without the audio at hand)."""
    try:
        m = _PLAYER.search(html_path.read_text(encoding="utf-8"))
    except OSError:
        return None
    return html.unescape(m.group(1)) if m else None


def refresh_outputs(out_dir: Path | str, store: Store, call_ids: Iterable[str], renderer) -> None:
    """Rewrite ``<id>.json`` and ``<id>.html`` of ``call_ids`` with their reviews applied."""
    out_dir = Path(out_dir)
    reviews = latest_reviews(store)
    for call_id in dict.fromkeys(call_ids):
        result = store.result(call_id)
        if result is None:
            continue
        # the reviewed view is JSON: a correction adds fields (corrected, machine_status, review) no record has
        shown = apply_reviews(result_to_dict(result), reviews.get(call_id, {}))
        href = _audio_href(out_dir / f"{call_id}.html")
        write_atomic(out_dir / f"{call_id}.json", json.dumps(shown, indent=2, ensure_ascii=False))
        write_atomic(out_dir / f"{call_id}.html", renderer.render_call(shown, href))


def refresh_reviewed(out_dir: Path | str, store: Store, call_ids: Iterable[str], renderer) -> None:
    """After a run: rewrite the outputs of those of ``call_ids`` that reviewers corrected, which the run
    wrote (or rewrote for new metadata) as the scorer made them."""
    reviewed = {r[0] for r in store.db.execute("SELECT DISTINCT call_id FROM reviews")}
    refresh_outputs(out_dir, store, [c for c in call_ids if c in reviewed], renderer)


@dataclass(frozen=True)
class CheckAgreement:
    """How often the scorer's current status of one check matches the reviewers' (``confusion``:
    ``(scorer, reviewer) -> count``)."""

    check_id: str
    reviewed: int
    agreed: int
    confusion: Mapping[tuple[str, str], int]

    @property
    def rate(self) -> float:
        return self.agreed / self.reviewed if self.reviewed else float("nan")


def agreement(store: Store) -> list[CheckAgreement]:
    """Per check: the latest review of each reviewed call against the scorer's status now (a call scored
    again after a rubric or model change is judged on its new status)."""
    current = {(r[0], r[1]): r[2] for r in store.db.execute(
        "SELECT k.call_id, k.check_id, k.status FROM checks k JOIN calls c USING (call_id) WHERE c.status = 'scored'")}
    tally: dict[str, Counter] = defaultdict(Counter)
    for call_id, by_check in latest_reviews(store).items():
        for check_id, r in by_check.items():
            machine = current.get((call_id, check_id))
            if machine is not None:
                tally[check_id][(machine, r.status)] += 1
    return [CheckAgreement(cid, sum(t.values()), sum(n for (m, h), n in t.items() if m == h), dict(t))
            for cid, t in sorted(tally.items())]


def agreement_table(rows: Sequence[CheckAgreement]) -> str:
    """A Markdown table of :func:`agreement` rows, with a total line."""
    lines = ["| check | reviewed | agreed | agreement | scorer pass, reviewer fail | scorer fail, reviewer pass | other |",
             "|---|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        pf = r.confusion.get(("pass", "fail"), 0)
        fp = r.confusion.get(("fail", "pass"), 0)
        other = r.reviewed - r.agreed - pf - fp
        lines.append(f"| {r.check_id} | {r.reviewed} | {r.agreed} | {r.rate:.3f} | {pf} | {fp} | {other} |")
    total, agreed = sum(r.reviewed for r in rows), sum(r.agreed for r in rows)
    lines.append(f"| **all** | {total} | {agreed} | {agreed / total if total else float('nan'):.3f} | | | |")
    return "\n".join(lines)


__all__ = ["CORRECTIONS_FORMAT", "REVIEW_STATUSES", "CheckAgreement", "Corrections", "Review", "agreement",
           "agreement_table", "apply_reviews", "latest_reviews", "read_corrections", "record_reviews",
           "refresh_outputs", "refresh_reviewed", "weighted_score"]
