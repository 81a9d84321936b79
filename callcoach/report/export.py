"""Exports for other tools: the batch index as CSV (``calls.csv``, one row per call) and who-spoke-when
as RTTM.

RTTM is the usual exchange format for who-spoke-when (NIST Rich Transcription).

One ``SPEAKER`` line per speech segment: recording id, channel 1, start and
duration in seconds, and the speaker's name. Read by pyannote.metrics,
dscore and most diarization tools.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from callcoach.errors import UsageError
from callcoach.records import SpeechSegment
from callcoach.report.style import CSV_EVENT_TYPES, ROLES

# ----------------------------------------------------------------------- csv

_CSV_UNSAFE = ("=", "+", "-", "@", "\t", "\r")


def _csv_text(value: str) -> str:
    """Neutralise text a spreadsheet would run as a formula (file names come from users)."""
    return "'" + value if value.startswith(_CSV_UNSAFE) else value


CSV_CONVERSATION_COLUMNS = (
    "needs_review", "review_reasons", "agent_faults", "customer_difficulty",
    "non_talk_share", "overlap_s", "longest_monologue_s", "turn_switches_per_min",
    "customer_sentiment_q1", "customer_sentiment_q2", "customer_sentiment_q3", "customer_sentiment_q4",
)


def _blank(value: Any) -> Any:
    return "" if value is None else value


def _conversation_cells(r: Mapping[str, Any]) -> list[Any]:
    quarters = list(r.get("customer_sentiment", ()) or ())
    quarters += [""] * (4 - len(quarters))
    return [
        "yes" if r.get("needs_review") else "no", _csv_text("; ".join(r.get("review_codes", ()) or ())),
        r.get("agent_faults", 0), r.get("customer_difficulty", 0),
        _blank(r.get("non_talk_share")), _blank(r.get("overlap_s")), _blank(r.get("longest_monologue_s")),
        _blank(r.get("turn_switches_per_min")), *quarters[:4],
    ]


def write_csv(rows: Sequence[Mapping[str, Any]], path: Path) -> None:
    """Write ``calls.csv``: one row per call, from :func:`index_row` rows.

    Columns: call_id, source, agent, duration_s, score, customer_trajectory,
    line_snr_db (the noisiest party's speech over their line's noise, empty
    when unknown), ``<event>_<role>`` counts for each event type and role (agent, customer,
    then any other role found, such as ``unknown`` for silences), failed_checks
    (count), failed_check_ids (``;``-separated), needs_review (yes/no: not a
    two-party call, or roles uncertain) and review_reasons (the reason codes),
    agent_faults and customer_difficulty (event counts), non_talk_share (0-1 of
    the call), overlap_s, longest_monologue_s, turn_switches_per_min,
    customer_sentiment_q1..q4 (upset, negative, neutral, positive or silent),
    then ``check_<id>`` with each check's status (empty when the check was not
    run on that call; a reviewer's correction when there is one), then team,
    date, week (``2026-W48``, the trends' week), failed_critical
    (``;``-separated ids: any fails the call) and corrected_checks (how many a
    reviewer corrected).
    """
    kinds = list(CSV_EVENT_TYPES)
    check_ids: list[str] = []
    for r in rows:
        kinds += [k for k in r.get("event_counts", {}) if k not in kinds]
        check_ids += [c for c in r.get("checks", {}) if c not in check_ids]
    roles = list(ROLES)
    for r in rows:
        for by_role in r.get("event_counts", {}).values():
            roles += [x for x in by_role if x not in roles]
    event_cols = [(k, role) for k in kinds for role in roles]
    header = ["call_id", "source", "agent", "duration_s", "score", "customer_trajectory", "line_snr_db",
              *[f"{k}_{role}" for k, role in event_cols], "failed_checks", "failed_check_ids",
              *CSV_CONVERSATION_COLUMNS, *[f"check_{c}" for c in check_ids], "team", "date", "week", "failed_critical",
              "corrected_checks"]
    with Path(path).open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        for r in rows:
            counts = r.get("event_counts", {})
            checks = r.get("checks", {})
            writer.writerow([
                _csv_text(str(r.get("call_id", ""))), _csv_text(str(r.get("source", ""))),
                _csv_text(str(r.get("agent", ""))),
                r.get("duration_s", ""), "" if r.get("score") is None else r["score"],
                r.get("trajectory", ""), "" if r.get("line_snr_db") is None else r["line_snr_db"],
                *[counts.get(k, {}).get(role, 0) for k, role in event_cols],
                len(r.get("failed", ())), ";".join(r.get("failed", ())),
                *_conversation_cells(r),
                *[checks.get(c, "") for c in check_ids],
                _csv_text(str(r.get("team", ""))), r.get("date", ""), r.get("week", ""),
                ";".join(r.get("failed_critical", ())), r.get("corrected", 0),
            ])


# ----------------------------------------------------------------------- rttm


def _safe_token(text: str) -> str:
    """RTTM fields are separated by whitespace: a recording id with spaces keeps its words joined by '_'."""
    return "_".join(text.split()) or "call"


def to_rttm(recording_id: str, segments: Iterable[SpeechSegment]) -> str:
    uri = _safe_token(recording_id)
    return "".join(
        f"SPEAKER {uri} 1 {s.start_s:.3f} {s.end_s - s.start_s:.3f} <NA> <NA> {_safe_token(s.speaker)} <NA> <NA>\n"
        for s in sorted(segments, key=lambda s: (s.start_s, s.speaker))
    )


def read_rttm(path: Path) -> list[SpeechSegment]:
    """Every ``SPEAKER`` line of an RTTM file as a segment (the recording id is not kept)."""
    out = []
    for number, line in enumerate(Path(path).read_text(encoding="utf-8").splitlines(), 1):
        parts = line.split()
        if not parts or parts[0] != "SPEAKER":
            continue
        try:
            start_s, duration_s = float(parts[3]), float(parts[4])
            out.append(SpeechSegment(parts[7], start_s, start_s + duration_s))
        except (IndexError, ValueError):
            raise UsageError(f"{path}: line {number} is not an RTTM SPEAKER line: {line.strip()!r}") from None
    return out


__all__ = ["read_rttm", "to_rttm", "write_csv"]
