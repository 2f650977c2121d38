"""Apply the visual designer's edit to a flow's YAML text, keeping everything the edit did not touch.

The designer sends the whole flow as plain data (the YAML's own structure, JSON-encoded). We merge it
into ruamel.yaml's round-trip tree (comments and key order stay with the keys they belong to; nodes are
matched by `key`, transitions by `from`/`to`), dump it, and then put back the original text of every
region whose dump did not change, so hand formatting (wrapped flow mappings, blank lines, quoting) is
kept byte for byte where the edit did not reach. Pure: no Flask, no database.
"""
from __future__ import annotations

import difflib
import io
from collections import Counter
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

FLOW_STYLE_WIDTH = 120      # a new mapping of scalars shorter than this is written `{key: a, name: b}`


def _yaml() -> YAML:
    y = YAML()
    y.preserve_quotes = True
    y.width = 4096                      # never re-wrap; the original text of untouched lines is restored anyway
    y.indent(mapping=2, sequence=4, offset=2)
    return y


def load_roundtrip(text: str) -> Any:
    """The round-trip tree of a flow document (CommentedMap)."""
    return _yaml().load(text)


def dump_roundtrip(tree: Any) -> str:
    out = io.StringIO()
    _yaml().dump(tree, out)
    return out.getvalue()


