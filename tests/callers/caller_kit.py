"""What the caller tests share: a live server, apps registered as each caller's deployment would be, a
callback receiver that answers as the caller's own handler does, Go-struct decoding checks.

Each caller test replays the caller's exact requests (paths, methods, header credentials, JSON bodies)
with `requests`, as its Go/Python client sends them, and parses the answers the way its code does.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import requests
from sqlalchemy import update

from app.extensions import db
from app.infra.uow import commit


def register_app(demo, app_code: str, secret: str, *, act_for_users: bool = True, callbacks: bool = False) -> None:
    """The app as an admin registers it for this caller (callbacks to 127.0.0.1 allowed when it receives them)."""
    from app.models import ApiApp
    from app.services.integration.api_apps import create_api_app

    with demo.app_context():
        create_api_app(app_code, act_for_users=act_for_users, secret=secret)
        if callbacks:
            db.session.execute(update(ApiApp).where(ApiApp.app_code == app_code)
                               .values(callback_hosts="127.0.0.1", callback_private=True))
        commit()
        db.session.remove()


def deliver_callbacks(demo) -> None:
    """Run the scheduler's callback job once (as `flask itsm scheduler` would)."""
    from app.jobs import JOBS, run_job

    run_job(demo, next(j for j in JOBS if j.id == "deliver_callbacks"))


def callback_rows(demo) -> list:
    from app.models import TicketCallback

    with demo.app_context():
        rows = [(c.status, c.attempts, c.last_error) for c in db.session.query(TicketCallback).order_by(TicketCallback.id)]
        db.session.remove()
        return rows


class CallbackReceiver:
    """A local HTTP server standing for the caller's callback endpoint: `handle(body) -> (status, answer)`
    runs the caller's handler logic (it may call the ITSM server back, as real handlers do)."""

    def __init__(self, handle):
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                receiver.received.append(body)
                status, answer = handle(body)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


def go_decodes(value, struct) -> None:
    """Assert `value` decodes into the Go struct described by `struct` (encoding/json): a field of the wrong
    JSON type is an error there (null and absent are fine: the zero value). `struct` maps json names to
    int, str, bool, a nested dict (struct) or a one-element list (slice of that)."""
    assert isinstance(value, dict), value
    for name, kind in struct.items():
        got = value.get(name)
        if got is None:
            continue
        if isinstance(kind, dict):
            go_decodes(got, kind)
        elif isinstance(kind, list):
            assert isinstance(got, list), (name, got)
            for item in got:
                if isinstance(kind[0], dict):
                    go_decodes(item, kind[0])
                else:
                    assert isinstance(item, kind[0]) and not isinstance(item, bool) or kind[0] is bool, (name, item)
        elif kind is int:
            assert isinstance(got, int) and not isinstance(got, bool), (name, got)
        else:
            assert isinstance(got, kind), (name, got)


def session(auth: dict) -> requests.Session:
    """An HTTP client sending `X-Bkapi-Authorization` as the caller builds it, JSON bodies."""
    s = requests.Session()
    s.headers.update({"X-Bkapi-Authorization": json.dumps(auth), "Content-Type": "application/json"})
    return s
