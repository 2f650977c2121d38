"""The endpoints upstream has that were missing (issue 15): approve, proceed_approval, get_approve_node_result,
get_approver, get_tickets_by_user, get_all_tickets, comment, add_follower, edit_field; and app-only
authentication. Each refusal is compared with `db_snapshot`: it changes nothing."""
import json

import pytest

APP_CODE, APP_SECRET = "ops-portal", "s3cret-value-for-tests"      # as in conftest.py
PLAIN_CODE, PLAIN_SECRET = "plain-app", "plain-secret"

CAB_FLOW = """
key: api_cab
name: 审批演示
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields: [{key: title, name: 标题, type: STRING, required: true}]
  - key: lead
    name: 领导审批
    kind: approval
    processors: {type: PERSON, value: [lead1, lead2]}
  - key: cab
    name: CAB 评审
    kind: approval
    processors: {type: PERSON, value: [cab1, cab2, cab3]}
    multi: true
    finish_condition: {agree: all}
  - {key: end, name: 结束, kind: end}
  - {key: rejected, name: 审批不通过, kind: end, approve_result: false}
transitions:
  - {from: submit, to: lead}
  - {from: lead, to: cab, when: {field: lead_result, value: "true"}}
  - {from: lead, to: rejected, when: {field: lead_result, value: "false"}}
  - {from: cab, to: end, when: {field: cab_result, value: "true"}}
  - {from: cab, to: rejected, when: {field: cab_result, value: "false"}}
"""
PEOPLE = ("alice", "lead1", "lead2", "cab1", "cab2", "cab3")

EDIT_FLOW = """
key: api_edit
name: 可修改
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: amount, name: 数量, type: INT}
  - key: handle
    name: 处理
    kind: manual
    processors: {type: PERSON, value: [bob]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: end}
"""


@pytest.fixture
def cab(api, make_service):
    return make_service(CAB_FLOW, users=PEOPLE + ("bob",))


@pytest.fixture
def editable(api, make_service):
    return make_service(EDIT_FLOW, users=("alice", "bob", "carol"))


def _create(api, service_id, creator="alice", **extra):
    r = api("create_ticket", service_id=service_id, creator=creator,
            fields=[{"key": "title", "value": "发布"}, *extra.pop("fields", [])], **extra)
    assert r["result"], r
    return r["data"]["sn"]


def _app_only(api, name, method="GET", app=(APP_CODE, APP_SECRET), **params):
    """A call with app credentials only: no bk_username, no bk_token."""
    headers = {"X-Bkapi-Authorization": json.dumps({"bk_app_code": app[0], "bk_app_secret": app[1]})}
    url = f"/api/c/compapi/v2/itsm/{name}/"
    if method == "GET":
        r = api.client.get(url, query_string=params, headers=headers)
    else:
        r = api.client.post(url, json=params, headers=headers)
    assert r.status_code == 200
    return r.get_json()


# --- approve / proceed_approval / get_approve_node_result / get_approver -------------------

def test_approve_decides_an_approval_node_and_the_result_is_readable(api, cab):
    sn = _create(api, cab)
    assert api("get_approver", sn=sn, state_id=2)["data"] == {"approver": "lead1,lead2"}
    r = api("approve", sn=sn, state_id=2, approver="lead2", action="true", remark="同意发布")
    assert r == {"result": True, "code": 0, "message": "success", "data": []}
    result = api("get_approve_node_result", sn=sn, state_id=2)["data"]
    assert result == {"name": "领导审批", "processed_user": "lead2", "approve_result": True,
                      "approve_remark": "同意发布"}
    assert api("get_approver", sn=sn, state_id=3)["data"]["approver"] == "cab1,cab2,cab3"
    for who in ("cab1", "cab2", "cab3"):
        assert api("proceed_approval", process_inst_id=sn, activity=3, handler=who, submit_action="true",
                   submit_opinion="ok")["result"]
    info = api("get_ticket_info", sn=sn)["data"]
    assert info["current_status"] == "FINISHED"
    assert api("get_approve_node_result", sn=sn, state_id=3)["data"]["processed_user"] == "cab1,cab2,cab3"


