"""Alert rules: YAML files in ALERTS_DIR (versioned with the flows), validated with `file:line: path: message`.

A rule says which alerts it takes (source, receivers, label matchers), which incident service
they open tickets on, how labels and annotations fill the ticket's fields (sandboxed templates),
how severity maps to field values, who is told, what a resolve does, and its storm limit.
The first rule (files in name order, rules in file order) whose matchers hold takes an alert group.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from flask import current_app
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.errors import ItsmError
from app.flowdef.loader import FlowIssue, FlowLoadError, _dedupe, _Locator, _parse_document, _relevant_errors

Source = Literal["alertmanager", "grafana", "generic"]
KEY = r"^[a-z][a-z0-9_]{0,63}$"


class RuleError(ItsmError):
    """Rule files that cannot be used; the message lists every `file:line: path: message`."""

    code = 3900005


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GenericMapping(_Strict):
    """Where a generic JSON body keeps its alerts (dotted paths into the body, or into one alert)."""

    alerts: str = ""                       # the list of alerts; "" means the body is one alert
    fingerprint: str = "fingerprint"
    status: str = "status"
    resolved_values: tuple[str, ...] = ("resolved", "ok", "OK", "RESOLVED")
    labels: str = "labels"
    annotations: str = "annotations"
    starts_at: str = "startsAt"
    ends_at: str = "endsAt"
    url: str = "url"
    group_by: tuple[str, ...] = ()         # labels that make the group; () means one group per fingerprint


class SeverityMap(_Strict):
    label: str = "severity"
    map: dict[str, dict[str, Any]] = Field(default_factory=dict)    # label value → field values
    default: dict[str, Any] = Field(default_factory=dict)


class ResolveAction(_Strict):
    """On resolve of every alert of the group: move the ticket on through `node` with `fields`, as `operator`."""

    node: str
    operator: str
    fields: dict[str, Any] = Field(default_factory=dict)


class StormLimit(_Strict):
    max_new_per_minute: int = Field(default=20, ge=1, le=100000)


class Notify(_Strict):
    users: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()


class AlertRule(_Strict):
    key: str = Field(pattern=KEY)
    name: str = Field(min_length=1, max_length=128)
    source: Source
    receivers: tuple[str, ...] = ()        # receiver names; () means every receiver of the source
    match: dict[str, str] = Field(default_factory=dict)   # label → exact value, or "~regex" (full match)
    service: str = Field(min_length=1)     # the incident service's key
    creator: str = Field(min_length=1)     # the user the tickets are opened as
    fields: dict[str, Any] = Field(default_factory=dict)
    severity: SeverityMap = Field(default_factory=SeverityMap)
    notify: Notify = Field(default_factory=Notify)
    resolve: ResolveAction | None = None
    refire_window_minutes: int = Field(default=60, ge=0, le=7 * 24 * 60)
    storm: StormLimit = Field(default_factory=StormLimit)
    generic: GenericMapping | None = None

    @field_validator("match")
    @classmethod
    def _regexes_compile(cls, match: dict[str, str]) -> dict[str, str]:
        for label, want in match.items():
            if want.startswith("~"):
                try:
                    re.compile(want[1:])
                except re.error as exc:
                    raise ValueError(f"label {label!r}: bad regular expression {want[1:]!r}: {exc}") from None
        return match

    def matches(self, source: str, receiver: str, labels: dict[str, str]) -> bool:
        """Whether an alert group with these (common) labels, from this source and receiver, is this rule's."""
        if source != self.source or (self.receivers and receiver not in self.receivers):
            return False
        for label, want in self.match.items():
            have = str(labels.get(label, ""))
            if want.startswith("~") and not re.fullmatch(want[1:], have):
                return False
            if not want.startswith("~") and have != want:
                return False
        return True


class RuleFile(_Strict):
    rules: tuple[AlertRule, ...] = Field(min_length=1)


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[AlertRule, ...]

    def first_match(self, source: str, receiver: str, labels: dict[str, str]) -> AlertRule | None:
        return next((r for r in self.rules if r.matches(source, receiver, labels)), None)

    def get(self, key: str) -> AlertRule | None:
        return next((r for r in self.rules if r.key == key), None)


