"""bk-bscp (TencentBlueKing/bk-bscp, Go, ITSM v2 adapter) against a live server: its requests replayed exactly.

Sources (paths in bk-bscp):
- internal/components/itsm/v2/itsm.go `GetAuthHeader`: `X-Bkapi-Authorization: {"bk_app_code", "bk_app_secret",
  "bk_username"}` (the configured ESB user); every answer is accepted only when `code` is 0.
- scripts/migrations/itsm/v2.go `InitApproveITSMServices`: get_service_catalogs (the catalog whose `key` is
  "root", then 服务配置中心 / 上线审批 among its children), create_service_catalog (`project_key` "0",
  `parent__id`, `name`, `desc`), get_services?catalog_id=, import_service / update_service of
  templates/create_shared_approve.json.tpl (an upstream workflow export: imported by the bkimport work of
  issue 15; here the same flow is written as our YAML), get_service_detail -> `workflow_id`,
  get_workflow_detail -> `states[]` with `type == "APPROVAL"`, `is_multi` picking the count-sign / or-sign
  state ids (v2/service.go `GetStateApproveByWorkfolw`).
- cmd/data-service/service/publish.go `submitCreateApproveTicket` + `buildFields`, v2/convert.go
  `convertCreateTicketReq`: create_ticket with `creator`, `service_id` as a string, fields (title, BIZ, APP,
  RELEASE_NAME, SCOPE, COMPARE, BIZ_ID, APP_ID, RELEASE_ID, APPROVE_TYPE 会签/或签, MEMO, `approve` a list not
  in the form), `meta.state_processors` {"<state id>": "a,b"}.
- publish.go `Approve` (pass / reject / revoke) + v2/convert.go `convertApprovalTicketReq`: approve with `sn`,
  `state_id` (a string), `approver`, `action` "true"/"false", `remark`, and empty `operator`, `action_type`,
  `action_message`; revoke: operate_ticket WITHDRAW by the release's creator.
- v2/adapter.go `GetApproveResult`: get_ticket_logs; a log whose message contains 拒绝 (constant
  ItsmRejectedApproveResult) makes the result false with get_approve_node_result's `approve_remark` as reason, one
  containing 通过 (ItsmPassedApproveResult) adds its operator to the passing users.
- v2/list.go: get_tickets (POST, `?page=&page_size=` in the URL, `{"sns": [...]}`), get_ticket_status?sn=,
  get_approve_node_result?sn=&state_id=.
"""
from __future__ import annotations

import pytest

from tests.api.conftest import api, db_snapshot, live  # noqa: F401 - the live server fixtures
from tests.callers.caller_kit import go_decodes, register_app, session

BSCP_CODE, BSCP_SECRET, BSCP_USER = "bk-bscp", "bscp-secret", "admin"

# templates/create_shared_approve.json.tpl as our flow: 提单 -> 会签审批 | 或签审批 by APPROVE_TYPE
BSCP_FLOW = """
key: bscp_publish
name: 服务配置中心上线审批
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: BIZ, name: 业务, type: STRING, required: true}
      - {key: APP, name: 服务名称, type: STRING, required: true}
      - {key: RELEASE_NAME, name: 上线版本名称, type: STRING, required: true}
      - {key: SCOPE, name: 上线范围, type: STRING, required: true}
      - {key: COMPARE, name: 版本差异对比, type: LINK, required: true}
      - {key: BIZ_ID, name: 业务ID, type: STRING, required: true}
      - {key: APP_ID, name: 服务ID, type: STRING, required: true}
      - {key: RELEASE_ID, name: 版本ID, type: STRING, required: true}
      - {key: APPROVE_TYPE, name: 审批方式, type: STRING, required: true}
      - {key: MEMO, name: 上线说明, type: STRING}
  - key: countersign
    name: 会签审批
    kind: approval
    processors: {type: PERSON, value: [admin]}
    multi: true
    finish_condition: {agree: all}
  - key: orsign
    name: 或签审批
    kind: approval
    processors: {type: PERSON, value: [admin]}
  - {key: end, name: 结束, kind: end}
  - {key: rejected, name: 驳回, kind: end, approve_result: false}
transitions:
  - {from: submit, to: countersign, when: {field: APPROVE_TYPE, value: 会签}}
  - {from: submit, to: orsign, when: {field: APPROVE_TYPE, value: 或签}}
  - {from: countersign, to: end, when: {field: countersign_result, value: "true"}}
  - {from: countersign, to: rejected, when: {field: countersign_result, value: "false"}}
  - {from: orsign, to: end, when: {field: orsign_result, value: "true"}}
  - {from: orsign, to: rejected, when: {field: orsign_result, value: "false"}}
"""
PEOPLE = ("admin", "dev1", "ops1", "ops2")


