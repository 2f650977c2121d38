"""Text, number and date field types: STRING, TEXT, RICHTEXT, LINK, INT, DATE, DATETIME."""
from __future__ import annotations

from datetime import date, datetime
from html import unescape
from typing import Any

import nh3
from wtforms.fields import DateField, DateTimeLocalField, IntegerField, StringField, TextAreaField
from wtforms.validators import Length, ValidationError

from app.flowdef.model import FieldDef

from .context import msg_bad_date, msg_bad_datetime, msg_bad_int, msg_too_long
from .fields import DATETIME_FORMATS, STORAGE_DATETIME, parse_datetime, strip_filter
from .registry import FieldType, json_kind, register
from .sanitize import clean_html

STRING_MAX_LENGTH = 255
TITLE_MAX_LENGTH = 120
LINK_MAX_LENGTH = 2048


def length_validators(fdef: FieldDef, limit: int | None) -> list:
    if not limit:
        return []
    return [Length(max=limit, message=msg_too_long(fdef.name, limit))]


@register
class StringType(FieldType):
    name = "STRING"

    def limit(self, fdef: FieldDef) -> int:
        limit = fdef.max_length or STRING_MAX_LENGTH
        return min(limit, TITLE_MAX_LENGTH) if fdef.key == "title" else limit

    def make_field(self, fdef, ctx, required):
        validators = length_validators(fdef, self.limit(fdef)) + self.regex_validators(fdef)
        return StringField(filters=[strip_filter],
                           **self.field_kwargs(fdef, ctx, required, validators))

    def to_data(self, value, fdef, ctx):
        return None if value is None else str(value)

    def json_problem(self, value, fdef, ctx):
        if value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool)):
            return None
        return f"【{fdef.name}】应为字符串，收到{json_kind(value)}"

    def size_problem(self, value, fdef, ctx) -> str | None:
        if isinstance(value, str) and len(value.encode("utf-8", "surrogatepass")) > ctx.max_field_bytes:
            return f"【{fdef.name}】内容过大，不能超过 {ctx.max_field_bytes // 1024} KiB"
        return None

    def make_size_validators(self, fdef, ctx) -> list:
        return [MaxBytes(ctx.max_field_bytes, f"【{fdef.name}】内容过大，不能超过 {ctx.max_field_bytes // 1024} KiB")]


@register
class TextType(StringType):
    name = "TEXT"

    def make_field(self, fdef, ctx, required):
        validators = (length_validators(fdef, fdef.max_length) + self.make_size_validators(fdef, ctx)
                      + self.regex_validators(fdef))
        return TextAreaField(filters=[strip_filter], **self.field_kwargs(
            fdef, ctx, required, validators, render_kw={"rows": 4}))

    def json_problem(self, value, fdef, ctx):
        return super().json_problem(value, fdef, ctx) or self.size_problem(value, fdef, ctx)


@register
class RichTextType(TextType):
    """HTML from an editor; always stored sanitized, displayed as plain text."""

    name = "RICHTEXT"

    def make_field(self, fdef, ctx, required):
        validators = length_validators(fdef, fdef.max_length) + self.make_size_validators(fdef, ctx)
        return TextAreaField(filters=[strip_filter], **self.field_kwargs(
            fdef, ctx, required, validators, render_kw={"rows": 6}))

    def to_storage(self, data, fdef, ctx):
        cleaned = clean_html(data or "").strip()
        return cleaned or None

    def display(self, value, fdef, ctx):
        if not value:
            return ""
        return unescape(nh3.clean(str(value), tags=set())).strip()


class MaxBytes:
    """Text at most `limit` bytes in UTF-8 (TEXT and RICHTEXT: the configured field size)."""

    def __init__(self, limit: int, message: str):
        self.limit, self.message = limit, message

    def __call__(self, form, field):
        if field.data and len(field.data.encode("utf-8", "surrogatepass")) > self.limit:
            raise ValidationError(self.message)


class HttpUrl:
    """A LINK must be an absolute http(s) URL (no javascript: or data: links)."""

    def __init__(self, message: str):
        self.message = message

    def __call__(self, form, field):
        text = (field.data or "").lower()
        if not (text.startswith("http://") or text.startswith("https://")) or " " in text:
            raise ValidationError(self.message)


@register
class LinkType(StringType):
    name = "LINK"

    def make_field(self, fdef, ctx, required):
        validators = length_validators(fdef, fdef.max_length or LINK_MAX_LENGTH)
        validators.append(HttpUrl(f"【{fdef.name}】不是有效的链接，应以 http:// 或 https:// 开头"))
        return StringField(filters=[strip_filter], **self.field_kwargs(
            fdef, ctx, required, validators, render_kw={"type": "url"}))


@register
class IntType(FieldType):
    name = "INT"

    def make_field(self, fdef, ctx, required):
        return IntegerField(invalid_value_message=msg_bad_int(fdef.name), **self.field_kwargs(
            fdef, ctx, required, self.regex_validators(fdef)))

    def to_data(self, value, fdef, ctx):
        try:
            return int(value)
        except (TypeError, ValueError):
            return None

    def json_problem(self, value, fdef, ctx):
        if value is None or isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
            return None
        if isinstance(value, float) and value.is_integer():
            return None
        return f"【{fdef.name}】应为整数，收到{json_kind(value)} {value!r}"[:200]


@register
class DateType(FieldType):
    name = "DATE"

    def make_field(self, fdef, ctx, required):
        return DateField(format="%Y-%m-%d", invalid_value_message=msg_bad_date(fdef.name),
                         **self.field_kwargs(fdef, ctx, required))

    def to_storage(self, data, fdef, ctx):
        return data.strftime("%Y-%m-%d") if isinstance(data, date) else None

    def to_data(self, value, fdef, ctx):
        if isinstance(value, date):
            return value
        try:
            return datetime.strptime(str(value).strip(), "%Y-%m-%d").date()
        except ValueError:
            return None


@register
class DateTimeType(FieldType):
    name = "DATETIME"

    def make_field(self, fdef, ctx, required):
        return DateTimeLocalField(
            format=list(DATETIME_FORMATS), invalid_value_message=msg_bad_datetime(fdef.name),
            **self.field_kwargs(fdef, ctx, required, render_kw={"step": "1"}))

    def to_storage(self, data, fdef, ctx):
        return data.strftime(STORAGE_DATETIME) if isinstance(data, datetime) else None

    def to_data(self, value: Any, fdef, ctx):
        if isinstance(value, datetime):
            return value
        return parse_datetime(str(value)) if value is not None else None
