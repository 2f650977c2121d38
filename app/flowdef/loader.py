"""Load a flow file (YAML or JSON) into a validated, compiled flow.

Every error names `file:line: path: message`, where the line comes from the
YAML composer's marks (or, for a JSON document that is not also YAML, from a
scan of the JSON text) and the path is the dotted location in the document.
"""
from __future__ import annotations

import bisect
import json
import re
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


def _duplicate_mapping_keys(node: yaml.Node | None, path: tuple = ()) -> list[tuple[int, str, str]]:
    """`(line, dotted path, message)` for every repeated mapping key: YAML keeps the last one silently."""
    found: list[tuple[int, str, str]] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            here = path + (key_node.value,)
            if key_node.value in seen:
                found.append((key_node.start_mark.line + 1, ".".join(map(str, here)),
                              f"duplicate key {key_node.value!r}"))
            seen.add(key_node.value)
            found += _duplicate_mapping_keys(value_node, here)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            found += _duplicate_mapping_keys(item, path + (i,))
    return found


_JSON_SPACE = re.compile(r"[ \t\n\r]*")

# A flow or dictionary file is a few KiB; these limits refuse hostile documents before any parser builds them.
MAX_DOCUMENT_BYTES = 1024 * 1024
MAX_DEPTH = 40


def check_document_limits(text: str, filename: str, error: type[FlowLoadError] = FlowLoadError) -> None:
    """Refuse a document that is too large, nested too deep, or uses YAML anchors/aliases (alias bombs).

    Reads YAML parser events only (linear in the text, nothing is built), so a billion-laughs
    document is refused in milliseconds; the issue names the line of the first offending event.
    """
    size = len(text.encode("utf-8", "surrogatepass"))
    if size > MAX_DOCUMENT_BYTES:
        raise error([FlowIssue(filename, 1, "", f"document too large: {size} bytes (at most {MAX_DOCUMENT_BYTES})")])
    if "\x00" in text:
        raise error([FlowIssue(filename, text[:text.index("\x00")].count("\n") + 1, "", "document contains a NUL byte")])
    if _json_depth(text) > MAX_DEPTH:       # flow-style nesting first: cheap, and YAML's scanner is slow on it
        raise error([FlowIssue(filename, 1, "", f"document nested too deep (more than {MAX_DEPTH} levels)")])
    depth = 0
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            line = event.start_mark.line + 1
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise error([FlowIssue(filename, line, "", "YAML anchors and aliases (&name, *name) are not allowed "
                                                            "in flow files; write the value out")])
            if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                depth += 1
                if depth > MAX_DEPTH:
                    raise error([FlowIssue(filename, line, "", f"document nested too deep (more than {MAX_DEPTH} levels)")])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                depth -= 1
    except yaml.YAMLError:
        pass        # not YAML: the parsers below report it (or read it as JSON)


_JSON_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _json_depth(text: str) -> int:
    """The deepest bracket nesting outside strings (JSON that YAML does not read, e.g. tab-indented)."""
    depth = deepest = 0
    for token in _JSON_TOKENS.finditer(text):
        ch = token.group()
        if ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _json_line_map(text: str) -> tuple[dict[tuple, int], list[tuple[int, str, str]]]:
    """For JSON text that `json.loads` accepts: the `_line_map` of its paths, and its duplicate keys.

    Scans the text itself (strings and scalars are decoded by the json module), so every
    line is the line where that key or item is written.
    """
    newlines = [i for i, ch in enumerate(text) if ch == "\n"]
    decoder = json.JSONDecoder()
    lines: dict[tuple, int] = {}
    duplicates: list[tuple[int, str, str]] = []

    def line(pos: int) -> int:
        return bisect.bisect_left(newlines, pos) + 1

    def skip(pos: int) -> int:
        return _JSON_SPACE.match(text, pos).end()

    def value(pos: int, path: tuple) -> int:
        pos = skip(pos)
        lines.setdefault(path, line(pos))
        if text[pos] == "{":
            seen: set[str] = set()
            pos = skip(pos + 1)
            if text[pos] == "}":
                return pos + 1
            while True:
                pos = skip(pos)
                key, end = json.decoder.scanstring(text, pos + 1)
                here = path + (key,)
                lines[here] = line(pos)
                if key in seen:
                    duplicates.append((line(pos), ".".join(map(str, here)), f"duplicate key {key!r}"))
                seen.add(key)
                pos = value(skip(end) + 1, here)          # past the ':'
                pos = skip(pos)
                if text[pos] == "}":
                    return pos + 1
                pos += 1                                   # the ','
        if text[pos] == "[":
            pos = skip(pos + 1)
            if text[pos] == "]":
                return pos + 1
            i = 0
            while True:
                pos = skip(value(pos, path + (i,)))
                if text[pos] == "]":
                    return pos + 1
                pos, i = pos + 1, i + 1
        return decoder.raw_decode(text, pos)[1]

    value(0, ())
    return lines, duplicates


