"""Choices of SELECT/MULTISELECT/TREESELECT fields taken from a configured API (cached per process).

The options are never fetched while a transaction is open (on SQLite an open transaction
holds the database's write lock; on PostgreSQL an operation holds its ticket's row lock).
A form that needs options the cache does not have raises `OutboundFirst`: the entry point
ends its transaction, fetches them (`choice_requests` → `fetch_choices` → `store_choices`,
the call logs written in a short transaction of their own) and runs the request again,
which then finds them cached. A failed fetch is cached too, briefly, with its reason, so
the second run shows the form with a clear message instead of calling again.
"""
from __future__ import annotations

import time
from dataclasses import dataclass

from flask import current_app, g, has_app_context

from app.errors import ItsmError
from app.flowdef import FieldDef
from app.flowdef.model import Choice
from app.infra.uow import OutboundFirst
from app.integrations.http_api import HttpResult
from app.integrations.templating import lookup
from app.services.integration.apis import ApiRequest, api_request, find_api, log_api_call, send_api


@dataclass(frozen=True)
class _Entry:
    expires: float
    choices: tuple[Choice, ...]
    error: str = ""


@dataclass(frozen=True)
class ChoiceFetch:
    """One field's options to fetch: its cache key, its name, and the call (or why it cannot be made)."""

    key: tuple
    field_name: str
    source: object
    request: ApiRequest | None
    problem: str = ""


_cache: dict[tuple, _Entry] = {}


def _key(fdef: FieldDef) -> tuple:
    source = fdef.source
    return (source.api, source.items, source.key_field, source.name_field)


def api_choices(fdef: FieldDef) -> tuple[Choice, ...]:
    """The options the field's API lists (cached); OutboundFirst when they must be fetched first."""
    entry = _cache.get(_key(fdef))
    if entry is None or entry.expires <= time.monotonic():
        raise OutboundFirst(lambda: choice_requests([fdef]), fetch_choices, store_choices)
    if entry.error:
        _remember_error(fdef.name, entry.error)
    return entry.choices


def choice_requests(fdefs: list[FieldDef]) -> list[ChoiceFetch]:
    """Read phase: the calls that list these fields' options (the API definitions come from the database)."""
    deadline = float(current_app.config["API_CHOICES_TIMEOUT"])
    out = []
    for fdef in fdefs:
        try:
            request = api_request(find_api(fdef.source.api), {}, deadline=deadline)
        except ItsmError as exc:
            out.append(ChoiceFetch(_key(fdef), fdef.name, fdef.source, None, exc.message))
            continue
        out.append(ChoiceFetch(_key(fdef), fdef.name, fdef.source, request))
    return out


def fetch_choices(fetches: list[ChoiceFetch]) -> list[HttpResult | None]:
    """Call phase (no transaction open): ask each API, and cache what it answered (or why it failed)."""
    results = []
    for fetch in fetches:
        result = send_api(fetch.request) if fetch.request is not None else None
        results.append(result)
        _remember(fetch, result)
    return results


def store_choices(fetches: list[ChoiceFetch], results: list[HttpResult | None]) -> None:
    """Record phase: the call logs, in a short transaction of their own."""
    for fetch, result in zip(fetches, results):
        if result is not None:
            log_api_call(fetch.request, result, called_by="system")


def _remember(fetch: ChoiceFetch, result: HttpResult | None) -> None:
    cfg = current_app.config
    now = time.monotonic()
    stale = _cache.get(fetch.key)
    try:
        if result is None:
            raise ValueError(fetch.problem)
        if result.error or not result.ok:
            raise ValueError(result.error or f"HTTP {result.status_code}")
        items = lookup(result.json, fetch.source.items)
        if not isinstance(items, list):
            raise ValueError(f"响应中 {fetch.source.items} 不是列表")
        choices = tuple(_choice(item, fetch.source) for item in items
                        if isinstance(item, dict) and item.get(fetch.source.key_field) is not None)
    except ValueError as exc:        # a stale list beats none while the API is down
        _cache[fetch.key] = _Entry(now + cfg["API_CHOICES_RETRY_SECONDS"], stale.choices if stale else (), str(exc))
        return
    _cache[fetch.key] = _Entry(now + cfg["API_CHOICES_TTL"], choices)


def _choice(item: dict, source) -> Choice:
    children = item.get("children") or []
    return Choice(key=str(item[source.key_field]), name=str(item.get(source.name_field, item[source.key_field])),
                  children=tuple(_choice(c, source) for c in children if isinstance(c, dict) and source.key_field in c))


def _remember_error(field_name: str, message: str) -> None:
    if has_app_context():
        g.setdefault("itsm_choice_errors", {})[field_name] = f"【{field_name}】的选项暂时无法从接口获取：{message}"


def choice_errors() -> list[str]:
    """Messages for fields whose API options could not be loaded in this request."""
    return list(g.get("itsm_choice_errors", {}).values()) if has_app_context() else []


def clear_cache() -> None:
    _cache.clear()
