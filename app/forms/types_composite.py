"""Structured field types: DATETIMERANGE, TABLE, CUSTOMTABLE, FILE."""
from __future__ import annotations

import json

from werkzeug.datastructures import FileStorage

from .context import choice_names
from .fields import STORAGE_DATETIME, AttachmentField, DateTimeRangeField, parse_datetime
from .registry import CompositeFieldType, FieldType, as_list, json_kind, register, split_list, text_of
from .tables import TableField, cell_text


@register
class DateTimeRangeType(CompositeFieldType):
    """[start, end] as "YYYY-MM-DD HH:MM:SS" strings, end not before start."""

    name = "DATETIMERANGE"

    def make_field(self, fdef, ctx, required):
        return DateTimeRangeField(display_label=fdef.name,
                                  **self.field_kwargs(fdef, ctx, required))

    def to_storage(self, data, fdef, ctx):
        return [d.strftime(STORAGE_DATETIME) for d in data] if data else []

    def to_formdata(self, value, fdef):
        if isinstance(value, (list, tuple)):
            return [(fdef.key, text_of(v)) for v in value] or [(fdef.key, "")]
        return [(fdef.key, text_of(value))]

    def to_data(self, value, fdef, ctx):
        parts = as_list(value)
        parsed = [parse_datetime(str(p)) for p in parts]
        return parsed if len(parsed) == 2 and all(parsed) else None

    def display(self, value, fdef, ctx):
        parts = as_list(value)
        return " ~ ".join(str(p) for p in parts)


@register
class TableType(CompositeFieldType):
    """Rows of {column_key: value}; fully empty rows are dropped."""

    name = "TABLE"

    def make_field(self, fdef, ctx, required):
        return TableField(columns=fdef.columns, display_label=fdef.name,
                          **self.field_kwargs(fdef, ctx, required))

    def to_formdata(self, value, fdef):
        rows = value
        if isinstance(value, str):
            if not value.strip():
                return [(fdef.key, "")]
            try:
                rows = json.loads(value)
            except ValueError:
                return [(fdef.key, value)]
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, (list, tuple)) or not all(isinstance(r, dict) for r in rows):
            return [(fdef.key, text_of(rows) or "?")] if rows else [(fdef.key, "")]
        pairs = [(f"{fdef.key}-{i}-{c.key}", cell_text(row.get(c.key)))
                 for i, row in enumerate(rows) for c in fdef.columns]
        return pairs or [(fdef.key, "")]

    def to_data(self, value, fdef, ctx):
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                return []
        return [r for r in as_list(value) if isinstance(r, dict)]

    def json_problem(self, value, fdef, ctx):
        """Rows must be objects with known columns, each required column given (none is dropped silently)."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        rows = value
        if isinstance(value, str):
            try:
                rows = json.loads(value)
            except ValueError:
                return None         # the form reports text that is not JSON
        if isinstance(rows, dict):
            rows = [rows]
        if not isinstance(rows, list):
            return f"【{fdef.name}】应为行的列表 [{{列: 值}}]，收到{json_kind(rows)}"
        known = {c.key for c in fdef.columns}
        for number, row in enumerate(rows, start=1):
            if not isinstance(row, dict):
                return f"【{fdef.name}】第 {number} 行应为对象 {{列: 值}}，收到{json_kind(row)}"
            unknown = sorted(str(k) for k in row if k not in known)
            if unknown:
                return f"【{fdef.name}】第 {number} 行有未知的列：{', '.join(unknown)}"[:200]
            if not any(cell_text(row.get(c.key)).strip() for c in fdef.columns):
                # the form drops a row with no cell filled in; a client sent it, so say so instead
                required = next((c for c in fdef.columns if c.required), None)
                return (f"【{fdef.name}】第 {number} 行缺少必填列【{required.name}】" if required
                        else f"【{fdef.name}】第 {number} 行是空行")
            for column in fdef.columns:
                cell = row.get(column.key)
                if isinstance(cell, (list, dict)):
                    return f"【{fdef.name}】第 {number} 行的【{column.name}】应为单个值，收到{json_kind(cell)}"
        return None

    def display(self, value, fdef, ctx):
        rows = self.to_data(value, fdef, ctx)
        return f"{len(rows)} 行" if rows else ""

    def display_rows(self, value, fdef) -> list[list[str]]:
        """Each row as its cells' text (select columns show choice names)."""
        names = {c.key: choice_names(c.choices) for c in fdef.columns}
        return [[names[c.key].get(cell_text(r.get(c.key)), cell_text(r.get(c.key)))
                 for c in fdef.columns] for r in self.to_data(value, fdef, None)]


@register
class CustomTableType(TableType):
    name = "CUSTOMTABLE"


@register
class FileType(CompositeFieldType):
    """Uploads (HTML: FileStorage objects for the caller to store) or attachment ids (JSON)."""

    name = "FILE"

    def make_field(self, fdef, ctx, required):
        return AttachmentField(ctx=ctx, display_label=fdef.name,
                               **self.field_kwargs(fdef, ctx, required))

    def to_formdata(self, value, fdef):
        idents = []
        for item in as_list(value) if not isinstance(value, dict) else [value]:
            if isinstance(item, dict):
                item = item.get("id")
            idents += split_list(item) if item is not None else []
        return [(fdef.key, i) for i in idents] or [(fdef.key, "")]

    def to_data(self, value, fdef, ctx):
        return [v for v in as_list(value) if isinstance(v, dict)]

    def display(self, value, fdef, ctx):
        names = []
        for item in as_list(value):
            if isinstance(item, FileStorage):
                names.append(item.filename or "")
            elif isinstance(item, dict):
                names.append(str(item.get("name") or item.get("id") or ""))
            else:
                names.append(str(item))
        return ",".join(names)


def _json_object(value):
    """A dict, or the dict a JSON text holds; None otherwise."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.strip().startswith("{"):
        try:
            parsed = json.loads(value)
        except ValueError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _form_lines(items, depth=0) -> list[str]:
    lines = []
    for item in items if isinstance(items, list) else []:
        if not isinstance(item, dict):
            continue
        label, value = str(item.get("label") or "").strip(), item.get("value")
        text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False) if value is not None else ""
        if label or text:
            lines.append("  " * depth + " ".join(p for p in (label, text) if p))
        lines += _form_lines(item.get("children"), depth + 1)
    return lines


@register
class CustomFormType(FieldType):
    """Upstream's CUSTOM-FORM: a form another system describes and renders itself (bk-iam's 申请内容:
    {"schemes", "form_data"}); the JSON object is kept as sent. HTML: the object as JSON text."""

    name = "CUSTOM-FORM"

    def make_field(self, fdef, ctx, required):
        from wtforms.fields import TextAreaField
        from wtforms.validators import ValidationError

        def object_only(form, field):
            if field.data and _json_object(field.data) is None:
                raise ValidationError(f"【{fdef.name}】应为 JSON 对象")

        return TextAreaField(**self.field_kwargs(fdef, ctx, required, [object_only], render_kw={"rows": 6}))

    def json_problem(self, value, fdef, ctx):
        if value is None or value == "" or _json_object(value) is not None:
            return None
        return f"【{fdef.name}】应为 JSON 对象，收到{json_kind(value)}"

    def to_storage(self, data, fdef, ctx):
        return _json_object(data) if data else None

    def to_data(self, value, fdef, ctx):
        return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value

    def display(self, value, fdef, ctx):
        form = _json_object(value)
        if form is None:
            return "" if value is None else str(value)
        lines = _form_lines(form.get("form_data"))
        return "\n".join(lines) if lines else json.dumps(form, ensure_ascii=False)
