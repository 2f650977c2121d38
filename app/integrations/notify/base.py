"""What every notification channel takes and gives back: a rendered message, recipients, results, HTTP calls."""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import requests

from .. import outbound

MASK = "******"
MAX_BODY = 20000


@dataclass(frozen=True)
class Message:
    """One rendered notice: the same content goes to every channel in its own shape."""

    notification_id: int
    kind: str
    subject: str
    text: str
    html: str
    markdown: str
    url: str
    ticket_sn: str = ""
    ticket_id: int | None = None


@dataclass(frozen=True)
class Recipient:
    username: str
    display_name: str = ""
    email: str = ""

    @property
    def label(self) -> str:
        return f"{self.username}({self.display_name})" if self.display_name else self.username


@dataclass(frozen=True)
class HttpCall:
    """One outbound HTTP request as the API call log stores it (secrets already masked)."""

    method: str
    url: str
    request_headers: dict
    request_body: str
    status_code: int | None
    ok: bool
    response_body: str
    error: str
    duration_ms: int


@dataclass
class Result:
    """The outcome of a send to one target (a username, or `*` for the whole group)."""

    target: str
    ok: bool
    error: str = ""
    skipped: bool = False
    calls: list[HttpCall] = field(default_factory=list)


class ChannelNotConfigured(Exception):
    """The admin has not set this channel up (no SMTP host, no webhook URL)."""


def mask(text: str, secrets) -> str:
    """Replace every literal secret value (4+ characters) with the mask, and cut to the log's size."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text[:MAX_BODY]


def post(url: str, body: bytes, *, headers: dict, timeout: float, secrets=(),
         max_bytes: int = outbound.DEFAULT_MAX_BYTES) -> tuple[HttpCall, requests.Response | None]:
    """POST `body` within `timeout` seconds in all (a total deadline), reading at most `max_bytes` of the answer,
    not following redirects; never raises for HTTP or network errors: the call record says what happened.

    The response, when there is one, has its body already read (`.text`, `.json()`)."""
    started = time.monotonic()
    response, error = None, ""
    try:
        response = outbound.request("POST", url, data=body, headers=headers, deadline=timeout, max_bytes=max_bytes)
    except outbound.OutboundError as exc:
        error = str(exc)
    except requests.RequestException as exc:
        error = f"{type(exc).__name__}: {exc}"
    ok = response is not None and 200 <= response.status_code < 300
    if response is not None and not ok:
        error = outbound.redirect_error(response) or f"HTTP {response.status_code}"
    call = HttpCall(method="POST", url=mask(url, secrets),
                    request_headers={k: mask(str(v), secrets) for k, v in headers.items()},
                    request_body=mask(body.decode("utf-8", "replace"), secrets),
                    status_code=None if response is None else response.status_code, ok=ok,
                    response_body="" if response is None else mask(response.text, secrets),
                    error=mask(error, secrets), duration_ms=int((time.monotonic() - started) * 1000))
    return call, response


def json_body(payload: dict) -> bytes:
    """Compact UTF-8 JSON: the exact bytes that are signed and sent."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
