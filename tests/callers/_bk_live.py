"""A live server and a callback receiver for the blueking-dbm and blueking-paas caller tests.

(Kept in a helper module, not a conftest, so the caller tests of other branches can add their own.)
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import requests
from sqlalchemy import update
from werkzeug.serving import make_server

from app.extensions import db
from app.infra.uow import commit


class Live:
    """The app served on 127.0.0.1 in a thread."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


class Receiver:
    """Records the JSON POSTs it gets and answers as a BlueKing callback endpoint does (`code: 0`)."""

    def __init__(self):
        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(json.loads(body))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"result": true, "code": 0, "message": "success", "data": null}')

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def register_app(app, code: str, secret: str, *, act_for_users: bool) -> None:
    """The app as an ITSM admin registers it in the back office, callbacks to 127.0.0.1 allowed."""
    from app.models import ApiApp
    from app.services.integration.api_apps import create_api_app

    with app.app_context():
        create_api_app(code, act_for_users=act_for_users, secret=secret)
        db.session.execute(update(ApiApp).where(ApiApp.app_code == code)
                           .values(callback_hosts="127.0.0.1", callback_private=True))
        commit()
        db.session.remove()


def run_callbacks(app) -> object:
    from app.jobs import JOBS, run_job

    job = next(j for j in JOBS if j.id == "deliver_callbacks")
    return run_job(app, job)


def envelope(response: requests.Response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()
