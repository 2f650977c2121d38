"""API configuration (API 配置): validate systems and APIs, keep secrets masked, make a test call."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from app.errors import NotFound, ValidationFailed
from app.extensions import db
from app.integrations.http_api import HttpResult, send
from app.models import API_METHODS, ApiCallLog, ApiDef, ApiSystem
from app.services.system.audit import MASK, mask_secrets

TEST_CALL_TIMEOUT = 10
MAX_BODY = 20000


def parse_headers(text: str, previous: dict | None = None) -> dict[str, str]:
    """`Name: value` lines as a dict; a value left as the mask keeps the stored secret."""
    previous = previous or {}
    headers: dict[str, str] = {}
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or not re.fullmatch(r"[A-Za-z0-9\-_]+", name):
            raise ValidationFailed(f"认证头第 {number} 行应为 “名称: 值”")
        if value == MASK:
            if name not in previous:
                raise ValidationFailed(f"认证头 {name} 没有已保存的值，请填写")
            value = previous[name]
        headers[name] = value
    return headers


def masked_headers_text(headers: dict | None) -> str:
    """What the edit form shows: header names with masked values."""
    return "\n".join(f"{name}: {MASK}" for name in (headers or {}))


def masked_header_names(headers: dict | None) -> str:
    return ", ".join(f"{name}: {MASK}" for name in (headers or {})) or "—"


def check_system(system: ApiSystem) -> None:
    if not re.match(r"^https?://[^\s/]+", system.base_url or ""):
        raise ValidationFailed("系统地址应以 http:// 或 https:// 开头")
    system.base_url = system.base_url.rstrip("/")


def _json_or_empty(text: str, what: str) -> Any:
    if not (text or "").strip():
        return None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"{what}不是合法的 JSON：第 {exc.lineno} 行第 {exc.colno} 列：{exc.msg}") from None


def check_api(api: ApiDef) -> None:
    """Method, path, request template (a JSON object) and response mapping ({name: "dotted.path"})."""
    if api.method not in API_METHODS:
        raise ValidationFailed(f"请求方法应为 {', '.join(API_METHODS)} 之一")
    if not (api.path or "").startswith("/"):
        raise ValidationFailed("接口路径应以 / 开头")
    template = _json_or_empty(api.request_template, "请求模板")
    if template is not None and not isinstance(template, dict):
        raise ValidationFailed("请求模板应为 JSON 对象")
    mapping = _json_or_empty(api.response_mapping, "返回映射")
    if mapping is not None and not (isinstance(mapping, dict) and all(isinstance(v, str) for v in mapping.values())):
        raise ValidationFailed("返回映射应为 JSON 对象，值为返回数据中的路径，如 {\"name\": \"data.name\"}")


def _mask_text(text: str, secrets: list[str]) -> str:
    """Mask a body: JSON secrets by key, and any literal secret value wherever it appears."""
    try:
        text = json.dumps(mask_secrets(json.loads(text)), ensure_ascii=False)
    except (ValueError, TypeError):
        pass
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text[:MAX_BODY]


def find_api(ref: str | int) -> ApiDef:
    """An enabled API by id or by "<system key>.<api key>"."""
    if isinstance(ref, int) or str(ref).isdigit():
        api = db.session.get(ApiDef, int(ref))
    else:
        system_key, _, api_key = str(ref).partition(".")
        api = db.session.execute(select(ApiDef).join(ApiSystem).where(
            ApiSystem.key == system_key, ApiDef.key == api_key)).scalar_one_or_none()
    if api is None or not api.is_enabled or not api.system.is_enabled:
        raise NotFound(f"API {ref} 不存在或未启用")
    return api


@dataclass(frozen=True)
class ApiRequest:
    """One call of a configured API as plain data, resolved while a transaction is open and sent after it ends."""

    system_id: int
    api_id: int
    method: str
    url: str
    headers: dict
    payload: Any
    deadline: float
    follow_redirects: bool = False


def api_request(api: ApiDef, payload: Any, *, deadline: float = TEST_CALL_TIMEOUT) -> ApiRequest:
    """What calling `api` with `payload` sends (read from the database; no network)."""
    system = api.system
    return ApiRequest(system_id=system.id, api_id=api.id, method=api.method,
                      url=system.base_url.rstrip("/") + api.path, headers=dict(system.auth_headers or {}),
                      payload=payload, deadline=deadline, follow_redirects=bool(api.follow_redirects))


def send_api(request: ApiRequest) -> HttpResult:
    """Send one API call (network only: never call this with a transaction open)."""
    return send(request.method, request.url, headers=request.headers, payload=request.payload,
                timeout=request.deadline, follow_redirects=request.follow_redirects)


def log_api_call(request: ApiRequest, result: HttpResult, *, called_by: str,
                 ticket_id: int | None = None) -> ApiCallLog:
    """Write the call log of a sent call (request, response, status, duration; secrets masked)."""
    secrets = list(request.headers.values())
    log = ApiCallLog(system_id=request.system_id, api_id=request.api_id, ticket_id=ticket_id, method=request.method,
                     url=_mask_text(request.url, secrets), request_headers={k: MASK for k in request.headers},
                     request_body=_mask_text(json.dumps(request.payload or {}, ensure_ascii=False), secrets),
                     status_code=result.status_code, ok=result.ok, response_body=_mask_text(result.text, secrets),
                     error=_mask_text(result.error, secrets), duration_ms=result.duration_ms, called_by=called_by)
    db.session.add(log)
    db.session.flush()
    return log


def test_call_request(api_id: int, body_text: str = "") -> ApiRequest:
    """The admin's test call (API 配置 → 测试): the API's request template, or `body_text`, as a request."""
    api = db.session.get(ApiDef, int(api_id))
    if api is None:
        raise NotFound("API 不存在")
    payload = _json_or_empty(body_text, "请求参数") if body_text.strip() else _json_or_empty(api.request_template, "请求模板")
    return api_request(api, payload or {})
