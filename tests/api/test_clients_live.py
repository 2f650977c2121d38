"""The two official BlueKing clients, used unchanged, against a live server on the demo data.

- bkapi-component-open (`bkapi_component.open.client.Client`): credentials in the
  `X-Bkapi-Authorization` header, `/api/c/compapi{bk_api_ver}/itsm/<name>/`; run both with the
  default (empty) bk_api_ver and with "v2".
- bk-itsm-sdk (`itsm_sdk.api.client.Client` in ESB mode): bk_* in the JSON body / query string,
  `<esb>//api/c/compapi/v2/itsm/<name>/`; its own methods where it has one, else its public
  `call_api` with its own `http_get` / `http_post`.

A scenario per demo flow walks every step to the end; other tickets are terminated or withdrawn;
the result callback is delivered by the scheduled job to a small HTTP server on 127.0.0.1.
"""
from __future__ import annotations

import json
import threading
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from sqlalchemy import select, update

from app.extensions import db
from app.infra.uow import commit

DRIVERS = ["component", "component-v2", "sdk"]
SDK_METHODS = {"create_ticket", "ticket_approval_result", "get_ticket_logs", "get_service_catalogs", "get_services",
               "create_service_catalog", "import_service", "update_service"}
GET = {"get_service_catalogs", "get_services", "get_service_detail", "get_service_roles", "get_workflow_detail",
       "get_ticket_info", "get_ticket_status", "get_ticket_logs", "callback_failed_ticket"}


class ApiError(AssertionError):
    def __init__(self, message: str, code=None):
        super().__init__(f"{code}: {message}")
        self.message, self.code = message, code


class Driver:
    """Calls an endpoint as `user` through one of the real clients; returns `data` or raises ApiError."""

    def __init__(self, live, kind: str):
        self.live, self.kind = live, kind

    def __call__(self, name: str, user: str = "admin", **data):
        if self.kind.startswith("component"):
            client = self.live.component(user, bk_api_ver="v2" if self.kind == "component-v2" else "")
            operation = getattr(client.itsm, name.replace("/", "_"))
            body = operation(data or None)
            if not body["result"]:
                raise ApiError(body["message"], body["code"])
            return body["data"]
        from itsm_sdk.api.http import http_get, http_post

        sdk = self.live.sdk
        if name in SDK_METHODS:
            ok, message, result = getattr(sdk, name)(dict(data), bk_username=user)
        else:
            func = http_get if name in GET else http_post
            ok, message, result = sdk.call_api(func, f"/v2/itsm/{name}/", dict(data), bk_username=user)
        if not ok:
            raise ApiError(message)
        return result

    # helpers shared by the scenarios ------------------------------------------------
    def service_id(self, name: str) -> int:
        services = self("get_services")
        return next(s["id"] for s in services if s["name"] == name)

    def step(self, sn: str, name: str, status: str | None = None) -> dict:
        steps = self("get_ticket_status", sn=sn)["current_steps"]
        step = next((s for s in steps if s["name"] == name), None)
        assert step is not None, (name, steps)
        if status:
            assert step["status"] == status, step
        return step

    def operate(self, sn: str, step: dict, operator: str, action: str, **extra) -> None:
        result = self("operate_node", user=operator, sn=sn, operator=operator, state_id=step["state_id"],
                      action_type=action, **extra)
        assert result == []

    def status(self, sn: str) -> str:
        return self("get_ticket_status", sn=sn)["current_status"]


@pytest.fixture(params=DRIVERS)
def client(request, live):
    return Driver(live, request.param)


def fields(**values):
    return [{"key": k, "value": v} for k, v in values.items()]


def _catalog_and_detail(client, service_name: str, first_keys: list[str]) -> int:
    tree = client("get_service_catalogs", has_service="true")
    assert tree[0]["key"] == "root" and tree[0]["level"] == 0
    sid = client.service_id(service_name)
    detail = client("get_service_detail", service_id=sid)
    assert detail["service_id"] == sid and detail["name"] == service_name
    assert [f["key"] for f in detail["fields"]][:len(first_keys)] == first_keys
    for f in detail["fields"]:
        assert {"id", "key", "type", "name", "desc", "choice", "validate_type", "regex", "meta"} <= set(f)
    return sid


