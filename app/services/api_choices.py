"""Choices of SELECT/MULTISELECT/TREESELECT fields taken from a configured API (cached, with a timeout)."""
from __future__ import annotations

import time

from flask import current_app, g, has_app_context

from app.errors import ItsmError
from app.flowdef import FieldDef
from app.flowdef.model import Choice
from app.integrations.templating import lookup

_cache: dict[tuple, tuple[float, tuple[Choice, ...]]] = {}


def api_choices(fdef: FieldDef) -> tuple[Choice, ...]:
    """The options the field's API lists now; on failure none, and the reason is kept for the page."""
    source = fdef.source
    key = (source.api, source.items, source.key_field, source.name_field)
    hit = _cache.get(key)
    if hit and hit[0] > time.monotonic():
        return hit[1]
    try:
        choices = _fetch(source)
    except (ItsmError, ValueError) as exc:
        message = exc.message if isinstance(exc, ItsmError) else str(exc)
        _remember_error(fdef, message)
        return hit[1] if hit else ()          # a stale list beats none while the API is down
    _cache[key] = (time.monotonic() + current_app.config["API_CHOICES_TTL"], choices)
    return choices


def _fetch(source) -> tuple[Choice, ...]:
    from app.extensions import db

    from .admin_integration import call_api, find_api

    api = find_api(source.api)
    _, result = call_api(api, {}, called_by="system", timeout=current_app.config["API_CHOICES_TIMEOUT"])
    db.session.commit()          # the call log is kept even when the page only reads
    if result.error or not result.ok:
        raise ValueError(result.error or f"HTTP {result.status_code}")
    items = lookup(result.json, source.items)
    if not isinstance(items, list):
        raise ValueError(f"响应中 {source.items} 不是列表")
    return tuple(_choice(item, source) for item in items if isinstance(item, dict) and item.get(source.key_field) is not None)


def _choice(item: dict, source) -> Choice:
    children = item.get("children") or []
    return Choice(key=str(item[source.key_field]), name=str(item.get(source.name_field, item[source.key_field])),
                  children=tuple(_choice(c, source) for c in children if isinstance(c, dict) and source.key_field in c))


def _remember_error(fdef: FieldDef, message: str) -> None:
    if has_app_context():
        g.setdefault("itsm_choice_errors", {})[fdef.key] = f"【{fdef.name}】的选项暂时无法从接口获取：{message}"


def choice_errors() -> list[str]:
    """Messages for fields whose API options could not be loaded in this request."""
    return list(g.get("itsm_choice_errors", {}).values()) if has_app_context() else []


def clear_cache() -> None:
    _cache.clear()
