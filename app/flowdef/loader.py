"""Load a flow file (YAML or JSON) into a validated, compiled flow.

Every error names `file:line: path: message`, where the line comes from the
YAML composer's marks and the path is the dotted location in the document.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from .checks import check_flow
from .compiled import CompiledFlow
from .model import FlowDef


@dataclass(frozen=True)
class FlowIssue:
    file: str
    line: int
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.path or '<root>'}: {self.message}"


class FlowLoadError(Exception):
    """A flow file that cannot be used; `issues` lists every problem found."""

    def __init__(self, issues: list[FlowIssue]):
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def _line_map(node: yaml.Node | None, path: tuple = (), out: dict | None = None) -> dict[tuple, int]:
    out = {} if out is None else out
    if node is None:
        return out
    out.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value
            out[path + (key,)] = key_node.start_mark.line + 1
            _line_map(value_node, path + (key,), out)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_map(item, path + (i,), out)
    return out


class _Locator:
    """Maps a location (pydantic loc or our own path) to a line and a dotted path."""

    def __init__(self, filename: str, data: Any, lines: dict[tuple, int]):
        self.filename, self.data, self.lines = filename, data, lines

    def _real_path(self, loc: Iterable) -> tuple:
        """Drop pydantic's union-tag segments that are not keys of the document."""
        path: list = []
        cur = self.data
        for part in loc:
            if isinstance(cur, dict) and part in cur:
                path.append(part)
                cur = cur[part]
            elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
                path.append(part)
                cur = cur[part]
        return tuple(path)

    def issue(self, loc: Iterable, message: str) -> FlowIssue:
        path = self._real_path(loc)
        probe = path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        line = self.lines.get(probe, 1)
        return FlowIssue(self.filename, line, ".".join(str(p) for p in path), message)


def _pydantic_message(err: dict) -> str:
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if err["type"] == "extra_forbidden":
        msg = f"unknown key {err['loc'][-1]!r}"
    return msg


def parse_flow_text(text: str, filename: str = "<flow>", *, known_roles: set[str] | None = None,
                    known_dictionaries: set[str] | None = None) -> CompiledFlow:
    """Parse, validate and compile one flow document; raise FlowLoadError with every issue."""
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise FlowLoadError([FlowIssue(filename, line, "", f"not valid YAML/JSON: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise FlowLoadError([FlowIssue(filename, 1, "", "a flow file must be a mapping with key, name, nodes, transitions")])
    locator = _Locator(filename, data, _line_map(root))
    try:
        flow = FlowDef.model_validate(data)
    except ValidationError as exc:
        issues = [locator.issue(e["loc"], _pydantic_message(e)) for e in exc.errors()]
        raise FlowLoadError(_dedupe(issues)) from None
    problems = check_flow(flow, known_roles=known_roles, known_dictionaries=known_dictionaries)
    if problems:
        raise FlowLoadError(_dedupe([locator.issue(loc, msg) for loc, msg in problems]))
    return CompiledFlow(flow)


def _dedupe(issues: list[FlowIssue]) -> list[FlowIssue]:
    seen, out = set(), []
    for i in issues:
        if (i.line, i.path, i.message) not in seen:
            seen.add((i.line, i.path, i.message))
            out.append(i)
    return out


def load_flow_file(path: str | Path, **kw: Any) -> CompiledFlow:
    """Load one `.yaml`/`.yml`/`.json` flow file."""
    path = Path(path)
    return parse_flow_text(path.read_text(encoding="utf-8"), str(path), **kw)


def flow_from_json(data: dict | str) -> CompiledFlow:
    """Rebuild a compiled flow from a deployed version's JSON snapshot (already validated)."""
    if isinstance(data, str):
        data = json.loads(data)
    return CompiledFlow(FlowDef.model_validate(data))


def dump_flow(flow: FlowDef) -> dict:
    """The flow as plain data, with the file format's key names (`from`, `not`)."""
    return flow.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def dump_flow_yaml(flow: FlowDef) -> str:
    return yaml.safe_dump(dump_flow(flow), allow_unicode=True, sort_keys=False, width=100)