def _parse_document(text: str, filename: str) -> tuple[Any, dict[tuple, int], list[tuple[int, str, str]]]:
    """The document's data, its line map and its duplicate keys; FlowLoadError if it is neither YAML nor JSON.

    YAML first (JSON with space indentation is YAML too); a document that starts like JSON and
    is not YAML (e.g. indented with tabs) is read as JSON.
    """
    check_document_limits(text, filename)
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
        return data, _line_map(root), _duplicate_mapping_keys(root)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        yaml_error = (mark.line + 1 if mark else 1, mark.index if mark else 0, str(getattr(exc, "problem", exc)))
    if text.lstrip()[:1] in ("{", "["):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            # Report the parser that got further: that is the format the author meant.
            if exc.pos > yaml_error[1]:
                yaml_error = (exc.lineno, exc.pos, exc.msg)
        else:
            try:
                lines, duplicates = _json_line_map(text)
            except (ValueError, IndexError):   # cannot happen for text json.loads accepted; stay usable
                lines, duplicates = {(): 1}, []
            return data, lines, duplicates
    raise FlowLoadError([FlowIssue(filename, yaml_error[0], "", f"not valid YAML/JSON: {yaml_error[2]}")])


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

    def issue(self, loc: Iterable, message: str, *, missing: Any = None) -> FlowIssue:
        """The issue at `loc`; with `missing`, `loc` is the mapping that lacks that key."""
        path = self._real_path(loc)
        probe = path
        while probe not in self.lines and probe:
            probe = probe[:-1]
        line = self.lines.get(probe, 1)
        shown = path + (missing,) if missing is not None else path
        return FlowIssue(self.filename, line, ".".join(str(p) for p in shown), message)

    def pydantic_issue(self, err: dict) -> FlowIssue:
        loc = tuple(err["loc"])
        if err["type"] == "missing" and loc:
            # A key that is absent has no line: name it, on the line of the mapping that lacks it.
            return self.issue(loc[:-1], f"missing key {loc[-1]!r}", missing=loc[-1])
        return self.issue(loc, _pydantic_message(err))


def _pydantic_message(err: dict) -> str:
    msg = err["msg"]
    for prefix in ("Value error, ", "Assertion failed, "):
        if msg.startswith(prefix):
            msg = msg[len(prefix):]
    if err["type"] == "extra_forbidden":
        msg = f"unknown key {err['loc'][-1]!r}"
    return msg


def _relevant_errors(errors: list[dict]) -> list[dict]:
    """Drop a collection's too-short error when its own items failed: the count is a consequence.

    (pydantic counts only the items that validated: two broken nodes out of three would
    also report `nodes: Tuple should have at least 2 items ..., not 1`.)
    """
    def items_failed(loc: tuple) -> bool:
        return any(len(e["loc"]) > len(loc) and tuple(e["loc"][:len(loc)]) == loc
                   and isinstance(e["loc"][len(loc)], int) for e in errors)

    return [e for e in errors if not (e["type"] == "too_short" and items_failed(tuple(e["loc"])))]


def parse_flow_text(text: str, filename: str = "<flow>", *, known_roles: set[str] | None = None,
                    known_dictionaries: set[str] | None = None, known_apis: set[str] | None = None,
                    known_plugins: set[str] | None = None) -> CompiledFlow:
    """Parse, validate and compile one flow document; raise FlowLoadError with every issue."""
    data, lines, duplicates = _parse_document(text, filename)
    if not isinstance(data, dict):
        raise FlowLoadError([FlowIssue(filename, 1, "", "a flow file must be a mapping with key, name, nodes, transitions")])
    if duplicates:
        raise FlowLoadError([FlowIssue(filename, line, path, msg) for line, path, msg in duplicates])
    locator = _Locator(filename, data, lines)
    try:
        flow = FlowDef.model_validate(data)
    except ValidationError as exc:
        issues = [locator.pydantic_issue(e) for e in _relevant_errors(exc.errors())]
        raise FlowLoadError(_dedupe(issues)) from None
    problems = check_flow(flow, known_roles=known_roles, known_dictionaries=known_dictionaries, known_apis=known_apis,
                          known_plugins=known_plugins)
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
    """The flow as plain data, with the file format's key names (`from`, `not`); built-in fields left out."""
    data = flow.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    for node, out in zip(flow.nodes, data["nodes"]):
        builtin = {f.key for f in node.builtin_fields}
        if builtin and "fields" in out:
            out["fields"] = [f for f in out["fields"] if f["key"] not in builtin]
            if not out["fields"]:
                del out["fields"]
    return data


def dump_flow_yaml(flow: FlowDef) -> str:
    return yaml.safe_dump(dump_flow(flow), allow_unicode=True, sort_keys=False, width=100)