def test_a_rejection_is_recorded_as_false_with_its_remark(api, cab):
    sn = _create(api, cab)
    assert api("approve", sn=sn, state_id=2, approver="lead1", action="false", remark="风险太大")["result"]
    assert api("get_approve_node_result", sn=sn, state_id=2)["data"] == {
        "name": "领导审批", "processed_user": "lead1", "approve_result": False, "approve_remark": "风险太大"}


@pytest.mark.parametrize("params, code, message", [
    ({"approver": "bob", "action": "true"}, 3900004, None),                          # not an approver
    ({"approver": "lead1", "action": "maybe"}, 3900005,
     "参数验证失败: 审批结果应为 true（通过）或 false（拒绝），收到 'maybe'"),
    ({"approver": "lead1", "action": "true", "state_id": 1}, 3900004, "单据操作失败: 单据审批失败，目标节点提单不是审批节点"),
    ({"approver": "lead1", "action": "true", "state_id": 3}, 3900004, "单据操作失败: 单据审批失败，单据当前状态非RUNNING"),
    ({"approver": "lead1", "action": "true", "state_id": 99}, 3900004, "单据操作失败: 单据审批失败，节点 99 不存在"),
    ({"approver": "ghost", "action": "true"}, 3900004, "单据操作失败: approver 用户 ghost 不存在"),
    ({"action": "true"}, 3900005, "参数验证失败: 缺少参数 approver"),
])
def test_approve_refusals_change_nothing(api, cab, db_snapshot, params, code, message):
    sn = _create(api, cab)
    before = db_snapshot()
    r = api("approve", sn=sn, **{"state_id": 2, **params})
    assert (r["result"], r["code"]) == (False, code), r
    if message:
        assert r["message"] == message
    assert db_snapshot() == before


def test_node_result_before_the_node_finished_is_refused(api, cab):
    sn = _create(api, cab)
    r = api("get_approve_node_result", sn=sn, state_id=2)
    assert (r["code"], r["message"]) == (3900005, f"参数验证失败: sn[{sn}], state[2] 当前节点状态为非结束状态")
    r = api("get_approve_node_result", sn=sn, state_id=3)
    assert (r["code"], r["message"]) == (3900005, f"参数验证失败: sn[{sn}], state[3] 未查到对应的节点状态")


def test_an_app_that_may_not_act_for_users_approves_only_as_its_user(api, cab, db_snapshot):
    sn = _create(api, cab)
    before = db_snapshot()
    r = _app_only(api, "approve", "POST", app=(PLAIN_CODE, PLAIN_SECRET), sn=sn, state_id=2, approver="lead1",
                  action="true")
    assert (r["result"], r["code"]) == (False, 3900401)
    assert db_snapshot() == before


# --- get_tickets_by_user / get_all_tickets -------------------------------------------------

def test_get_tickets_by_user_lists_each_view(api, cab):
    sn1, sn2 = _create(api, cab), _create(api, cab, creator="bob")
    api("approve", sn=sn2, state_id=2, approver="lead1", action="true")

    def sns(user, view, username="admin"):
        data = api("get_tickets_by_user", username=username, user=user, view_type=view)["data"]
        return [i["sn"] for i in data["items"]], data

    assert sns("lead1", "my_approval")[0] == [sn1]
    assert sns("lead1", "my_todo")[0] == [sn1]
    assert sns("cab1", "my_approval")[0] == [sn2]
    assert sns("alice", "my_created")[0] == [sn1]
    assert sns("lead1", "my_history")[0] == [sn2, sn1]
    items, data = sns("cab2", "my_approval")
    assert data["count"] == 1 and data["page"] == 1 and data["total_page"] == 1
    item = data["items"][0]
    assert item["current_steps"][0]["state_id"] == 3 and item["current_steps"][0]["name"] == "CAB 评审"
    assert item["waiting_approve"] is True and item["service_name"] == "审批演示"
    assert item["current_status_display"] == "处理中" and item["followers"] == []
    # a user asks about themself; only trusted callers about others
    assert sns("alice", "my_created", username="alice")[0] == [sn1]
    r = api("get_tickets_by_user", username="bob", user="alice", view_type="my_created")
    assert r["result"] is True      # ops-portal acts for users: trusted
    r = api("get_tickets_by_user", user="alice", view_type="my_everything")
    assert (r["code"], r["message"]) == (3900005, "参数验证失败: view_type 应为 my_todo, my_created, my_history, "
                                                  "my_approval, my_attention, my_dealt 之一，收到 'my_everything'")
    r = api("get_tickets_by_user", view_type="my_todo")
    assert (r["code"], r["message"]) == (3900005, "参数验证失败: user 为必填项")


