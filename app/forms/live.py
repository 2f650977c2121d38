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


def hide_rules(form, field_defs: Sequence[FieldDef]) -> dict[str, Any] | None:
    """The page's data for live `hide_when`: each conditional field's condition, how each field posts (name,
    multi), and the values of earlier steps the conditions read. None when no field has a condition."""
    conditional = [f for f in field_defs if f.hide_when is not None]
    if not conditional:
        return None
    own = {f.key for f in field_defs}
    read = set().union(*(condition_fields(f.hide_when) for f in conditional)) - own
    earlier: Mapping[str, Any] = getattr(form, "_condition_values", None) or {}
    return {
        "conditions": {f.key: condition_data(f.hide_when) for f in conditional},
        "fields": {f.key: {"name": form[f.key].name, "multi": multi_valued(f)} for f in field_defs if f.key in form},
        "values": {k: earlier[k] for k in sorted(read) if k in earlier},
    }