def plain(value: Any) -> Any:
    """Round-trip nodes as plain dicts/lists/scalars, for comparing with the designer's data."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    return str(value)           # dates and the like compare as text


def _same(old: Any, new: Any) -> bool:
    a, b = plain(old), plain(new)
    return a == b and type(a) is type(b) if not isinstance(a, (dict, list)) else a == b


# the order keys are written in for a new node, field or line (an existing one keeps its own)
NODE_ORDER = ("key", "name", "kind", "layout", "desc", "distribute_type", "processors", "assignors", "can_deliver",
              "can_terminate", "multi", "sequential", "finish_condition", "finish_when", "api", "plugin", "params",
              "retry", "approve_result", "fields")
FIELD_ORDER = ("key", "name", "type", "required", "layout", "default", "regex", "regex_message", "max_length",
               "read_only", "desc", "choices", "source", "columns", "hide_when")
LINE_ORDER = ("from", "to", "name", "when")


def _canonical(value: dict) -> list:
    order = NODE_ORDER if "kind" in value else FIELD_ORDER if "type" in value and "key" in value else \
        LINE_ORDER if "from" in value and "to" in value else ()
    rank = {k: i for i, k in enumerate(order)}
    return sorted(value.items(), key=lambda kv: rank.get(kv[0], len(rank)))


def _fresh(value: Any) -> Any:
    """A new value as round-trip nodes; short mappings of scalars in flow style, as flows are written by hand."""
    if isinstance(value, dict):
        node = CommentedMap((k, _fresh(v)) for k, v in _canonical(value))
        if value and all(not isinstance(v, (dict, list)) or _short_flow(v) for v in value.values()) \
                and len(repr(value)) < FLOW_STYLE_WIDTH:
            node.fa.set_flow_style()
        return node
    if isinstance(value, list):
        node = CommentedSeq(_fresh(v) for v in value)
        if all(not isinstance(v, (dict, list)) for v in value):
            node.fa.set_flow_style()
        return node
    return value


def _short_flow(value: Any) -> bool:
    if isinstance(value, dict):
        return all(not isinstance(v, (dict, list)) for v in value.values())
    return all(not isinstance(v, (dict, list)) for v in value)


def _item_identity(item: Any, occurrences: Counter) -> Any:
    """How an item of a list is recognised across the edit: a node or field by key, a transition by its ends."""
    if isinstance(item, dict):
        if "key" in item:
            ident = ("key", str(item["key"]))
        elif "from" in item and "to" in item:
            ident = ("edge", str(item["from"]), str(item["to"]))
        else:
            return None
        occurrences[ident] += 1
        return ident + (occurrences[ident],)
    return None


def merge(old: Any, new: Any) -> Any:
    """`new` (plain data) written over `old` (round-trip tree), reusing old nodes wherever they match."""
    if _same(old, new):
        return old
    if isinstance(old, CommentedMap) and isinstance(new, dict):
        for key in [k for k in old if k not in new]:
            del old[key]
        for key, value in new.items():
            if key in old:
                old[key] = merge(old[key], value)
            else:
                _add_key(old, key, _fresh(value))
        return old
    if isinstance(old, CommentedSeq) and isinstance(new, list):
        return _merge_list(old, new)
    return _fresh(new)


KEY_AFTER = {"layout": "kind"}     # where a new key reads best, when that key is there


def _add_key(mapping: CommentedMap, key: str, value: Any) -> None:
    """Add a key: after its customary neighbour, else at the end (taking over the blank line that ended it)."""
    keys = list(mapping)
    after = KEY_AFTER.get(key)
    if after in mapping and keys[-1] != after:
        mapping.insert(keys.index(after) + 1, key, value)
        return
    trailing = mapping.ca.items.pop(keys[-1], None) if keys and not isinstance(mapping[keys[-1]], (dict, list)) \
        else None
    mapping[key] = value
    if trailing is not None:
        mapping.ca.items[key] = trailing


def _merge_list(old: CommentedSeq, new: list) -> CommentedSeq:
    old_ids, new_ids = Counter(), Counter()
    by_id = {}
    for i, item in enumerate(old):
        ident = _item_identity(item, old_ids)
        if ident is not None:
            by_id[ident] = i
    matches = [by_id.get(_item_identity(item, new_ids)) for item in new]
    if not by_id:                                   # a list of scalars or of anonymous items: by position
        matches = [i if i < len(old) else None for i in range(len(new))]
    kept = [m for m in matches if m is not None]
    if kept == sorted(kept):                        # same order: edit in place, delete and insert around the rest
        for i in sorted(set(range(len(old))) - set(kept), reverse=True):
            del old[i]
        pos = 0
        for item, m in zip(new, matches):
            if m is None:
                old.insert(pos, _fresh(item))
            else:
                old[pos] = merge(old[pos], item)
            pos += 1
        return old
    items = [merge(old[m], item) if m is not None else _fresh(item) for item, m in zip(new, matches)]
    del old[:]
    old.extend(items)
    return old


def apply_edit(text: str, data: dict) -> str:
    """The flow text with `data` (the whole flow as plain data) written into it, untouched regions verbatim."""
    tree = load_roundtrip(text)
    if not isinstance(tree, CommentedMap):
        return dump_roundtrip(_fresh(data))
    before = dump_roundtrip(tree)
    after = dump_roundtrip(merge(tree, data))
    return _restore_untouched(text, before, after)


def _restore_untouched(original: str, before: str, after: str) -> str:
    """`after`, except that every run of lines equal in `before` and `after` is written as in `original`.

    `before` is ruamel's dump of the unedited document: it differs from `original` only in formatting
    (re-joined flow mappings). Lines of `before` are grouped with the original lines they came from; an
    unchanged group is written back as the original lines.
    """
    orig_lines, before_lines, after_lines = (s.splitlines(keepends=True) for s in (original, before, after))
    # group id per `before` line, and the original text of each group
    group_of: list[int] = [0] * len(before_lines)
    group_text: list[str] = []
    group_size: list[int] = []
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, orig_lines, before_lines, autojunk=False).get_opcodes():
        if tag == "equal":
            for k in range(i2 - i1):
                group_of[j1 + k] = len(group_text)
                group_text.append(orig_lines[i1 + k])
                group_size.append(1)
        elif j2 > j1:
            for k in range(j1, j2):
                group_of[k] = len(group_text)
            group_text.append("".join(orig_lines[i1:i2]))
            group_size.append(j2 - j1)
        elif group_text:                              # original lines with no dumped counterpart (e.g. blank)
            group_text[-1] += "".join(orig_lines[i1:i2])
        else:
            group_text.append("".join(orig_lines[i1:i2]))
            group_size.append(0)
    out: list[str] = []
    if group_size and group_size[0] == 0:
        out.append(group_text[0])
    for tag, i1, i2, j1, j2 in difflib.SequenceMatcher(None, before_lines, after_lines, autojunk=False).get_opcodes():
        if tag != "equal":
            out.extend(after_lines[j1:j2])
            continue
        k = i1
        while k < i2:
            g = group_of[k]
            members = [m for m in range(k, min(i2, k + group_size[g])) if group_of[m] == g]
            if len(members) == group_size[g] and members[0] == k and _group_starts_at(group_of, g, k):
                out.append(group_text[g])
                k += group_size[g]
            else:
                out.append(before_lines[k])
                k += 1
    return "".join(out)


def _group_starts_at(group_of: list[int], g: int, k: int) -> bool:
    return k == 0 or group_of[k - 1] != g


def yaml_diff(old: str, new: str, name: str = "flow.yaml") -> str:
    """A unified diff of the flow text before and after (empty when nothing changed)."""
    return "".join(difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                        f"a/{name}", f"b/{name}"))
