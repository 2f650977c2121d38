"""Every refusal gives the documented code and message and changes nothing in the database;
get_tickets pagination and filters; the call log.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from app.extensions import db
from app.infra.uow import commit

APP_CODE, APP_SECRET = "ops-portal", "s3cret-value-for-tests"      # as in conftest.py
PLAIN_CODE, PLAIN_SECRET = "plain-app", "plain-secret"

ACCOUNT = dict(title="账号", system="crm", account_type="permanent", reason="对账")
CHANGE = dict(title="变更", change_type="normal", risk="low", window="2030-01-01 22:00:00", plan="<p>p</p>",
              rollback_plan="r")
INCIDENT = dict(title="故障", event_type="fault", event_source="phone", impact="low", urgency="low",
                occurred_at="2026-01-05 08:30:00", description="d")
PROBLEM = dict(title="问题", impact="low", description="d")
SERVICES = {"account": ("账号开通", ACCOUNT), "change": ("普通变更", CHANGE), "incident": ("故障处理", INCIDENT),
            "problem": ("问题管理", PROBLEM)}


def fields(**values):
    return [{"key": k, "value": v} for k, v in values.items()]


@pytest.fixture
def service(api):
    ids = {s["name"]: s["id"] for s in api("get_services")["data"]}
    return lambda kind: ids[SERVICES[kind][0]]


@pytest.fixture
def ticket(api, service):
    """`ticket(kind, creator, **overrides)` → sn of a new ticket made through the API."""

    def make(kind="account", creator="alice", **overrides):
        values = {**SERVICES[kind][1], **overrides}
        r = api("create_ticket", service_id=service(kind), creator=creator, fields=fields(**values))
        assert r["result"], r
        return r["data"]["sn"]

    return make


def step_of(api, sn, index=0):
    return api("get_ticket_status", sn=sn)["data"]["current_steps"][index]


@pytest.fixture
def refused(api, db_snapshot):
    """`refused(code, message, name, **params)`: the call fails with exactly that and changes nothing."""

    def check(code, message, endpoint, /, *, exact=True, **params):
        before = db_snapshot()
        r = api(endpoint, **params)
        assert (r["result"], r["code"], r["data"]) == (False, code, None), r
        if exact:
            assert r["message"] == message, r["message"]
        else:
            assert message in r["message"], r["message"]
        assert db_snapshot() == before, f"{endpoint} changed the database although refused"
        return r

    return check


# --- authentication ------------------------------------------------------------------------

def _raw(api, name, *, headers=None, method="GET", **params):
    url = f"/api/c/compapi/v2/itsm/{name}/"
    if method == "GET":
        response = api.client.get(url, query_string=params, headers=headers or {})
    else:
        response = api.client.post(url, json=params, headers=headers or {})
    assert response.status_code == 200
    return response.get_json()


def _auth(**creds):
    return {"X-Bkapi-Authorization": json.dumps(creds)}


@pytest.mark.parametrize("how", ["header", "params"])
@pytest.mark.parametrize("creds, message", [
    ({}, "应用认证失败：缺少 bk_app_code 或 bk_app_secret"),
    ({"bk_app_code": APP_CODE, "bk_username": "alice"}, "应用认证失败：缺少 bk_app_code 或 bk_app_secret"),
    ({"bk_app_code": APP_CODE, "bk_app_secret": "wrong", "bk_username": "alice"},
     "应用认证失败：bk_app_code 或 bk_app_secret 不正确"),
    ({"bk_app_code": "nobody", "bk_app_secret": APP_SECRET, "bk_username": "alice"},
     "应用认证失败：bk_app_code 或 bk_app_secret 不正确"),
    # app-only: create_ticket takes it from apps trusted to act for users only (test_api_upstream_endpoints.py)
    ({"bk_app_code": PLAIN_CODE, "bk_app_secret": PLAIN_SECRET},
     f"用户认证失败：应用 {PLAIN_CODE} 未被允许代替用户操作，仅凭应用身份不能调用此接口，请提供 bk_token 或 bk_username"),
    ({"bk_app_code": APP_CODE, "bk_app_secret": APP_SECRET, "bk_username": "ghost"},
     "用户认证失败：用户 ghost 不存在或已停用"),
    ({"bk_app_code": PLAIN_CODE, "bk_app_secret": PLAIN_SECRET, "bk_username": "alice"},
     f"用户认证失败：应用 {PLAIN_CODE} 未被允许以 bk_username 指定用户，请使用 bk_token"),
    ({"bk_app_code": PLAIN_CODE, "bk_app_secret": PLAIN_SECRET, "bk_token": "forged"},
     "用户认证失败：bk_token 无效或已过期，请重新登录"),
])
def test_authentication_failures(api, service, db_snapshot, how, creds, message):
    before = db_snapshot()
    params = dict(service_id=service("account"), creator="alice", fields=fields(**ACCOUNT))
    if how == "header":
        r = _raw(api, "create_ticket", headers=_auth(**creds), method="POST", **params)
    else:
        r = _raw(api, "create_ticket", method="POST", **creds, **params)
    assert r == {"result": False, "code": 3900401, "message": message, "data": None}
    assert db_snapshot() == before


def test_bad_authorization_header(api):
    r = _raw(api, "get_services", headers={"X-Bkapi-Authorization": "{not json"})
    assert r["code"] == 3900401 and "X-Bkapi-Authorization" in r["message"]
    r = _raw(api, "get_services", headers={"X-Bkapi-Authorization": "[1, 2]"})
    assert r["code"] == 3900401


def _login_cookie(b) -> str:
    """The `bk_token` cookie that /login set (for the test client's host, SERVER_NAME)."""
    cookie = b.client.get_cookie("bk_token", domain=b.app.config.get("SERVER_NAME") or "localhost")
    assert cookie is not None and cookie.value
    return cookie.value


def test_bk_token_from_the_login_cookie(api, browser, service, ticket):
    b = browser("alice")
    token = _login_cookie(b)
    auth = {"bk_app_code": PLAIN_CODE, "bk_app_secret": PLAIN_SECRET, "bk_token": token}
    # in the header (bkapi-component-open) ...
    r = _raw(api, "get_services", headers=_auth(**auth))
    assert r["result"] and r["data"]
    # ... in the body (bk-itsm-sdk), acting as the token's user
    r = _raw(api, "create_ticket", method="POST", **auth, service_id=service("account"), creator="alice",
             fields=fields(**ACCOUNT))
    assert r["result"], r
    sn = r["data"]["sn"]
    # ... but never as the cookie itself: a browser attaches it to calls other sites make (issue 13)
    r = b.client.get("/api/c/compapi/v2/itsm/get_ticket_info/",
                     query_string={"bk_app_code": PLAIN_CODE, "bk_app_secret": PLAIN_SECRET, "sn": sn}).get_json()
    assert r["code"] == 3900401
    # the token says who the caller is: naming someone else is refused for a plain app
    r = _raw(api, "create_ticket", method="POST", **auth, service_id=service("account"), creator="bob",
             fields=fields(**ACCOUNT))
    assert r["code"] == 3900004 and "creator 必须是当前用户 alice" in r["message"]
    # a plain app sees only tickets its user may view
    other = ticket(creator="bob")
    r = _raw(api, "get_ticket_info", headers=_auth(**auth), sn=other)
    assert r["code"] == 3900004 and "没有查看该单据的权限" in r["message"]
    r = _raw(api, "get_tickets", method="POST", headers=_auth(**auth))
    assert [t["sn"] for t in r["data"]["items"]] == [sn]


def test_bk_token_of_a_disabled_user_is_refused(api, browser, demo):
    from app.models import User

    token = _login_cookie(browser("bob"))
    with demo.app_context():
        db.session.execute(update(User).where(User.username == "bob").values(is_enabled=False))
        commit()
    r = _raw(api, "get_services", headers=_auth(bk_app_code=PLAIN_CODE, bk_app_secret=PLAIN_SECRET, bk_token=token))
    assert r["code"] == 3900401


# --- not found ------------------------------------------------------------------------------

@pytest.mark.parametrize("name, extra", [
    ("get_ticket_info", {}), ("get_ticket_status", {}), ("get_ticket_logs", {}),
    ("operate_node", {"operator": "admin", "state_id": 2, "action_type": "TRANSITION"}),
    ("operate_ticket", {"operator": "admin", "action_type": "SUSPEND", "action_message": "x"}),
    ("comment_ticket", {"operator": "admin", "stars": 5}),
])
def test_unknown_sn(refused, name, extra):
    refused(3900022, "没有找到对应的单据", name, sn="REQ20260101000999", **extra)


def test_unknown_service(refused, api):
    refused(3900003, "提单失败: 服务不存在，请联系管理员！", "create_ticket", service_id=999, creator="alice",
            fields=fields(**ACCOUNT))
    refused(3900003, "提单失败: 服务不存在，请联系管理员！", "create_ticket", service_id="abc", creator="alice",
            fields=fields(**ACCOUNT))
    refused(3900042, "服务不存在，请联系管理员！", "get_service_detail", service_id=999)
    refused(3900042, "服务不存在，请联系管理员！", "get_service_roles", service_id=999)
    refused(3900404, "流程版本不存在", "get_workflow_detail", workflow_id=999)
    r = api("no_such_endpoint")
    assert (r["code"], r["message"]) == (3900404, "接口 no_such_endpoint 不存在")


def test_missing_and_malformed_parameters(refused, service):
    refused(3900005, "参数验证失败: 缺少参数 sn", "get_ticket_info")
    refused(3900005, "参数验证失败: 缺少参数 service_id", "get_service_detail")
    refused(3900005, "参数验证失败: 参数 service_id 应为整数，收到 'x'", "get_service_detail", service_id="x")
    refused(3900005, "参数验证失败: fields 应为 [{key, value}] 列表", "create_ticket",
            service_id=service("account"), creator="alice", fields="not json")
    refused(3900005, "参数验证失败: fields 应为 [{key, value}] 列表", "create_ticket",
            service_id=service("account"), creator="alice", fields=[{"value": 1}])
    refused(3900005, "参数验证失败: meta.callback_url 应以 http:// 或 https:// 开头", "create_ticket",
            service_id=service("account"), creator="alice", fields=fields(**ACCOUNT),
            meta={"callback_url": "ftp://x"})
    refused(3900005, "参数验证失败: 参数 page 应为整数，收到 'x'", "get_tickets", page="x")
    refused(3900005, "参数验证失败: 参数 create_at__gte 的时间格式应为 YYYY-MM-DD HH:MM:SS", "get_tickets",
            create_at__gte="yesterday")


# --- field values on create (3900003, the field named) -----------------------------------------

BAD_CREATE = [
    # (service, field, bad value, message after "提单失败: ")
    ("account", "system", "sap", "【业务系统】选项不匹配，请重新选择"),                 # SELECT (choices)
    ("account", "account_type", "forever", "【账号类型】选项不匹配，请重新选择"),        # RADIO
    ("account", "permissions", "read,root", "【权限】选项不匹配，请重新选择"),            # MULTISELECT
    ("account", "cc", "bob,ghost", "【抄送人】包含未知用户：ghost"),                      # MEMBERS
    ("account", "title", "长" * 121, "【标题】长度不能超过 120 个字符"),                  # STRING max_length
    ("change", "risk", "extreme", "【风险等级】选项不匹配，请重新选择"),                 # SELECT (dictionary)
    ("change", "change_type", "nonsense", "【变更类型】选项不匹配，请重新选择"),          # TREESELECT
    ("change", "window", "tomorrow", "【变更窗口】不是有效的时间, 格式应为 YYYY-MM-DD HH:MM:SS"),  # DATETIME
    ("change", "duration_minutes", "ninety", "【预计时长（分钟）】不是有效的整数"),       # INT
    ("change", "affected_hosts", [{"ip": "", "role": "db"}], "【涉及主机】"),            # CUSTOMTABLE
    ("change", "affected_hosts", [{"ip": "10.0.0.1", "role": "mainframe"}], "【涉及主机】"),
    ("incident", "attachments", [{"id": 999, "name": "x.log"}], "【附件】附件不存在：999"),  # FILE
    ("incident", "platform", "mars", "【故障平台】选项不匹配，请重新选择"),               # TREESELECT (dict)
    ("problem", "related_incidents", "INC1", "【关联事件单号】填写事件单号，多个用逗号分隔，例如 INC20240101000001"),
    ("problem", "first_seen", "2026-13-45", "【首次发现日期】不是有效的日期，格式应为 YYYY-MM-DD"),  # DATE
    ("problem", "affected_systems", ["crm", "sap"], "【影响系统】选项不匹配，请重新选择"),
]


def test_members_field_refuses_a_disabled_user_and_takes_enabled_ones(demo, api, refused, service):
    """Member fields are checked against the users named (enabled ones only), not a list of everyone."""
    from app.models import User

    with demo.app_context():
        db.session.execute(update(User).where(User.username == "bob").values(is_enabled=False))
        commit()
    values = {**SERVICES["account"][1], "cc": "alice,bob"}
    refused(3900003, "提单失败: 【抄送人】包含未知用户：bob", "create_ticket", service_id=service("account"),
            creator="alice", fields=fields(**values))
    values["cc"] = ["alice", "leader"]
    r = api("create_ticket", service_id=service("account"), creator="alice", fields=fields(**values))
    assert r["result"], r
    assert api("get_ticket_info", sn=r["data"]["sn"])["data"]["fields"]


@pytest.mark.parametrize("kind, key, value, message", BAD_CREATE,
                         ids=[f"{c[0]}-{c[1]}" if isinstance(c, tuple) else c.id for c in BAD_CREATE])
def test_bad_field_value_on_create(refused, service, kind, key, value, message):
    values = {**SERVICES[kind][1], key: value}
    exact = message.endswith(("请重新选择", "个字符", "HH:MM:SS", "整数", "YYYY-MM-DD", "INC20240101000001", "999",
                              "ghost"))
    refused(3900003, f"提单失败: {message}", "create_ticket", exact=exact, service_id=service(kind),
            creator="alice", fields=fields(**values))


def test_missing_required_field_on_create(refused, service):
    values = {k: v for k, v in ACCOUNT.items() if k != "reason"}
    refused(3900003, "提单失败: 单据创建失败，缺少参数：['reason']", "create_ticket", service_id=service("account"),
            creator="alice", fields=fields(**values))
    # a field hidden by its condition is not required (expire_date only for temporary accounts) ...
    # ... but a temporary account without it is refused
    refused(3900003, "提单失败: 单据创建失败，缺少参数：['emergency_reason']", "create_ticket",
            service_id=service("change"), creator="alice", fields=fields(**{**CHANGE, "change_type": "urgent"}))


def test_hidden_required_field_is_not_required(api, service):
    r = api("create_ticket", service_id=service("change"), creator="alice", fields=fields(**CHANGE))
    assert r["result"], r


# --- step operations -------------------------------------------------------------------------

def test_missing_required_field_on_transition(api, refused, ticket):
    sn = ticket()
    step = step_of(api, sn)
    refused(3900005, "参数验证失败: 单据处理失败，缺少参数：['leader_approve_result']", "operate_node", sn=sn,
            operator="leader", state_id=step["state_id"], action_type="TRANSITION",
            fields=fields(leader_approve_remark="x"))
    refused(3900005, "参数验证失败: 【审批意见】选项不匹配，请重新选择", "operate_node", sn=sn, operator="leader",
            state_id=step["state_id"], action_type="TRANSITION", fields=fields(leader_approve_result="maybe"))


def _walk_account_to_implement(api, sn):
    step = step_of(api, sn)
    assert api("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
               fields=fields(leader_approve_result="true"))["result"]
    step = step_of(api, sn)
    assert api("operate_node", sn=sn, operator="ops1", state_id=step["state_id"], action_type="CLAIM")["result"]
    return step_of(api, sn)


def test_regex_message_names_the_field_on_transition(api, refused, ticket):
    sn = ticket()
    step = _walk_account_to_implement(api, sn)
    refused(3900005, "参数验证失败: 【开通账号】小写字母开头，3-32 位小写字母、数字、下划线、点或短横线", "operate_node",
            sn=sn, operator="ops1", state_id=step["state_id"], action_type="TRANSITION",
            fields=fields(account_name="Alice"))


def test_bad_field_values_on_transition(api, refused, ticket):
    sn = ticket()
    step = _walk_account_to_implement(api, sn)
    refused(3900005, "参数验证失败: 【开通账号】小写字母开头，3-32 位小写字母、数字、下划线、点或短横线", "operate_node",
            sn=sn, operator="ops1", state_id=step["state_id"], action_type="TRANSITION",
            fields=fields(account_name="Alice"))
    # problem: CASCADE must be a path in the tree, LINK must be a URL
    sn = ticket("problem", creator="pm")
    step = step_of(api, sn)
    refused(3900005, "参数验证失败: 【问题分类】选项不匹配，请重新选择", "operate_node", sn=sn, operator="pm",
            state_id=step["state_id"], action_type="TRANSITION",
            fields=fields(root_cause="x", category="hardware,middleware"))
    assert api("operate_node", sn=sn, operator="pm", state_id=step["state_id"], action_type="TRANSITION",
               fields=fields(root_cause="x", category="hardware,server,disk"))["result"]
    step = step_of(api, sn)
    api("operate_node", sn=sn, operator="pm", state_id=step["state_id"], action_type="DISTRIBUTE",
        processors_type="PERSON", processors="eng1")
    step = step_of(api, sn)
    assert step["status"] == "RUNNING"      # DISTRIBUTE_THEN_CLAIM to one person: no claim
    api("operate_node", sn=sn, operator="eng1", state_id=step["state_id"], action_type="TRANSITION",
        fields=fields(fix_plan="p", fix_result="fixed"))
    step = step_of(api, sn)
    refused(3900005, "参数验证失败: 【知识库文章】不是有效的链接，应以 http:// 或 https:// 开头", "operate_node", sn=sn,
            operator="pm", state_id=step["state_id"], action_type="TRANSITION",
            fields=fields(close_code="resolved", kb_link="javascript:alert(1)"))
    # incident: DATETIME on a step
    sn = ticket("incident")
    step = step_of(api, sn)
    api("operate_node", sn=sn, operator="desk", state_id=step["state_id"], action_type="DISTRIBUTE",
        processors_type="PERSON", processors="eng1")
    refused(3900005, "参数验证失败: 【恢复时间】不是有效的时间, 格式应为 YYYY-MM-DD HH:MM:SS", "operate_node", sn=sn,
            operator="eng1", state_id=step["state_id"], action_type="TRANSITION",
            fields=fields(cause="c", solution="s", recovered_at="2026-02-30 10:00:00"))


def test_operator_not_a_processor(api, refused, ticket):
    sn = ticket()
    step = step_of(api, sn)
    refused(3900004, "单据操作失败: 你不是节点【直属领导审批】的处理人，无法操作", "operate_node", sn=sn, operator="ops1",
            state_id=step["state_id"], action_type="TRANSITION", fields=fields(leader_approve_result="true"))
    refused(3900004, "单据操作失败: 只有当前处理人可以挂起单据", "operate_ticket", sn=sn, operator="bob",
            action_type="SUSPEND", action_message="x")
    refused(3900004, "单据操作失败: 只有提单人可以撤单", "operate_ticket", sn=sn, operator="leader",
            action_type="WITHDRAW")
    refused(3900004, "单据操作失败: operator 用户 ghost 不存在", "operate_node", sn=sn, operator="ghost",
            state_id=step["state_id"], action_type="TRANSITION", exact=False)


def test_action_not_allowed_in_the_step_state(api, refused, ticket):
    sn = ticket()
    step = step_of(api, sn)
    refused(3900004, "单据操作失败: 该节点已在处理中", "operate_node", sn=sn, operator="leader",
            state_id=step["state_id"], action_type="CLAIM")
    refused(3900004, "单据操作失败: 节点【直属领导审批】不允许转单", "operate_node", sn=sn, operator="leader",
            state_id=step["state_id"], action_type="DELIVER", processors_type="PERSON", processors="bob",
            action_message="x")
    refused(3900004, "单据操作失败: 请输入终止原因！", "operate_node", sn=sn, operator="leader",
            state_id=step["state_id"], action_type="TERMINATE")
    refused(3900004, "单据操作失败: 该节点当前不可处理", "operate_node", sn=sn, operator="leader",
            state_id=4, action_type="TRANSITION")
    refused(3900004, "单据操作失败: 节点 99 不存在", "operate_node", sn=sn, operator="leader", state_id=99,
            action_type="TRANSITION")
    refused(3900004, "单据操作失败: 不支持的操作类型: APPROVE", "operate_node", sn=sn, operator="leader",
            state_id=step["state_id"], action_type="APPROVE")
    refused(3900004, "单据操作失败: 抱歉，该单据不在挂起中，无法操作", "operate_ticket", sn=sn, operator="leader",
            action_type="UNSUSPEND")
    refused(3900004, "单据操作失败: 请输入挂起原因", "operate_ticket", sn=sn, operator="leader",
            action_type="SUSPEND")
    step = _walk_account_to_implement(api, sn)
    refused(3900004, "单据操作失败: 该节点已在处理中", "operate_node", sn=sn, operator="ops1",
            state_id=step["state_id"], action_type="DISTRIBUTE", processors_type="PERSON", processors="ops2")
    refused(3900004, "单据操作失败: 请输入转单原因", "operate_node", sn=sn, operator="ops1",
            state_id=step["state_id"], action_type="DELIVER", processors_type="PERSON", processors="ops2")
    refused(3900004, "单据操作失败: 处理人类型只能是 PERSON（个人）或 GENERAL（通用角色）", "operate_node", sn=sn,
            operator="ops1", state_id=step["state_id"], action_type="DELIVER", processors_type="CMDB",
            processors="x", action_message="x")
    refused(3900004, "单据操作失败: 指定的处理人为空或角色下没有成员，请重新选择", "operate_node", sn=sn,
            operator="ops1", state_id=step["state_id"], action_type="DELIVER", processors_type="GENERAL",
            processors="no_such_role", action_message="x")
    refused(3900004, "单据操作失败: 单据已有他人处理，无法撤单", "operate_ticket", sn=sn, operator="alice",
            action_type="WITHDRAW")


def test_claim_waiting_and_distribute_waiting_steps(api, refused, ticket):
    sn = ticket()
    step = step_of(api, sn)
    api("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
        fields=fields(leader_approve_result="true"))
    step = step_of(api, sn)
    refused(3900004, "单据操作失败: 该节点待认领，请先认领", "operate_node", sn=sn, operator="ops1",
            state_id=step["state_id"], action_type="TRANSITION", fields=fields(account_name="abc"))
    refused(3900004, "单据操作失败: 你不是节点【账号开通实施】的处理人，无法操作", "operate_node", sn=sn,
            operator="bob", state_id=step["state_id"], action_type="CLAIM")
    sn = ticket("incident")
    step = step_of(api, sn)
    refused(3900004, "单据操作失败: 该节点待派单，请先派单", "operate_node", sn=sn, operator="desk",
            state_id=step["state_id"], action_type="TRANSITION", fields=fields(cause="c", solution="s"))
    refused(3900004, "单据操作失败: 请指定处理人", "operate_node", sn=sn, operator="desk",
            state_id=step["state_id"], action_type="DISTRIBUTE", processors_type="PERSON", processors="")


def test_suspended_ticket(api, refused, ticket):
    sn = ticket()
    step = step_of(api, sn)
    assert api("operate_ticket", sn=sn, operator="leader", action_type="SUSPEND", action_message="等")["result"]
    refused(3900004, "单据操作失败: 单据已挂起，请先恢复后再处理", "operate_node", sn=sn, operator="leader",
            state_id=step["state_id"], action_type="TRANSITION", fields=fields(leader_approve_result="true"))
    refused(3900004, "单据操作失败: 单据已处于挂起状态，不能重复挂起", "operate_ticket", sn=sn, operator="leader",
            action_type="SUSPEND", action_message="again")


def test_finished_ticket(api, refused, ticket):
    sn = ticket()
    step = step_of(api, sn)
    api("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
        fields=fields(leader_approve_result="false"))
    assert api("get_ticket_status", sn=sn)["data"]["current_status"] == "FINISHED"
    for action in ("TRANSITION", "CLAIM", "TERMINATE"):
        refused(3900004, "单据操作失败: 抱歉，单据已关闭，无法操作", "operate_node", sn=sn, operator="leader",
                state_id=step["state_id"], action_type=action, action_message="x",
                fields=fields(leader_approve_result="true"))
    for action in ("SUSPEND", "UNSUSPEND", "WITHDRAW", "TERMINATE"):
        refused(3900004, "单据操作失败: 抱歉，单据已关闭，无法操作", "operate_ticket", sn=sn, operator="alice",
                action_type=action, action_message="x")
    refused(3900004, "单据操作失败: 不支持的操作类型: FINISH", "operate_ticket", sn=sn, operator="alice",
            action_type="FINISH")


def test_comment_rules(api, refused, ticket):
    sn = ticket()
    refused(3900005, "参数验证失败: 单据未结束，不允许评价!", "comment_ticket", sn=sn, operator="alice", stars=5)
    step = step_of(api, sn)
    api("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
        fields=fields(leader_approve_result="false"))
    refused(3900005, "参数验证失败: 评分 stars 应为 1 到 5 的整数", "comment_ticket", sn=sn, operator="alice", stars=9)
    refused(3900005, "参数验证失败: 评分 stars 应为 1 到 5 的整数", "comment_ticket", sn=sn, operator="alice",
            stars="x")
    refused(3900004, "单据操作失败: 只有提单人可以评价单据", "comment_ticket", sn=sn, operator="leader", stars=3)
    # someone who may not view the ticket hears what a missing ticket answers (issue 13)
    refused(3900022, "没有找到对应的单据", "comment_ticket", sn=sn, operator="bob", stars=3)
    assert api("comment_ticket", sn=sn, operator="alice", stars=4, comments="ok")["result"]
    refused(3900005, "参数验证失败: 单据已评价，不能重复评价", "comment_ticket", sn=sn, operator="alice", stars=5)


def test_admin_only_service_endpoints(api, refused):
    refused(3900004, "单据操作失败: 只有 ITSM 超级管理员可以修改服务配置", "create_service_catalog", username="alice",
            name="新目录")
    refused(3900004, "单据操作失败: 只有 ITSM 超级管理员可以修改服务配置", "import_service", username="alice",
            key="x", name="x")


# --- get_tickets -------------------------------------------------------------------------------

@pytest.fixture
def many(api, ticket, demo):
    """13 account tickets by alice (3 of them FINISHED), 2 incidents by bob; creation times one hour apart."""
    from app.models import Ticket

    sns = [ticket() for _ in range(13)] + [ticket("incident", creator="bob") for _ in range(2)]
    for sn in sns[:3]:
        step = step_of(api, sn)
        api("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
            fields=fields(leader_approve_result="false"))
    start = datetime(2026, 1, 1, 0, 0)      # UTC; shown in Asia/Shanghai (+8)
    with demo.app_context():
        for i, sn in enumerate(sns):
            db.session.execute(update(Ticket).where(Ticket.sn == sn).values(created_at=start + timedelta(hours=i)))
        commit()
    return sns


def test_get_tickets_pagination(api, many):
    data = api("get_tickets")["data"]
    assert (data["count"], data["page"], data["total_page"], len(data["items"])) == (15, 1, 2, 10)
    assert data["previous"] is None and data["next"].endswith("/api/c/compapi/v2/itsm/get_tickets/?page=2&page_size=10")
    assert [t["sn"] for t in data["items"]] == list(reversed(many))[:10]       # newest first
    page2 = api("get_tickets", page=2)["data"]
    assert len(page2["items"]) == 5 and page2["next"] is None and "page=1" in page2["previous"]
    assert api("get_tickets", page=3)["data"]["items"] == []
    big = api("get_tickets", page_size=20000)["data"]
    assert big["total_page"] == 1 and len(big["items"]) == 15 and big["next"] is None
    assert api("get_tickets", page_size="4", page="4")["data"]["items"][0]["sn"] == many[2]
    item = data["items"][0]
    assert set(item) == {"id", "sn", "title", "catalog_id", "service_id", "service_type", "flow_id", "current_status",
                         "comment_id", "is_commented", "updated_by", "update_at", "end_at", "creator", "create_at",
                         "bk_biz_id", "ticket_url", "iframe_ticket_url"}
    assert item["create_at"] == "2026-01-01 22:00:00"      # 14:00 UTC in Asia/Shanghai


def test_get_tickets_filters(api, many, service):
    def sns(**params):
        params.setdefault("page_size", 100)
        return [t["sn"] for t in api("get_tickets", **params)["data"]["items"]]

    assert sns(sns=[many[0], many[14], "REQ0"]) == [many[14], many[0]]
    assert sns(sns=f"{many[0]},{many[1]}") == [many[1], many[0]]
    assert sns(creator="bob") == [many[14], many[13]]
    assert sns(create_at__gte="2026-01-01 10:00:00", create_at__lte="2026-01-01 12:00:00") == [many[4], many[3],
                                                                                              many[2]]
    assert sns(create_atlte="2026-01-01 08:00:00") == [many[0]]       # the seed's spelling
    assert sns(current_status__in=["FINISHED"]) == [many[2], many[1], many[0]]
    assert sns(current_status__in="RUNNING,FINISHED") == list(reversed(many))
    assert sns(service_id__in=[service("incident")]) == [many[14], many[13]]
    assert sns(service_id__in=[service("incident"), service("account")], creator="alice", page_size=2) \
        == [many[12], many[11]]
    # username: that user's to-do (steps waiting for them to process or claim); the fixture's `username`
    # is the caller, so send this one by hand
    def todo(user):
        r = _raw(api, "get_tickets", method="POST", page_size=100, username=user,
                 headers=_auth(bk_app_code=APP_CODE, bk_app_secret=APP_SECRET, bk_username="admin"))
        return [t["sn"] for t in r["data"]["items"]]

    assert todo("leader") == list(reversed(many[3:13]))
    assert todo("desk") == [many[14], many[13]]
    assert todo("ops1") == []


# --- the call log ------------------------------------------------------------------------------

def test_every_call_is_logged_without_secrets(api, demo, service):
    from app.models import ApiRequestLog

    def rows():
        with demo.app_context():
            return [(r.app_code, r.username, r.endpoint, r.code, r.duration_ms) for r in
                    db.session.execute(select(ApiRequestLog).order_by(ApiRequestLog.id)).scalars()]

    assert len(rows()) == 1        # the `service` fixture's get_services
    api("get_services", username="alice")
    api("create_ticket", username="alice", service_id=service("account"), creator="alice", fields=fields(**ACCOUNT))
    api("get_ticket_info", sn="nope")
    _raw(api, "get_services", headers=_auth(bk_app_code=APP_CODE, bk_app_secret="the-wrong-secret"))
    api("nope")
    logged = rows()
    # get_services ran once more inside the `service` fixture
    assert [(a, u, e, c) for a, u, e, c, _ in logged] == [
        (APP_CODE, "admin", "get_services", 0), (APP_CODE, "alice", "get_services", 0),
        (APP_CODE, "alice", "create_ticket", 0), (APP_CODE, "admin", "get_ticket_info", 3900022),
        (APP_CODE, "", "get_services", 3900401), ("", "", "nope", 3900404)]
    assert all(ms >= 0 for *_, ms in logged)
    with demo.app_context():
        dump = json.dumps([[str(v) for v in row] for row in db.session.execute(select(ApiRequestLog)).all()]
                          + [list(map(str, r)) for r in db.session.execute(
                              select(ApiRequestLog.__table__)).all()])
        count = db.session.execute(select(func.count()).select_from(ApiRequestLog)).scalar_one()
    assert APP_SECRET not in dump and "the-wrong-secret" not in dump and count == 6


def test_a_nul_character_anywhere_in_the_parameters_is_refused_and_changes_nothing(api, db_snapshot):
    """Found by schemathesis on PostgreSQL (text cannot hold NUL): it was an unexpected 3900004."""
    before = db_snapshot()
    for body in (api("get_ticket_logs", sn="REQ\x00"),
                 api("get_tickets", page_size="10\x00"),
                 api("ticket_approval_result", sn=["REQ1", "x\x00y"]),
                 api("create_ticket", service_id=1, creator="alice", fields=fields(**{"title\x00": "t"})),
                 api("get_services", header=False, bk_app_code=f"{APP_CODE}\x00")):
        assert (body["result"], body["code"]) == (False, 3900005), body
        assert "NUL" in body["message"]
    assert db_snapshot() == before
