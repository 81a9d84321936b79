"""HTML reports, one per call and one index per run, rendered from jinja2 templates.

Everything shown is prepared as a view-model of plain values (:mod:`callcoach.report.views`,
:mod:`callcoach.report.index_view`): time strings, sorting, SVG geometry, status labels
and colours. The jinja2 templates only loop over and test those values, with
autoescape on, so text from a recording or a file name can never become
markup.

Templates are looked up first in a user folder (``--templates DIR``) and then
in the packaged defaults (``reports/templates`` in a checkout, installed as
``callcoach.templates``)."""

from __future__ import annotations

import importlib.resources
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from callcoach.errors import TemplateError
from callcoach.report.index_view import _index_view
from callcoach.report.style import _TEMPLATE_NAMES
from callcoach.report.svg import fmt_time
from callcoach.report.views import call_view

# ------------------------------------------------------------------ renderer


def default_templates_dir() -> Path:
    """The packaged templates: ``callcoach.templates`` when installed, else ``reports/templates``."""
    try:
        res = importlib.resources.files("callcoach.templates")
        path = Path(str(res))
        if path.is_dir() and (path / "call.html").is_file():
            return path
    except (ModuleNotFoundError, TypeError, ValueError, FileNotFoundError):
        pass
    return Path(__file__).resolve().parents[2] / "reports" / "templates"


class ReportRenderer:
    """Renders call reports and the batch index from jinja2 templates.

    ``templates_dir`` (optional) is searched before the packaged templates, so
    a team can override any single template (``call.html``, ``index.html``,
    or a partial such as ``_styles.html``). All templates are loaded and
    compiled here, eagerly.

    Raises:
        TemplateError: ``templates_dir`` is not a folder, or a template is
            missing or does not compile (the message names the file and, for
            syntax errors, the line).
    """

    def __init__(self, templates_dir: Path | None = None) -> None:
        search: list[Path] = []
        if templates_dir is not None:
            templates_dir = Path(templates_dir)
            if not templates_dir.is_dir():
                raise TemplateError(f"{templates_dir}: templates folder not found")
            search.append(templates_dir)
        search.append(default_templates_dir())
        self.search_path = tuple(search)
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader([str(p) for p in search]),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        self.env.filters["time"] = fmt_time
        names = [*_TEMPLATE_NAMES, *sorted(n for n in self._list() if n.endswith(".html") and n not in _TEMPLATE_NAMES)]
        self.templates = {name: self._load(name) for name in names}

    def _list(self) -> list[str]:
        try:
            return self.env.list_templates()
        except OSError:
            return []

    def _load(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateNotFound:
            where = ", ".join(str(p) for p in self.search_path)
            raise TemplateError(f"{name}: template not found (looked in {where})") from None
        except jinja2.TemplateSyntaxError as exc:
            file = exc.filename or name
            raise TemplateError(f"{file}:{exc.lineno}: template syntax error: {exc.message}") from exc
        except jinja2.TemplateError as exc:
            raise TemplateError(f"{name}: cannot load template: {exc}") from exc

    def _render(self, name: str, view: Mapping[str, Any]) -> str:
        template = self.templates[name]
        try:
            return template.render(**view)
        except jinja2.TemplateError as exc:
            file = getattr(exc, "filename", None) or template.filename or name
            line = getattr(exc, "lineno", None)
            where = f"{file}:{line}" if line else str(file)
            raise TemplateError(f"{where}: cannot render template: {exc}") from exc

    def render_call(self, result: Mapping[str, Any], audio_href: str | None,
                    nav: Mapping[str, Any] | None = None) -> str:
        """The per-call report (a complete, self-contained HTML page); ``nav``: :func:`callcoach.report.nav.call_nav`."""
        return self._render("call.html", call_view(result, audio_href, nav))

    def render_nav(self, nav: Mapping[str, Any]) -> str:
        """The call report's navigation (:func:`callcoach.report.nav.call_nav`), for :func:`~callcoach.report.nav.replace_nav`."""
        return self._render("_callnav.html", {"nav": nav})

    def render_index(self, rows: Sequence[Mapping[str, Any]], agents: Sequence[Mapping[str, Any]],
                     trends: Mapping[str, Any] | None = None) -> str:
        """The batch index page from :func:`index_row` rows and :func:`agent_summaries`;
        ``trends``: :func:`callcoach.report.trends_view.trends_view` (a run with a results store), else None."""
        return self._render("index.html", {**_index_view(rows, agents), "trends": trends})
