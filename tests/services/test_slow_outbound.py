"""A server that hangs or trickles bytes never stalls the app: not the web, not the other callbacks.

Targets from tests/integrations/slow_servers.py: one that accepts and never answers, one that
trickles its headers, one that trickles its body, each past the call's total deadline. Before
issue 12 a callback or API-node call ran inside a transaction (on SQLite every transaction holds
the write lock: `get_services` waited for it) with a per-read timeout (a trickling server kept a
scheduler busy forever).
"""
from __future__ import annotations

import json
import threading
import time

import pytest

from app.extensions import db
from app.infra.uow import run_again_after_outbound, unit_of_work
from app.jobs import deliver_callbacks, run_automatic_steps
from app.models import ApiCallLog, ApiDef, ApiSystem, AutomaticRun, TicketCallback
from app.services.fields.api_choices import clear_cache
from app.services.integration.api_apps import create_api_app
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket, operate_ticket
from tests.integrations.slow_servers import hanging_server, json_server, trickling_body_server, \
    trickling_headers_server

DEADLINE = 2.0
SLOW = {"hangs": hanging_server, "trickles its headers": trickling_headers_server,
        "trickles its body": trickling_body_server}

FLOW = """
key: slow_flow
name: 慢接口
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: host, name: 主机, type: SELECT, required: false,
         source: {api: slow.hosts, items: data.hosts, key_field: ip, name_field: hostname}}
  - key: call
    name: 调用接口
    kind: api
    api: slow.node
    processors: {type: STARTER}
    params: {timeout: %(deadline)s}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: call}
  - {from: call, to: end}
""" % {"deadline": DEADLINE}


@pytest.fixture
def slow_service(app, demo, make_service):
    app.config.update(CALLBACK_TIMEOUT=DEADLINE, API_CHOICES_TIMEOUT=DEADLINE)
    with app.app_context():
        with unit_of_work():
            system = ApiSystem(key="slow", name="慢系统", base_url="http://127.0.0.1:9")
            db.session.add(system)
            db.session.flush()
            db.session.add_all([ApiDef(system_id=system.id, key="hosts", name="主机", method="GET", path="/hosts"),
                                ApiDef(system_id=system.id, key="node", name="节点", method="POST", path="/node")])
    service_id = make_service(FLOW)
    clear_cache()
    yield service_id
    clear_cache()
    app.config.update(CALLBACK_TIMEOUT=10, API_CHOICES_TIMEOUT=5)


def _point_api_at(app, url: str) -> None:
    with app.app_context():
        with unit_of_work():
            db.session.query(ApiSystem).filter_by(key="slow").one().base_url = url


CALLBACK_APP = "slow-callbacks"      # the API app the callbacks are for: 127.0.0.1 allowed by its admin


def _ended_ticket_with_callback(app, service_id, url: str) -> int:
    def create():
        with unit_of_work():
            return create_ticket(service_id=service_id, creator=find_user("alice"), fields={"title": "慢"},
                                 meta={"callback_url": url, "app_code": CALLBACK_APP}).id

    with app.app_context():
        from app.models import ApiApp

        if not db.session.query(ApiApp).filter_by(app_code=CALLBACK_APP).count():
            with unit_of_work():
                create_api_app(CALLBACK_APP, callback_hosts="127.0.0.1", callback_private=True)

    with app.app_context():
        with json_server({"data": {"hosts": []}}) as options:     # (the form's options come from a quick server)
            _point_api_at(app, options)
            ticket_id = run_again_after_outbound(create)
        with unit_of_work():
            operate_ticket(ticket_id, find_user("alice"), "WITHDRAW")
    return ticket_id


def _in_background(fn):
    result, thread = {}, None

    def run():
        started = time.monotonic()
        result["value"] = fn()
        result["seconds"] = time.monotonic() - started

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, result


