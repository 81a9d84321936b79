"""The scorecard rubric: a YAML file, loaded with ``yaml.safe_load`` and validated eagerly.

See docs/RUBRIC.md for the format. Every problem raises
:class:`~callcoach.errors.RubricError` naming the file, the key path
(``checks[3].weight``, ``checks.apology.applies_when``), the bad value and
what is allowed.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from callcoach.analysis.turn_taking import PATIENCE_GAP_S, PATIENCE_MIN_WORDS
from callcoach.errors import RubricError
from callcoach.scoring.statements import DEFAULT_MIN_SIMILARITY, MIN_STATEMENT_WORDS, statement_tokens
from callcoach.text.cues import BUILTIN_CUES

CATEGORIES = ("tone", "empathy", "language", "resolution", "boundaries")
ROLES = ("agent",)
CONDITIONS: dict[str, str] = {
    "always": "every call",
    "customer_grievance": "the customer complains (asking for someone higher or threatening to leave included), raises their voice or threatens",
    "customer_request": "the customer brings a problem or a request (almost every service call)",
    "customer_upset": "the customer has a grievance or was upset at any point",
    "customer_raised": "the customer had a raised-voice event",
    "customer_abusive": "the customer swore, insulted or threatened",
    "customer_threat": "the customer made a legal, violent or review threat",
    "customer_upset_late": "the customer is still upset in the last third of the call, or asked for someone higher",
}
EVENT_TYPES = ("raised_voice", "rapid_speech", "interruption", "long_silence",
               "patience_violation", "threat")
# detector type -> {parameter: (kind, default)}
DETECTORS: dict[str, dict[str, tuple[str, Any]]] = {
    "event_absent": {"event": ("event", None), "max_count": ("count", 0)},
    "no_mirroring": {"window_s": ("seconds", 30.0)},
    "patience": {"gap_s": ("seconds", PATIENCE_GAP_S), "min_words": ("count", PATIENCE_MIN_WORDS), "max_count": ("count", 0)},
    "cue_present": {"cues": ("cues", None)},
    "cue_absent": {"cues": ("cues", None)},
    "boundary": {"cues": ("cues", "boundary")},
    "threats_documented": {},
    "personalize": {},
    # statements (docs/RUBRIC.md "Required and forbidden statements"); 0 s = no time limit
    "required_statement": {"within_first_s": ("seconds", 0.0), "within_last_s": ("seconds", 0.0),
                           "min_similarity": ("percent", DEFAULT_MIN_SIMILARITY)},
    "forbidden_statement": {"within_first_s": ("seconds", 0.0), "within_last_s": ("seconds", 0.0),
                            "min_similarity": ("percent", DEFAULT_MIN_SIMILARITY)},
}
STATEMENT_DETECTORS = ("required_statement", "forbidden_statement")
CHECK_KEYS = ("id", "title", "category", "role", "weight", "enabled", "detector", "applies_when",
              "tip", "phrases", "negative_phrases", "better_phrasing", "credit_when_offered", "statements",
              "critical")
TOP_KEYS = ("version", "checks")


@dataclass(frozen=True)
class Detector:
    """A built-in detector and its parameters (``params`` as sorted key/value pairs)."""

    type: str
    params: tuple[tuple[str, Any], ...] = ()

    def get(self, key: str) -> Any:
        for k, v in self.params:
            if k == key:
                return v
        return DETECTORS[self.type][key][1]


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    category: str
    role: str
    weight: float
    enabled: bool
    detector: Detector
    applies_when: str
    tip: str
    phrases: tuple[str, ...] = ()
    negative_phrases: tuple[str, ...] = ()
    better_phrasing: str = ""
    credit_when_offered: bool = False
    statements: tuple[str, ...] = ()  # required_statement / forbidden_statement: alternative wordings
    critical: bool = False  # a fail fails the whole call (an evaluation form's automatic-fail question)


@dataclass(frozen=True)
class Rubric:
    version: int
    checks: tuple[Check, ...]
    source: str

    def enabled_checks(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.enabled)

    def check(self, check_id: str) -> Check:
        for c in self.checks:
            if c.id == check_id:
                return c
        raise KeyError(check_id)


def default_rubric_path() -> Path:
    return Path(str(importlib.resources.files("callcoach.data") / "rubric.yaml"))


def _allowed(values: Any) -> str:
    return ", ".join(str(v) for v in values)


class _Validator:
    def __init__(self, file: str) -> None:
        self.file = file

    def fail(self, path: str, problem: str) -> RubricError:
        return RubricError(self.file, path, problem)

    def text(self, value: Any, path: str, name: str, *, empty_ok: bool = False) -> str:
        if not isinstance(value, str) or (not empty_ok and not value.strip()):
            raise self.fail(path, f"{name} must be a non-empty string, got {value!r}")
        return value.strip()

    def choice(self, value: Any, path: str, name: str, allowed: Any) -> str:
        if value not in allowed:
            raise self.fail(path, f"{name} must be one of: {_allowed(allowed)}; got {value!r}")
        return value

    def phrase_list(self, value: Any, path: str, name: str) -> tuple[str, ...]:
        if not isinstance(value, list) or not value:
            raise self.fail(path, f"{name} must be a non-empty list of phrases, got {value!r}")
        out = []
        for i, p in enumerate(value):
            if not isinstance(p, str) or not p.strip():
                raise self.fail(f"{path}[{i}]", f"a phrase must be a non-empty string, got {p!r}")
            out.append(p.strip())
        return tuple(out)

    def detector(self, value: Any, path: str, has_phrases: bool) -> Detector:
        if isinstance(value, str):
            value = {"type": value}
        if not isinstance(value, dict):
            raise self.fail(path, f"detector must be a name or a mapping with 'type', got {value!r}")
        kind = self.choice(value.get("type"), f"{path}.type", "detector type", tuple(DETECTORS))
        spec = DETECTORS[kind]
        params: dict[str, Any] = {}
        for key, raw in value.items():
            if key == "type":
                continue
            if key not in spec:
                raise self.fail(f"{path}.{key}", f"unknown parameter {key!r} for detector "
                                f"{kind!r}; allowed: {_allowed(spec) or '(none)'}")
            what = spec[key][0]
            sub = f"{path}.{key}"
            if what == "event":
                params[key] = self.choice(raw, sub, "event", EVENT_TYPES)
            elif what == "count":
                if isinstance(raw, bool) or not isinstance(raw, int) or raw < 0:
                    raise self.fail(sub, f"{key} must be a whole number >= 0, got {raw!r}")
                params[key] = raw
            elif what == "seconds":
                if isinstance(raw, bool) or not isinstance(raw, (int, float)) or raw <= 0:
                    raise self.fail(sub, f"{key} must be a number of seconds > 0, got {raw!r}")
                params[key] = float(raw)
            elif what == "cues":
                params[key] = self.choice(raw, sub, "cue set", tuple(BUILTIN_CUES))
            elif what == "percent":
                if isinstance(raw, bool) or not isinstance(raw, (int, float)) or not 50 <= raw <= 100:
                    raise self.fail(sub, f"{key} must be a number from 50 to 100 (per cent), got {raw!r}")
                params[key] = float(raw)
        for key, (what, default) in spec.items():
            if default is None and key not in params and not (what == "cues" and has_phrases):
                raise self.fail(f"{path}.{key}", f"detector {kind!r} needs {key!r}"
                                + (" (or the check needs 'phrases')" if what == "cues" else ""))
        return Detector(kind, tuple(sorted(params.items())))

    def check(self, raw: Any, path: str) -> Check:
        if not isinstance(raw, dict):
            raise self.fail(path, f"each check must be a mapping, got {raw!r}")
        cid = raw.get("id")
        if not isinstance(cid, str) or not cid.isidentifier():
            raise self.fail(f"{path}.id", f"id must be a name of letters, digits and '_', got {cid!r}")
        for key in raw:
            if key not in CHECK_KEYS:
                raise self.fail(f"{path}.{key}", f"unknown key {key!r}; allowed: {_allowed(CHECK_KEYS)}")
        for key in ("title", "category", "weight", "detector", "applies_when", "tip"):
            if key not in raw:
                raise self.fail(f"{path}.{key}", f"missing key {key!r}")
        weight = raw["weight"]
        if isinstance(weight, bool) or not isinstance(weight, (int, float)) or weight < 0:
            raise self.fail(f"{path}.weight", f"weight must be a number >= 0, got {weight!r}")
        enabled = raw.get("enabled", True)
        if not isinstance(enabled, bool):
            raise self.fail(f"{path}.enabled", f"enabled must be true or false, got {enabled!r}")
        credit = raw.get("credit_when_offered", False)
        if not isinstance(credit, bool):
            raise self.fail(f"{path}.credit_when_offered",
                            f"credit_when_offered must be true or false, got {credit!r}")
        critical = raw.get("critical", False)
        if not isinstance(critical, bool):
            raise self.fail(f"{path}.critical", f"critical must be true or false, got {critical!r}")
        phrases = (self.phrase_list(raw["phrases"], f"{path}.phrases", "phrases")
                   if "phrases" in raw else ())
        statements = self.statements(raw, path)
        negative = (self.phrase_list(raw["negative_phrases"], f"{path}.negative_phrases",
                                     "negative_phrases") if "negative_phrases" in raw else ())
        return Check(
            id=cid,
            title=self.text(raw["title"], f"{path}.title", "title"),
            category=self.choice(raw["category"], f"{path}.category", "category", CATEGORIES),
            role=self.choice(raw.get("role", "agent"), f"{path}.role", "role", ROLES),
            weight=float(weight),
            enabled=enabled,
            detector=self.detector(raw["detector"], f"{path}.detector", bool(phrases)),
            applies_when=self.choice(raw["applies_when"], f"{path}.applies_when",
                                     "applies_when", tuple(CONDITIONS)),
            tip=self.text(raw["tip"], f"{path}.tip", "tip"),
            phrases=phrases,
            negative_phrases=negative,
            better_phrasing=self.text(raw.get("better_phrasing", ""), f"{path}.better_phrasing",
                                      "better_phrasing", empty_ok=True),
            credit_when_offered=credit,
            statements=statements,
            critical=critical,
        )

    def statements(self, raw: dict, path: str) -> tuple[str, ...]:
        """The ``statements`` of a check: required by, and only allowed with, the statement detectors."""
        det = raw.get("detector")
        kind = det if isinstance(det, str) else det.get("type") if isinstance(det, dict) else None
        if kind not in STATEMENT_DETECTORS:
            if "statements" in raw:
                raise self.fail(f"{path}.statements", f"statements are only read by the detectors "
                                f"{_allowed(STATEMENT_DETECTORS)}; detector {kind!r} uses 'phrases' or 'cues'")
            return ()
        if "phrases" in raw or "negative_phrases" in raw:
            key = "phrases" if "phrases" in raw else "negative_phrases"
            raise self.fail(f"{path}.{key}", f"detector {kind!r} reads 'statements' (whole sentences, "
                            f"matched fuzzily), not {key!r}")
        if "statements" not in raw:
            raise self.fail(f"{path}.statements", f"detector {kind!r} needs 'statements': a list of the "
                            "sentences the agent must say (or must not say), e.g. [\"This call may be recorded\"]")
        out = self.phrase_list(raw["statements"], f"{path}.statements", "statements")
        for i, text in enumerate(out):
            n = len(statement_tokens(text))
            if n < MIN_STATEMENT_WORDS:
                raise self.fail(f"{path}.statements[{i}]", f"a statement needs at least {MIN_STATEMENT_WORDS} "
                                f"words to be matched reliably, got {text!r} ({n}); for a short cue use "
                                "detector cue_present or cue_absent with 'phrases'")
        return out


def parse_rubric(data: Any, file: str) -> Rubric:
    """Validate already-parsed YAML data (a mapping) into a :class:`Rubric`."""
    v = _Validator(file)
    if not isinstance(data, dict):
        raise v.fail("(top)", f"the rubric must be a mapping with keys {_allowed(TOP_KEYS)}, "
                     f"got {type(data).__name__}")
    for key in data:
        if key not in TOP_KEYS:
            raise v.fail(str(key), f"unknown key {key!r}; allowed: {_allowed(TOP_KEYS)}")
    if data.get("version") != 1:
        raise v.fail("version", f"version must be 1, got {data.get('version')!r}")
    raw_checks = data.get("checks")
    if not isinstance(raw_checks, list) or not raw_checks:
        raise v.fail("checks", f"checks must be a non-empty list, got {raw_checks!r}")
    checks: list[Check] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(raw_checks):
        path = f"checks[{i}]"
        if isinstance(raw, dict) and isinstance(raw.get("id"), str):
            if raw["id"] in seen:
                raise v.fail(f"{path}.id", f"duplicate id {raw['id']!r} (first at checks[{seen[raw['id']]}])")
            seen[raw["id"]] = i
            path = f"checks.{raw['id']}" if raw["id"].isidentifier() else path
        checks.append(v.check(raw, path))
    return Rubric(version=1, checks=tuple(checks), source=file)


def load_rubric(path: Path | None = None) -> Rubric:
    """Load and validate a rubric file; ``None`` loads the packaged default.

    Raises:
        RubricError: unreadable file, invalid YAML, or any invalid value.
    """
    file = path if path is not None else default_rubric_path()
    name = str(file)
    try:
        text = Path(file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RubricError(name, "(file)", f"cannot read the file: {exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        raise RubricError(name, "(file)", f"not valid YAML{at}: "
                          f"{getattr(exc, 'problem', None) or exc}") from exc
    return parse_rubric(data, name)


__all__ = ["CATEGORIES", "CONDITIONS", "DETECTORS", "STATEMENT_DETECTORS", "Check", "Detector", "Rubric",
           "default_rubric_path", "load_rubric", "parse_rubric"]

