"""bk-monitor (监控平台 / 故障自愈 FTA), replayed from its source against a live server.

TencentBlueKing/bk-monitor:
- `bkmonitor/alarm_backends/service/fta_action/__init__.py`: 异常防御审批 — `create_approve_ticket` creates a fast
  approval as creator `fta-system` (not a user of ITSM) with fields title / APPROVER / APPROVAL_CONTENT and
  `meta.callback_url`; `get_approve_result` polls `ticket_approval_result` every minute (`approve_callback`:
  RUNNING → wait, FINISHED with `approve_result is True` → run the action, else skip);
  `approve_timeout_callback` withdraws it after 30 minutes (operate_ticket WITHDRAW, operator `fta-system`).
- `bkmonitor/api/itsm/default.py`: the resources above (create_ticket with `fast_approval` defaulting to true,
  ticket_approval_result, operate_ticket, token/verify, get_ticket_status), all as `bk_username` =
  COMMON_USERNAME ("admin"), GET in the query string, POST as JSON.
- `bkmonitor/packages/fta_web/action/resources/backend_resources.py` (ITSMCallbackResource): the callback view
  verifies the token with token/verify and reads `is_valid`; `monitor_web/iam/resources.py` reads `is_passed`.
- `bkmonitor/support-files/fta/action_plugin_initial.json` (plugin 「流程服务」, key itsm): the services listed by
  `get_services` with `display_role=BK_FTA`, the form from `get_service_detail` (`fields[*]`: key, name,
  default, desc), `create_ticket` with `service_id` / `fields` / `creator`, then `get_ticket_status` every
  2 seconds until `current_status == "FINISHED"` (its `ticket_url` is the link).
- `bkmonitor/core/drf_resource/contrib/api.py` (APIResource): `X-Bkapi-Authorization` {bk_app_code,
  bk_app_secret, bk_username}; `bkmonitor/api/common/default.py` (CommonBaseResource) adds `_origin_user`.
"""
from __future__ import annotations

import re

import pytest

COMMON_USERNAME = "admin"
ACTION_ID_MATCH = re.compile(r"\(\s*([\w\|]+)\s*\)")

FTA_FLOW = """
key: fta_fault
name: 故障处理工单
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true, desc: 告警名称}
      - {key: level, name: 告警级别, type: SELECT, required: true, default: warning,
         choices: [{key: fatal, name: 致命}, {key: warning, name: 预警}]}
      - {key: content, name: 告警内容, type: TEXT, desc: 告警详情}
      - {key: hosts, name: 影响主机数, type: INT}
      - {key: occurred, name: 发生时间, type: DATETIME}
  - key: handle
    name: 运维处理
    kind: manual
    processors: {type: PERSON, value: [ops1]}
    fields:
      - {key: handle_note, name: 处理说明, type: TEXT, required: true}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: end}
"""


class Monitor:
    """bk-monitor's ITSM resources (APIResource: bk_username = COMMON_USERNAME unless given)."""

    def __init__(self, itsm):
        self.itsm = itsm

    def request(self, method: str, name: str, data: dict):
        data = {"bk_username": COMMON_USERNAME, **data}
        call = self.itsm.get if method == "GET" else self.itsm.post
        body = call(name, username=data["bk_username"], **data)
        if not body["result"] and body.get("code") != 0:
            raise AssertionError(f"BKAPIError: {body['message']}")
        return body["data"]


class FtaAction:
    """The parts of ActionProcessor that talk to ITSM (alarm_backends/service/fta_action/__init__.py)."""

    def __init__(self, monitor: Monitor, callback_url: str, name: str, assignee: list[str]):
        self.monitor, self.callback_url, self.name, self.assignee = monitor, callback_url, name, assignee
        self.status, self.outputs = "waiting", {}

    def create_approve_ticket(self):
        ticket_data = {
            "creator": "fta-system",
            "fields": [
                {"key": "title", "value": "[告警异常防御审批]:是否继续执行套餐【{}】".format(self.name)},
                {"key": "APPROVER", "value": ",".join(self.assignee)},
                {"key": "APPROVAL_CONTENT", "value": "告警：CPU 使用率过高\n套餐：重启进程"},
            ],
            "meta": {"callback_url": self.callback_url},
            "fast_approval": True,                   # CreateFastApprovalTicketResource's serializer default
        }
        self.outputs["approve_info"] = self.monitor.request("POST", "create_ticket", ticket_data)

    def get_approve_result(self):
        sn = self.outputs["approve_info"]["sn"]
        self.approve_callback(**self.monitor.request("POST", "ticket_approval_result", {"sn": [sn]})[0])

    def approve_callback(self, **approve_result):
        if self.status != "waiting":
            return
        if approve_result["current_status"] == "RUNNING":
            return                                   # wait_callback("get_approve_result", 60s)
        if approve_result["current_status"] == "FINISHED" and approve_result["approve_result"] is True:
            self.status = "running"
            return
        self.status = "skipped"

    def approve_timeout_callback(self):
        self.monitor.request("POST", "operate_ticket", {"sn": self.outputs["approve_info"]["sn"],
                                                        "operator": "fta-system",
                                                        "action_message": "异常防御审批执行时间套餐配置30分钟, 按忽略处理",
                                                        "action_type": "WITHDRAW"})
        self.status = "skipped"