def _read_back(client, sn: str, creator: str, title: str) -> None:
    info = client("get_ticket_info", sn=sn)
    assert info["sn"] == sn and info["creator"] == creator and info["title"] == title
    assert "is_biz_need" not in info and "service_type" not in info
    assert all(isinstance(f["display_value"], str) for f in info["fields"])
    logs = client("get_ticket_logs", sn=sn)
    assert logs["sn"] == sn and logs["logs"][0]["message"] == "流程开始."
    assert logs["logs"][0]["source"] == "API"


def _comment_and_result(client, sn: str, creator: str, approved: bool = True) -> None:
    assert client("comment_ticket", user=creator, sn=sn, operator=creator, stars=5, comments="很快") == []
    assert client("get_ticket_status", sn=sn)["is_commented"] is True
    result = client("ticket_approval_result", sn=[sn])
    assert result[0]["sn"] == sn and result[0]["current_status"] == "FINISHED"
    assert result[0]["approve_result"] is approved
    listed = client("get_tickets", sns=[sn])
    assert listed["count"] == 1 and listed["items"][0]["current_status"] == "FINISHED"
    assert listed["items"][0]["is_commented"] is True and listed["items"][0]["end_at"]


# --- a scenario per demo flow -------------------------------------------------------------

def test_account_apply_claim_and_deliver(client):
    sid = _catalog_and_detail(client, "账号开通", ["title", "system", "account_type"])
    created = client("create_ticket", user="alice", service_id=sid, creator="alice",
                     fields=fields(title="申请 CRM 只读账号", system="crm", account_type="permanent",
                                   permissions="read,write", reason="对账", cc="bob"))
    sn = created["sn"]
    assert sn.startswith("REQ") and len(sn) == 17 and created["ticket_url"].endswith(f"/tickets/{created['id']}")
    assert client.status(sn) == "RUNNING"
    _read_back(client, sn, "alice", "申请 CRM 只读账号")
    info = client("get_ticket_info", sn=sn)
    by_key = {f["key"]: f for f in info["fields"]}
    assert by_key["system"]["display_value"] == "CRM 客户管理系统"
    assert by_key["permissions"]["value"] == "read,write"

    step = client.step(sn, "直属领导审批", "RUNNING")
    assert step["action_type"] == "TRANSITION"
    client.operate(sn, step, "leader", "TRANSITION", fields=fields(leader_approve_result="true", leader_approve_remark="同意"))

    step = client.step(sn, "账号开通实施", "RECEIVING")
    # the GENERAL role it_ops, resolved to its members as upstream reports processors
    assert step["action_type"] == "CLAIM" and set(step["processors"].split(",")) == {"ops1", "ops2"}
    assert [o["key"] for o in client("get_ticket_status", user="ops1", sn=sn, operator="ops1")["current_steps"][0]
            ["operations"]] == ["CLAIM"]
    client.operate(sn, step, "ops1", "CLAIM")
    step = client.step(sn, "账号开通实施", "RUNNING")
    assert step["processors_type"] == "PERSON" and step["processors"] == "ops1"
    client.operate(sn, step, "ops1", "DELIVER", processors_type="PERSON", processors="ops2",
                   action_message="ops2 负责 CRM")
    step = client.step(sn, "账号开通实施", "RUNNING")
    assert step["processors"] == "ops2"
    client.operate(sn, step, "ops2", "TRANSITION", fields=fields(account_name="alice.crm", impl_note="初始密码已邮件"))

    step = client.step(sn, "申请人确认", "RUNNING")
    assert step["processors_type"] == "STARTER" and step["processors"] == "alice"
    client.operate(sn, step, "alice", "TRANSITION", fields=fields(confirm_result="confirmed"))
    assert client.status(sn) == "FINISHED"
    logs = [entry["message"] for entry in client("get_ticket_logs", sn=sn)["logs"]]
    assert logs[-1] == "单据流程结束" and any("转单" in m for m in logs) and any("认领" in m for m in logs)
    _comment_and_result(client, sn, "alice")


