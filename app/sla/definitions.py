"""Service level files (`sla_yaml/`): calendars, the priority matrix and agreements -> frozen definitions.

Pure: YAML text in, validated pydantic models out; every error names `file:line: path: message`,
as the flow loader's do. `calendars.yaml` holds business calendars; `agreements.yaml` the
紧急程度 × 影响范围 → 优先级 matrix and the agreements (per service and priority: response and
resolution targets, warning threshold, pausing nodes, escalation, breach action).
"""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Annotated, Any, Literal

import yaml
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from app.flowdef.loader import (FlowIssue, FlowLoadError, _dedupe, _duplicate_mapping_keys, _line_map, _Locator,
                                _pydantic_message, check_document_limits)

from .calendar import WEEKDAYS, BusinessCalendar, Window

CALENDARS_FILE, AGREEMENTS_FILE = "calendars.yaml", "agreements.yaml"
_HOURS = re.compile(r"^(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})$")
_DURATION = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m)?\s*(?:(\d+)s)?$")


class SlaLoadError(FlowLoadError):
    """A service level file that cannot be used; `issues` lists every problem."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def parse_window(text: str) -> Window:
    """"09:00-18:00" -> (540, 1080); refuses empty or reversed windows."""
    m = _HOURS.match(str(text).strip())
    if not m:
        raise ValueError(f"working hours must look like 09:00-18:00, not {text!r}")
    h1, m1, h2, m2 = map(int, m.groups())
    lo, hi = h1 * 60 + m1, h2 * 60 + m2
    if m1 > 59 or m2 > 59 or not 0 <= lo < hi <= 1440:
        raise ValueError(f"working hours {text!r} must start before they end, within one day (00:00-24:00)")
    return lo, hi


def parse_duration(value: Any) -> int:
    """"4h", "1h30m", "15m", "90s" or a number of seconds -> seconds (> 0)."""
    if isinstance(value, bool):
        raise ValueError("a duration is like 4h, 1h30m, 15m or a number of seconds")
    if isinstance(value, int):
        seconds = value
    else:
        m = _DURATION.match(str(value).strip())
        if not m or not any(m.groups()):
            raise ValueError(f"a duration is like 4h, 1h30m, 15m or a number of seconds, not {value!r}")
        h, mi, s = (int(g or 0) for g in m.groups())
        seconds = h * 3600 + mi * 60 + s
    if seconds <= 0:
        raise ValueError("a target must be longer than zero")
    return seconds


def _window_text(text: str) -> str:
    parse_window(text)
    return text


WindowText = Annotated[str, AfterValidator(_window_text)]


class CalendarDef(_Frozen):
    key: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
    name: str
    timezone: str = "Asia/Shanghai"
    always: bool = False                                   # 7×24
    hours: dict[Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"], tuple[WindowText, ...]] = {}
    holidays: Literal["china", "none"] = "none"            # china: public holidays and 调休 from chinesecalendar
    extra_holidays: tuple[date, ...] = ()                  # admin-edited
    extra_workdays: tuple[date, ...] = ()

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, v: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {v!r} (use an IANA name such as Asia/Shanghai)") from None
        return v

    @field_validator("hours")
    @classmethod
    def _windows(cls, v: dict) -> dict:
        for day, windows in v.items():
            spans = sorted(parse_window(w) for w in windows)
            for (_, end), (start, _) in zip(spans, spans[1:]):
                if start < end:
                    raise ValueError(f"{day}: working hours overlap")
        return v

    @model_validator(mode="after")
    def _has_time(self) -> "CalendarDef":
        if not self.always and not any(self.hours.values()):
            raise ValueError("a calendar needs working hours (hours: {mon: [09:00-18:00], ...}) or always: true")
        return self

    def build(self) -> BusinessCalendar:
        """The calendar the clocks use (china holidays read from the library)."""
        if self.always:
            return BusinessCalendar(key=self.key, name=self.name, zone=self.timezone, always=True)
        hours = tuple(tuple(sorted(parse_window(w) for w in self.hours.get(d, ()))) for d in WEEKDAYS)
        holidays, workdays = china_days() if self.holidays == "china" else (frozenset(), frozenset())
        return BusinessCalendar(key=self.key, name=self.name, zone=self.timezone, hours=hours,
                                holidays=(holidays - set(self.extra_workdays)) | set(self.extra_holidays),
                                workdays=(workdays - set(self.extra_holidays)) | set(self.extra_workdays),
                                makeup_hours=hours[0])


@lru_cache(maxsize=1)
def china_days() -> tuple[frozenset[date], frozenset[date]]:
    """Mainland China's public holidays and make-up working days (调休), from the chinesecalendar package."""
    import chinese_calendar
    return frozenset(chinese_calendar.holidays), frozenset(chinese_calendar.workdays)


def china_days_until() -> date:
    """The last day the holiday library knows (later years need extra_holidays until it is upgraded)."""
    holidays, workdays = china_days()
    return max(holidays | workdays)


class Target(_Frozen):
    response: int
    resolution: int

    @field_validator("response", "resolution", mode="before")
    @classmethod
    def _duration(cls, v: Any) -> int:
        return parse_duration(v)


class Escalation(_Frozen):
    role: str | None = None            # a general role's key
    leaders: bool = False              # the current processors' leaders (users.leader)