def itsm_callback(monitor: Monitor, actions: dict[str, FtaAction], data: dict) -> dict:
    """ITSMCallbackResource.perform_request."""
    for key in ("sn", "title", "updated_by", "token"):
        assert isinstance(data[key], str) and data[key], key
    assert isinstance(data["approve_result"], bool)
    verify_data = monitor.request("POST", "token/verify", {"token": data["token"]})
    if not verify_data.get("is_valid", False):
        return {"message": "Error Token", "result": False}
    action_id = ACTION_ID_MATCH.findall(data["title"])
    if not action_id or action_id[0] not in actions:
        return {"message": "Error ticket", "result": False}
    actions[action_id[0]].approve_callback(**data)
    return {"result": True, "message": "success"}


@pytest.fixture
def monitor(live):
    return Monitor(live.caller("bk_monitor"))


@pytest.mark.parametrize("decision,status", [("true", "running"), ("false", "skipped")])
def test_fta_defence_approval_by_fta_system_polled_then_called_back(live, monitor, receiver, deliver,
                                                                    decision, status):
    action = FtaAction(monitor, f"{receiver.base}/fta/action/instances/callback/", "重启进程(1001)", ["leader", "cm"])
    replies = []
    receiver.on_receive = lambda body: replies.append(itsm_callback(monitor, {"1001": action}, body)) or replies[-1]
    action.create_approve_ticket()
    sn = action.outputs["approve_info"]["sn"]
    assert action.outputs["approve_info"]["ticket_url"]

    action.get_approve_result()                                  # a minute later: still RUNNING
    assert action.status == "waiting"
    approver = live.caller("bk_monitor", "leader")
    step = approver.get("get_ticket_status", sn=sn)["data"]["current_steps"][0]
    assert approver.post("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
                         fields=[{"key": "approval_result", "value": decision}])["result"]

    deliver()                                                    # the callback arrives first ...
    assert replies == [{"result": True, "message": "success"}]
    assert action.status == status
    action.get_approve_result()                                  # ... and the next poll changes nothing
    assert action.status == status
    logs = monitor.request("GET", "get_ticket_logs", {"sn": sn})
    assert logs["creator"] == "fta-system"


def test_fta_defence_approval_withdrawn_by_fta_system_after_timeout(monitor, receiver):
    action = FtaAction(monitor, f"{receiver.base}/fta/action/instances/callback/", "扩容(7)", ["leader"])
    action.create_approve_ticket()
    action.approve_timeout_callback()
    result = monitor.request("POST", "ticket_approval_result", {"sn": [action.outputs["approve_info"]["sn"]]})[0]
    assert result["current_status"] == "REVOKED" and result["approve_result"] is False


def test_fta_itsm_plugin_lists_bk_fta_services_creates_and_polls(live, publish, monitor):
    publish(FTA_FLOW.replace("key: fta_fault", "key: other").replace("故障处理工单", "其他"), display_type="API",
            display_role="BK_IAM")
    service_id = publish(FTA_FLOW, display_type="API", display_role="BK_FTA")
    origin = {"_origin_user": "alice"}                           # CommonBaseResource.perform_request

    templates = [{"id": s["id"], "name": s["name"]}
                 for s in monitor.request("GET", "get_services", {"display_role": "BK_FTA", **origin})]
    assert templates == [{"id": service_id, "name": "故障处理工单"}]
    detail = monitor.request("GET", "get_service_detail", {"service_id": service_id, **origin})
    template_detail = [{"key": f["key"], "name": f["name"], "value": f["default"] or "", "placeholder": f["desc"]}
                       for f in detail["fields"]]
    assert {t["key"]: t["value"] for t in template_detail} == {"title": "", "level": "warning", "content": "",
                                                                "hosts": "", "occurred": ""}
    template_detail[0]["value"] = "CPU 使用率过高 (host-1)"       # what the FTA user typed; the rest as listed

    created = monitor.request("POST", "create_ticket", {
        "service_id": int(service_id), "fields": [{"key": t["key"], "value": t["value"]} for t in template_detail],
        "creator": "alice", **origin})
    sn = created["sn"]
    schedule = monitor.request("GET", "get_ticket_status", {"sn": sn, **origin})
    assert schedule["current_status"] != "FINISHED" and schedule["ticket_url"]

    ops = live.caller("bk_monitor", "ops1")
    step = ops.get("get_ticket_status", sn=sn)["data"]["current_steps"][0]
    assert ops.post("operate_node", sn=sn, operator="ops1", state_id=step["state_id"], action_type="TRANSITION",
                    fields=[{"key": "handle_note", "value": "已重启"}])["result"]
    assert monitor.request("GET", "get_ticket_status", {"sn": sn, **origin})["current_status"] == "FINISHED"