def test_change_normal_suspend_resume_and_reject(client):
    sid = _catalog_and_detail(client, "普通变更", ["title", "change_type", "risk"])
    base = dict(title="扩容订单库", change_type="normal", risk="medium", window="2030-01-01 22:00:00",
                duration_minutes=90, plan="<p>1. 扩容</p>", rollback_plan="缩回",
                affected_hosts=[{"ip": "10.0.0.1", "role": "db", "note": "主库"}])
    sn = client("create_ticket", user="bob", service_id=sid, creator="bob", fields=fields(**base))["sn"]
    assert sn.startswith("CRQ")
    _read_back(client, sn, "bob", "扩容订单库")

    client.operate(sn, client.step(sn, "变更经理审批", "RUNNING"), "cm", "TRANSITION", fields=fields(cm_result="agree"))
    for member in ("cab1", "cab2"):          # the CAB review is a countersign: every member votes
        client.operate(sn, client.step(sn, "CAB 评审", "RUNNING"), member, "TRANSITION",
                       fields=fields(cab_review_result="true", cab_review_remark="ok"))

    step = client.step(sn, "变更实施", "RUNNING")
    assert client("operate_ticket", user="ops1", sn=sn, operator="ops1", action_type="SUSPEND",
                  action_message="等窗口") == []
    assert client.status(sn) == "SUSPENDED"
    ops = client("get_ticket_status", user="ops1", sn=sn, operator="ops1")["operations"]
    assert "UNSUSPEND" in [o["key"] for o in ops] and all(o["can_operate"] for o in ops)
    assert client.step(sn, "变更实施")["status"] == "SUSPEND"
    assert client("operate_ticket", user="ops1", sn=sn, operator="ops1", action_type="UNSUSPEND",
                  action_message="窗口到了") == []
    assert client.status(sn) == "RUNNING"
    client.operate(sn, client.step(sn, "变更实施", "RUNNING"), "ops2", "TRANSITION",
                   fields=fields(impl_result="success", impl_log="done"))
    client.operate(sn, client.step(sn, "变更验证", "RUNNING"), "bob", "TRANSITION",
                   fields=fields(verify_result="ok"))
    assert client.status(sn) == "FINISHED"
    _comment_and_result(client, sn, "bob")

    # a second change: the change manager terminates it at the node (operate_node TERMINATE)
    sn2 = client("create_ticket", user="bob", service_id=sid, creator="bob", fields=fields(**base))["sn"]
    client.operate(sn2, client.step(sn2, "变更经理审批"), "cm", "TERMINATE", action_message="窗口冲突")
    assert client.status(sn2) == "TERMINATED"
    assert client("ticket_approval_result", sn=[sn2])[0]["approve_result"] is False


def test_incident_dispatch_to_a_role_by_id(client, demo):
    from app.models import Role

    with demo.app_context():
        engineers = db.session.execute(select(Role.id).where(Role.key == "engineers")).scalar_one()
    sid = _catalog_and_detail(client, "故障处理", ["title", "event_type", "event_source", "impact", "urgency"])
    created = client("create_ticket", user="alice", service_id=sid, creator="alice",
                     fields=fields(title="订单服务 502", event_type="fault", event_source="monitor", impact="high",
                                   urgency="high", platform="", affected_users="300",
                                   occurred_at="2026-01-05 08:30:00", description="502 from nginx"))
    sn = created["sn"]
    assert sn.startswith("INC")
    _read_back(client, sn, "alice", "订单服务 502")
    step = client.step(sn, "故障处理", "DISTRIBUTING")
    assert step["action_type"] == "DISTRIBUTE"
    client.operate(sn, step, "desk", "DISTRIBUTE", processors_type="GENERAL", processors=str(engineers),
                   action_message="一线处理")
    step = client.step(sn, "故障处理", "RUNNING")
    assert step["processors_type"] == "GENERAL"
    todo = client("get_tickets", username="eng2")
    assert [t["sn"] for t in todo["items"]] == [sn]
    client.operate(sn, step, "eng2", "TRANSITION",
                   fields=fields(cause="磁盘满", solution="清理日志", recovered_at="2026-01-05 09:00:00",
                                 need_change=True))
    client.operate(sn, client.step(sn, "提单人确认", "RUNNING"), "alice", "TRANSITION",
                   fields=fields(confirm_result="solved", satisfaction="5"))
    assert client.status(sn) == "FINISHED"
    _comment_and_result(client, sn, "alice")


