"""Data dictionaries (数据字典): `dictionaries/*.yaml` -> frozen `DictionaryDef`.

A dictionary is a named, possibly nested list of choices that choice fields
reference with `source: {dictionary: KEY}`. Pure: no Flask, no database.
Errors name `file:line: path: message`, as the flow loader's do.
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from .loader import (FlowIssue, FlowLoadError, _dedupe, check_document_limits, _duplicate_mapping_keys, _line_map, _Locator,
                     _pydantic_message)
from .model import Choice


class DictionaryDef(BaseModel):
    """One data dictionary: `key` (e.g. CHANGE_TYPE), display `name`, and its item tree."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    name: str
    desc: str = ""
    items: tuple[Choice, ...] = ()

    def walk(self) -> Iterator[tuple[tuple[str, ...], Choice]]:
        """Every item, depth first, with its key path from the root (`("standard", "urgent")`)."""
        stack = [((c.key,), c) for c in reversed(self.items)]
        while stack:
            path, item = stack.pop()
            yield path, item
            stack.extend((path + (c.key,), c) for c in reversed(item.children))

    def keys(self) -> set[str]:
        """Every item key, at any depth."""
        return {item.key for _, item in self.walk()}

    def names(self) -> dict[str, str]:
        """Item key -> display name, at any depth."""
        return {item.key: item.name for _, item in self.walk()}


class DictionaryLoadError(FlowLoadError):
    """A dictionary file (or a set of them) that cannot be used; `issues` lists every problem."""


def parse_dictionary_text(text: str, filename: str = "<dictionary>") -> DictionaryDef:
    """Parse and validate one dictionary document; raise DictionaryLoadError with every issue."""
    check_document_limits(text, filename, DictionaryLoadError)
    try:
        root = yaml.compose(text)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        raise DictionaryLoadError(
            [FlowIssue(filename, line, "", f"not valid YAML/JSON: {getattr(exc, 'problem', exc)}")]) from None
    if not isinstance(data, dict):
        raise DictionaryLoadError([FlowIssue(filename, 1, "", "a dictionary file must be a mapping with key, name, items")])
    duplicates = _duplicate_mapping_keys(root)
    if duplicates:
        raise DictionaryLoadError([FlowIssue(filename, line, path, msg) for line, path, msg in duplicates])
    locator = _Locator(filename, data, _line_map(root))
    try:
        dictionary = DictionaryDef.model_validate(data)
    except ValidationError as exc:
        raise DictionaryLoadError(_dedupe([locator.issue(e["loc"], _pydantic_message(e)) for e in exc.errors()])) from None
    problems = _duplicate_items(dictionary.items, ("items",), {})
    if problems:
        raise DictionaryLoadError([locator.issue(loc, msg) for loc, msg in problems])
    return dictionary


def _duplicate_items(items: tuple[Choice, ...], loc: tuple, seen: dict[str, str]) -> list[tuple[tuple, str]]:
    """Item keys must be unique across the whole tree: a stored value is one key."""
    problems: list[tuple[tuple, str]] = []
    for i, item in enumerate(items):
        where = ".".join(str(p) for p in loc + (i,))
        if item.key in seen:
            problems.append((loc + (i, "key"), f"duplicate item key {item.key!r} (already at {seen[item.key]})"))
        else:
            seen[item.key] = where
        problems += _duplicate_items(item.children, loc + (i, "children"), seen)
    return problems


def load_dictionary_file(path: str | Path) -> DictionaryDef:
    """Load one `.yaml`/`.yml`/`.json` dictionary file."""
    path = Path(path)
    return parse_dictionary_text(path.read_text(encoding="utf-8"), str(path))


def load_dictionaries(directory: str | Path) -> dict[str, DictionaryDef]:
    """Load every dictionary file of a directory, keyed by dictionary key; report all problems at once."""
    directory = Path(directory)
    found: dict[str, DictionaryDef] = {}
    origin: dict[str, str] = {}
    issues: list[FlowIssue] = []
    files = sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
    for path in files:
        try:
            d = load_dictionary_file(path)
        except DictionaryLoadError as exc:
            issues += exc.issues
            continue
        if d.key in found:
            issues.append(FlowIssue(str(path), _key_line(path), "key",
                                    f"duplicate dictionary key {d.key!r} (already in {origin[d.key]})"))
            continue
        found[d.key], origin[d.key] = d, str(path)
    if issues:
        raise DictionaryLoadError(issues)
    return found


def _key_line(path: Path) -> int:
    lines: dict[Any, int] = _line_map(yaml.compose(path.read_text(encoding="utf-8")))
    return lines.get(("key",), 1)
