"""The field type registry: one `FieldType` class per flow field type.

A field type knows its WTForms field and validators (`make_field`), how the
field's data is stored (`to_storage`), how a stored/JSON value is fed back as
form data (`to_formdata`, the API path), and its human text (`display`).
"""
from __future__ import annotations

import json
from typing import Any, ClassVar

from wtforms.fields.core import UnboundField
from wtforms.validators import DataRequired, Optional, StopValidation

from app.flowdef.model import FieldDef

from .context import FieldContext, msg_bad_format, msg_required
from .fields import MatchesRegex, RequiredInput

FIELD_TYPE_REGISTRY: dict[str, "FieldType"] = {}


def register(cls: type["FieldType"]) -> type["FieldType"]:
    """Class decorator: add one instance of the field type under its `name`."""
    FIELD_TYPE_REGISTRY[cls.name] = cls()
    return cls


def field_type(type_name: str) -> "FieldType":
    """The registered field type, or a ValueError naming the allowed ones."""
    try:
        return FIELD_TYPE_REGISTRY[type_name]
    except KeyError:
        allowed = ", ".join(sorted(FIELD_TYPE_REGISTRY))
        raise ValueError(f"unknown field type {type_name!r}; allowed: {allowed}") from None


class RequiredData(DataRequired):
    """DataRequired for composite fields; keeps a more precise earlier error."""

    def __call__(self, form, field):
        if field.data:
            return
        if field.errors:
            raise StopValidation()
        raise StopValidation(self.message)


def text_of(value: Any) -> str:
    """A scalar JSON value as form text (None -> "", True -> "y")."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "y" if value else ""
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def split_list(value: Any) -> list[str]:
    """A list, tuple or comma string (BlueKing style "a,b") as a list of texts."""
    if value is None:
        return []
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, (list, tuple, set)):
        return [text_of(v).strip() for v in value if text_of(v).strip()]
    return [text_of(value)]


def as_list(value: Any) -> list:
    """A stored value as a list, tolerating a single value or a comma string."""
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return list(value)
    if isinstance(value, str):
        return split_list(value)
    return [value]


class FieldType:
    """Base class: a text-like field stored as str; subclasses override what differs."""

    name: ClassVar[str] = ""

    def make_field(self, fdef: FieldDef, ctx: FieldContext, required: bool) -> UnboundField:
        """The unbound WTForms field for `fdef` (one per form class)."""
        raise NotImplementedError

    def to_storage(self, data: Any, fdef: FieldDef, ctx: FieldContext) -> Any:
        """The JSON-serializable value to store for the field's validated data."""
        if data is None or (isinstance(data, str) and not data.strip()):
            return None
        return data

    def to_formdata(self, value: Any, fdef: FieldDef) -> list[tuple[str, str]]:
        """A JSON/stored value as (name, text) pairs; empty values still name the field."""
        return [(fdef.key, text_of(value))]

    def to_data(self, value: Any, fdef: FieldDef, ctx: FieldContext) -> Any:
        """A stored value as the field's Python data (defaults and prefilling)."""
        return value

    def json_problem(self, value: Any, fdef: FieldDef, ctx: FieldContext) -> str | None:
        """Why a JSON value has the wrong type for this field (the API path), or None; nothing is converted silently."""
        return None

    def display(self, value: Any, fdef: FieldDef, ctx: FieldContext) -> str:
        """The human text of a stored value."""
        if value is None:
            return ""
        return str(value)

    # --- helpers for subclasses ------------------------------------------------

    def presence(self, fdef: FieldDef, required: bool) -> list:
        """Required -> RequiredInput with the upstream message; else Optional."""
        return [RequiredInput(msg_required(fdef.name))] if required else [Optional()]

    def regex_validators(self, fdef: FieldDef) -> list:
        if not fdef.regex:
            return []
        message = f"【{fdef.name}】{fdef.regex_message}" if fdef.regex_message else msg_bad_format(fdef.name)
        return [MatchesRegex(fdef.regex, message)]

    def field_kwargs(self, fdef: FieldDef, ctx: FieldContext, required: bool,
                     validators: list | None = None, **extra: Any) -> dict[str, Any]:
        """Label, help text, layout render_kw, default and validators shared by all types."""
        render_kw = {"data-layout": fdef.layout, "data-type": fdef.type}
        render_kw.update(extra.pop("render_kw", {}))
        if fdef.read_only:
            render_kw["readonly"] = True
        kwargs: dict[str, Any] = {
            "label": fdef.name,
            "description": fdef.desc,
            "render_kw": render_kw,
            "validators": self.presence(fdef, required) + list(validators or ()),
        }
        if fdef.default is not None:
            kwargs["default"] = self.to_data(fdef.default, fdef, ctx)
        kwargs.update(extra)
        return kwargs


def json_kind(value: Any) -> str:
    """A JSON value's type in the words of an error message."""
    if isinstance(value, bool):
        return "布尔值"
    if isinstance(value, (int, float)):
        return "数字"
    if isinstance(value, str):
        return "字符串"
    if isinstance(value, (list, tuple)):
        return "列表"
    if isinstance(value, dict):
        return "对象"
    return type(value).__name__


class CompositeFieldType(FieldType):
    """Types whose data is a list/structure: required means "has data"."""

    def presence(self, fdef: FieldDef, required: bool) -> list:
        return [RequiredData(msg_required(fdef.name))] if required else []

    def to_storage(self, data: Any, fdef: FieldDef, ctx: FieldContext) -> Any:
        return list(data or [])
