"""Structured transition/hide conditions, compiled once into closures.

Our own evaluator: a condition is data (`field/op/value`, `all`, `any`, `not`),
never a string handed to `eval`. Compiled predicates take a mapping of field
values and return a bool.
"""
from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from typing import Any

from .model import AllOf, AnyOf, Compare, NotOf

Predicate = Callable[[Mapping[str, Any]], bool]

_MISSING = object()


def _number(v: Any) -> float | None:
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, float)):
        return float(v)
    if isinstance(v, str):
        try:
            return float(v.strip())
        except ValueError:
            return None
    return None


def _ordered(op: Callable[[Any, Any], bool]) -> Callable[[Any, Any], bool]:
    """Compare as numbers when both sides are numeric, else as strings."""

    def compare(left: Any, right: Any) -> bool:
        ln, rn = _number(left), _number(right)
        if ln is not None and rn is not None:
            return op(ln, rn)
        if left is None or right is None:
            return False
        return op(str(left), str(right))

    return compare


def _equal(left: Any, right: Any) -> bool:
    if isinstance(left, (list, tuple)) or isinstance(right, (list, tuple)):
        return [str(x) for x in _as_list(left)] == [str(x) for x in _as_list(right)]
    ln, rn = _number(left), _number(right)
    if ln is not None and rn is not None:
        return ln == rn
    if isinstance(left, bool) or isinstance(right, bool):
        return _truthy(left) == _truthy(right)
    return str(left) == str(right) if left is not None and right is not None else left is right


def _truthy(v: Any) -> bool:
    if isinstance(v, str):
        return v.strip().lower() in ("1", "true", "yes", "on", "y")
    return bool(v)


def _as_list(v: Any) -> list:
    if v is None:
        return []
    if isinstance(v, (list, tuple, set, frozenset)):
        return list(v)
    if isinstance(v, str) and "," in v:
        return [p for p in v.split(",") if p]
    return [v]


def _in(left: Any, right: Any) -> bool:
    candidates = {str(x) for x in _as_list(right)}
    values = _as_list(left)
    return bool(values) and all(str(x) in candidates for x in values)


def _contains(left: Any, right: Any) -> bool:
    if isinstance(left, str) and not isinstance(right, (list, tuple)):
        return str(right) in left
    have = {str(x) for x in _as_list(left)}
    return all(str(x) in have for x in _as_list(right))


_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": lambda a, b: not _equal(a, b),
    ">": _ordered(operator.gt),
    ">=": _ordered(operator.ge),
    "<": _ordered(operator.lt),
    "<=": _ordered(operator.le),
    "in": _in,
    "notin": lambda a, b: not _in(a, b),
    "contains": _contains,
}


def compile_condition(cond: Any) -> Predicate:
    """Turn a parsed condition into a predicate over field values."""
    if cond is None:
        return lambda values: True
    if isinstance(cond, Compare):
        fn, key, expected = _OPS[cond.op], cond.field, cond.value

        def compare(values: Mapping[str, Any]) -> bool:
            value = values.get(key, _MISSING)
            if value is _MISSING:
                return cond.op in ("!=", "notin")
            return fn(value, expected)

        return compare
    if isinstance(cond, AllOf):
        parts = [compile_condition(c) for c in cond.all]
        return lambda values: all(p(values) for p in parts)
    if isinstance(cond, AnyOf):
        parts = [compile_condition(c) for c in cond.any]
        return lambda values: any(p(values) for p in parts)
    if isinstance(cond, NotOf):
        inner = compile_condition(cond.not_)
        return lambda values: not inner(values)
    raise TypeError(f"not a condition: {cond!r}")


def condition_fields(cond: Any) -> set[str]:
    """Every field key a condition reads."""
    if cond is None:
        return set()
    if isinstance(cond, Compare):
        return {cond.field}
    if isinstance(cond, AllOf):
        return set().union(*(condition_fields(c) for c in cond.all))
    if isinstance(cond, AnyOf):
        return set().union(*(condition_fields(c) for c in cond.any))
    if isinstance(cond, NotOf):
        return condition_fields(cond.not_)
    return set()


def condition_data(cond: Any) -> Any:
    """A condition as plain JSON data (`{field, op, value}`, `{all}`, `{any}`, `{not}`): what the browser's
    evaluator (static/js/conditions.js) reads to apply the same rules as `compile_condition`."""
    if cond is None:
        return None
    return cond.model_dump(mode="json", by_alias=True)
