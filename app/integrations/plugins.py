"""Automation plugins (the manual's 标准运维 node): named callables run by the scheduler.

A plugin is `fn(params, context) -> PluginResult`. `params` are the node's params,
already rendered from the ticket (sandboxed templates); `context` is read-only data
about the ticket. Registered: the built-ins below, the `itsm.automation_plugins`
entry point group of installed packages, and `AUTOMATION_PLUGINS` in the config
(`{"name": "package.module:function"}`).
"""
from __future__ import annotations

import hashlib
import hmac
import importlib
import json
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable, Mapping
from urllib.parse import urlencode

from .http_api import send
from .templating import flatten


@dataclass
class PluginResult:
    ok: bool
    values: dict = field(default_factory=dict)      # fields to set on the ticket
    error: str = ""
    detail: str = ""                                 # shown in the log (e.g. the HTTP status)


Plugin = Callable[[Mapping[str, Any], Mapping[str, Any]], PluginResult]


def http_webhook(params: Mapping[str, Any], context: Mapping[str, Any]) -> PluginResult:
    """POST (or `method`) a JSON `body` to `url`; optional HMAC-SHA256 `secret` signs it.

    `headers` ({name: value}) and `query` ({name: value}) are added as given (BlueKing WEBHOOK nodes use them).
    Success: HTTP 2xx, and the `success` condition on the JSON response when given.
    `response` maps ticket fields to dotted paths of the response.
    """
    url = str(params.get("url") or "")
    if not url.startswith(("http://", "https://")):
        return PluginResult(False, error="http_webhook 需要以 http:// 或 https:// 开头的 url")
    body = params.get("body", {})
    extra, query = params.get("headers") or {}, params.get("query") or {}
    if not isinstance(extra, Mapping) or not isinstance(query, Mapping):
        return PluginResult(False, error="http_webhook 的 headers 和 query 应为 {名称: 值}")
    if query:
        url += ("&" if "?" in url else "?") + urlencode({str(k): str(v) for k, v in query.items()})
    headers = {"Content-Type": "application/json", **{str(k): str(v) for k, v in extra.items()}}
    if params.get("secret"):
        raw = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        headers["X-ITSM-Signature"] = "sha256=" + hmac.new(str(params["secret"]).encode(), raw, hashlib.sha256).hexdigest()
    result = send(str(params.get("method", "POST")), url, headers=headers, payload=body,
                  timeout=float(params.get("timeout", 10)), expect_json=bool(params.get("success") or params.get("response")))
    if result.error or not result.ok:
        return PluginResult(False, error=result.error or f"HTTP {result.status_code}", detail=result.text[:300])
    from app.flowdef.conditions import compile_condition
    from app.flowdef.model import Condition
    from pydantic import TypeAdapter

    if params.get("success") and not compile_condition(TypeAdapter(Condition).validate_python(params["success"]))(
            flatten(result.json)):
        return PluginResult(False, error="响应不满足成功条件", detail=result.text[:300])
    from .templating import lookup

    values = {k: lookup(result.json, path) for k, path in (params.get("response") or {}).items()}
    return PluginResult(True, values, detail=f"HTTP {result.status_code}")


def set_fields(params: Mapping[str, Any], context: Mapping[str, Any]) -> PluginResult:
    """Set ticket fields to (rendered) values: `fields: {key: value}`; no code runs."""
    values = params.get("fields")
    if not isinstance(values, dict) or not values:
        return PluginResult(False, error="set_fields 需要 fields: {字段: 值}")
    return PluginResult(True, dict(values), detail=f"设置字段 {', '.join(values)}")


BUILTIN: dict[str, Plugin] = {"http_webhook": http_webhook, "set_fields": set_fields}


def registry(configured: Mapping[str, str] | None = None) -> dict[str, Plugin]:
    """Every plugin by name: built-ins, then entry points, then the configuration's module paths."""
    plugins = dict(BUILTIN)
    for ep in entry_points(group="itsm.automation_plugins"):
        plugins[ep.name] = ep.load()
    for name, target in (configured or {}).items():
        module, _, attr = target.partition(":")
        plugins[name] = getattr(importlib.import_module(module), attr)
    return plugins