@pytest.mark.parametrize("server", SLOW, ids=list(SLOW))
def test_a_slow_callback_target_is_cut_off_at_the_deadline_and_the_others_are_delivered(app, slow_service, server):
    with SLOW[server]() as slow_url, json_server({"code": 0}) as good_url:
        slow_id = _ended_ticket_with_callback(app, slow_service, slow_url)
        good_ids = [_ended_ticket_with_callback(app, slow_service, good_url) for _ in range(2)]

        def tick():
            with app.app_context():
                return deliver_callbacks("w1")

        thread, result = _in_background(tick)
        thread.join(DEADLINE * 3 + 10)
        assert not thread.is_alive(), "the callback job is stuck on a slow server"
    assert result["value"] == 3 and result["seconds"] < DEADLINE + 5
    with app.app_context():
        rows = {c.ticket_id: c for c in db.session.query(TicketCallback)}
        assert [rows[i].status for i in good_ids] == ["SUCCEEDED", "SUCCEEDED"]
        slow = rows[slow_id]
        assert slow.status == "PENDING" and slow.attempts == 1 and "超时" in slow.last_error   # retried later


@pytest.mark.parametrize("server", SLOW, ids=list(SLOW))
def test_a_slow_api_node_is_cut_off_at_the_deadline_and_retried(app, slow_service, server):
    with SLOW[server]() as slow_url:
        def create():
            with unit_of_work():
                return create_ticket(service_id=slow_service, creator=find_user("alice"), fields={"title": "慢"}).id

        with app.app_context():
            with json_server({"data": {"hosts": []}}) as options:
                _point_api_at(app, options)
                ticket_id = run_again_after_outbound(create)
        _point_api_at(app, slow_url)

        def tick():
            with app.app_context():
                return run_automatic_steps("w1")

        thread, result = _in_background(tick)
        thread.join(DEADLINE * 3 + 10)
        assert not thread.is_alive(), "the automation job is stuck on a slow server"
    assert result["value"] == 1 and result["seconds"] < DEADLINE + 5
    with app.app_context():
        (run,) = db.session.query(AutomaticRun).filter_by(ticket_id=ticket_id).all()
        assert run.status == "FAILED" and "超时" in run.last_error          # the node has no retries left
        (call,) = db.session.query(ApiCallLog).filter_by(ticket_id=ticket_id).all()
        assert not call.ok and "超时" in call.error


@pytest.mark.parametrize("server", SLOW, ids=list(SLOW))
def test_a_slow_options_api_gives_the_form_a_message_at_the_deadline(app, slow_service, browser, server):
    alice = browser("alice")
    with SLOW[server]() as slow_url:
        _point_api_at(app, slow_url)
        started = time.monotonic()
        page = alice.get(f"/submit/{slow_service}")
        seconds = time.monotonic() - started
    assert page.status_code == 200 and seconds < DEADLINE + 5
    assert "【主机】的选项暂时无法从接口获取" in page.get_data(as_text=True)


def test_on_sqlite_the_web_keeps_answering_while_a_callback_target_hangs(app, slow_service, browser):
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        pytest.skip("SQLite's database-wide write lock is what a transaction held across a call would block")
    app.config["CALLBACK_TIMEOUT"] = 4
    with app.app_context():
        with unit_of_work():
            create_api_app("slow-test", act_for_users=True, secret="slow-test-secret")
    client, alice = app.test_client(), browser("alice")
    auth = {"X-Bkapi-Authorization": json.dumps({"bk_app_code": "slow-test", "bk_app_secret": "slow-test-secret",
                                                  "bk_username": "alice"})}
    with hanging_server() as slow_url:
        _ended_ticket_with_callback(app, slow_service, slow_url)

        def tick():
            with app.app_context():
                return deliver_callbacks("w1")

        thread, _ = _in_background(tick)
        time.sleep(0.3)                                     # the job is now waiting on the hanging server
        answers = []
        while thread.is_alive() and len(answers) < 20:
            started = time.monotonic()
            body = client.get("/api/c/compapi/v2/itsm/get_services/", headers=auth).get_json()
            page = alice.get("/")
            answers.append(time.monotonic() - started)
            assert body["result"] is True and page.status_code == 200
        thread.join(10)
    assert len(answers) >= 5 and max(answers) < 1.0, answers    # a held write lock would make one wait ~4 s
