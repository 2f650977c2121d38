"""bk-hcm (TencentBlueKing/bk-hcm, Go) against a live server: its requests replayed exactly, with its
app credentials alone, and its callback handler answering as it does.

Sources (paths in bk-hcm):
- pkg/cc/types.go `ApiGateway.GetAuthValue`: `X-Bkapi-Authorization: {"bk_app_code", "bk_app_secret"}`, no user
  (bkTicket / bkToken are optional and empty by default) -> app-only authentication.
- pkg/thirdparty/api-gateway/itsm/itsm.go: rest client on `<endpoint>/v2/itsm`; create.go `CreateTicket`
  (`service_id`, `creator`, `meta.callback_url`, fields `title`, `application_content` and one per
  `VariableApprover`, value "a,b"); get_tickets_by_user.go (GET `user`, `view_type=my_approval`, `service_id`,
  `page`, `page_size`; the `Ticket` struct it decodes); approve.go (`sn`, `state_id`, `approver`, `action`
  "true"/"false", `remark`); query.go (`ticket_approval_result` with `{"sn": [sn]}`); withdraw.go
  (`operate_ticket` WITHDRAW by `operator`); check.go (`token/verify`, reads `data.is_passed`).
  Every answer is accepted only when `result` is true and `code` is 0.
- cmd/web-server/service/itsm/svc.go: ListMyApprovalTicket (get_tickets_by_user per service, my_approval, page =
  start/limit + 1) and TicketApprove (approve as the logged-in user, `Action.ToItsmAction()` in
  pkg/api/web-server/itsm.go).
- cmd/cloud-server/service/application/approve.go `approve` + pkg/api/cloud-server/application/approve.go
  `ItsmApproveResult`: the callback needs `sn`, `current_status`, `approve_result` (bool), `token`; the handler
  verifies the token with token/verify, maps FINISHED+true -> pass, FINISHED+false -> rejected, TERMINATED /
  REVOKED -> cancelled; it answers pkg/rest `Response` `{"code": 0, "message": "", "data": null}`.
- cmd/cloud-server/service/application/handlers/account/prepare.go `GetItsmApprover` (variable
  `platform_manager`), handlers/base.go (`platform_manager` and `account_manager`).
"""
from __future__ import annotations

import pytest

from tests.api.conftest import api, db_snapshot, live  # noqa: F401 - the live server fixtures
from tests.callers.caller_kit import (CallbackReceiver, callback_rows, deliver_callbacks, go_decodes, register_app,
                                      session)

HCM_CODE, HCM_SECRET = "bk-hcm", "hcm-secret"

# the approval process an hcm admin sets up in ITSM: approvers by variable (fields filled by hcm per ticket)
HCM_FLOW = """
key: hcm_apply
name: 海垒资源申请
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: application_content, name: 申请内容, type: TEXT, required: true}
      - {key: platform_manager, name: 平台管理员, type: MEMBERS, required: true}
      - {key: account_manager, name: 账号负责人, type: MEMBERS, required: true}
  - key: platform
    name: 平台管理员审批
    kind: approval
    processors: {type: VARIABLE, value: [platform_manager]}
  - key: account
    name: 账号负责人审批
    kind: approval
    processors: {type: VARIABLE, value: [account_manager]}
  - {key: end, name: 结束, kind: end}
  - {key: rejected, name: 驳回, kind: end, approve_result: false}
transitions:
  - {from: submit, to: platform}
  - {from: platform, to: account, when: {field: platform_result, value: "true"}}
  - {from: platform, to: rejected, when: {field: platform_result, value: "false"}}
  - {from: account, to: end, when: {field: account_result, value: "true"}}
  - {from: account, to: rejected, when: {field: account_result, value: "false"}}
"""
PEOPLE = ("hcm_user", "pm1", "pm2", "am1")

TICKET = {"sn": str, "id": int, "title": str, "service_id": int, "service_type": str,
          "meta": {"priority": {"key": str, "name": str, "order": int}}, "bk_biz_id": int, "current_status": str,
          "create_at": str, "creator": str, "is_supervise_needed": bool, "flow_id": int, "supervise_type": str,
          "supervisor": str, "service_name": str, "current_status_display": str,
          "current_steps": [{"id": int, "tag": str, "name": str, "state_id": int}], "priority_name": str,
          "current_processors": str, "can_comment": bool, "can_operate": bool, "waiting_approve": bool,
          "followers": [str], "comment_id": str, "can_supervise": bool, "can_withdraw": bool, "sla": [str],
          "sla_color": str}
