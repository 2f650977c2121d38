"""bk-bscp (TencentBlueKing/bk-bscp, Go, ITSM v2 adapter) against a live server: its requests replayed exactly.

Sources (paths in bk-bscp):
- internal/components/itsm/v2/itsm.go `GetAuthHeader`: `X-Bkapi-Authorization: {"bk_app_code", "bk_app_secret",
  "bk_username"}` (the configured ESB user); every answer is accepted only when `code` is 0.
- scripts/migrations/itsm/v2.go `InitApproveITSMServices`: get_service_catalogs (the catalog whose `key` is
  "root", then 服务配置中心 / 上线审批 among its children), create_service_catalog (`project_key` "0",
  `parent__id`, `name`, `desc`), get_services?catalog_id=, import_service / update_service of
  templates/create_shared_approve.json.tpl (the real file, tests/fixtures/bk_exports/, origin in the README there:
  提单 -> 会签审批 | 或签审批 by APPROVE_TYPE -> WEBHOOK 成功回调 / 失败回调 to bscp's gateway
  `/api/v1/config/biz_id/{{BIZ_ID}}/app_id/{{APP_ID}}/release_id/{{RELEASE_ID}}/approve`), get_service_detail -> `workflow_id`,
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

import json
from pathlib import Path

import pytest

from app.jobs import JOBS, run_job
from tests.api.conftest import api, db_snapshot, live  # noqa: F401 - the live server fixtures
from tests.callers.caller_kit import go_decodes, register_app, session

BSCP_CODE, BSCP_SECRET, BSCP_USER = "bk-bscp", "bscp-secret", "admin"

TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "bk_exports" / "bscp_create_shared_approve.json.tpl"
SERVICE_NAME = "创建上线审批"            # internal/criteria/constant/key.go ItsmApproveServiceName
# bk-bscp's gateway answers its Approve call (config_service.proto ApproveResp) inside `data`, which is what the
# template's success rule `resp.data.code==0` reads
GATEWAY_ANSWER = {"data": {"have_credentials": False, "code": 0, "have_pull": False, "message": ""}}


def fill_template(gateway: str) -> dict:
    """v2.go `importApproveService`: the Go template with `[[ ]]` delimiters filled, then parsed as JSON."""
    text = TEMPLATE.read_text(encoding="utf-8")
    for name, value in {"BCSPGateway": gateway, "BkAppCode": BSCP_CODE, "BkAppSecret": BSCP_SECRET}.items():
        text = text.replace(f"[[.{name}]]", value)
    return json.loads(text)


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
        mine = next((c for c in (parent or {}).get("children") or [] if c["name"] == "上线审批"), None)
        if mine is not None:
            return mine["id"]
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


    def import_approve_service(self, catalog_id: int, gateway: str) -> int:
        """v2.go `importApproveService`: import the filled template, or update the service of that name."""
        existing = [s["id"] for s in self.get("get_services", catalog_id=catalog_id) if s["name"] == SERVICE_NAME]
        body = {"key": "request", "name": SERVICE_NAME, "catalog_id": catalog_id, "desc": SERVICE_NAME,
                "owner": "admin", "can_ticket_agency": False, "is_valid": True, "display_type": "OPEN",
                "display_role": "", "source": "custom", "project_key": "0", "workflow": fill_template(gateway)}
        if not existing:
            return self.post("import_service", body)["id"]
        self.post("update_service", {"id": existing[0], **body})
        return existing[0]


@pytest.fixture
def gateway(receiver):
    """bk-bscp's API gateway, receiving the template's WEBHOOK calls (成功回调 / 失败回调)."""
    receiver.answer = GATEWAY_ANSWER
    return receiver


@pytest.fixture
def bscp(live, demo, gateway):
    from app.services.people.users import create_user, find_user
    from app.infra.uow import commit

    register_app(demo, BSCP_CODE, BSCP_SECRET, act_for_users=True)
    with demo.app_context():
        for name in PEOPLE:
            if find_user(name) is None:
                create_user(name, password="x-Demo-12345")
        commit()
    client = Bscp(live)
    client.catalog_id = client.catalog()
    client.service_id = client.import_approve_service(client.catalog_id, gateway.base)
    client.run_webhooks = lambda: run_job(demo, next(j for j in JOBS if j.id == "run_automatic_steps"))
    return client


RELEASE_PATH = "/api/v1/config/biz_id/2/app_id/11/release_id/31/approve"


def webhook_calls(gateway) -> list[tuple[str, str, dict]]:
    """What bscp's gateway received: (path, the bk_app_code it was called with, body)."""
    return [(path, json.loads(headers["X-Bkapi-Authorization"])["bk_app_code"], body)
            for (path, body), headers in zip(gateway.received, gateway.headers)]


def test_bootstrap_imports_the_real_template_once_and_reads_its_approval_states(bscp, live):
    assert bscp.catalog() == bscp.catalog_id                   # bscp's lookup finds 上线审批 again (no duplicate)
    assert bscp.import_approve_service(bscp.catalog_id, "http://gateway.invalid") == bscp.service_id   # updated
    services = bscp.get("get_services", catalog_id=bscp.catalog_id)
    assert [s["name"] for s in services] == [SERVICE_NAME]
    workflow_id = bscp.get("get_service_detail", service_id=bscp.service_id)["workflow_id"]
    states = {s["name"]: s for s in bscp.get("get_workflow_detail", workflow_id=workflow_id)["states"]}
    assert {n: (states[n]["type"], states[n]["is_multi"]) for n in ("会签审批", "或签审批")} == {
        "会签审批": ("APPROVAL", True), "或签审批": ("APPROVAL", False)}
    assert bscp.approve_states(bscp.service_id) == {"count_sign": states["会签审批"]["id"],
                                                    "or_sign": states["或签审批"]["id"]}


