"""The browser's defences, set in one place for every response (front office, back office, API, files).

The pages still carry inline <script> blocks, on* handlers and style attributes, so scripts and
styles need 'unsafe-inline' for now; no remote origin is ever allowed (default-src 'self').
A view that needs a stricter policy (an attachment) sets its own header; it is kept.
"""
from __future__ import annotations

from flask import Flask, Response

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self' 'unsafe-inline'",     # inline <script> blocks and on* handlers in templates/
    "style-src 'self' 'unsafe-inline'",      # <style> blocks, style= attributes, plotly's computed styles
    "img-src 'self' data:",                  # bootstrap's icons are data: SVGs
    "font-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",                # no framing: clickjacking (with X-Frame-Options for old browsers)
])

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",        # ticket and article URLs never leave in a Referer
}


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response


def register_security_headers(app: Flask) -> None:
    app.after_request(add_security_headers)
