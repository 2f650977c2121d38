"""Chinese first, English available: a per-user language and a small catalogue of UI strings.

Templates call `_('工作台')`; in English the catalogue gives 'Workbench', and any
string missing from it stays Chinese (a test lists the template strings it misses).
"""
from __future__ import annotations

import re

from flask import current_app, g, has_request_context, session
from flask_login import current_user

from .en import EN as _EN, PATTERNS as _PATTERNS
from .en_designer import DESIGNER_EN

EN = {**DESIGNER_EN, **_EN}      # the front office's wording wins where both name a string
EN_PATTERNS = [(re.compile(pattern, re.S), english) for pattern, english in _PATTERNS]

LANGUAGES = {"zh": "中文", "en": "English"}


def get_locale() -> str:
    """The request's language, worked out once per request (a page calls `_()` hundreds of times)."""
    cached = g.get("itsm_locale") if has_request_context() else None
    if cached:
        return cached
    # (a bare app without login, such as the form macro tests', has no current_user)
    user = current_user if hasattr(current_app, "login_manager") else None
    if user and user.is_authenticated and user.language in LANGUAGES:
        lang = user.language
    else:
        lang = session.get("lang")
        lang = lang if lang in LANGUAGES else current_app.config.get("LANGUAGE", "zh")
    if has_request_context():
        g.itsm_locale = lang
    return lang


def gettext(text: str, **params) -> str:
    """The UI string in the current language; `{name}` placeholders filled from params."""
    english = has_request_context() and get_locale() == "en"     # outside a request (CLI, jobs): Chinese
    out = _english(text) if english else text
    return out.format(**params) if params else out


def _english(text: str) -> str:
    """The catalogue's English; a message built with names in it (a refusal naming a role) by its pattern.

    A named part is looked up as `group:value` first (`verb:停用` → "Disable", where 停用 alone is the status
    "Disabled"), then as the value itself."""
    out = EN.get(text)
    if out is not None or not isinstance(text, str):
        return text if out is None else out
    for pattern, english in EN_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            return english.format(**{k: _part(k, v) for k, v in match.groupdict().items()})
    return text


def _part(group: str, value: str) -> str:
    """One named part of a patterned message in English. `uses` is a list of places joined by 「；」 (each place
    a message of its own, e.g. 流程「…」的节点「…」), possibly ending in 「 等 N 处」."""
    if group == "uses":
        more = re.search(r" 等 (\d+) 处\Z", value)
        places = value[:more.start()] if more else value
        out = "; ".join(_english(place) for place in places.split("；"))
        return out + (f" ({more.group(1)} places in all)" if more else "")
    if group == "place":
        return EN.get(f"place:{value}") or _english(value)
    return EN.get(f"{group}:{value}", EN.get(value, value))


def lazy_gettext(text: str, **params):
    """`gettext` deferred to when the string is shown: for labels declared at import time (admin views, actions)."""
    from flask_babel.speaklater import LazyString

    return LazyString(gettext, text, **params)


def pgettext(context: str, text: str) -> str:
    """`gettext` for a word whose English depends on where it stands: 关闭 is the status 'Closed' but the
    button 'Close'. The catalogue keys such a word as 'context|原文'; Chinese shows the word itself."""
    key = f"{context}|{text}"
    out = gettext(key)
    return text if out == key else out


def lazy_pgettext(context: str, text: str):
    """`pgettext` deferred to when the string is shown."""
    from flask_babel.speaklater import LazyString

    return LazyString(pgettext, context, text)
