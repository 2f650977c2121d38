"""The API side of issue 13's red-team pass: each test is one attack and the answer it now gets.

Every case goes through the real HTTP entry point (the Flask test client) and runs on SQLite and
PostgreSQL. A refused attack gets the BlueKing envelope with a clear message and changes nothing.
"""
from __future__ import annotations

import pytest

from tests.security.api_kit import (  # noqa: F401 - fixtures
    ACCOUNT,
    APP_CODE,
    APP_SECRET,
    PLAIN_CODE,
    PLAIN_SECRET,
    api,
    auth_header,
    fields,
    login_cookie,
    open_step,
    service,
    snapshot,
    ticket,
)

PLAIN = {"bk_app_code": PLAIN_CODE, "bk_app_secret": PLAIN_SECRET}


# --- 1. cookie-riding API calls ------------------------------------------------------------------------

def _approve_params(api, sn):
    step = open_step(api, sn)
    return {**PLAIN, "sn": sn, "operator": "leader", "state_id": step["state_id"], "action_type": "TRANSITION",
            "fields": '[{"key": "leader_approve_result", "value": "true"}]'}


def test_img_tag_get_to_operate_node_riding_the_leaders_login_cookie_is_refused(api, browser, ticket, snapshot):
    sn = ticket(creator="alice")
    leader = browser("leader")                       # leader is logged in: the browser holds the bk_token cookie
    before = snapshot(sn)
    r = api.raw("GET", "operate_node", query=_approve_params(api, sn), via=leader.client)
    assert (r["result"], r["code"]) == (False, 3900005), r
    assert "POST" in r["message"] and "JSON" in r["message"]
    assert snapshot(sn) == before


def test_cross_site_form_post_to_operate_ticket_riding_the_login_cookie_is_refused(api, browser, ticket, snapshot):
    sn = ticket(creator="alice")
    alice = browser("alice")
    before = snapshot(sn)
    # what an auto-submitting <form method=post> on another site sends: form-encoded, cookie attached
    r = api.raw("POST", "operate_ticket", data={**PLAIN, "sn": sn, "operator": "alice", "action_type": "WITHDRAW"},
                via=alice.client)
    assert (r["result"], r["code"]) == (False, 3900005), r
    assert snapshot(sn) == before


@pytest.mark.parametrize("name", ["create_ticket", "operate_node", "operate_ticket", "comment_ticket",
                                  "ticket_approval_result", "create_service_catalog", "import_service",
                                  "update_service"])
def test_writing_endpoints_refuse_anything_but_a_json_post_even_with_full_credentials(api, snapshot, name):
    creds = {"bk_app_code": APP_CODE, "bk_app_secret": APP_SECRET, "bk_username": "admin"}
    params = {**creds, "name": "目录", "service_id": "1", "sn": "REQ1", "creator": "admin"}
    before = snapshot()
    attempts = {"GET query": api.raw("GET", name, query=params),
                "form post": api.raw("POST", name, data=params),
                "text/plain post": api.raw("POST", name, query=creds, data='{"name": "目录"}',
                                           headers={"Content-Type": "text/plain"})}
    for how, r in attempts.items():
        assert r == {"result": False, "code": 3900005, "data": None,
                     "message": f"参数验证失败: 接口 {name} 只接受 POST 请求，请求体为 JSON（Content-Type: application/json）"}, how
    assert snapshot() == before


def test_the_login_cookie_alone_does_not_authenticate_an_api_call(api, browser, ticket):
    sn = ticket(creator="alice")
    alice = browser("alice")
    r = api.raw("GET", "get_ticket_info", query={**PLAIN, "sn": sn}, via=alice.client)
    assert (r["result"], r["code"]) == (False, 3900401), r
    assert r["message"] == ("用户认证失败：应用 plain-app 未被允许代替用户操作，仅凭应用身份不能调用此接口，"
                            "请提供 bk_token 或 bk_username")
    # the same token sent explicitly, as BlueKing clients do, still works
    r = api.raw("GET", "get_ticket_info", query={**PLAIN, "sn": sn, "bk_token": login_cookie(alice)})
    assert r["result"] and r["data"]["creator"] == "alice", r


API_URL = "/api/c/compapi/v2/itsm/operate_node/?bk_app_code=plain-app&sn=REQ1&operator=leader"


