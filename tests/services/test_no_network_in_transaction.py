"""No outbound call is made while a database transaction is open, whatever the entry point.

The target of every call here is a probe server that, while it answers, asks the database
whether the app holds a transaction: on SQLite it tries `BEGIN IMMEDIATE` on the same file
(every app transaction holds the write lock, so that fails while one is open); on PostgreSQL
it counts the other sessions that are `idle in transaction`. Before issue 12, each of these
calls ran inside a transaction (a hanging callback server stalled every writer on SQLite).
"""
from __future__ import annotations

import json
import sqlite3
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import pytest
from sqlalchemy.engine import make_url

from app.extensions import db
from app.infra.uow import run_again_after_outbound, unit_of_work
from app.jobs import deliver_callbacks, run_automatic_steps
from app.models import ApiCallLog, ApiDef, ApiSystem, Ticket, TicketCallback
from app.services.fields.api_choices import clear_cache
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket, operate_ticket

FLOW = """
key: probe_flow
name: 探测
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: host, name: 主机, type: SELECT, required: false,
         source: {api: probe.hosts, items: data.hosts, key_field: ip, name_field: hostname}}
  - key: call
    name: 调用接口
    kind: api
    api: probe.node
    processors: {type: STARTER}
    params: {timeout: 3, request: {sn: "{{ ticket.sn }}"}}
  - key: check
    name: 确认
    kind: manual
    processors: {type: STARTER}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: call}
  - {from: call, to: check}
  - {from: check, to: end}
"""


def _transaction_open(url: str) -> bool:
    """Does any session of the app hold a transaction right now?"""
    target = make_url(url)
    if target.get_backend_name() == "sqlite":
        conn = sqlite3.connect(target.database, timeout=0.3, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("ROLLBACK")
            return False
        except sqlite3.OperationalError:
            return True
        finally:
            conn.close()
    dsn = target.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn:
        return conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'").fetchone()[0] > 0


class Probe:
    def __init__(self, database_url: str):
        self.database_url = database_url
        self.calls: list[tuple[str, bool]] = []
        probe = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                probe.calls.append((self.path.split("?")[0], _transaction_open(probe.database_url)))
                body = json.dumps({"result": True, "code": 0, "message": "ok",
                                   "data": {"hosts": [{"ip": "10.0.0.1", "hostname": "web-01"}]}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    def calls_to(self, path: str) -> list[bool]:
        return [open_ for p, open_ in self.calls if p == path]


@pytest.fixture
def probe(app, demo, make_service):
    p = Probe(app.config["SQLALCHEMY_DATABASE_URI"])
    with app.app_context():
        with unit_of_work():
            system = ApiSystem(key="probe", name="探测系统", base_url=p.url)
            db.session.add(system)
            db.session.flush()
            db.session.add_all([ApiDef(system_id=system.id, key="hosts", name="主机", method="GET", path="/hosts"),
                                ApiDef(system_id=system.id, key="node", name="节点", method="POST", path="/node")])
    p.service_id = make_service(FLOW)
    clear_cache()
    yield p
    p.server.shutdown()
    p.server.server_close()
    clear_cache()


def _new_ticket(app, probe, meta=None) -> int:
    """Create a ticket as an entry point does: the options of `host` are fetched first, outside the transaction."""
    def create():
        with unit_of_work():
            return create_ticket(service_id=probe.service_id, creator=find_user("alice"),
                                 fields={"title": "探测", "host": "10.0.0.1"}, meta=meta).id

    with app.app_context():
        if meta and "callback_url" in meta:     # callbacks go only where the ticket's API app allows
            from app.services.integration.api_apps import create_api_app

            with unit_of_work():
                create_api_app("probe-app", callback_hosts="127.0.0.1", callback_private=True)
            meta = {**meta, "app_code": "probe-app"}
        ticket_id = run_again_after_outbound(create)
    probe.calls.clear()
    return ticket_id


def test_options_from_an_api_are_fetched_with_no_transaction_open_in_a_web_request(app, probe, browser):
    alice = browser("alice")
    page = alice.get(f"/submit/{probe.service_id}")
    assert page.status_code == 200 and "web-01" in page.get_data(as_text=True)
    assert probe.calls_to("/hosts") == [False]
    clear_cache()                                    # cold again: the submit itself must fetch them
    response = alice.post(f"/submit/{probe.service_id}", data={"title": "扩容", "host": "10.0.0.1"})
    assert response.status_code == 302
    assert probe.calls_to("/hosts") == [False, False]
    with app.app_context():
        assert db.session.query(Ticket).count() == 1
        assert db.session.query(ApiCallLog).filter(ApiCallLog.url.like("%/hosts")).count() == 2


def test_an_api_node_is_called_with_no_transaction_open(app, probe):
    ticket_id = _new_ticket(app, probe)
    with app.app_context():
        assert run_automatic_steps("w1") == 1
    assert probe.calls_to("/node") == [False]
    with app.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        assert [s.node_key for s in ticket.steps if s.is_open] == ["check"]
        assert db.session.query(ApiCallLog).filter_by(ticket_id=ticket_id, ok=True).count() == 1


def test_a_result_callback_is_posted_with_no_transaction_open(app, probe):
    ticket_id = _new_ticket(app, probe, meta={"callback_url": f"{probe.url}/callback"})
    with app.app_context():
        with unit_of_work():
            operate_ticket(ticket_id, find_user("alice"), "WITHDRAW")
        assert deliver_callbacks("w1") == 1
    assert probe.calls_to("/callback") == [False]
    with app.app_context():
        (callback,) = db.session.query(TicketCallback).filter_by(ticket_id=ticket_id).all()
        assert callback.status == "SUCCEEDED" and callback.attempts == 1


def test_the_admins_test_call_is_made_with_no_transaction_open(app, probe, browser):
    admin = browser("admin")
    with app.app_context():
        api_id = db.session.query(ApiDef).filter_by(key="node").one().id
    response = admin.post(f"/admin/apidef/test/{api_id}", data={"body": '{"ping": 1}'})
    assert response.status_code == 200
    assert probe.calls_to("/node") == [False]
    with app.app_context():
        assert db.session.query(ApiCallLog).filter_by(api_id=api_id, called_by="admin", ok=True).count() == 1
