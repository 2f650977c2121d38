"""The site's public address, for links that leave the page: ticket_url in API answers, callbacks, notices."""
from __future__ import annotations

from flask import current_app, has_request_context, request

# Outside a request (scheduler, CLI) with BASE_URL unset: the README's one-command run listens here.
DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"


def public_base_url() -> str:
    """`BASE_URL` (ITSM_BASE_URL) when configured, else the address the current request came to, else the
    development server's; never with a trailing slash."""
    configured = str(current_app.config.get("BASE_URL") or "").strip()
    if configured:
        return configured.rstrip("/")
    if has_request_context():
        return request.host_url.rstrip("/")
    return DEVELOPMENT_BASE_URL
