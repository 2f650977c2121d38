"""What a form needs from the outside world, and the shared Chinese messages.

`FieldContext` is passed to every field type so the forms package never imports
the database: choices from dictionaries/APIs, the known users and attachment
lookups are callbacks supplied by the caller.
"""
from __future__ import annotations

from dataclasses import dataclass, field as dataclass_field
from typing import Callable, Iterator, Sequence

from app.flowdef.model import Choice, FieldDef

DEFAULT_ALLOWED_EXTENSIONS = frozenset({
    # office and text
    "txt", "csv", "log", "md", "pdf", "rtf", "doc", "docx", "xls", "xlsx", "ppt", "pptx",
    "odt", "ods", "odp", "json", "xml", "yaml", "yml",
    # images (no svg: it can carry script)
    "png", "jpg", "jpeg", "gif", "bmp", "webp",
    # archives
    "zip", "rar", "7z", "gz", "tgz", "tar", "bz2", "xz",
})


@dataclass
class FieldContext:
    """Callbacks and limits a form needs; defaults suit tests and static flows."""

    choices_for: Callable[[FieldDef], tuple[Choice, ...]] = lambda f: ()
    users: Sequence[tuple[str, str]] = ()      # the known users, when they are few (tests, static flows) ...
    users_named: Callable[[Sequence[str]], Sequence[tuple[str, str]]] | None = None   # ... or looked up by name
    attachment_lookup: Callable[[str], dict | None] = lambda ident: None
    max_upload_bytes: int = 10 * 1024 * 1024
    max_field_bytes: int = 64 * 1024            # TEXT / RICHTEXT values, in UTF-8 bytes
    allowed_extensions: frozenset[str] = DEFAULT_ALLOWED_EXTENSIONS
    _looked_up: dict[str, str | None] = dataclass_field(default_factory=dict, repr=False)

    def choices(self, fdef: FieldDef) -> tuple[Choice, ...]:
        """The field's choice tree: inline choices, else resolved from its source."""
        if fdef.choices:
            return fdef.choices
        if fdef.source is not None:
            return tuple(self.choices_for(fdef) or ())
        return ()

    def known_users(self, usernames: Sequence[str]) -> list[tuple[str, str]]:
        """(username, display) of those of `usernames` that exist and are enabled, in the order asked: from
        `users_named` (the database, a few rows at a time, remembered) when given, else from `users`."""
        wanted = list(dict.fromkeys(str(n) for n in usernames if n))
        if self.users_named is None:
            known = dict(self.users)
        else:
            missing = [n for n in wanted if n not in self._looked_up]
            if missing:
                found = dict(self.users_named(missing))
                self._looked_up.update({n: found.get(n) for n in missing})
            known = {n: d for n, d in self._looked_up.items() if d is not None}
        return [(n, known[n]) for n in wanted if n in known]

    def user_display(self, username: str) -> str:
        """The display name of a user, or the username when unknown."""
        found = self.known_users([username])
        return (found[0][1] or username) if found else username


# --- choice trees -------------------------------------------------------------

def walk_choices(choices: Sequence[Choice], depth: int = 0,
                 path: tuple[Choice, ...] = ()) -> Iterator[tuple[Choice, int, tuple[Choice, ...]]]:
    """Every node of a choice tree, depth first: (choice, depth, path including it)."""
    for choice in choices:
        here = path + (choice,)
        yield choice, depth, here
        yield from walk_choices(choice.children, depth + 1, here)


def choice_names(choices: Sequence[Choice]) -> dict[str, str]:
    """Key -> name for every node of a tree (the first node wins on duplicate keys)."""
    names: dict[str, str] = {}
    for choice, _depth, _path in walk_choices(choices):
        names.setdefault(choice.key, choice.name)
    return names


def is_choice_path(choices: Sequence[Choice], keys: Sequence[str]) -> bool:
    """True when `keys` goes from a root choice downward, each a child of the previous."""
    level: Sequence[Choice] = choices
    for key in keys:
        node = next((c for c in level if c.key == key), None)
        if node is None:
            return False
        level = node.children
    return bool(keys)


# --- messages (upstream wording; each names the field in 【】) -----------------

def msg_required(label: str) -> str:
    return f"【{label}】为必填项"


def msg_bad_choice(label: str) -> str:
    return f"【{label}】选项不匹配，请重新选择"


def msg_bad_int(label: str) -> str:
    return f"【{label}】不是有效的整数"


def msg_bad_date(label: str) -> str:
    return f"【{label}】不是有效的日期，格式应为 YYYY-MM-DD"


def msg_bad_datetime(label: str) -> str:
    return f"【{label}】不是有效的时间, 格式应为 YYYY-MM-DD HH:MM:SS"


def msg_too_long(label: str, limit: int) -> str:
    return f"【{label}】长度不能超过 {limit} 个字符"


def msg_bad_format(label: str) -> str:
    return f"【{label}】格式不正确"


def msg_unknown_users(label: str, usernames: Sequence[str]) -> str:
    return f"【{label}】包含未知用户：{','.join(usernames)}"