def test_an_or_sign_release_passed_by_one_approver_calls_bscp_back_as_pending_publish(bscp, gateway):
    bscp.import_approve_service(bscp.catalog_id, gateway.base)
    states = bscp.approve_states(bscp.service_id)
    sn = bscp.submit(bscp.service_id, states["or_sign"], "或签", "ops1,ops2")
    status = bscp.get("get_ticket_status", sn=sn)
    assert status["current_status"] == "RUNNING"
    assert status["current_steps"][0]["state_id"] == states["or_sign"]
    assert sorted(status["current_steps"][0]["processors"].split(",")) == ["ops1", "ops2"]
    bscp.approve(sn, states["or_sign"], "ops2", "true")
    assert bscp.approve_result(sn, states["or_sign"]) == {"result": True, "pass_users": ["ops2"], "reject_users": [],
                                                          "reasons": []}
    assert gateway.received == []                                # the WEBHOOK node runs in the scheduler
    bscp.run_webhooks()
    [(path, app_code, body)] = webhook_calls(gateway)
    assert (path, app_code) == (RELEASE_PATH, BSCP_CODE)
    assert body["publish_status"] == "pending_publish" and body["approveResult"] is True and body["sn"] == sn
    assert body["title"] == "服务配置中心(BSCP)版本上线审批" and body["currentStatus"] == "RUNNING"
    assert body["ticketUrl"].endswith("/tickets/" + str(bscp.list_tickets([sn])["items"][0]["id"]))
    assert bscp.get("get_ticket_status", sn=sn)["current_status"] == "FINISHED"
    items = bscp.list_tickets([sn])["items"]
    assert [(i["sn"], i["current_status"]) for i in items] == [(sn, "FINISHED")]


def test_an_or_sign_release_rejected_calls_bscp_back_as_rejected(bscp, gateway):
    states = bscp.approve_states(bscp.service_id)
    sn = bscp.submit(bscp.service_id, states["or_sign"], "或签", "ops1")
    bscp.approve(sn, states["or_sign"], "ops1", "false", "版本不对")
    result = bscp.approve_result(sn, states["or_sign"])
    assert result == {"result": False, "pass_users": [], "reject_users": ["ops1"], "reasons": ["版本不对"]}
    bscp.run_webhooks()
    assert [(p, b["publish_status"], b["approveResult"]) for p, _, b in webhook_calls(gateway)] == [
        (RELEASE_PATH, "rejected_approval", False)]
    assert bscp.get("get_ticket_status", sn=sn)["current_status"] == "FINISHED"


def test_a_count_sign_release_rejected_by_one_approver_reports_the_reason(bscp, gateway):
    states = bscp.approve_states(bscp.service_id)
    sn = bscp.submit(bscp.service_id, states["count_sign"], "会签", "ops1,ops2")
    bscp.approve(sn, states["count_sign"], "ops1", "true")
    assert bscp.get("get_ticket_status", sn=sn)["current_status"] == "RUNNING"
    bscp.approve(sn, states["count_sign"], "ops2", "false", "配置有误")
    result = bscp.approve_result(sn, states["count_sign"])
    assert result["result"] is False and "ops2" in result["reject_users"] and "ops1" in result["pass_users"]
    assert "配置有误" in result["reasons"][0]
    bscp.run_webhooks()          # the template's 审批驳回 line: the node's REJECT_COUNT >= 1
    assert [b["publish_status"] for _, _, b in webhook_calls(gateway)] == ["rejected_approval"]
    assert bscp.get("get_ticket_status", sn=sn)["current_status"] == "FINISHED"


def test_an_all_approved_count_sign_is_a_pass_with_no_rejection(bscp, gateway):
    states = bscp.approve_states(bscp.service_id)
    sn = bscp.submit(bscp.service_id, states["count_sign"], "会签", "ops1,ops2")
    bscp.approve(sn, states["count_sign"], "ops1", "true")
    bscp.approve(sn, states["count_sign"], "ops2", "true")
    result = bscp.approve_result(sn, states["count_sign"])
    assert result["result"] is True and result["reject_users"] == []
    bscp.run_webhooks()
    assert [b["publish_status"] for _, _, b in webhook_calls(gateway)] == ["pending_publish"]
    assert bscp.get("get_ticket_status", sn=sn)["current_status"] == "FINISHED"


def test_a_gateway_answer_failing_the_success_rule_leaves_the_callback_step_failed(bscp, gateway):
    gateway.answer = {"data": {"code": 1, "message": "release not found"}}      # resp.data.code==0 does not hold
    states = bscp.approve_states(bscp.service_id)
    sn = bscp.submit(bscp.service_id, states["or_sign"], "或签", "ops1")
    bscp.approve(sn, states["or_sign"], "ops1", "true")
    bscp.run_webhooks()
    status = bscp.get("get_ticket_status", sn=sn)
    assert status["current_status"] == "RUNNING" and status["current_steps"][0]["name"] == "成功回调"
    assert len(gateway.received) == 1


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