def parse_rules_text(text: str, filename: str = "<rules>") -> tuple[AlertRule, ...]:
    """Parse and validate one rule file (`rules: [...]`); FlowLoadError lists every issue with file:line."""
    data, lines, duplicates = _parse_document(text, filename)
    if duplicates:
        raise FlowLoadError([FlowIssue(filename, line, path, msg) for line, path, msg in duplicates])
    if not isinstance(data, dict):
        raise FlowLoadError([FlowIssue(filename, 1, "", "an alert rule file must be a mapping with a 'rules' list")])
    locator = _Locator(filename, data, lines)
    try:
        parsed = RuleFile.model_validate(data)
    except ValidationError as exc:
        raise FlowLoadError(_dedupe([locator.pydantic_issue(e) for e in _relevant_errors(exc.errors())])) from None
    problems = []
    for i, rule in enumerate(parsed.rules):
        if rule.source == "generic" and rule.generic is None:
            problems.append(locator.issue(("rules", i), "a generic rule needs a 'generic' mapping", missing="generic"))
        if rule.source != "generic" and rule.generic is not None:
            problems.append(locator.issue(("rules", i, "generic"), "only a generic rule has a 'generic' mapping"))
    if problems:
        raise FlowLoadError(problems)
    return parsed.rules


def rules_dir() -> Path:
    return Path(current_app.config["ALERTS_DIR"])


_cache: dict[str, tuple[tuple, RuleSet]] = {}


def load_rules() -> RuleSet:
    """Every rule of ALERTS_DIR (cached until a file changes); RuleError names every broken file and line."""
    folder = rules_dir()
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")) if folder.is_dir() else []
    stamp = tuple((str(f), f.stat().st_mtime_ns, f.stat().st_size) for f in files)
    cached = _cache.get(str(folder))
    if cached and cached[0] == stamp:
        return cached[1]
    rules: list[AlertRule] = []
    issues: list[FlowIssue] = []
    seen: dict[str, str] = {}
    for f in files:
        try:
            for rule in parse_rules_text(f.read_text(encoding="utf-8"), f.name):
                if rule.key in seen:
                    issues.append(FlowIssue(f.name, 1, "rules", f"rule key {rule.key!r} is also used in {seen[rule.key]}"))
                seen[rule.key] = f.name
                rules.append(rule)
        except FlowLoadError as exc:
            issues += exc.issues
        except UnicodeDecodeError:
            issues.append(FlowIssue(f.name, 1, "", "not UTF-8 text"))
    if issues:
        raise RuleError("告警规则文件有误：\n" + "\n".join(str(i) for i in issues))
    ruleset = RuleSet(tuple(rules))
    _cache[str(folder)] = (stamp, ruleset)
    return ruleset


FILE_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}\.ya?ml$")


def rule_files() -> list[str]:
    """The rule files of ALERTS_DIR, by name."""
    folder = rules_dir()
    return sorted(f.name for f in folder.iterdir() if FILE_NAME.match(f.name)) if folder.is_dir() else []


def read_rule_file(name: str) -> str:
    if not FILE_NAME.match(name or "") or not (rules_dir() / name).is_file():
        raise RuleError(f"告警规则文件 {name!r} 不存在")
    return (rules_dir() / name).read_text(encoding="utf-8")


def save_rule_file(name: str, text: str) -> tuple[AlertRule, ...]:
    """Validate a rule file (and every rule key against the other files), then write it; nothing is written on error."""
    if not FILE_NAME.match(name or ""):
        raise RuleError("文件名只能包含小写字母、数字、下划线和连字符，并以 .yaml 结尾")
    try:
        rules = parse_rules_text(text, name)
    except FlowLoadError as exc:
        raise RuleError("告警规则文件有误：\n" + "\n".join(str(i) for i in exc.issues)) from None
    others = {}
    for other in rule_files():
        if other != name:
            try:
                others.update({r.key: other for r in parse_rules_text(read_rule_file(other), other)})
            except FlowLoadError:
                continue                       # a broken neighbour is reported when rules load, not here
    clash = [f"{r.key}（已在 {others[r.key]} 中）" for r in rules if r.key in others]
    if clash:
        raise RuleError("规则 key 重复：" + "、".join(clash))
    folder = rules_dir()
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{name}.tmp"
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(folder / name)
    return rules
