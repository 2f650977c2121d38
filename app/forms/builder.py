"""Build form classes from field definitions and use them for HTML and JSON input.

`build_form` makes a fresh class per call. The API path (`validate_values`)
flattens a JSON payload into a MultiDict and runs the very same classes with
`formdata=`, so both paths parse, validate and store values identically.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from flask_wtf import FlaskForm
from werkzeug.datastructures import MultiDict
from wtforms import Form

from app.flowdef.model import FieldDef

from .context import FieldContext
from .registry import field_type

# Attribute names a field key must not take: they would shadow the form's own API.
RESERVED_FIELD_KEYS = frozenset(
    name for name in set(dir(FlaskForm)) | set(dir(Form)) if not name.startswith("_")
) | {"csrf_token", "meta"}


class HiddenFieldsMixin:
    """Fields hidden by their `hide_when` condition never block validation."""

    _hidden_keys: frozenset[str] = frozenset()

    def validate(self, extra_validators=None):
        super().validate(extra_validators)
        for key in self._hidden_keys:
            if key in self._fields:
                self._fields[key].errors = []
        return not any(f.errors for f in self._fields.values()) and not self.form_errors


def _check_keys(field_defs: Sequence[FieldDef]) -> None:
    seen: set[str] = set()
    for fdef in field_defs:
        if fdef.key in RESERVED_FIELD_KEYS or fdef.key.startswith("_"):
            raise ValueError(f"field key {fdef.key!r} clashes with a form attribute; rename the field")
        if fdef.key in seen:
            raise ValueError(f"field key {fdef.key!r} is defined twice")
        seen.add(fdef.key)


def build_form(field_defs: Sequence[FieldDef], ctx: FieldContext | None = None, *,
               base: type[Form] = FlaskForm, hidden_keys: frozenset[str] = frozenset(),
               condition_values: Mapping[str, Any] | None = None) -> type[Form]:
    """A fresh form class with one field per definition; hidden fields are optional.

    `condition_values`: the ticket's values from earlier steps, which `hide_when` conditions may read
    (the page hands the ones they read to the browser, see `app.forms.live`).
    """
    ctx = ctx or FieldContext()
    _check_keys(field_defs)
    hidden = frozenset(hidden_keys)
    attrs: dict[str, Any] = {"_hidden_keys": hidden, "_field_defs": tuple(field_defs),
                             "_condition_values": dict(condition_values or {})}
    for fdef in field_defs:
        required = fdef.required and fdef.key not in hidden
        attrs[fdef.key] = field_type(fdef.type).make_field(fdef, ctx, required)
    return type(f"Dynamic{base.__name__}", (HiddenFieldsMixin, base), attrs)


def form_values(form: Form, field_defs: Sequence[FieldDef], ctx: FieldContext | None = None) -> dict[str, Any]:
    """The values to store from a validated form; hidden fields are left out.

    FILE fields hold the uploaded `FileStorage` objects (plus `{"id","name"}`
    dicts for attachments kept by id); the caller stores the uploads.
    """
    ctx = ctx or FieldContext()
    hidden = getattr(form, "_hidden_keys", frozenset())
    return {
        fdef.key: field_type(fdef.type).to_storage(form[fdef.key].data, fdef, ctx)
        for fdef in field_defs
        if fdef.key not in hidden and fdef.key in form._fields
    }


def payload_formdata(field_defs: Sequence[FieldDef], payload: Mapping[str, Any]) -> MultiDict:
    """Flatten a JSON payload into form data; a missing field takes its default."""
    formdata = MultiDict()
    for fdef in field_defs:
        if fdef.key in payload:
            value = payload[fdef.key]
        elif fdef.default is not None:
            value = fdef.default
        else:
            continue
        for name, text in field_type(fdef.type).to_formdata(value, fdef):
            formdata.add(name, text)
    return formdata


def json_type_errors(field_defs: Sequence[FieldDef], payload: Mapping[str, Any],
                     ctx: FieldContext | None = None) -> dict[str, list[str]]:
    """{field key: [message]} for JSON values of the wrong type (true into STRING, a list into TEXT, ...) or size."""
    ctx = ctx or FieldContext()
    errors = {}
    for fdef in field_defs:
        if fdef.key in payload:
            problem = field_type(fdef.type).json_problem(payload[fdef.key], fdef, ctx)
            if problem:
                errors[fdef.key] = [problem]
    return errors


def validate_values(field_defs: Sequence[FieldDef], payload: Mapping[str, Any],
                    ctx: FieldContext | None = None, *,
                    is_hidden: Callable[[str, Mapping], bool] = lambda k, v: False,
                    condition_values: Mapping[str, Any] | None = None,
                    ) -> tuple[dict[str, Any], dict[str, list[str]]]:
    """Validate a JSON payload with the form classes: (clean values, errors by field key).

    Fields with errors and hidden fields are left out of the clean values, except a hidden field given a value:
    as upstream (itsm/ticket/validators/field.py), that value is validated and kept (callers such as bk-bscp hide
    ids from the form but send them for later steps). `condition_values` (earlier steps' values) are what table
    cells' `hide_when` may read besides this payload.
    """
    ctx = ctx or FieldContext()
    merged = dict(payload)
    given = {k for k, v in merged.items() if v not in (None, "", [], {})}
    hidden = frozenset(f.key for f in field_defs if f.key not in given and is_hidden(f.key, merged))
    form_class = build_form(field_defs, ctx, base=Form, hidden_keys=hidden, condition_values=condition_values)
    form = form_class(formdata=payload_formdata(field_defs, payload))
    form.validate()
    errors = {key: list(field.errors) for key, field in form._fields.items()
              if field.errors and key not in hidden}
    values = form_values(form, field_defs, ctx)
    return {k: v for k, v in values.items() if k not in errors}, errors


def form_initial(field_defs: Sequence[FieldDef], values: Mapping[str, Any],
                 ctx: FieldContext | None = None) -> dict[str, Any]:
    """Stored values as form data, for `FormClass(data=form_initial(...))` prefilling."""
    ctx = ctx or FieldContext()
    return {f.key: field_type(f.type).to_data(values[f.key], f, ctx)
            for f in field_defs if f.key in values and values[f.key] is not None}


def display_value(field_def: FieldDef, value: Any, ctx: FieldContext | None = None) -> str:
    """The human text of a stored value (choice names, user names, "N 行", file names)."""
    return field_type(field_def.type).display(value, field_def, ctx or FieldContext())