PAGE = {"page": int, "total_page": int, "count": int, "next": str, "previous": str, "items": [TICKET]}


class Hcm:
    """bk-hcm's itsm client (pkg/thirdparty/api-gateway/itsm) and its callback handler, in Python."""

    def __init__(self, live, secret=HCM_SECRET):
        self.base = f"{live.url}/api/c/compapi/v2/itsm"
        self.http = session({"bk_app_code": HCM_CODE, "bk_app_secret": secret})
        self.applications: dict[str, str] = {}      # sn -> hcm's application status
        self.receiver = CallbackReceiver(self.approve_callback)
        self.callback_url = f"{self.receiver.base}/api/v1/cloud/applications/approve"

    def _ok(self, response) -> dict:
        body = response.json()
        if not body["result"] or body["code"] != 0:
            raise RuntimeError(f"itsm failed, code: {body['code']}, msg: {body['message']}")
        return body

    def create_ticket(self, service_id, creator, title, content, approvers: dict[str, list[str]]) -> str:
        fields = [{"key": "title", "value": title}, {"key": "application_content", "value": content}]
        fields += [{"key": var, "value": ",".join(people)} for var, people in approvers.items()]
        req = {"service_id": service_id, "creator": creator, "meta": {"callback_url": self.callback_url},
               "fields": fields}
        sn = self._ok(self.http.post(f"{self.base}/create_ticket/", json=req))["data"]["sn"]
        self.applications[sn] = "pending"
        return sn

    def my_approval(self, user, service_id, start=0, limit=10) -> dict:
        params = {"user": user, "view_type": "my_approval", "service_id": str(service_id),
                  "page": str(start // limit + 1), "page_size": str(limit)}
        data = self._ok(self.http.get(f"{self.base}/get_tickets_by_user/", params=params))["data"]
        go_decodes(data, PAGE)
        return data

    def approve(self, sn, state_id, approver, action, memo="") -> None:
        req = {"sn": sn, "state_id": state_id, "approver": approver,
               "action": {"pass": "true", "refuse": "false"}[action], "remark": memo}
        self._ok(self.http.post(f"{self.base}/approve/", json=req))

    def ticket_result(self, sn) -> dict:
        results = self._ok(self.http.post(f"{self.base}/ticket_approval_result/", json={"sn": [sn]}))["data"]
        go_decodes(results[0], {"sn": str, "ticket_url": str, "current_status": str, "approve_result": bool})
        return results[0]

    def withdraw(self, sn, operator) -> None:
        req = {"sn": sn, "operator": operator, "action_type": "WITHDRAW", "action_message": "applicant withdraw ticket"}
        self._ok(self.http.post(f"{self.base}/operate_ticket/", json=req))

    def verify_token(self, token) -> bool:
        return self._ok(self.http.post(f"{self.base}/token/verify/", json={"token": token}))["data"]["is_passed"]

    def approve_callback(self, body):
        """cloud-server's ApproveApplication: validate, verify the token, map the status; answer rest.Response."""
        if not body.get("sn") or not body.get("current_status") or not isinstance(body.get("approve_result"), bool) \
                or not body.get("token"):
            return 200, {"code": 2000001, "message": "invalid parameter", "data": None}
        if not self.verify_token(body["token"]):
            return 200, {"code": 2000002, "message": "verify of token not paas", "data": None}
        status = body["current_status"]
        if status == "FINISHED":
            self.applications[body["sn"]] = "delivering" if body["approve_result"] else "rejected"
        elif status in ("TERMINATED", "REVOKED"):
            self.applications[body["sn"]] = "cancelled"
        return 200, {"code": 0, "message": "", "data": None}


@pytest.fixture
def hcm(live, demo, make_service):
    register_app(demo, HCM_CODE, HCM_SECRET, act_for_users=True, callbacks=True)
    client = Hcm(live)
    client.service_id = make_service(HCM_FLOW, users=PEOPLE)
    yield client
    client.receiver.close()


def test_an_application_is_approved_by_both_variable_approvers_and_delivered(hcm, demo):
    sn = hcm.create_ticket(hcm.service_id, "hcm_user", "申请账号", '{"vendor": "tcloud"}',
                           {"platform_manager": ["pm1", "pm2"], "account_manager": ["am1"]})
    waiting = hcm.my_approval("pm2", hcm.service_id)
    assert waiting["count"] == 1
    item = waiting["items"][0]
    assert item["sn"] == sn and item["waiting_approve"] is True and item["service_name"] == "海垒资源申请"
    step = item["current_steps"][0]
    assert step["name"] == "平台管理员审批"
    assert hcm.my_approval("am1", hcm.service_id)["count"] == 0

    hcm.approve(sn, step["state_id"], "pm2", "pass", "同意")
    step = hcm.my_approval("am1", hcm.service_id)["items"][0]["current_steps"][0]
    hcm.approve(sn, step["state_id"], "am1", "pass")

    deliver_callbacks(demo)
    (callback,) = hcm.receiver.received
    assert (callback["sn"], callback["current_status"], callback["approve_result"]) == (sn, "FINISHED", True)
    assert hcm.applications[sn] == "delivering"
    assert callback_rows(demo) == [("SUCCEEDED", 1, "")]
    assert hcm.ticket_result(sn) == {**hcm.ticket_result(sn), "current_status": "FINISHED", "approve_result": True}


def test_a_refusal_is_reported_as_rejected_and_a_withdrawal_as_cancelled(hcm, demo):
    refused = hcm.create_ticket(hcm.service_id, "hcm_user", "申请硬盘", "{}",
                                {"platform_manager": ["pm1"], "account_manager": ["am1"]})
    state = hcm.my_approval("pm1", hcm.service_id)["items"][0]["current_steps"][0]["state_id"]
    hcm.approve(refused, state, "pm1", "refuse", "预算不足")
    withdrawn = hcm.create_ticket(hcm.service_id, "hcm_user", "申请 VPC", "{}",
                                  {"platform_manager": ["pm1"], "account_manager": ["am1"]})
    hcm.withdraw(withdrawn, "hcm_user")

    deliver_callbacks(demo)
    assert {c["sn"]: (c["current_status"], c["approve_result"]) for c in hcm.receiver.received} == {
        refused: ("FINISHED", False), withdrawn: ("REVOKED", False)}
    assert hcm.applications == {refused: "rejected", withdrawn: "cancelled"}
    assert hcm.ticket_result(refused)["approve_result"] is False


def test_what_hcm_is_refused_and_changes_nothing(hcm, live, demo, db_snapshot):
    sn = hcm.create_ticket(hcm.service_id, "hcm_user", "申请", "{}",
                           {"platform_manager": ["pm1"], "account_manager": ["am1"]})
    before = db_snapshot()
    with pytest.raises(RuntimeError, match="code: 3900004"):       # pm2 is not this ticket's approver
        hcm.approve(sn, 2, "pm2", "pass")
    with pytest.raises(RuntimeError, match="code: 3900401"):       # a wrong secret
        Hcm(live, secret="wrong").approve(sn, 2, "pm1", "pass")
    assert db_snapshot() == before


def test_a_callback_hcm_does_not_acknowledge_is_retried_not_counted_as_delivered(hcm, demo):
    hcm.receiver.close()
    hcm.receiver = CallbackReceiver(lambda body: (200, {"code": 2000002, "message": "verify of token not paas",
                                                        "data": None}))
    hcm.callback_url = f"{hcm.receiver.base}/api/v1/cloud/applications/approve"
    sn = hcm.create_ticket(hcm.service_id, "hcm_user", "申请", "{}",
                           {"platform_manager": ["pm1"], "account_manager": ["am1"]})
    hcm.withdraw(sn, "hcm_user")
    deliver_callbacks(demo)
    assert len(hcm.receiver.received) == 1
    (row,) = callback_rows(demo)
    assert row[:2] == ("PENDING", 1) and "code=2000002" in row[2]