def test_get_all_tickets_is_get_tickets_by_get_or_post(api, cab):
    sn = _create(api, cab)
    for method in ("GET", "POST"):
        data = api("get_all_tickets", method=method, sns=sn)["data"]
        assert [i["sn"] for i in data["items"]] == [sn]


# --- add_follower ---------------------------------------------------------------------------

def test_followers_are_added_removed_and_listed(api, cab, db_snapshot):
    sn = _create(api, cab)
    assert api("add_follower", sn=sn, users="bob,lead1", attention=True)["result"]
    data = api("get_tickets_by_user", user="bob", view_type="my_attention")["data"]
    assert [i["sn"] for i in data["items"]] == [sn] and data["items"][0]["followers"] == ["bob", "lead1"]
    assert api("add_follower", sn=sn, users="bob", attention=True)["result"]          # twice: no error
    assert api("add_follower", sn=sn, users="bob", attention=False)["result"]
    assert api("get_tickets_by_user", user="bob", view_type="my_attention")["data"]["count"] == 0
    before = db_snapshot()
    r = api("add_follower", sn=sn, users="ghost", attention=True)
    assert (r["code"], r["message"]) == (3900004, "单据操作失败: 用户不存在或已停用：ghost")
    assert db_snapshot() == before


def test_an_ordinary_user_follows_only_for_themself(api, cab, demo):
    from app.models import TicketFollower
    from app.extensions import db
    from sqlalchemy import func, select

    sn = _create(api, cab)
    with demo.app_context():
        from app.services.integration.api_apps import issue_user_token
        from app.services.people import find_user

        token = issue_user_token(find_user("alice"))
    creds = {"bk_app_code": PLAIN_CODE, "bk_app_secret": PLAIN_SECRET, "bk_token": token}
    url = "/api/c/compapi/v2/itsm/add_follower/"
    r = api.client.post(url, json={**creds, "sn": sn, "users": "bob", "attention": True}).get_json()
    assert (r["code"], r["message"]) == (3900004, "单据操作失败: 只能为自己关注或取消关注单据（bob 不是当前用户）")
    r = api.client.post(url, json={**creds, "sn": sn, "users": "alice", "attention": True}).get_json()
    assert r["result"], r
    with demo.app_context():
        assert db.session.execute(select(func.count()).select_from(TicketFollower)).scalar_one() == 1


# --- comment -----------------------------------------------------------------------------------

def test_comment_is_comment_ticket_under_the_gateway_name(api, cab):
    sn = _create(api, cab)
    r = api("comment", sn=sn, operator="alice", stars=5, comments="好")
    assert (r["code"], r["message"]) == (3900005, "参数验证失败: 单据未结束，不允许评价!")
    api("approve", sn=sn, state_id=2, approver="lead1", action="false")
    assert api("comment", sn=sn, operator="alice", stars=5, comments="好")["result"]
    r = api("comment", sn=sn, operator="alice", stars=4)
    assert (r["code"], r["message"]) == (3900005, "参数验证失败: 单据已评价，不能重复评价")
    r = api("comment", sn=sn, stars=4)
    assert r["message"] == "参数验证失败: 缺少参数 operator"


# --- edit_field ------------------------------------------------------------------------------

def test_edit_field_changes_values_and_logs_it(api, editable):
    sn = _create(api, editable, fields=[{"key": "amount", "value": 3}])
    r = api("edit_field", sn=sn, operator="bob", fields=[{"key": "amount", "value": 7}, {"key": "title", "value": "新"}])
    assert r["result"], r
    info = api("get_ticket_info", sn=sn)["data"]
    assert {f["key"]: f["value"] for f in info["fields"]} == {"title": "新", "amount": 7}
    assert info["title"] == "新"
    logs = api("get_ticket_logs", sn=sn)["data"]["logs"]
    assert logs[-1]["message"] == "bob 修改字段【数量、标题】." and logs[-1]["source"] == "API"