def test_problem_distribute_then_claim(client):
    sid = _catalog_and_detail(client, "问题管理", ["title", "related_incidents", "impact"])
    sn = client("create_ticket", user="pm", service_id=sid, creator="pm",
                fields=fields(title="订单库反复满盘", related_incidents="INC20260105000001", impact="medium",
                              occurrences=3, first_seen="2026-01-01", affected_systems=["crm", "erp"],
                              description="三次磁盘满"))["sn"]
    assert sn.startswith("PBI")
    _read_back(client, sn, "pm", "订单库反复满盘")
    # CLAIM_THEN_PROCESS with one resolved processor starts RUNNING (no claim)
    step = client.step(sn, "问题分析", "RUNNING")
    assert step["processors_type"] == "PERSON" and step["processors"] == "pm"
    client.operate(sn, step, "pm", "TRANSITION",
                   fields=fields(root_cause="日志未轮转", category="software,middleware,database"))
    step = client.step(sn, "根因修复", "DISTRIBUTING")
    client.operate(sn, step, "pm", "DISTRIBUTE", processors_type="PERSON", processors="eng1,eng2")
    step = client.step(sn, "根因修复", "RECEIVING")
    client.operate(sn, step, "eng1", "CLAIM")
    client.operate(sn, client.step(sn, "根因修复", "RUNNING"), "eng1", "TRANSITION",
                   fields=fields(fix_plan="加 logrotate", fix_result="workaround", workaround="手工清理"))
    client.operate(sn, client.step(sn, "关闭确认", "RUNNING"), "pm", "TRANSITION",
                   fields=fields(close_code="known_error", kb_link="https://kb.example.com/1"))
    assert client.status(sn) == "FINISHED"
    info = client("get_ticket_info", sn=sn)
    assert {f["key"]: f["display_value"] for f in info["fields"]}["affected_systems"] == "CRM,ERP"
    _comment_and_result(client, sn, "pm")


def test_terminate_and_withdraw_other_tickets(client):
    sid = client.service_id("账号开通")
    values = fields(title="临时账号", system="oa", account_type="temporary", expire_date="2030-01-01", reason="外包")
    # the creator withdraws before anyone acted
    sn = client("create_ticket", user="bob", service_id=sid, creator="bob", fields=values)["sn"]
    assert client("operate_ticket", user="bob", sn=sn, operator="bob", action_type="WITHDRAW",
                  action_message="不需要了") == []
    assert client.status(sn) == "REVOKED"
    # a processor of a terminable node terminates the ticket (operate_ticket TERMINATE)
    sn = client("create_ticket", user="bob", service_id=sid, creator="bob", fields=values)["sn"]
    assert client("operate_ticket", user="leader", sn=sn, operator="leader", action_type="TERMINATE",
                  action_message="不合规") == []
    assert client.status(sn) == "TERMINATED"
    results = {r["sn"]: r for r in client("ticket_approval_result", sn=[sn])}
    assert results[sn]["approve_result"] is False and results[sn]["updated_by"] == "leader"
    # the leader rejects: the flow ends on the "not approved" end
    sn = client("create_ticket", user="bob", service_id=sid, creator="bob", fields=values)["sn"]
    client.operate(sn, client.step(sn, "直属领导审批"), "leader", "TRANSITION", fields=fields(leader_approve_result="false"))
    assert client.status(sn) == "FINISHED"
    assert client("ticket_approval_result", sn=[sn])[0]["approve_result"] is False


def test_service_roles_workflow_and_token(client):
    sid = client.service_id("故障处理")
    roles = client("get_service_roles", service_id=sid)
    assert [r["name"] for r in roles] == ["故障处理", "提单人确认"]
    detail = client("get_service_detail", service_id=sid)
    flow = client("get_workflow_detail", workflow_id=detail["workflow_id"])
    assert [s["name"] for s in flow["states"]][:2] == ["提单", "故障处理"]
    assert client("token/verify", token="not-a-token") == {"is_passed": False, "is_valid": False}


def test_component_client_default_path_has_no_version(live):
    """bkapi-component-open calls /api/c/compapi/itsm/<name>/ unless bk_api_ver is set; both answer."""
    for ver in ("", "v2"):
        client = live.component("alice", bk_api_ver=ver)
        response = client.itsm.get_services.request()
        assert response.url == f"{live.url}/api/c/compapi{'/v2' if ver else ''}/itsm/get_services/"
        assert response.json()["code"] == 0


# --- the result callback ----------------------------------------------------------------------

