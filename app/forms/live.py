"""What a rendered form tells the browser so `hide_when` works while the user types.

The server decides which fields are hidden from the values a form posts (`submitted_values`);
the page carries the same conditions as data (`hide_rules`) and static/js/hide-when.js reads the
same values the same way and evaluates them with the same rules (static/js/conditions.js mirrors
app/flowdef/conditions.py; tests/browser/test_live_forms.py checks that they agree).
"""
from __future__ import annotations

from typing import Any, Mapping, Sequence

from app.flowdef.conditions import condition_data, condition_fields
from app.flowdef.model import FieldDef

LIST_TYPES = frozenset({"MULTISELECT", "MEMBERS", "CASCADE"})


def multi_valued(fdef: FieldDef) -> bool:
    """True when a field posts a list of keys (multi-select, members, cascade path, checkbox group)."""
    return fdef.type in LIST_TYPES or (fdef.type == "CHECKBOX" and (bool(fdef.choices) or fdef.source is not None))


def submitted_values(field_defs: Sequence[FieldDef], formdata, prefix: str = "") -> dict[str, Any]:
    """The values a posted form gives its fields, as conditions read them: a list of the non-empty values for a
    multi-valued field, else the first value; a field that posted nothing (an unchecked box) is left out."""
    values: dict[str, Any] = {}
    for fdef in field_defs:
        name = f"{prefix}-{fdef.key}" if prefix else fdef.key
        posted = formdata.getlist(name)
        if multi_valued(fdef):
            values[fdef.key] = [v for v in posted if v != ""]
        elif posted:
            values[fdef.key] = posted[0]
    return values


def form_condition_values(form, formdata) -> dict[str, Any]:
    """What a `hide_when` reads in a posted form: the earlier steps' values, then this form's fields as posted
    (under the form's prefix), read like `submitted_values`."""
    values: dict[str, Any] = dict(getattr(form, "_condition_values", None) or {})
    if formdata is None:
        return values
    for fdef in getattr(form, "_field_defs", ()):
        if fdef.key not in form._fields:
            continue
        posted = formdata.getlist(form[fdef.key].name)
        if multi_valued(fdef):
            values[fdef.key] = [v for v in posted if v != ""]
        elif posted:
            values[fdef.key] = posted[0]
    return values


def _cell_conditions(field_defs: Sequence[FieldDef]) -> dict[str, dict[str, Any]]:
    """{table field key: {column key: condition}} for table columns whose cells have a `hide_when`."""
    tables = {}
    for fdef in field_defs:
        columns = {c.key: c.hide_when for c in fdef.columns if c.hide_when is not None}
        if columns:
            tables[fdef.key] = columns
    return tables


def hide_rules(form, field_defs: Sequence[FieldDef]) -> dict[str, Any] | None:
    """The page's data for live `hide_when`: each conditional field's condition, each table column's cell
    condition, how each field posts (name, multi), and the values of earlier steps the conditions read.
    None when nothing on the form has a condition."""
    conditional = [f for f in field_defs if f.hide_when is not None]
    cells = _cell_conditions(field_defs)
    if not conditional and not cells:
        return None
    own = {f.key for f in field_defs}
    read = set().union(set(), *(condition_fields(f.hide_when) for f in conditional),
                       *(condition_fields(c) for columns in cells.values() for c in columns.values())) - own
    earlier: Mapping[str, Any] = getattr(form, "_condition_values", None) or {}
    return {
        "conditions": {f.key: condition_data(f.hide_when) for f in conditional},
        "cells": {key: {"name": form[key].name, "columns": {c: condition_data(cond) for c, cond in columns.items()}}
                  for key, columns in cells.items() if key in form},
        "fields": {f.key: {"name": form[f.key].name, "multi": multi_valued(f)} for f in field_defs if f.key in form},
        "values": {k: earlier[k] for k in sorted(read) if k in earlier},
    }
