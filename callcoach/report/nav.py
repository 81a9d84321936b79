"""A call report's way back to the index and on to the previous and next call (in the index's default order,
worst first). :func:`callcoach.batch.run.write_index` splices it into every report after a run, so a report is
never rendered again for it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

NAV_START = "<!--callcoach:nav-->"
NAV_END = "<!--/callcoach:nav-->"
"""Around the call report's navigation, so the index can update previous/next without rendering the report again."""


def call_nav(rows: Sequence[Mapping[str, Any]], i: int, index_href: str = "index.html") -> dict[str, Any]:
    """Navigation of the ``i``-th call of ``rows`` (in the index's default order): back, previous, next."""

    def link(r: Mapping[str, Any] | None) -> dict[str, str] | None:
        if r is None:
            return None
        return {"href": str(r.get("href", "")), "label": str(r.get("call_id", "")),
                "score": "review" if r.get("needs_review") else str(r.get("score_text", ""))}

    return {"index": index_href, "prev": link(rows[i - 1] if i > 0 else None),
            "next": link(rows[i + 1] if i + 1 < len(rows) else None),
            "position": f"{i + 1} of {len(rows)}, worst first"}


def replace_nav(html: str, fragment: str) -> str:
    """``html`` with the part between :data:`NAV_START` and :data:`NAV_END` replaced (unchanged when absent)."""
    a = html.find(NAV_START)
    b = html.find(NAV_END, a + 1) if a >= 0 else -1
    if a < 0 or b < 0:
        return html
    return html[:a + len(NAV_START)] + fragment + html[b:]
