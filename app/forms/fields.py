"""WTForms fields and validators the field types are built from.

Each field raises the upstream Chinese message itself (through `process_formdata`
or `pre_validate`), so the HTML page and the JSON API show the same text.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Sequence

from markupsafe import Markup
from werkzeug.datastructures import FileStorage
from wtforms import widgets
from wtforms.fields import Field, SelectField, SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired, StopValidation, ValidationError

from app.flowdef.model import Choice
from app.i18n import gettext

from .context import FieldContext, is_choice_path, msg_bad_datetime, walk_choices

DATETIME_FORMATS = ["%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
STORAGE_DATETIME = "%Y-%m-%d %H:%M:%S"


def parse_datetime(text: str) -> datetime | None:
    """Parse any accepted datetime spelling; None when it matches none."""
    for fmt in DATETIME_FORMATS:
        try:
            return datetime.strptime(text.strip(), fmt)
        except ValueError:
            continue
    return None


def strip_filter(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _filled(value: Any) -> bool:
    if isinstance(value, str):
        return bool(value.strip())
    if isinstance(value, FileStorage):
        return bool(value.filename)
    return bool(value)


# --- validators ---------------------------------------------------------------

class RequiredInput(InputRequired):
    """InputRequired that also treats whitespace-only input as missing."""

    def __call__(self, form, field):
        if any(_filled(v) for v in field.raw_data or ()):
            return
        field.errors[:] = []
        raise StopValidation(self.message)


class MatchesRegex:
    """The flow's `regex`, applied to the text as typed (so it works for INT too)."""

    def __init__(self, pattern: str, message: str):
        self.regex = re.compile(pattern)
        self.message = message

    def __call__(self, form, field):
        if field.process_errors:  # e.g. not an integer: that message is enough
            return
        text = str(field.raw_data[0]).strip() if field.raw_data else str(field.data or "")
        if not self.regex.match(text):
            raise ValidationError(self.message)


# --- choice fields ------------------------------------------------------------

def select_choices(choices: Sequence[Choice], *, blank: bool, indent: bool = False) -> list[SelectChoice]:
    """SelectChoice options for a (tree of) Choice; TREESELECT indents by depth."""
    options = [SelectChoice("", gettext("请选择"))] if blank else []
    if indent:
        options += [SelectChoice(c.key, "\u3000" * depth + c.name)
                    for c, depth, _path in walk_choices(choices)]
    else:
        options += [SelectChoice(c.key, c.name) for c in choices]
    return options


class KeySelectField(SelectField):
    """A single choice; empty input is left to the required/optional validators."""

    def __init__(self, label=None, validators=None, bad_choice_message=None,
                 unknown_message=None, **kwargs):
        super().__init__(label, validators, invalid_choice_message=bad_choice_message, **kwargs)
        self.unknown_message = unknown_message  # callable(list of bad keys) -> str

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = str(valuelist[0]).strip() or None

    def pre_validate(self, form):
        if self.process_errors or not self.data:
            return
        if self.data not in {c.value for c in self._iter_choices_normalized()}:
            if self.unknown_message is not None:
                raise ValidationError(self.unknown_message([self.data]))
            raise ValidationError(self.invalid_choice_message)


