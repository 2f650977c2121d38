"""The browser's defences, set in one place for every response (front office, back office, API, files).

The front office runs no inline script: its behaviour is in static modules (app/static/js), so its
script-src is 'self' alone and an injected <script> or on* handler never runs. The back office keeps
'unsafe-inline' for scripts because Flask-Admin's own templates carry on* handlers (delete confirmations,
list actions). No page has inline styles either: style= attributes and <style> blocks are classes in
app/static/itsm.css, so an injected style cannot restyle a page. Scripts may still set element.style (the
CSSOM, which CSP does not restrict: the pickers, Quill, drawflow, plotly). Two exceptions, each by hash:
an empty <style> element (plotly creates one and fills it through the CSSOM), and in the back office the few
style= values its Python form definitions set (BACK_OFFICE_STYLE_ATTRIBUTES).
No remote origin is ever allowed (default-src 'self').
A view that needs a stricter policy (an attachment) sets its own header; it is kept.
"""
from __future__ import annotations

import base64
import hashlib

from flask import Flask, Response, request

ADMIN_PREFIX = "/admin"

# style= values that app/admin's form definitions (render_kw) put on back-office editors
BACK_OFFICE_STYLE_ATTRIBUTES = ("min-height: 90px", "min-height: 120px", "min-height: 260px", "min-height: 320px")


def style_hash(text: str) -> str:
    """The CSP source that allows exactly this inline style text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


EMPTY_STYLE_ELEMENT = style_hash("")       # plotly's <style>, filled through the CSSOM


def _policy(script_src: str, style_src: str) -> str:
    return "; ".join([
        "default-src 'self'",
        f"script-src {script_src}",
        f"style-src {style_src}",
        "img-src 'self' data:",                  # bootstrap's icons are data: SVGs
        "font-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",                # no framing: clickjacking (with X-Frame-Options for old browsers)
    ])


CONTENT_SECURITY_POLICY = _policy("'self'", f"'self' {EMPTY_STYLE_ELEMENT}")
ADMIN_CONTENT_SECURITY_POLICY = _policy(
    "'self' 'unsafe-inline'",                                         # Flask-Admin's on* handlers
    " ".join(["'self'", EMPTY_STYLE_ELEMENT, "'unsafe-hashes'", *map(style_hash, BACK_OFFICE_STYLE_ATTRIBUTES)]))

SECURITY_HEADERS = {
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",        # ticket and article URLs never leave in a Referer
}


def content_security_policy(path: str) -> str:
    """The policy for a response to `path`: the back office's allows its inline handlers, nothing else does."""
    in_admin = path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/")
    return ADMIN_CONTENT_SECURITY_POLICY if in_admin else CONTENT_SECURITY_POLICY


def add_security_headers(response: Response) -> Response:
    response.headers.setdefault("Content-Security-Policy", content_security_policy(request.path))
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
