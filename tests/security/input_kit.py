"""Helpers for the input-attack tests: hostile documents, an API caller, page text, rows.

Everything here goes through the real HTTP entry points (the Flask test client); the tests
read as "attack → answer".
"""
from __future__ import annotations

import json
import re
from html import unescape

from sqlalchemy import func, select

from app.extensions import db
from app.infra.uow import commit

APP_CODE, APP_SECRET = "sec-portal", "sec-secret-for-tests"
API = "/api/c/compapi/v2/itsm"

def billion_laughs() -> str:
    """A YAML alias bomb of about 450 bytes (anchors at every level)."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 9):
        name, prev = chr(97 + i), chr(96 + i)
        lines.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def make_api_app(app) -> None:
    """Register the API app the tests call as (trusted to act for users, like a portal)."""
    from app.services.integration.api_apps import create_api_app

    with app.app_context():
        create_api_app(APP_CODE, act_for_users=True, secret=APP_SECRET)
        commit()


def api_call(client, endpoint: str, /, username: str = "admin", *, method: str = "POST", raw: bytes | None = None,
             **params):
    """Call an endpoint with header credentials; returns (HTTP status, envelope or None)."""
    headers = {"X-Bkapi-Authorization": json.dumps({"bk_app_code": APP_CODE, "bk_app_secret": APP_SECRET,
                                                     "bk_username": username})}
    url = f"{API}/{endpoint}/"
    if method == "GET":
        response = client.get(url, query_string=params, headers=headers)
    elif raw is not None:
        response = client.post(url, data=raw, headers={**headers, "Content-Type": "application/json"})
    else:
        response = client.post(url, json=params, headers=headers)
    body = response.get_json(silent=True)
    return response.status_code, body


def text_of(response) -> str:
    """The page's text without tags and with whitespace collapsed, for message assertions."""
    page = response.get_data(as_text=True)
    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def count(app, model) -> int:
    """How many rows `model` has now."""
    with app.app_context():
        n = db.session.execute(select(func.count()).select_from(model)).scalar_one()
        db.session.remove()
        return n


def counts(app) -> dict[str, int]:
    """Row counts of everything an attack could have written."""
    from app.models import Flow, Service, Ticket, TicketLog, TicketStep

    return {m.__name__: count(app, m) for m in (Ticket, TicketStep, TicketLog, Flow, Service)}


def service_id(app, key: str) -> int:
    """The id of the service with this key (demo services are keyed by their flow)."""
    from app.models import Service

    with app.app_context():
        sid = db.session.execute(select(Service.id).where(Service.key == key)).scalar_one()
        db.session.remove()
        return sid


def submit(user, app, service_key: str, data: dict, **kw) -> int:
    """Submit the service's form through the web as `user`; the new ticket's id."""
    response = user.post(f"/submit/{service_id(app, service_key)}", data=data, **kw)
    assert response.status_code == 302, text_of(response)[:2000]
    return int(re.search(r"/tickets/(\d+)", response.headers["Location"]).group(1))


def ticket_row(app, ticket_id: int):
    """The ticket as stored now (detached)."""
    from app.models import Ticket

    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        db.session.expunge(ticket)
        db.session.remove()
        return ticket


def incident(**overrides) -> dict:
    """A valid 故障处理 submit form."""
    data = {"title": "订单服务 502", "event_type": "fault", "event_source": "monitor", "impact": "high",
            "urgency": "high", "occurred_at": "2030-01-05 09:30", "description": "下单接口持续返回 502"}
    data.update(overrides)
    return data


class JsonServer:
    """An external API on 127.0.0.1 that answers every POST with one JSON document (`.answer`)."""

    def __init__(self, answer: dict):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.answer = answer
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                payload = json.dumps(server.answer).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def add_api(app, base_url: str, system: str = "cmdb", key: str = "lookup") -> None:
    """An admin-configured API `system.key` at `base_url` (what an api node calls)."""
    from app.models import ApiDef, ApiSystem

    with app.app_context():
        row = ApiSystem(key=system, name="外部系统", base_url=base_url)
        db.session.add(row)
        db.session.flush()
        db.session.add(ApiDef(system_id=row.id, key=key, name="查询", method="POST", path="/lookup"))
        commit()


def run_scheduler(app) -> int:
    """One pass of the scheduler's automatic-steps job."""
    from app.jobs import run_automatic_steps

    with app.app_context():
        return run_automatic_steps("sec-worker")