@pytest.mark.parametrize("operator, fields, code, message", [
    ("carol", [{"key": "amount", "value": 7}], 3900004, "单据操作失败: carol 不是单据当前的处理人，不能修改字段"),
    ("bob", [{"key": "nope", "value": 7}], 3900005, "参数验证失败: 单据没有这些字段：nope"),
    ("bob", [{"key": "amount", "value": "many"}], 3900005, None),
    ("bob", [], 3900005, "参数验证失败: 缺少参数 fields"),
])
def test_edit_field_refusals_change_nothing(api, editable, db_snapshot, operator, fields, code, message):
    sn = _create(api, editable)
    before = db_snapshot()
    r = api("edit_field", sn=sn, operator=operator, fields=fields)
    assert (r["result"], r["code"]) == (False, code), r
    if message:
        assert r["message"] == message
    assert db_snapshot() == before


def test_edit_field_on_a_finished_ticket_is_refused(api, editable, db_snapshot):
    sn = _create(api, editable)
    assert api("operate_node", sn=sn, operator="bob", state_id=2, action_type="TRANSITION", fields=[])["result"]
    before = db_snapshot()
    r = api("edit_field", sn=sn, operator="admin", fields=[{"key": "amount", "value": 1}])
    assert r["message"] == "单据操作失败: current_status = FINISHED 当前状态不可修改字段！"
    assert db_snapshot() == before


# --- app-only authentication ------------------------------------------------------------------

def test_an_app_trusted_to_act_for_users_calls_alone_naming_the_user_in_the_body(api, cab):
    r = _app_only(api, "create_ticket", "POST", service_id=cab, creator="alice",
                  fields=[{"key": "title", "value": "仅应用"}])
    assert r["result"], r
    sn = r["data"]["sn"]
    assert _app_only(api, "get_ticket_info", sn=sn)["data"]["creator"] == "alice"
    assert _app_only(api, "approve", "POST", sn=sn, state_id=2, approver="lead1", action="true")["result"]
    assert _app_only(api, "get_tickets_by_user", user="cab1", view_type="my_approval")["data"]["count"] == 1
    assert _app_only(api, "ticket_approval_result", "POST", sn=[sn])["data"][0]["sn"] == sn
    assert _app_only(api, "operate_node", "POST", sn=sn, operator="cab1", state_id=3, action_type="TRANSITION",
                     fields=[{"key": "cab_result", "value": "false"}])["result"]
    assert _app_only(api, "get_ticket_status", sn=sn)["data"]["current_status"] == "FINISHED"
    logs = api("get_ticket_logs", sn=sn)["data"]["logs"]
    assert {"alice", "lead1", "cab1"} <= {log["operator"] for log in logs}


def test_app_only_refusals(api, cab, db_snapshot):
    before = db_snapshot()
    # the user must be named when the app calls alone
    r = _app_only(api, "create_ticket", "POST", service_id=cab, fields=[{"key": "title", "value": "x"}])
    assert (r["code"], r["message"]) == (3900005, "参数验证失败: 缺少参数 creator（仅以应用身份调用时须指明操作的用户）")
    # an app not trusted to act for users gets no ticket endpoint alone ...
    r = _app_only(api, "create_ticket", "POST", app=(PLAIN_CODE, PLAIN_SECRET), service_id=cab, creator="alice",
                  fields=[{"key": "title", "value": "x"}])
    assert (r["code"], r["message"]) == (3900401, f"用户认证失败：应用 {PLAIN_CODE} 未被允许代替用户操作，"
                                                  "仅凭应用身份不能调用此接口，请提供 bk_token 或 bk_username")
    # ... endpoints upstream says need a user are refused alone to every app
    r = _app_only(api, "get_service_roles", service_id=cab)
    assert (r["code"], r["message"]) == (3900401, "用户认证失败：bk_token 与 bk_username 必须提供一个")
    r = _app_only(api, "add_follower", "POST", sn="REQ1", users="bob", attention=True)
    assert r["code"] == 3900401
    assert db_snapshot() == before
    # the public reads answer any app
    r = _app_only(api, "get_services", app=(PLAIN_CODE, PLAIN_SECRET))
    assert r["result"] and cab in [s["id"] for s in r["data"]]
    r = _app_only(api, "token/verify", "POST", app=(PLAIN_CODE, PLAIN_SECRET), token="x")
    assert r["data"] == {"is_passed": False, "is_valid": False}        # is_valid: what bk-monitor reads
