"""Helpers for the API attack cases: registered apps, a raw caller, tickets made through the API.

(No conftest.py in tests/security: the fixtures below are imported by the test modules that use them.)

- `api(name, username=..., **params)`: an app trusted to act for users (`ops-portal`) calls an endpoint the way
  the official clients do (JSON POST for writing endpoints and the POST-only reads, GET for the others).
- `api.raw(method, name, headers=..., query=..., json=..., data=..., client=...)`: any request, as an attacker
  sends it; returns the envelope.
- `service(kind)`, `ticket(kind, creator, **values)`: demo services and tickets made through the API.
- `snapshot(sn=None)`: what a refused call must leave unchanged.
"""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from app.extensions import db
from app.infra.uow import commit

APP_CODE, APP_SECRET = "ops-portal", "s3cret-value-for-tests"
PLAIN_CODE, PLAIN_SECRET = "plain-app", "plain-secret"
PREFIX = "/api/c/compapi/v2/itsm"
POST_ENDPOINTS = {"create_ticket", "get_tickets", "operate_node", "operate_ticket", "comment_ticket",
                  "ticket_approval_result", "create_service_catalog", "import_service", "update_service",
                  "token/verify"}

ACCOUNT = dict(title="账号", system="crm", account_type="permanent", reason="对账")
CHANGE = dict(title="变更", change_type="normal", risk="low", window="2030-01-01 22:00:00", plan="<p>p</p>",
              rollback_plan="r")
SERVICES = {"account": ("账号开通", ACCOUNT), "change": ("普通变更", CHANGE)}


def fields(**values):
    return [{"key": k, "value": v} for k, v in values.items()]


def auth_header(code=APP_CODE, secret=APP_SECRET, **user) -> dict:
    return {"X-Bkapi-Authorization": json.dumps({"bk_app_code": code, "bk_app_secret": secret, **user})}


@pytest.fixture
def api(demo):
    with demo.app_context():
        from app.services.integration.api_apps import create_api_app

        create_api_app(APP_CODE, act_for_users=True, secret=APP_SECRET)
        create_api_app(PLAIN_CODE, act_for_users=False, secret=PLAIN_SECRET)
        commit()
    client = demo.test_client()

    def raw(method, name, *, headers=None, query=None, json=None, data=None, via=None):
        response = (via or client).open(f"{PREFIX}/{name}/", method=method, headers=headers or {},
                                         query_string=query, json=json, data=data)
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def call(name, /, username="admin", **params):
        if name in POST_ENDPOINTS:
            return raw("POST", name, headers=auth_header(bk_username=username), json=params)
        return raw("GET", name, headers=auth_header(bk_username=username), query=params)

    call.raw, call.client = raw, client
    return call


@pytest.fixture
def service(api):
    ids = {s["name"]: s["id"] for s in api("get_services")["data"]}
    return lambda kind: ids[SERVICES[kind][0]]


@pytest.fixture
def ticket(api, service):
    """`ticket(kind, creator, **values)` → the sn of a new ticket created through the API."""

    def make(kind="account", creator="alice", **values):
        r = api("create_ticket", service_id=service(kind), creator=creator,
                fields=fields(**{**SERVICES[kind][1], **values}))
        assert r["result"], r
        return r["data"]["sn"]

    return make


def open_step(api, sn) -> dict:
    return api("get_ticket_status", sn=sn)["data"]["current_steps"][0]


@pytest.fixture
def snapshot(demo):
    """`snapshot(sn=None)` → a comparable picture of one ticket (or all tickets) and the rows around them."""
    from app.models import Ticket, TicketCallback, TicketLink, TicketLog, TicketStep
    from app.models.api import TicketComment

    def snap(sn: str | None = None):
        with demo.app_context():
            db.session.expire_all()
            tickets = db.session.execute((select(Ticket).where(Ticket.sn == sn) if sn else select(Ticket))
                                         .order_by(Ticket.id)).scalars().all()
            rows = [(t.id, t.sn, t.status, json.dumps(t.values, sort_keys=True, default=str), t.updated_at,
                     t.is_commented) for t in tickets]
            steps = [(s.id, s.status, s.is_open, s.processors) for s in db.session.execute(
                select(TicketStep).where(TicketStep.ticket_id.in_([t.id for t in tickets]))
                .order_by(TicketStep.id)).scalars()]
            counts = {m.__name__: db.session.execute(select(func.count()).select_from(m)).scalar_one()
                      for m in (Ticket, TicketStep, TicketLog, TicketCallback, TicketComment, TicketLink)}
            db.session.remove()
            return {"tickets": rows, "steps": steps, "counts": counts}

    return snap


def login_cookie(b) -> str:
    """The `bk_token` cookie that /login set in a Browser."""
    cookie = b.client.get_cookie("bk_token", domain=b.app.config.get("SERVER_NAME") or "localhost")
    assert cookie is not None and cookie.value
    return cookie.value


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records the callbacks POSTed to it."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, HTTPServer

        self.received: list[dict] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                receiver.received.append(json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0))))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b'{"code": 0}')          # delivered only with code 0, as upstream requires

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}/itsm/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.thread.join(5)
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def allow_callbacks(app, app_code: str, hosts: str, *, private: bool = False) -> None:
    """What an admin sets in the back office's API 应用 screen (the screen itself is tested separately)."""
    from app.models import ApiApp

    with app.app_context():
        row = db.session.execute(select(ApiApp).where(ApiApp.app_code == app_code)).scalar_one()
        row.callback_hosts, row.callback_private = hosts, private
        commit()
        db.session.remove()


def deliver_callbacks(app) -> list[tuple[str, int, str]]:
    """Run the scheduler's callback job once; returns every callback's (status, attempts, last_error)."""
    from app.jobs import deliver_callbacks as job
    from app.models import TicketCallback

    with app.app_context():
        job("test-worker")
        rows = [(c.status, c.attempts, c.last_error) for c in
                db.session.execute(select(TicketCallback).order_by(TicketCallback.id)).scalars()]
        db.session.remove()
        return rows
