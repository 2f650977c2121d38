"""API fixtures: registered apps, an in-process caller, and a live server for the real clients.

- `api(name, username=..., **params)`: calls an endpoint through the Flask test client as an app
  that may act for users (`ops-portal`); `plain-app` may not (it needs a bk_token).
- `live`: the demo app served by werkzeug on 127.0.0.1 (a free port) in a thread; `live.url`,
  `live.component(username)` (bkapi-component-open's ESB client, header credentials) and
  `live.sdk` (bk-itsm-sdk's Client, bk_* in the body / query string).
- `db_snapshot(sn)`: what a refused call must leave unchanged (ticket row, steps, logs, callbacks).
"""
from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import func, select
from werkzeug.serving import make_server

from app.api import UNEXPECTED
from app.extensions import db
from app.infra.uow import commit
from app.services.integration.api_apps import create_api_app

APP_CODE, APP_SECRET = "ops-portal", "s3cret-value-for-tests"
PLAIN_CODE, PLAIN_SECRET = "plain-app", "plain-secret"

POST_ENDPOINTS = {"create_ticket", "get_tickets", "operate_node", "operate_ticket", "comment_ticket",
                  "ticket_approval_result", "create_service_catalog", "import_service", "update_service",
                  "token/verify", "approve", "proceed_approval", "comment", "add_follower", "edit_field"}


@pytest.fixture
def api(demo):
    with demo.app_context():
        create_api_app(APP_CODE, act_for_users=True, secret=APP_SECRET)
        create_api_app(PLAIN_CODE, act_for_users=False, secret=PLAIN_SECRET)
        commit()
    client = demo.test_client()

    def call(name, /, username="admin", method=None, header=True, **params):
        auth = {"bk_app_code": APP_CODE, "bk_app_secret": APP_SECRET, "bk_username": username}
        method = method or ("POST" if name in POST_ENDPOINTS else "GET")
        headers = {"X-Bkapi-Authorization": json.dumps(auth)} if header else {}
        if not header:
            params = {**auth, **params}
        url = f"/api/c/compapi/v2/itsm/{name}/"
        if method == "GET":
            response = client.get(url, query_string=params, headers=headers)
        else:
            response = client.post(url, json=params, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        body = response.get_json()
        assert not body["message"].startswith(UNEXPECTED), body       # the catch-all means a bug
        return body

    call.client = client
    return call


class LiveServer:
    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, name="live-itsm", daemon=True)

    def component(self, username: str | None = "admin", *, bk_api_ver: str = "v2", app_code: str = APP_CODE,
                  app_secret: str = APP_SECRET, **auth):
        """bkapi-component-open's client, configured the documented way (endpoint + authorization)."""
        from bkapi_component.open.client import Client

        client = Client(endpoint=self.url, bk_api_ver=bk_api_ver)
        client.update_bkapi_authorization(bk_app_code=app_code, bk_app_secret=app_secret,
                                          **({"bk_username": username} if username else {}), **auth)
        return client

    @property
    def sdk(self):
        """bk-itsm-sdk's client in ESB mode: `Client(app_code, app_secret, bk_esb_url)`."""
        from itsm_sdk.api.client import Client

        return Client(APP_CODE, APP_SECRET, bk_esb_url=self.url)


@pytest.fixture
def live(api, demo):
    server = LiveServer(demo)
    server.thread.start()
    yield server
    server.server.shutdown()
    server.thread.join(5)
    server.server.server_close()


@pytest.fixture
def db_snapshot(demo):
    """`db_snapshot(sn)` → a comparable picture of one ticket (or of all tickets when sn is None)."""
    from app.models import Ticket, TicketCallback, TicketLog, TicketStep
    from app.models.api import TicketComment

    def snap(sn: str | None = None):
        with demo.app_context():
            db.session.expire_all()
            tickets = db.session.execute(select(Ticket).where(Ticket.sn == sn) if sn else select(Ticket)
                                         .order_by(Ticket.id)).scalars().all()
            ids = [t.id for t in tickets]
            rows = [(t.id, t.sn, t.status, t.pre_status, json.dumps(t.values, sort_keys=True, default=str),
                     t.updated_at, t.updated_by, t.end_at, t.is_commented, t.lock_version) for t in tickets]
            steps = [(s.id, s.node_key, s.status, s.is_open, s.processors_type, s.processors, s.pre_status)
                     for s in db.session.execute(select(TicketStep).where(TicketStep.ticket_id.in_(ids))
                                                 .order_by(TicketStep.id)).scalars()]
            counts = {model.__name__: db.session.execute(select(func.count()).select_from(model)).scalar_one()
                      for model in (Ticket, TicketStep, TicketLog, TicketCallback, TicketComment)}
            db.session.remove()
            return {"tickets": rows, "steps": steps, "counts": counts}

    return snap
