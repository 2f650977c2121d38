"""A dictionary's items edited as a table: rows in, validated as a whole, saved in place (ids kept).

A row is `{id, key, name, parent, order, enabled, delete}` as the back office's table posts it; `parent`
is the parent item's key (empty for a top-level item), so a new row can sit under another new row.
Every problem is reported at once, in Chinese, and nothing is written unless all rows are valid.
"""
from __future__ import annotations

from dataclasses import dataclass

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Dictionary, DictionaryItem
from app.services.flows.usage import check_dictionary_items_removable

KEY_MAX, NAME_MAX = 64, 128
ORDER_STEP = 10          # the table shows orders 10, 20, 30 ... so a row typed 15 lands between two others


@dataclass
class ItemRow:
    """One row of the items table, as typed (strings), with its 1-based number on the page."""

    number: int
    id: int | None = None
    key: str = ""
    name: str = ""
    parent: str = ""
    order: str = ""
    enabled: bool = True
    delete: bool = False

    @property
    def blank(self) -> bool:
        return self.id is None and not (self.key or self.name or self.parent)


def rows_from_form(form) -> list[ItemRow]:
    """The table's `items-<n>-<column>` inputs as rows, in page order."""
    by_index: dict[int, dict[str, str]] = {}
    for name in form:
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "items" and parts[1].isdigit():
            by_index.setdefault(int(parts[1]), {})[parts[2]] = form.get(name, "")
    rows = []
    for number, index in enumerate(sorted(by_index), start=1):
        cells = by_index[index]
        raw_id = (cells.get("id") or "").strip()
        rows.append(ItemRow(number=number, id=int(raw_id) if raw_id.isdigit() else None,
                            key=(cells.get("key") or "").strip(), name=(cells.get("name") or "").strip(),
                            parent=(cells.get("parent") or "").strip(), order=(cells.get("order") or "").strip(),
                            enabled=cells.get("enabled", "1") != "0", delete="delete" in cells))
    return rows


def rows_of(dictionary: Dictionary | None) -> list[ItemRow]:
    """The stored items as table rows: a depth-first walk of the tree, so children follow their parent."""
    if dictionary is None or dictionary.id is None:
        return []
    items = sorted(dictionary.items, key=lambda i: (i.order, i.id))
    children: dict[int | None, list[DictionaryItem]] = {}
    for item in items:
        children.setdefault(item.parent_id, []).append(item)
    keys = {i.id: i.key for i in items}
    rows: list[ItemRow] = []

    def walk(parent_id):
        for item in children.get(parent_id, []):
            rows.append(ItemRow(number=len(rows) + 1, id=item.id, key=item.key, name=item.name,
                                parent=keys.get(item.parent_id, ""), order=str((item.order + 1) * ORDER_STEP),
                                enabled=item.is_enabled))
            walk(item.id)

    walk(None)
    return rows


def depth_of(rows: list[ItemRow]) -> dict[str, int]:
    """Each row key's depth in the tree (0 at the top), for indenting the table."""
    parents = {r.key: r.parent for r in rows}
    depth = {}
    for key in parents:
        level, seen, at = 0, {key}, parents[key]
        while at and at in parents and at not in seen and level < 20:
            seen.add(at)
            level, at = level + 1, parents[at]
        depth[key] = level
    return depth


