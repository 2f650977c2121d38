"""Data dictionaries: load the YAML files, and answer choices for fields."""
from __future__ import annotations

from pathlib import Path

from flask import g, has_app_context
from sqlalchemy import delete, select

from app.extensions import db
from app.flowdef.dictionaries import load_dictionaries
from app.flowdef.model import Choice
from app.models import Dictionary, DictionaryItem


def load_dictionary_files(directory: str | Path, by: str = "system") -> list[Dictionary]:
    """Create or replace dictionaries from `dictionaries/*.yaml` (items replaced as a whole)."""
    defs = load_dictionaries(directory)
    rows = []
    for d in defs.values():
        row = db.session.execute(select(Dictionary).where(Dictionary.key == d.key)).scalar_one_or_none()
        if row is None:
            row = Dictionary(key=d.key, name=d.name)
            db.session.add(row)
        row.name, row.desc, row.updated_by = d.name, d.desc, by
        db.session.flush()
        db.session.execute(delete(DictionaryItem).where(DictionaryItem.dictionary_id == row.id))
        _add_items(row.id, d.items, None)
        db.session.expire(row, ["items"])
        rows.append(row)
    return rows


def _add_items(dictionary_id: int, items, parent_id: int | None) -> None:
    for order, item in enumerate(items):
        child = DictionaryItem(dictionary_id=dictionary_id, parent_id=parent_id, key=item.key, name=item.name,
                               order=order)
        db.session.add(child)
        db.session.flush()
        if item.children:
            _add_items(dictionary_id, item.children, child.id)


def all_choices(*, include_disabled: bool = False) -> dict[str, tuple[Choice, ...]]:
    """Every enabled dictionary as a tree of its enabled items (`include_disabled`: with disabled items too,
    to name values stored before an item was disabled); one query serves both (cached per request)."""
    if has_app_context() and "itsm_dict_choices" in g:
        return g.itsm_dict_choices[include_disabled]
    rows = db.session.execute(
        select(Dictionary.key, DictionaryItem.id, DictionaryItem.parent_id, DictionaryItem.key, DictionaryItem.name,
               DictionaryItem.is_enabled)
        .join(DictionaryItem, DictionaryItem.dictionary_id == Dictionary.id)
        .where(Dictionary.is_enabled.is_(True))
        .order_by(Dictionary.key, DictionaryItem.order, DictionaryItem.id)
    ).all()
    children: dict[tuple[str, int | None], list] = {}
    for dkey, iid, parent, key, name, enabled in rows:
        children.setdefault((dkey, parent), []).append((iid, key, name, enabled))

    def build(dkey: str, parent: int | None, everything: bool) -> tuple[Choice, ...]:
        return tuple(Choice(key=k, name=n, children=build(dkey, i, everything))
                     for i, k, n, enabled in children.get((dkey, parent), ()) if enabled or everything)

    keys = {r[0] for r in rows}
    result = {everything: {dkey: build(dkey, None, everything) for dkey in keys} for everything in (False, True)}
    if has_app_context():
        g.itsm_dict_choices = result
    return result[include_disabled]


def choices_for_dictionary(key: str, *, include_disabled: bool = False) -> tuple[Choice, ...]:
    return all_choices(include_disabled=include_disabled).get(key, ())