class Bscp:
    """bk-bscp's ITSM v2 adapter (internal/components/itsm/v2) in Python."""

    def __init__(self, live):
        self.base = f"{live.url}/api/c/compapi/v2/itsm"
        self.http = session({"bk_app_code": BSCP_CODE, "bk_app_secret": BSCP_SECRET, "bk_username": BSCP_USER})

    def _ok(self, response) -> dict:
        body = response.json()
        if body["code"] != 0:
            raise RuntimeError(body["message"])
        return body["data"]

    def get(self, path, **query):
        return self._ok(self.http.get(f"{self.base}/{path}/", params=query))

    def post(self, path, body, **query):
        return self._ok(self.http.post(f"{self.base}/{path}/", params=query or None, json=body))

    # scripts/migrations/itsm/v2.go
    def catalog(self) -> int:
        roots = self.get("get_service_catalogs")
        root = next(c for c in roots if c["key"] == "root")
        parent = next((c for c in root.get("children") or [] if c["name"] == "服务配置中心"), None)
        parent_id = parent["id"] if parent else self.post("create_service_catalog", {
            "project_key": "0", "parent__id": root["id"], "name": "服务配置中心", "desc": "服务配置中心相关流程"})["id"]
        return self.post("create_service_catalog", {"project_key": "0", "parent__id": parent_id, "name": "上线审批",
                                                    "desc": "服务配置上线操作"})["id"]

    def approve_states(self, service_id) -> dict:
        workflow_id = self.get("get_service_detail", service_id=service_id)["workflow_id"]
        states = self.get("get_workflow_detail", workflow_id=workflow_id)["states"]
        for s in states:
            go_decodes(s, {"id": int, "type": str, "is_multi": bool})
        return {("count_sign" if s["is_multi"] else "or_sign"): s["id"] for s in states if s["type"] == "APPROVAL"}

    # cmd/data-service/service/publish.go
    def submit(self, service_id, state_id, approve_type, approvers, creator="dev1") -> str:
        fields = [{"key": "title", "value": "服务配置中心(BSCP)版本上线审批"}, {"key": "BIZ", "value": "蓝鲸(2)"},
                  {"key": "APP", "value": "game-config"}, {"key": "RELEASE_NAME", "value": "v1.0.3"},
                  {"key": "SCOPE", "value": "全部实例"},
                  {"key": "COMPARE", "value": "http://bscp.example.com/space/2/records/all?limit=1&id=7"},
                  {"key": "BIZ_ID", "value": "2"}, {"key": "APP_ID", "value": "11"}, {"key": "RELEASE_ID", "value": "31"},
                  {"key": "APPROVE_TYPE", "value": approve_type}, {"key": "MEMO", "value": "修复配置"},
                  {"key": "approve", "value": approvers.split(",")}]
        data = self.post("create_ticket", {"creator": creator, "service_id": str(service_id), "fields": fields,
                                           "meta": {"state_processors": {str(state_id): approvers}}})
        go_decodes(data, {"sn": str, "id": int, "ticket_url": str, "state_id": int})
        return data["sn"]

    def approve(self, sn, state_id, approver, action, reason=""):
        self.post("approve", {"sn": sn, "state_id": str(state_id), "operator": "", "action": action, "action_type": "",
                              "action_message": "", "approver": approver, "remark": reason})

    def revoke(self, sn, creator, user, reason):
        self.post("operate_ticket", {"sn": sn, "state_id": "", "operator": creator, "action": "", "action_type": "WITHDRAW",
                                     "action_message": f"BSCP 代理用户 {user} 撤回: {reason}", "approver": "", "remark": ""})

    # v2/adapter.go GetApproveResult
    def approve_result(self, sn, state_id) -> dict:
        logs = self.get("get_ticket_logs", sn=sn)["logs"]
        res = {"result": None, "pass_users": [], "reject_users": [], "reasons": []}
        for log in logs:
            if "拒绝" in log["message"]:
                node = self.get("get_approve_node_result", sn=sn, state_id=int(state_id))
                go_decodes(node, {"name": str, "processed_user": str, "approve_result": bool, "approve_remark": str})
                res["result"] = False
                res["reject_users"].append(log["operator"])
                res["reasons"].append(node["approve_remark"])
            if "通过" in log["message"]:
                res["pass_users"].append(log["operator"])
        if (res["pass_users"] or res["reject_users"]) and res["result"] is None:
            res["result"] = True
        return res

    def list_tickets(self, sns) -> dict:
        data = self.post("get_tickets", {"sns": sns}, page=1, page_size=10)
        go_decodes(data, {"page": int, "total_page": int, "count": int, "next": str, "previous": str,
                          "items": [{"id": int, "sn": str, "title": str, "catalog_id": int, "service_id": int,
                                     "service_type": str, "flow_id": int, "current_status": str, "comment_id": str,
                                     "is_commented": bool, "updated_by": str, "update_at": str, "creator": str,
                                     "bk_biz_id": int, "ticket_url": str}]})
        return data