class BreachAction(_Frozen):
    raise_priority: bool = False       # one level up (P3 -> P2); P1 stays
    add_processors: tuple[str, ...] = ()


class AgreementDef(_Frozen):
    key: str = Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9_-]*$")
    name: str
    services: tuple[str, ...] = Field(min_length=1)      # service keys
    calendar: str
    warn_at: float = Field(0.8, gt=0, lt=1)
    pause_nodes: tuple[str, ...] = ()                    # nodes whose waiting (e.g. the requester's confirmation) pauses
    resolution_until: str | None = None                  # default: until the ticket ends
    escalation: Escalation = Escalation()
    on_breach: BreachAction = BreachAction()
    targets: dict[str, Target] = Field(min_length=1)     # priority key -> targets


class AgreementsDoc(_Frozen):
    priority_matrix: dict[str, dict[str, str]] = {}      # urgency -> impact -> priority
    default_priority: str = "P3"
    priority_order: tuple[str, ...] = ("P1", "P2", "P3", "P4")     # highest first
    agreements: tuple[AgreementDef, ...] = ()


class CalendarsDoc(_Frozen):
    calendars: tuple[CalendarDef, ...] = Field(min_length=1)


def _parse(text: str, filename: str, model: type[BaseModel]) -> tuple[Any, _Locator]:
    check_document_limits(text, filename, SlaLoadError)
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise SlaLoadError([FlowIssue(filename, mark.line + 1 if mark else 1, "",
                                      f"not valid YAML: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise SlaLoadError([FlowIssue(filename, 1, "", "the file must be a mapping")])
    duplicates = _duplicate_mapping_keys(root)
    if duplicates:
        raise SlaLoadError([FlowIssue(filename, line, path, msg) for line, path, msg in duplicates])
    locator = _Locator(filename, data, _line_map(root))
    try:
        return model.model_validate(data), locator
    except ValidationError as exc:
        raise SlaLoadError(_dedupe([locator.issue(e["loc"], _pydantic_message(e)) for e in exc.errors()])) from None


def parse_calendars(text: str, filename: str = CALENDARS_FILE) -> dict[str, CalendarDef]:
    """calendars.yaml -> {key: CalendarDef}; duplicate keys refused."""
    doc, locator = _parse(text, filename, CalendarsDoc)
    seen: dict[str, CalendarDef] = {}
    issues = []
    for i, cal in enumerate(doc.calendars):
        if cal.key in seen:
            issues.append(locator.issue(("calendars", i, "key"), f"duplicate calendar key {cal.key!r}"))
        seen[cal.key] = cal
    if issues:
        raise SlaLoadError(issues)
    return seen


def parse_agreements(text: str, filename: str = AGREEMENTS_FILE, *, calendars: set[str],
                     urgency: set[str] | None = None, impact: set[str] | None = None,
                     priorities: set[str] | None = None, roles: set[str] | None = None,
                     service_nodes: dict[str, set[str]] | None = None) -> AgreementsDoc:
    """agreements.yaml -> AgreementsDoc, checked against what exists (each `None` skips that check).

    `service_nodes` maps a service key to its flow's node keys (pause and stop nodes must exist there).
    """
    doc, locator = _parse(text, filename, AgreementsDoc)
    issues: list[FlowIssue] = []

    def bad(loc: tuple, message: str) -> None:
        issues.append(locator.issue(loc, message))

    known_priorities = priorities if priorities is not None else set(doc.priority_order)
    for u, row in doc.priority_matrix.items():
        if urgency is not None and u not in urgency:
            bad(("priority_matrix", u), f"unknown urgency {u!r} (URGENCY has {sorted(urgency)})")
        for i, p in row.items():
            if impact is not None and i not in impact:
                bad(("priority_matrix", u, i), f"unknown impact {i!r} (IMPACT has {sorted(impact)})")
            if p not in known_priorities:
                bad(("priority_matrix", u, i), f"unknown priority {p!r}")
    if doc.default_priority not in known_priorities:
        bad(("default_priority",), f"unknown priority {doc.default_priority!r}")
    owner: dict[str, str] = {}
    for n, ag in enumerate(doc.agreements):
        here = ("agreements", n)
        if ag.key in {a.key for a in doc.agreements[:n]}:
            bad(here + ("key",), f"duplicate agreement key {ag.key!r}")
        if ag.calendar not in calendars:
            bad(here + ("calendar",), f"unknown calendar {ag.calendar!r} (calendars.yaml has {sorted(calendars)})")
        for p in ag.targets:
            if p not in known_priorities:
                bad(here + ("targets", p), f"unknown priority {p!r}")
        if roles is not None and ag.escalation.role and ag.escalation.role not in roles:
            bad(here + ("escalation", "role"), f"unknown role {ag.escalation.role!r}")
        for s, service in enumerate(ag.services):
            if service in owner:
                bad(here + ("services", s), f"service {service!r} already has agreement {owner[service]!r}")
            owner.setdefault(service, ag.key)
            if service_nodes is None:
                continue
            if service not in service_nodes:
                bad(here + ("services", s), f"unknown service {service!r}")
                continue
            for key in ag.pause_nodes + ((ag.resolution_until,) if ag.resolution_until else ()):
                if key not in service_nodes[service]:
                    bad(here + ("services", s), f"service {service!r}: its flow has no node {key!r}")
    if issues:
        raise SlaLoadError(_dedupe(issues))
    return doc
