"""The kit for replaying real BlueKing callers against a live server.

- `live`: the demo app served by werkzeug on 127.0.0.1 (a free port) in a thread, with one API app
  registered per caller (`CALLERS`), each allowed to act for users (as the ESB / API gateway trusts
  BlueKing's own products) and to receive callbacks on 127.0.0.1.
- `live.caller(app_code)`: a `requests` session that sends what that caller's HTTP helper sends
  (`X-Bkapi-Authorization` with bk_app_code, bk_app_secret and bk_username; GET parameters in the query
  string, POST parameters as a JSON body), answering the envelope as a dict.
- `receiver`: a local HTTP server that records the callbacks it receives and answers with the body the
  caller's own view answers (`receiver.answer`); `deliver()` runs the scheduled job once.
"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
import requests
from werkzeug.serving import make_server

from app.infra.uow import commit

SECRET = "caller-secret-for-tests"
CALLERS = ("bk_sops", "bk_iam", "bk_monitor", "bk_log", "bk_audit")


class CallerClient:
    """One caller's view of ITSM: `get(name, **params)`, `post(name, **body)` → the whole envelope."""

    def __init__(self, base: str, app_code: str, username: str = "admin", prefix: str = "/api/c/compapi/v2/itsm"):
        self.base, self.app_code, self.username, self.prefix = base, app_code, username, prefix
        self.session = requests.Session()

    def headers(self, username: str | None = None, **extra) -> dict:
        auth = {"bk_app_code": self.app_code, "bk_app_secret": SECRET, "bk_username": username or self.username}
        return {"Content-Type": "application/json", "X-Bkapi-Authorization": json.dumps(auth), **extra}

    def url(self, name: str) -> str:
        return f"{self.base}{self.prefix}/{name}/"

    def get(self, name: str, /, username: str | None = None, **params) -> dict:
        response = self.session.get(self.url(name), params=params, headers=self.headers(username), timeout=30)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, name: str, /, username: str | None = None, **body) -> dict:
        response = self.session.post(self.url(name), json=body, headers=self.headers(username), timeout=30)
        assert response.status_code == 200, response.text
        return response.json()


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-itsm", daemon=True)

    def caller(self, app_code: str, username: str = "admin") -> CallerClient:
        return CallerClient(self.url, app_code, username)


@pytest.fixture
def live(demo):
    from app.services.integration.api_apps import create_api_app

    with demo.app_context():
        for code in CALLERS:
            create_api_app(code, act_for_users=True, secret=SECRET, callback_hosts="127.0.0.1",
                           callback_private=True)
        commit()
    server = LiveServer(demo)
    server.thread.start()
    yield server
    server.server.shutdown()
    server.thread.join(5)
    server.server.server_close()


class Receiver:
    """Records every POST (path and JSON body); answers `answer` (the caller's own view's reply)."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        self.headers: list[dict] = []         # each POST's request headers, in order
        self.answer: dict = {"result": True, "code": 0, "message": "success", "data": None}
        self.on_receive = None            # the caller's view, run on each callback (e.g. it calls token/verify)
        self.fail = 0                     # answer HTTP 500 to the first `fail` callbacks (the caller was down)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
                receiver.received.append((self.path, body))
                receiver.headers.append(dict(self.headers))
                if len(receiver.received) <= receiver.fail:
                    self.send_response(500)
                    self.end_headers()
                    return
                answer = receiver.on_receive(body) if receiver.on_receive else receiver.answer
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps(answer).encode())

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict]:
        return [body for _, body in self.received]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def deliver(demo):
    """`deliver()`: one run of the scheduled callback job (what `itsm scheduler` does every few seconds)."""
    from app.jobs import JOBS, run_job

    return lambda: run_job(demo, next(j for j in JOBS if j.id == "deliver_callbacks"))


@pytest.fixture
def publish(demo):
    """`publish(yaml_text, display_type=..., display_role=...)`: what an ITSM admin sets up for a caller (a flow
    deployed, a service on it, shown as the caller looks it up); returns the service id."""
    from app.services.catalog.browse import ensure_service
    from app.services.flows.library import deploy_flow, save_flow_source

    def make(yaml_text: str, *, display_type: str = "OPEN", display_role: str = "") -> int:
        with demo.app_context():
            flow = save_flow_source(yaml_text, by="admin")
            version = deploy_flow(flow.key, by="admin")
            service = ensure_service(flow.key, flow.name, service_type=flow.service_type, flow_version_id=version.id,
                                     display_type=display_type, display_role=display_role)
            commit()
            return service.id

    return make
