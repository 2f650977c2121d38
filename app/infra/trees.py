"""Trees stored as rows with a parent_id (catalogs, knowledge categories)."""
from __future__ import annotations

from typing import Iterable, TypeVar

T = TypeVar("T")


def depth_first(rows: Iterable[T]) -> list[tuple[T, int]]:
    """Rows (already in sibling order) as (row, depth), each parent before its children."""
    children: dict[object, list[T]] = {}
    for row in rows:
        children.setdefault(row.parent_id, []).append(row)
    out: list[tuple[T, int]] = []

    def walk(parent_id, depth):
        for row in children.get(parent_id, []):
            out.append((row, depth))
            walk(row.id, depth + 1)

    walk(None, 0)
    return out
