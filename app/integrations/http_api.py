"""Outbound HTTP calls with a timeout, returned as plain data (the services log them)."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import requests


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


def send(method: str, url: str, *, headers: dict | None = None, payload: Any = None, timeout: float = 10,
         expect_json: bool = True) -> HttpResult:
    """One request: GET sends `payload` as the query, other methods as a JSON body."""
    kwargs: dict[str, Any] = {"headers": headers or {}, "timeout": timeout}
    if method.upper() == "GET":
        kwargs["params"] = payload or {}
    else:
        kwargs["json"] = payload if payload is not None else {}
    started = time.monotonic()
    try:
        response = requests.request(method.upper(), url, **kwargs)
    except requests.Timeout:
        return HttpResult(None, "", None, f"请求超时（{timeout} 秒）", _ms(started))
    except requests.ConnectionError as exc:
        return HttpResult(None, "", None, f"无法连接：{_first_line(exc)}", _ms(started))
    except requests.RequestException as exc:
        return HttpResult(None, "", None, f"请求失败：{_first_line(exc)}", _ms(started))
    body, error = None, ""
    success = 200 <= response.status_code < 300
    if response.text:
        try:
            body = response.json()
        except ValueError:
            error = "响应不是合法的 JSON" if expect_json and success else ""
    elif expect_json and success:
        error = "响应为空"
    return HttpResult(response.status_code, response.text, body, error, _ms(started))


def _ms(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0][:300] if str(exc) else type(exc).__name__


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)