class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records the POSTs it gets; fails the first `fail` of them."""

    def __init__(self, fail: int = 0):
        self.received: list[dict] = []
        self.fail = fail
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 - http.server's naming
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.received.append(json.loads(body))
                status = 500 if len(receiver.received) <= receiver.fail else 200
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"result": true, "code": 0, "message": "success", "data": null}')

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/itsm/callback"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver(fail=1)
    yield r
    r.close()


def _run_callbacks(app) -> object:
    from app.jobs import JOBS, run_job

    job = next(j for j in JOBS if j.id == "deliver_callbacks")
    return run_job(app, job)


def _make_due(app) -> None:
    """The next attempt is backed off into the future; bring it forward instead of waiting."""
    from app.models import TicketCallback
    from app.timeutil import utcnow

    with app.app_context():
        db.session.execute(update(TicketCallback).values(next_attempt_at=utcnow() - timedelta(seconds=1)))
        commit()
        db.session.remove()


def _allow_local_callbacks(app) -> None:
    """What an admin sets for ops-portal in the back office: callbacks to 127.0.0.1, private addresses allowed."""
    from app.models import ApiApp

    with app.app_context():
        db.session.execute(update(ApiApp).where(ApiApp.app_code == "ops-portal")
                           .values(callback_hosts="127.0.0.1", callback_private=True))
        commit()
        db.session.remove()


@pytest.mark.parametrize("kind", ["component", "sdk"])
def test_result_callback_with_retry(live, demo, receiver, kind):
    _allow_local_callbacks(demo)
    client = Driver(live, kind)
    sid = client.service_id("账号开通")
    sn = client("create_ticket", user="alice", service_id=sid, creator="alice",
                fields=fields(title="回调", system="erp", account_type="permanent", reason="对接"),
                meta={"callback_url": receiver.url})["sn"]
    # nothing is sent while the ticket runs
    assert _run_callbacks(demo) == 0 and receiver.received == []
    client.operate(sn, client.step(sn, "直属领导审批"), "leader", "TRANSITION", fields=fields(leader_approve_result="false"))

    # first attempt fails (HTTP 500): the ticket is listed by callback_failed_ticket ...
    assert _run_callbacks(demo) == 1
    assert len(receiver.received) == 1
    assert client("callback_failed_ticket") == [sn]
    # ... until its result is read with ticket_approval_result
    assert client("ticket_approval_result", sn=[sn])[0]["approve_result"] is False
    assert client("callback_failed_ticket") == []
    # not due yet (backoff), then due and delivered
    assert _run_callbacks(demo) == 0
    _make_due(demo)
    assert _run_callbacks(demo) == 1
    assert _run_callbacks(demo) == 0         # delivered once only
    payload = receiver.received[-1]
    assert payload == receiver.received[0]
    assert {"title", "current_status", "sn", "ticket_url", "update_at", "updated_by", "approve_result", "token",
            "last_approver"} <= set(payload)
    assert payload["sn"] == sn and payload["current_status"] == "FINISHED" and payload["approve_result"] is False
    assert payload["updated_by"] == "leader"
    assert client("token/verify", token=payload["token"]) == {"is_passed": True, "is_valid": True}
    assert client("token/verify", token=payload["token"] + "x") == {"is_passed": False, "is_valid": False}


def test_callbacks_for_terminated_and_withdrawn_tickets(live, demo):
    _allow_local_callbacks(demo)
    client = Driver(live, "component-v2")
    receiver = Receiver()
    try:
        sid = client.service_id("故障处理")
        values = fields(title="t", event_type="fault", event_source="phone", impact="low", urgency="low",
                        occurred_at="2026-01-05 08:30:00", description="d")
        withdrawn = client("create_ticket", user="alice", service_id=sid, creator="alice", fields=values,
                           meta={"callback_url": receiver.url})["sn"]
        client("operate_ticket", user="alice", sn=withdrawn, operator="alice", action_type="WITHDRAW")
        terminated = client("create_ticket", user="alice", service_id=sid, creator="alice", fields=values,
                            meta={"callback_url": receiver.url})["sn"]
        client.operate(terminated, client.step(terminated, "故障处理"), "desk", "TERMINATE", action_message="重复")
        assert _run_callbacks(demo) == 2
        got = {p["sn"]: p for p in receiver.received}
        assert got[withdrawn]["current_status"] == "REVOKED" and got[withdrawn]["approve_result"] is False
        assert got[terminated]["current_status"] == "TERMINATED" and got[terminated]["updated_by"] == "desk"
        assert client("callback_failed_ticket") == []
    finally:
        receiver.close()