def _problems(rows: list[ItemRow], existing: dict[int, DictionaryItem]) -> list[str]:
    problems = []
    seen: dict[str, int] = {}
    for row in rows:
        where = f"第 {row.number} 行"
        if row.id is not None and row.id not in existing:
            problems.append(f"{where}：该字典项已不存在，请刷新页面后重试")
        if not row.key:
            problems.append(f"{where}：请填写编码")
        elif len(row.key) > KEY_MAX:
            problems.append(f"{where}：编码不能超过 {KEY_MAX} 个字符")
        elif row.key in seen:
            problems.append(f"{where}：编码「{row.key}」与第 {seen[row.key]} 行重复，编码在整个字典内必须唯一")
        else:
            seen[row.key] = row.number
        if not row.name:
            problems.append(f"{where}：请填写名称")
        elif len(row.name) > NAME_MAX:
            problems.append(f"{where}：名称不能超过 {NAME_MAX} 个字符")
        if row.order and not row.order.lstrip("-").isdigit():
            problems.append(f"{where}：排序须为整数")
    parents = {r.key: r.parent for r in rows if r.key}
    for row in rows:
        if row.parent and row.parent not in parents:
            problems.append(f"第 {row.number} 行：上级编码「{row.parent}」不存在（或该行已删除）")
    problems += _cycles(parents)
    return problems


def _cycles(parents: dict[str, str]) -> list[str]:
    """Each loop in the parent links once, as 「a → b → a」."""
    found, reported = [], set()
    for start in parents:
        path, at = [start], parents[start]
        while at and at in parents and at not in path:
            path.append(at)
            at = parents[at]
        if at and at in path:
            loop = path[path.index(at):]
            if frozenset(loop) not in reported:
                reported.add(frozenset(loop))
                found.append(f"上级关系形成循环：{' → '.join(loop + [at])}，请修改其中一项的上级编码")
    return found


def _ordered(rows: list[ItemRow]) -> list[ItemRow]:
    """Rows sorted by the typed order (blank = where it stands), ties kept in page order."""
    return sorted(rows, key=lambda r: (int(r.order) if r.order else r.number, r.number))


def save_items(dictionary: Dictionary, rows: list[ItemRow]) -> None:
    """Validate the whole table and write it: update rows with an id, add new ones, delete the rest.

    Deleting or re-keying an item that a flow in use names (a default value, a hide or line condition) is
    refused with the list of places; so is any invalid row. Raises ValidationFailed / OperationRefused.
    """
    db.session.flush()
    existing = {i.id: i for i in db.session.query(DictionaryItem).filter_by(dictionary_id=dictionary.id)}
    kept = [r for r in rows if not r.blank and not r.delete]
    problems = _problems(kept, existing)
    if problems:
        raise ValidationFailed("字典项有错误：\n" + "\n".join(problems), errors={"items": problems})
    kept_ids = {r.id for r in kept if r.id is not None}
    removed = [(i.key, i.name) for i in existing.values() if i.id not in kept_ids]
    rekeyed = [(existing[r.id].key, existing[r.id].name) for r in kept if r.id is not None
               and existing[r.id].key != r.key]
    check_dictionary_items_removable(dictionary.key, removed)
    check_dictionary_items_removable(dictionary.key, rekeyed, verb="修改编码")
    _write(dictionary, _ordered(kept), existing, kept_ids)


def _write(dictionary: Dictionary, kept: list[ItemRow], existing: dict[int, DictionaryItem], kept_ids: set[int]) -> None:
    # detach parents and park changed keys first, so deletes cascade to nobody kept and keys never clash mid-way
    for item in existing.values():
        item.parent_id = None
        if item.id in kept_ids:
            item.key = f"~{item.id}"
    db.session.flush()
    for item_id, item in existing.items():
        if item_id not in kept_ids:
            db.session.delete(item)
    db.session.flush()
    by_key: dict[str, DictionaryItem] = {}
    for row in kept:
        item = existing[row.id] if row.id is not None else DictionaryItem(dictionary_id=dictionary.id)
        item.key, item.name, item.is_enabled = row.key, row.name, row.enabled
        db.session.add(item)
        by_key[row.key] = item
    db.session.flush()
    siblings: dict[str, int] = {}
    for row in kept:
        by_key[row.key].parent_id = by_key[row.parent].id if row.parent else None
        by_key[row.key].order = siblings[row.parent] = siblings.get(row.parent, -1) + 1
    db.session.flush()
    db.session.expire(dictionary, ["items"])
