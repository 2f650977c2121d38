"""Form fields that take people: a searchable picker over the users (static/js/pickers.js), never free text.

Only the stored or submitted usernames are rendered as options (labelled with the display name); the picker
finds others through /people/search. A username that is not a user is refused with a Chinese message, so
the save changes nothing. Without JavaScript the plain <select> keeps the current people.
"""
from __future__ import annotations

from flask import url_for
from wtforms import SelectField, SelectMultipleField
from wtforms.validators import ValidationError

from app.i18n import gettext
from app.services.people import user_labels


def _split(values) -> list[str]:
    """Usernames from posted values or a stored "a,b" text; blanks dropped, order kept, no repeats."""
    if isinstance(values, str):
        values = [values]
    names: list[str] = []
    for value in values or ():
        for name in str(value).replace("，", ",").split(","):
            name = name.strip()
            if name and name not in names:
                names.append(name)
    return names


def _refuse_unknown(names: list[str], labels: dict[str, str]) -> None:
    unknown = [n for n in names if n not in labels]
    if unknown:
        raise ValidationError(gettext("用户不存在：{names}。请从列表中选择已有用户", names="、".join(unknown)))


class _PickerMixin:
    def _picker_kw(self, kw: dict) -> dict:
        kw.setdefault("data-picker", "people")
        kw.setdefault("data-placeholder", gettext("输入用户名或姓名搜索"))
        kw.setdefault("data-no-results", gettext("没有匹配的用户"))
        kw.setdefault("data-picker-search", url_for("people.search"))
        return kw


class PeopleField(_PickerMixin, SelectMultipleField):
    """Several users. `joined=True`: the model stores them as one "a,b" text column (e.g. service owners)."""

    def __init__(self, label=None, validators=None, *, joined: bool = False, **kwargs):
        super().__init__(label, validators, choices=[], **kwargs)
        self.joined = joined
        self.labels: dict[str, str] = {}

    def process(self, formdata, data=None, extra_filters=None):
        super().process(formdata, data, extra_filters)
        self.set_people(self.data)

    def process_data(self, value):
        self.data = _split(value)

    def set_people(self, usernames) -> None:
        """Show these users as selected (a view's prefill from related rows)."""
        self.data = _split(usernames)
        self.labels = user_labels(self.data)
        self.choices = [(name, self.labels.get(name, name)) for name in self.data]

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = _split(valuelist)

    def pre_validate(self, form):
        _refuse_unknown(self.data, self.labels)

    def populate_obj(self, obj, name):
        setattr(obj, name, ",".join(self.data) if self.joined else list(self.data))

    def __call__(self, **kw):
        return super().__call__(**self._picker_kw(kw))


class PersonField(_PickerMixin, SelectField):
    """One user, or nobody (stored as an empty text)."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, choices=[], **kwargs)
        self.labels: dict[str, str] = {}

    def process(self, formdata, data=None, extra_filters=None):
        super().process(formdata, data, extra_filters)
        self.data = (self.data or "").strip() if isinstance(self.data, str) or self.data is None else str(self.data)
        self.labels = user_labels([self.data])
        self.choices = [("", "—")] + ([(self.data, self.labels.get(self.data, self.data))] if self.data else [])

    def process_data(self, value):
        self.data = (value or "").strip() if isinstance(value, str) else ("" if value is None else str(value))

    def process_formdata(self, valuelist):
        if valuelist:
            self.data = (valuelist[0] or "").strip()

    def pre_validate(self, form):
        _refuse_unknown([self.data] if self.data else [], self.labels)

    def __call__(self, **kw):
        return super().__call__(**self._picker_kw(kw))
