"""Outbound HTTP API calls (through `outbound`: total deadline, size cap, no redirects), returned as plain data."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests

from . import outbound


@dataclass
class HttpResult:
    status_code: int | None
    text: str
    json: Any               # the parsed body, or None when it is not JSON
    error: str              # transport or parse problem ("" when none)
    duration_ms: int

    @property
    def ok(self) -> bool:
        return not self.error and self.status_code is not None and 200 <= self.status_code < 300


def send(method: str, url: str, *, headers: dict | None = None, payload: Any = None, timeout: float | None = None,
         expect_json: bool = True, deadline: float | None = None, max_bytes: int = outbound.DEFAULT_MAX_BYTES,
         follow_redirects: bool = False, peer_guard=None) -> HttpResult:
    """One request: GET sends `payload` as the query, other methods as a JSON body.

    `deadline` (seconds, `timeout` is the same thing under its old name) bounds the whole call;
    a body over `max_bytes` is an error; a 3xx answer is returned as an error unless `follow_redirects`.
    """
    limit = deadline if deadline is not None else timeout if timeout is not None else outbound.DEFAULT_DEADLINE
    kwargs: dict[str, Any] = {"headers": headers or {}}
    if method.upper() == "GET":
        kwargs["params"] = payload or {}
    else:
        kwargs["json"] = payload if payload is not None else {}
    started = time.monotonic()
    if not limit or limit <= 0:
        return HttpResult(None, "", None, f"请求失败：总时限必须大于 0 秒（{limit}）", _ms(started))
    try:
        response = outbound.request(method.upper(), url, deadline=limit, max_bytes=max_bytes,
                                    follow_redirects=follow_redirects, peer_guard=peer_guard, **kwargs)
    except outbound.OutboundError as exc:
        status = exc.response.status_code if exc.response is not None else None
        return HttpResult(status, "", None, str(exc), _ms(started))
    except requests.ConnectionError as exc:
        return HttpResult(None, "", None, f"无法连接：{_first_line(exc)}", _ms(started))
    except requests.RequestException as exc:
        return HttpResult(None, "", None, f"请求失败：{_first_line(exc)}", _ms(started))
    body, error = None, outbound.redirect_error(response)
    success = 200 <= response.status_code < 300
    if response.text:
        try:
            body = response.json()
        except ValueError:
            error = error or ("响应不是合法的 JSON" if expect_json and success else "")
    elif expect_json and success:
        error = "响应为空"
    return HttpResult(response.status_code, response.text, body, error, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
