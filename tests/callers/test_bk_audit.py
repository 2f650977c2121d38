"""bk-audit (审计中心) risk approval, replayed from its source against a live server.

TencentBlueKing/bk-audit:
- `src/backend/services/web/risk/handlers/ticket.py` (ForApprove.process): `get_service_detail` of the process
  application's approval service, then every field it lists is sent back whole with a `value`: the title,
  the process application's name, tags and operators joined with ";", the risk's link, else the approval
  config's value or the risk's attribute of that key, `""` when the risk has none (lists and dicts as JSON
  text); `create_ticket` as creator PLATFORM_AUTH_ACCESS_USERNAME with no meta; right after creating,
  `ticket_approve_result(sn=[sn])[0]`; later calls read it again (`update_status`: FINISHED and
  approve_result → AUTO_PROCESS; TERMINATED / FAILED / REVOKED or not approved → AWAIT_PROCESS).
- `src/backend/services/web/risk/constants.py` (ApproveTicketFields): the keys it fills itself.
- `src/backend/apps/itsm/constants.py` (TicketStatus): which statuses count as success / failure.
- `src/backend/api/bk_itsm/default.py`: GetServiceDetail (GET), CreateTicket and TicketApproveResult (POST),
  through bk_resource's BkApiResource with platform authorization (`X-Bkapi-Authorization`).
"""
from __future__ import annotations

import json

import pytest

PLATFORM_AUTH_ACCESS_USERNAME = "admin"
SUCCESS, FAILED = ["FINISHED"], ["TERMINATED", "FAILED", "REVOKED"]

AUDIT_FLOW = """
key: audit_risk_approval
name: 审计风险处理审批
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: risk_id, name: 风险ID, type: STRING, required: true}
      - {key: event_content, name: 风险描述, type: TEXT}
      - {key: tags, name: 标签, type: STRING}
      - {key: operator, name: 责任人, type: STRING}
      - {key: risk_level, name: 风险等级, type: SELECT,
         choices: [{key: HIGH, name: 高}, {key: MIDDLE, name: 中}, {key: LOW, name: 低}]}
      - {key: process_application_name, name: 处理套餐名称, type: STRING, required: true}
      - {key: description, name: 说明, type: TEXT}
      - {key: risk_url, name: 审计关联单据, type: STRING}
      - {key: event_time, name: 首次发现时间, type: DATETIME}
      - {key: strategy_id, name: 策略ID, type: INT}
      - {key: event_data, name: 事件数据, type: TEXT}
      - {key: affected_hosts, name: 影响主机数, type: INT}
      - {key: deadline, name: 处理期限, type: DATE}
      - {key: impact, name: 影响范围, type: MULTISELECT, choices: [{key: db, name: 数据库}, {key: web, name: 网站}]}
      - {key: watchers, name: 关注人, type: MEMBERS}
      - {key: urgent, name: 是否紧急, type: RADIO, choices: [{key: "yes", name: 是}, {key: "no", name: 否}]}
  - key: approval
    name: 风险处理审批
    kind: approval
    processors: {type: PERSON, value: [leader]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approval}
  - {from: approval, to: end}
"""


class Risk:
    """The attributes of bk-audit's Risk model the service's fields may name."""

    risk_id = "20260105103000123456"
    event_content = "非工作时间批量导出客户数据"
    risk_level = "HIGH"
    operator = ["alice", "bob"]
    event_time = "2026-01-05 10:30:00"
    strategy_id = 12
    event_data = {"ip": "10.0.0.8", "rows": 52000}
    tag_names = ["数据安全", "导出"]


def for_approve(itsm, service_id: int, risk: Risk, pa_name: str, approve_config: dict) -> dict:
    """ForApprove.process when no ticket exists yet."""
    ticket_info = itsm.get("get_service_detail", username=PLATFORM_AUTH_ACCESS_USERNAME, service_id=service_id)
    assert ticket_info["result"], ticket_info
    fields = []
    for field in ticket_info["data"]["fields"]:
        if field["key"] == "title":
            field["value"] = "【审计中心】执行%s审批" % pa_name
        elif field["key"] == "process_application_name":
            field["value"] = pa_name
        elif field["key"] == "tags":
            field["value"] = ";".join(risk.tag_names)
        elif field["key"] == "operator":
            field["value"] = ";".join(risk.operator)
        elif field["key"] == "risk_url":
            field["value"] = "{}/risk-manage/detail/{}".format("http://audit.example.com", risk.risk_id)
        else:
            value = approve_config.get(field["key"], {}).get("value") or getattr(risk, field["key"], "")
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False)
            field["value"] = value
        fields.append(field)
    ticket = itsm.post("create_ticket", username=PLATFORM_AUTH_ACCESS_USERNAME, service_id=service_id,
                       creator=PLATFORM_AUTH_ACCESS_USERNAME, fields=fields)
    assert ticket["result"], ticket
    status = itsm.post("ticket_approval_result", username=PLATFORM_AUTH_ACCESS_USERNAME, sn=[ticket["data"]["sn"]])
    assert status["result"], status
    return {"ticket": ticket["data"], "status": status["data"][0]}


def risk_status(status: dict) -> str:
    """ForApprove.update_status."""
    current, approved = status.get("current_status"), status.get("approve_result")
    if current in FAILED or (current in SUCCESS and not approved):
        return "await_process"
    if current in SUCCESS and approved:
        return "auto_process"
    return "for_approve"


@pytest.mark.parametrize("decision,outcome", [("true", "auto_process"), ("false", "await_process")])
def test_bk_audit_sends_back_every_field_and_reads_the_result_at_once(live, publish, decision, outcome):
    service_id = publish(AUDIT_FLOW, display_type="API", display_role="BK_AUDIT")
    itsm = live.caller("bk_audit")
    result = for_approve(itsm, service_id, Risk(), "自动封禁账号", {"description": {"value": "命中高危规则"}})
    sn = result["ticket"]["sn"]
    assert result["status"]["sn"] == sn and result["status"]["current_status"] == "RUNNING"
    assert result["status"]["approve_result"] is False and risk_status(result["status"]) == "for_approve"

    info = itsm.get("get_ticket_info", username="admin", sn=sn)["data"]
    values = {f["key"]: f["value"] for f in info["fields"]}
    assert values["operator"] == "alice;bob" and values["risk_level"] == "HIGH" and values["strategy_id"] == 12
    assert values["description"] == "命中高危规则" and json.loads(values["event_data"])["rows"] == 52000
    assert values["affected_hosts"] == "" and values["deadline"] == "" and values["watchers"] == ""

    leader = live.caller("bk_audit", "leader")
    step = leader.get("get_ticket_status", sn=sn)["data"]["current_steps"][0]
    assert leader.post("operate_node", sn=sn, operator="leader", state_id=step["state_id"], action_type="TRANSITION",
                       fields=[{"key": "approval_result", "value": decision}])["result"]
    later = itsm.post("ticket_approval_result", username="admin", sn=[sn])["data"][0]     # the next process() call
    assert risk_status(later) == outcome
