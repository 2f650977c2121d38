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
            "fields": '[{"key": "leader_result", "value": "agree"}]'}


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
    assert r["message"] == "用户认证失败：bk_token 与 bk_username 必须提供一个"
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