@pytest.mark.parametrize("url", [
    API_URL, API_URL.replace("/api/", "/API/"), "/knowledge/../api/c/compapi/itsm/operate_ticket/?sn=1",
    "/%61pi/c/compapi/v2/itsm/operate_node/", "/./api/c/x", "http://itsm.test/api/c/compapi/v2/itsm/operate_node/",
    "//itsm.test/api/c/", "/\\itsm.test/api/c/", " /api/c/compapi/v2/itsm/operate_node/",
])
def test_knowledge_markdown_drops_links_and_images_pointing_at_the_api(browser, url):
    alice = browser("alice")
    body = f"![x]({url}) [click]({url}) <img src=\"{url}\"> <a href=\"{url}\">a</a> [ok](/knowledge/1)"
    html = alice.post("/knowledge/preview", data={"body": body}).get_data(as_text=True)
    assert "/api/" not in html.lower().replace("%61", "a") and "itsm.test" not in html, html
    assert 'href="/knowledge/1"' in html                        # ordinary same-site links stay


def test_richtext_field_drops_an_image_pointing_at_the_api(api, service):
    plan = f'<p>plan</p><img src="{API_URL}"><a href="{API_URL}">go</a><a href="/tickets/1">t</a>'
    r = api("create_ticket", service_id=service("change"), creator="alice",
            fields=fields(title="变更", change_type="normal", risk="low", window="2030-01-01 22:00:00",
                          plan=plan, rollback_plan="r"))
    assert r["result"], r
    info = api("get_ticket_info", sn=r["data"]["sn"])["data"]
    stored = next(f["value"] for f in info["fields"] if f["key"] == "plan")
    assert "/api/" not in stored and "<p>plan</p>" in stored and 'href="/tickets/1"' in stored, stored


# --- 3. get_tickets username=<someone else> --------------------------------------------------------------

def test_plain_app_asking_get_tickets_for_another_users_waiting_tickets_is_refused(api, browser, ticket):
    ticket(creator="alice")                                     # waits for leader's approval
    auth = auth_header(PLAIN_CODE, PLAIN_SECRET, bk_token=login_cookie(browser("bob")))
    r = api.raw("POST", "get_tickets", headers=auth, json={"username": "leader"})
    assert r == {"result": False, "code": 3900004, "data": None,
                 "message": "单据操作失败: username 只能是当前用户 bob（应用未被允许代替用户查询他人的待办）"}
    r = api.raw("POST", "get_tickets", headers=auth, json={"username": "bob"})     # about itself: fine
    assert r["result"] and r["data"]["count"] == 0, r


def test_trusted_app_and_super_admin_may_ask_get_tickets_for_another_user(api, browser, ticket):
    sn = ticket(creator="alice")
    r = api.raw("POST", "get_tickets", headers=auth_header(bk_username="bob"), json={"username": "leader"})
    assert [t["sn"] for t in r["data"]["items"]] == [sn], r
    admin = auth_header(PLAIN_CODE, PLAIN_SECRET, bk_token=login_cookie(browser("admin")))
    r = api.raw("POST", "get_tickets", headers=admin, json={"username": "leader"})
    assert [t["sn"] for t in r["data"]["items"]] == [sn], r


# --- 5. create_ticket with from_ticket_id --------------------------------------------------------------

def _account(service, creator, **extra):
    return {"service_id": service("account"), "creator": creator, "fields": fields(**ACCOUNT), **extra}


def test_linking_a_ticket_the_creator_may_not_view_is_refused_like_a_missing_one(api, browser, service, snapshot):
    secret = api("create_ticket", **_account(service, "alice"))["data"]
    before = snapshot()
    bob = auth_header(PLAIN_CODE, PLAIN_SECRET, bk_token=login_cookie(browser("bob")))
    hidden = api.raw("POST", "create_ticket", headers=bob, json=_account(service, "bob", from_ticket_id=secret["id"]))
    missing = api.raw("POST", "create_ticket", headers=bob, json=_account(service, "bob", from_ticket_id=999999))
    expected = {"result": False, "code": 3900022, "data": None, "message": "关联单据不存在或你没有查看它的权限"}
    assert hidden == expected and missing == {**expected}
    # an app trusted to act for users names bob as the creator: the rule is the creator's, in the service
    r = api("create_ticket", **_account(service, "bob", from_ticket_id=secret["id"]))
    assert r == expected
    assert snapshot() == before


def test_linking_a_ticket_the_creator_may_view_still_works(api, service):
    mine = api("create_ticket", **_account(service, "alice"))["data"]
    r = api("create_ticket", **_account(service, "alice", from_ticket_id=mine["id"]))
    assert r["result"], r


# --- 4. SSRF through meta.callback_url ------------------------------------------------------------------

from tests.security.api_kit import allow_callbacks, deliver_callbacks, receiver  # noqa: E402,F401


def _with_callback(service, url, creator="alice"):
    return {**_account(service, creator), "meta": {"callback_url": url}}


