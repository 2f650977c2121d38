"""Choice field types: SELECT, RADIO, MULTISELECT, CHECKBOX, TREESELECT, CASCADE, MEMBER, MEMBERS."""
from __future__ import annotations

from typing import Any, Sequence

from wtforms.fields import BooleanField
from wtforms.fields.choices import SelectChoice

from app.flowdef.model import Choice, FieldDef
from app.i18n import gettext

from .context import FieldContext, choice_names, msg_bad_choice, msg_unknown_users
from .fields import CascadeField, CheckboxGroupField, KeyRadioField, KeySelectField, MultiKeyField, PeopleField, \
    PersonField, select_choices
from .registry import CompositeFieldType, FieldType, as_list, json_kind, register, split_list, text_of

TRUE_TEXTS = frozenset({"y", "yes", "true", "1", "on", "是", "t"})


def _names(keys: Sequence[Any], names: dict[str, str]) -> str:
    return ",".join(names.get(str(k), str(k)) for k in keys)


@register
class SelectType(FieldType):
    name = "SELECT"

    def make_field(self, fdef, ctx, required):
        return KeySelectField(
            choices=select_choices(ctx.choices(fdef), blank=True),
            bad_choice_message=msg_bad_choice(fdef.name),
            **self.field_kwargs(fdef, ctx, required))

    def to_formdata(self, value, fdef):
        if isinstance(value, (list, tuple)) and len(value) == 1:
            value = value[0]  # some clients wrap a single choice in a list
        return [(fdef.key, text_of(value))]

    def to_data(self, value, fdef, ctx):
        return None if value is None else str(value)

    def display(self, value, fdef, ctx):
        if value is None or value == "":
            return ""
        return choice_names(ctx.choices(fdef)).get(str(value), str(value))


@register
class RadioType(SelectType):
    name = "RADIO"

    def make_field(self, fdef, ctx, required):
        return KeyRadioField(
            choices=select_choices(ctx.choices(fdef), blank=False),
            bad_choice_message=msg_bad_choice(fdef.name),
            **self.field_kwargs(fdef, ctx, required))


@register
class TreeSelectType(SelectType):
    """Any node of the tree may be chosen; options are indented by depth."""

    name = "TREESELECT"

    def make_field(self, fdef, ctx, required):
        return KeySelectField(
            choices=select_choices(ctx.choices(fdef), blank=True, indent=True),
            bad_choice_message=msg_bad_choice(fdef.name),
            **self.field_kwargs(fdef, ctx, required))


class ListFieldType(FieldType):
    """Types stored as a list of keys; accepts lists or BlueKing comma strings."""

    def to_storage(self, data, fdef, ctx):
        return list(data or [])

    def to_formdata(self, value, fdef):
        keys = split_list(value)
        return [(fdef.key, k) for k in keys] or [(fdef.key, "")]

    def to_data(self, value, fdef, ctx):
        return [str(v) for v in as_list(value)]


@register
class MultiSelectType(ListFieldType):
    name = "MULTISELECT"

    def make_field(self, fdef, ctx, required):
        return MultiKeyField(
            choices=select_choices(ctx.choices(fdef), blank=False),
            bad_choice_message=msg_bad_choice(fdef.name),
            **self.field_kwargs(fdef, ctx, required))

    def display(self, value, fdef, ctx):
        return _names(as_list(value), choice_names(ctx.choices(fdef)))


def _has_choices(fdef: FieldDef) -> bool:
    return bool(fdef.choices) or fdef.source is not None


@register
class CheckboxType(MultiSelectType):
    """With choices: a list of checked keys. Without: one yes/no box stored as bool."""

    name = "CHECKBOX"

    def make_field(self, fdef, ctx, required):
        if not _has_choices(fdef):
            return BooleanField(**self.field_kwargs(fdef, ctx, required))
        return CheckboxGroupField(
            choices=select_choices(ctx.choices(fdef), blank=False),
            bad_choice_message=msg_bad_choice(fdef.name),
            **self.field_kwargs(fdef, ctx, required))

    def to_storage(self, data, fdef, ctx):
        return bool(data) if not _has_choices(fdef) else list(data or [])

    def json_problem(self, value, fdef, ctx):
        if not _has_choices(fdef) and value is not None and not isinstance(value, bool):
            return f"【{fdef.name}】应为布尔值 true 或 false，收到{json_kind(value)} {value!r}"[:200]
        return None

    def to_formdata(self, value, fdef):
        if _has_choices(fdef):
            return super().to_formdata(value, fdef)
        truthy = value is True or (not isinstance(value, bool) and isinstance(value, (int, str))
                                   and text_of(value).strip().lower() in TRUE_TEXTS)
        return [(fdef.key, "y" if truthy else "")]

    def to_data(self, value, fdef, ctx):
        if not _has_choices(fdef):
            return bool(value) and text_of(value).strip().lower() in TRUE_TEXTS
        return super().to_data(value, fdef, ctx)

    def display(self, value, fdef, ctx):
        if isinstance(value, bool):
            return "是" if value else "否"
        if value is None and not _has_choices(fdef):
            return "否"
        return super().display(value, fdef, ctx)


@register
class CascadeType(CompositeFieldType):
    """A path of keys from a root choice downward, e.g. ["hw", "pc", "laptop"]."""

    name = "CASCADE"

    def make_field(self, fdef, ctx, required):
        return CascadeField(tree=ctx.choices(fdef), bad_choice_message=msg_bad_choice(fdef.name),
                            **self.field_kwargs(fdef, ctx, required))

    def to_formdata(self, value, fdef):
        return [(fdef.key, k) for k in split_list(value)] or [(fdef.key, "")]

    def to_data(self, value, fdef, ctx):
        return [str(v) for v in as_list(value)]

    def display(self, value, fdef, ctx):
        level: Sequence[Choice] = ctx.choices(fdef)
        names = []
        for key in as_list(value):
            node = next((c for c in level if c.key == str(key)), None)
            names.append(node.name if node else str(key))
            level = node.children if node else ()
        return "/".join(names)


def _people(ctx: FieldContext):
    """(username, label) of the named users the context knows, labelled as the picker shows them."""
    return lambda names: [(u, _user_label(u, d)) for u, d in ctx.known_users(names)]


def _user_label(username: str, display: str) -> str:
    """"张三(alice)"; a display that already names the user (the directory's "alice(张三)") is kept as it is."""
    if not display or display == username or display.startswith(f"{username}("):
        return display or username
    return f"{display}({username})"


@register
class MemberType(SelectType):
    name = "MEMBER"

    def make_field(self, fdef, ctx, required):
        return PersonField(
            people=_people(ctx), blank_label=gettext("请选择"),
            unknown_message=lambda bad: msg_unknown_users(fdef.name, bad),
            **self.field_kwargs(fdef, ctx, required))

    def display(self, value, fdef, ctx):
        return ctx.user_display(str(value)) if value else ""


@register
class MembersType(ListFieldType):
    name = "MEMBERS"

    def make_field(self, fdef, ctx, required):
        return PeopleField(
            people=_people(ctx),
            unknown_message=lambda bad: msg_unknown_users(fdef.name, bad),
            **self.field_kwargs(fdef, ctx, required))

    def display(self, value, fdef, ctx):
        return ",".join(ctx.user_display(str(u)) for u in as_list(value))