@pytest.fixture
def bscp(live, demo, make_service):
    register_app(demo, BSCP_CODE, BSCP_SECRET, act_for_users=True)
    client = Bscp(live)
    client.service_id = make_service(BSCP_FLOW, users=PEOPLE)
    return client


def test_bootstrap_finds_the_root_catalog_creates_its_own_and_reads_the_approval_states(bscp):
    catalog_id = bscp.catalog()
    assert bscp.get("get_services", catalog_id=catalog_id) == []
    assert bscp.approve_states(bscp.service_id) == {"count_sign": 2, "or_sign": 3}


def test_an_or_sign_release_is_passed_by_one_approver(bscp):
    states = bscp.approve_states(bscp.service_id)
    sn = bscp.submit(bscp.service_id, states["or_sign"], "或签", "ops1,ops2")
    status = bscp.get("get_ticket_status", sn=sn)
    assert status["current_status"] == "RUNNING"
    assert status["current_steps"][0]["state_id"] == states["or_sign"]
    assert sorted(status["current_steps"][0]["processors"].split(",")) == ["ops1", "ops2"]
    bscp.approve(sn, states["or_sign"], "ops2", "true")
    assert bscp.approve_result(sn, states["or_sign"]) == {"result": True, "pass_users": ["ops2"], "reject_users": [],
                                                          "reasons": []}
    assert bscp.get("get_ticket_status", sn=sn)["current_status"] == "FINISHED"
    items = bscp.list_tickets([sn])["items"]
    assert [(i["sn"], i["current_status"]) for i in items] == [(sn, "FINISHED")]


def test_a_count_sign_release_rejected_by_one_approver_reports_the_reason(bscp):
    states = bscp.approve_states(bscp.service_id)
    sn = bscp.submit(bscp.service_id, states["count_sign"], "会签", "ops1,ops2")
    bscp.approve(sn, states["count_sign"], "ops1", "true")
    assert bscp.get("get_ticket_status", sn=sn)["current_status"] == "RUNNING"
    bscp.approve(sn, states["count_sign"], "ops2", "false", "配置有误")
    result = bscp.approve_result(sn, states["count_sign"])
    assert result["result"] is False and "ops2" in result["reject_users"] and "ops1" in result["pass_users"]
    assert "配置有误" in result["reasons"][0]


def test_an_all_approved_count_sign_is_a_pass_with_no_rejection(bscp):
    states = bscp.approve_states(bscp.service_id)
    sn = bscp.submit(bscp.service_id, states["count_sign"], "会签", "ops1,ops2")
    bscp.approve(sn, states["count_sign"], "ops1", "true")
    bscp.approve(sn, states["count_sign"], "ops2", "true")
    result = bscp.approve_result(sn, states["count_sign"])
    assert result["result"] is True and result["reject_users"] == []


def test_a_release_is_revoked_by_its_creator_and_refusals_change_nothing(bscp, db_snapshot):
    states = bscp.approve_states(bscp.service_id)
    sn = bscp.submit(bscp.service_id, states["or_sign"], "或签", "ops1")
    before = db_snapshot()
    with pytest.raises(RuntimeError, match="审批"):          # dev1 is not the approver
        bscp.approve(sn, states["or_sign"], "dev1", "true")
    with pytest.raises(RuntimeError):                        # a state that is not an approval of this ticket
        bscp.approve(sn, states["count_sign"], "ops1", "true")
    assert db_snapshot() == before
    bscp.revoke(sn, "dev1", "admin", "发错版本")
    assert bscp.get("get_ticket_status", sn=sn)["current_status"] == "REVOKED"