def test_callback_url_from_an_app_without_a_callback_allow_list_is_refused(api, service, snapshot):
    before = snapshot()
    r = api("create_ticket", **_with_callback(service, "https://hooks.example.com/itsm"))
    assert r == {"result": False, "code": 3900005, "data": None,
                 "message": "参数验证失败: meta.callback_url 被拒绝：应用 ops-portal 未配置回调白名单，不接受 "
                            "meta.callback_url（请管理员在后台「API 应用」中填写允许回调的主机）"}
    assert snapshot() == before


def test_callback_url_to_a_host_not_on_the_apps_allow_list_is_refused(api, demo, service, snapshot):
    allow_callbacks(demo, APP_CODE, "hooks.example.com\n*.corp.example.com")
    before = snapshot()
    r = api("create_ticket", **_with_callback(service, "http://evil.example.net:5432/"))
    assert (r["code"], r["message"]) == (3900005, "参数验证失败: meta.callback_url 被拒绝：回调地址的主机 "
                                                  "evil.example.net 不在应用 ops-portal 的回调白名单中")
    r = api("create_ticket", **_with_callback(service, "http://corp.example.com.evil.net/"))
    assert r["code"] == 3900005 and "不在应用 ops-portal 的回调白名单中" in r["message"]
    assert snapshot() == before


@pytest.mark.parametrize("url, address", [
    ("http://127.0.0.1:5432/", "127.0.0.1"), ("http://0x7f000001/", "127.0.0.1"),
    ("http://2130706433:5432/", "127.0.0.1"), ("http://[::1]:5432/", "::1"), ("http://localhost/", None),
    ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"), ("http://10.1.2.3/", "10.1.2.3"),
    ("http://0.0.0.0:5432/", "0.0.0.0"), ("http://[::ffff:127.0.0.1]/", "127.0.0.1"),
])
def test_callback_url_to_a_private_or_loopback_address_is_refused_even_when_listed(api, demo, service, snapshot,
                                                                                    url, address):
    allow_callbacks(demo, APP_CODE, "127.0.0.1, 0x7f000001, 2130706433, ::1, localhost, 169.254.169.254, "
                                    "10.1.2.3, 0.0.0.0, ::ffff:127.0.0.1")
    before = snapshot()
    r = api("create_ticket", **_with_callback(service, url))
    assert r["code"] == 3900005 and "指向内网或本机地址" in r["message"], r
    assert address is None or f"地址 {address}，" in r["message"] or address in r["message"]
    assert snapshot() == before


def test_private_callbacks_allowed_by_the_admin_are_delivered(api, demo, service, receiver):
    allow_callbacks(demo, APP_CODE, "127.0.0.1", private=True)
    sn = api("create_ticket", **_with_callback(service, receiver.url))["data"]["sn"]
    assert api("operate_ticket", sn=sn, operator="alice", action_type="WITHDRAW")["result"]
    assert deliver_callbacks(demo) == [("SUCCEEDED", 1, "")]
    assert [body["sn"] for body in receiver.received] == [sn]


def test_callback_is_checked_again_when_sent_and_refused_once_the_admin_withdrew_the_permission(
        api, demo, service, receiver):
    allow_callbacks(demo, APP_CODE, "127.0.0.1", private=True)
    sn = api("create_ticket", **_with_callback(service, receiver.url))["data"]["sn"]
    assert api("operate_ticket", sn=sn, operator="alice", action_type="WITHDRAW")["result"]
    allow_callbacks(demo, APP_CODE, "127.0.0.1", private=False)
    ((status, attempts, error),) = deliver_callbacks(demo)
    assert (status, attempts) == ("PENDING", 1) and error.startswith("回调地址被拒绝：回调地址的主机 127.0.0.1 指向内网")
    assert receiver.received == []


def test_a_host_whose_dns_answer_changes_to_loopback_is_refused_at_connect_time(api, demo, service, receiver,
                                                                              monkeypatch):
    from app.integrations import destinations

    allow_callbacks(demo, APP_CODE, "localhost")
    monkeypatch.setattr(destinations, "resolve", lambda host: ["93.184.216.34"])     # what the checks are told
    url = f"http://localhost:{receiver.port}/itsm/callback"
    sn = api("create_ticket", **_with_callback(service, url))["data"]["sn"]
    assert api("operate_ticket", sn=sn, operator="alice", action_type="WITHDRAW")["result"]
    ((status, attempts, error),) = deliver_callbacks(demo)        # ... but the connection reaches 127.0.0.1
    assert (status, attempts) == ("PENDING", 1) and "是内网或本机地址，不允许" in error, error
    assert receiver.received == []