class KeyRadioField(KeySelectField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.RadioInput()

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.label.field_id = False


class MultiKeyField(SelectMultipleField):
    """Several choices; unknown ones give one message naming the field."""

    def __init__(self, label=None, validators=None, bad_choice_message=None,
                 unknown_message=None, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.bad_choice_message = bad_choice_message
        self.unknown_message = unknown_message  # callable(list of bad keys) -> str

    def process_formdata(self, valuelist):
        keys = [str(v).strip() for v in valuelist]
        self.data = list(dict.fromkeys(k for k in keys if k))

    def pre_validate(self, form):
        if self.process_errors or not self.data:
            return
        acceptable = {c.value for c in self._iter_choices_normalized()}
        unknown = [k for k in self.data if k not in acceptable]
        if unknown:
            if self.unknown_message is not None:
                raise ValidationError(self.unknown_message(unknown))
            raise ValidationError(self.bad_choice_message)


class _PeopleChoices:
    """A MEMBER(S) select whose options are only the users it holds (blank first for one person): the picker
    finds the others on the server (/people/search), so the page does not grow with the number of users.
    `people(usernames)` gives (username, label) of those that exist and are enabled."""

    def _init_people(self, people, blank_label):
        self.people = people
        self.blank_label = blank_label

    def _selected(self) -> list[str]:
        data = self.data
        if isinstance(data, (list, tuple)):
            return [str(v) for v in data if v]
        return [str(data)] if data else []

    def _load_people(self) -> None:
        blank = [SelectChoice("", self.blank_label)] if self.blank_label is not None else []
        self.choices = blank + [SelectChoice(u, label) for u, label in self.people(self._selected())]

    def iter_choices(self):
        self._load_people()
        return super().iter_choices()

    def has_groups(self):
        return False

    def pre_validate(self, form):
        self._load_people()
        super().pre_validate(form)


class PersonField(_PeopleChoices, KeySelectField):
    """MEMBER: one user, searched on the server."""

    def __init__(self, label=None, validators=None, people=None, blank_label="", **kwargs):
        super().__init__(label, validators, choices=[], **kwargs)
        self._init_people(people, blank_label)


class PeopleField(_PeopleChoices, MultiKeyField):
    """MEMBERS: several users, searched on the server."""

    def __init__(self, label=None, validators=None, people=None, **kwargs):
        super().__init__(label, validators, choices=[], **kwargs)
        self._init_people(people, None)


class CheckboxGroupField(MultiKeyField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()


class CascadeField(KeySelectField):
    """A path of keys down a choice tree, rendered as one select over all paths."""

    def __init__(self, label=None, validators=None, tree: Sequence[Choice] = (), **kwargs):
        kwargs["choices"] = [SelectChoice("", gettext("请选择"))] + [
            SelectChoice(",".join(c.key for c in path), " / ".join(c.name for c in path))
            for _c, _d, path in walk_choices(tree)
        ]
        super().__init__(label, validators, **kwargs)
        self.tree = tuple(tree)

    def process_data(self, value):
        if isinstance(value, str):
            value = value.split(",")
        self.data = [str(v).strip() for v in value or () if str(v).strip()]

    def process_formdata(self, valuelist):
        if len(valuelist) == 1:
            valuelist = str(valuelist[0]).split(",")
        self.data = [str(v).strip() for v in valuelist if str(v).strip()]

    def iter_choices(self):
        current = ",".join(self.data or ())
        return [c._replace(selected=c.value == current) for c in super().iter_choices()]

    def pre_validate(self, form):
        if self.process_errors or not self.data:
            return
        if not is_choice_path(self.tree, self.data):
            raise ValidationError(self.invalid_choice_message)


# --- datetime range -----------------------------------------------------------

def _range_widget(field, **kwargs):
    kwargs["class"] = kwargs.pop("class_", None) or kwargs.get("class") or "form-control"
    kwargs.pop("id", None)
    start, end = field.start_value, field.end_value
    parts = []
    for suffix, value in (("start", start), ("end", end)):
        params = widgets.html_params(type="datetime-local", step="1", name=field.name,
                                     id=f"{field.id}-{suffix}", value=value, **kwargs)
        parts.append(f"<input {params}>")
    return Markup(' <span class="mx-1">~</span> '.join(parts))


class DateTimeRangeField(Field):
    """[start, end] datetimes, from two inputs sharing a name or one "a,b" string."""

    widget = staticmethod(_range_widget)

    def __init__(self, label=None, validators=None, display_label="", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.display_label = display_label

    def process_data(self, value):
        if isinstance(value, str):
            value = value.split(",")
        parsed = [parse_datetime(str(v)) for v in value or ()]
        self.data = parsed if len(parsed) == 2 and all(parsed) else None

    def process_formdata(self, valuelist):
        if len(valuelist) == 1:
            valuelist = str(valuelist[0]).split(",")
        texts = [str(v).strip() for v in valuelist]
        if not any(texts):
            self.data = None
            return
        parsed = [parse_datetime(t) for t in texts]
        if len(parsed) != 2 or not all(parsed):
            self.data = None
            raise ValueError(msg_bad_datetime(self.display_label))
        self.data = parsed

    def pre_validate(self, form):
        if not self.process_errors and self.data and self.data[1] < self.data[0]:
            raise ValidationError(f"【{self.display_label}】结束时间不能早于开始时间")

    def _edge(self, index: int) -> str:
        if self.raw_data:
            texts = self.raw_data[0].split(",") if len(self.raw_data) == 1 else self.raw_data
            return str(texts[index]).strip() if index < len(texts) else ""
        return self.data[index].strftime(DATETIME_FORMATS[0]) if self.data else ""

    @property
    def start_value(self) -> str:
        return self._edge(0)

    @property
    def end_value(self) -> str:
        return self._edge(1)


def human_size(size: int) -> str:
    """1536 -> "1.5 KB", 10485760 -> "10 MB"."""
    for unit, scale in (("GB", 1 << 30), ("MB", 1 << 20), ("KB", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.3g} {unit}"
    return f"{size} B"


# --- attachments --------------------------------------------------------------

class AttachmentField(Field):
    """Uploaded files (HTML) and/or ids of stored attachments (JSON, kept files)."""

    widget = widgets.FileInput(multiple=True)

    def __init__(self, label=None, validators=None, ctx: FieldContext | None = None,
                 display_label="", **kwargs):
        super().__init__(label, validators, **kwargs)
        self.ctx = ctx or FieldContext()
        self.display_label = display_label

    def _value(self):
        return False

    def process_data(self, value):
        self.data = [v for v in value or () if isinstance(v, (dict, FileStorage))]

    def process_formdata(self, valuelist):
        files = [v for v in valuelist if isinstance(v, FileStorage) and v.filename]
        idents = [str(v).strip() for v in valuelist
                  if isinstance(v, (str, int)) and str(v).strip()]
        found, missing = [], []
        for ident in dict.fromkeys(idents):
            record = self.ctx.attachment_lookup(ident)
            if record is None:
                missing.append(ident)
            else:
                found.append({"id": record.get("id", ident), "name": record.get("name", "")})
        self.data = found + files
        if missing:
            raise ValueError(f"【{self.display_label}】附件不存在：{','.join(missing)}")

    def pre_validate(self, form):
        for item in self.data or ():
            if isinstance(item, FileStorage):
                self._check_upload(item)

    def _check_upload(self, upload: FileStorage) -> None:
        name = upload.filename or ""
        ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if ext not in self.ctx.allowed_extensions:
            raise ValidationError(f"【{self.display_label}】不允许上传该类型的文件：{name}")
        stream = upload.stream
        position = stream.tell()
        stream.seek(0, 2)
        size = stream.tell()
        stream.seek(position)
        if size > self.ctx.max_upload_bytes:
            raise ValidationError(f"【{self.display_label}】文件过大：{name}"
                                  f"（上限 {human_size(self.ctx.max_upload_bytes)}）")

    @property
    def existing(self) -> list[dict]:
        """Stored attachments already attached (rendered as hidden inputs to keep them)."""
        return [item for item in self.data or () if isinstance(item, dict)]