def test_admin_sets_an_apps_callback_allow_list_in_the_api_app_screen(api, demo, browser):
    from sqlalchemy import select

    from app.extensions import db
    from app.models import ApiApp

    admin = browser("admin")
    with demo.app_context():
        app_id = db.session.execute(select(ApiApp.id).where(ApiApp.app_code == PLAIN_CODE)).scalar_one()
    form = {"app_code": PLAIN_CODE, "name": "plain", "is_enabled": "y"}
    page = admin.post(f"/admin/apiapp/edit/?id={app_id}", {**form, "callback_hosts": "http://x.example.com/hook"})
    assert "回调白名单的条目应为主机名" in page.get_data(as_text=True)
    admin.post(f"/admin/apiapp/edit/?id={app_id}", {**form, "callback_hosts": " Hooks.Example.com \n*.corp.example.com",
                                                     "callback_private": "y"})
    with demo.app_context():
        row = db.session.get(ApiApp, app_id)
        assert (row.callback_hosts, row.callback_private) == ("hooks.example.com\n*.corp.example.com", True)


# --- 11. small leaks ------------------------------------------------------------------------------------------

INCIDENT = dict(title="故障", event_type="fault", event_source="phone", impact="low", urgency="low",
                occurred_at="2026-01-05 08:30:00", description="d")


def _bobs_upload(demo) -> int:
    """A file bob uploaded (not on any ticket yet): the row the upload form leaves."""
    from app.extensions import db
    from app.infra.uow import commit
    from app.models import Attachment

    with demo.app_context():
        row = Attachment(original_name="bob-salary-2026.xlsx", stored_name="f" * 32, size=10, uploaded_by="bob")
        db.session.add(row)
        commit()
        return row.id


def _incident(api, creator, attachment_id, headers=None):
    sid = next(s["id"] for s in api("get_services")["data"] if s["name"] == "故障处理")
    body = {"service_id": sid, "creator": creator, "fields": fields(**INCIDENT, attachments=[attachment_id])}
    if headers:
        return api.raw("POST", "create_ticket", headers=headers, json=body)
    return api("create_ticket", **body)


def test_file_field_naming_another_users_attachment_id_is_refused_without_its_name(api, demo, browser, snapshot):
    attachment = _bobs_upload(demo)
    before = snapshot()
    alice = auth_header(PLAIN_CODE, PLAIN_SECRET, bk_token=login_cookie(browser("alice")))
    for r in (_incident(api, "alice", attachment, alice), _incident(api, "alice", attachment)):
        assert (r["result"], r["code"]) == (False, 3900003), r
        assert r["message"] == f"提单失败: 【附件】附件不存在：{attachment}" and "salary" not in str(r)
    assert snapshot() == before
    # bob may use his own upload
    r = _incident(api, "bob", attachment)
    assert r["result"], r
    info = api("get_ticket_info", sn=r["data"]["sn"])["data"]
    assert "bob-salary-2026.xlsx" in str(next(f for f in info["fields"] if f["key"] == "attachments"))


def test_comment_on_a_ticket_you_cannot_see_gets_the_same_answer_as_a_missing_ticket(api, browser, ticket, snapshot):
    sn = ticket(creator="alice")
    before = snapshot()
    bob = auth_header(PLAIN_CODE, PLAIN_SECRET, bk_token=login_cookie(browser("bob")))
    hidden = api.raw("POST", "comment_ticket", headers=bob, json={"sn": sn, "stars": 5, "comments": "?"})
    missing = api.raw("POST", "comment_ticket", headers=bob, json={"sn": "REQ20990101000001", "stars": 5})
    assert hidden == missing == {"result": False, "code": 3900022, "data": None, "message": "没有找到对应的单据"}
    assert snapshot() == before


def test_callback_failed_ticket_lists_only_tickets_the_caller_may_see(api, demo, browser, service):
    allow_callbacks(demo, APP_CODE, "127.0.0.1", private=True)
    sn = api("create_ticket", **_with_callback(service, "http://127.0.0.1:9/closed"))["data"]["sn"]
    assert api("operate_ticket", sn=sn, operator="alice", action_type="WITHDRAW")["result"]
    assert deliver_callbacks(demo)[0][:2] == ("PENDING", 1)          # the first attempt failed
    bob = auth_header(PLAIN_CODE, PLAIN_SECRET, bk_token=login_cookie(browser("bob")))
    alice = auth_header(PLAIN_CODE, PLAIN_SECRET, bk_token=login_cookie(browser("alice")))
    assert api.raw("GET", "callback_failed_ticket", headers=bob)["data"] == []
    assert api.raw("GET", "callback_failed_ticket", headers=alice)["data"] == [sn]
    assert api("callback_failed_ticket", username="bob")["data"] == [sn]         # an app trusted to act for users
