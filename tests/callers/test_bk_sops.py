"""bk-sops (标准运维) 审批 plugin, replayed from its source against a live server.

TencentBlueKing/bk-sops:
- `pipeline_plugins/components/collections/sites/open/bk/approve/v1_0.py` (ApproveService): `plugin_execute`
  creates the ticket (`create_ticket` with no service_id, `fast_approval: True`, fields title / APPROVER /
  APPROVAL_CONTENT, `meta.callback_url` = the node's callback URL) as the task's executor;
  `plugin_schedule` reads `callback_data["approve_result"]` as a boolean.
- `pipeline_plugins/components/query/sites/open/itsm.py` (ITSMNodeTransitionView): approving from bk-sops'
  own page: `get_ticket_info` → the current step named 「内置审批节点」 → its `state_id`; the ticket fields named
  「审批意见」 and 「备注」 (walked in reverse) → `operate_node` TRANSITION with 审批意见 = "true" / "false".
- `api/collections/itsm.py` + `api/client.py` + `api/http.py` (BKItsmClient): GET with query parameters, POST
  with a JSON body, `X-Bkapi-Authorization` {bk_app_code, bk_app_secret, bk_username} plus `blueking-language`.
- `gcloud/taskflow3/apis/django/v4/node_callback.py`: the callback view answers {"result": true, "message"}.
"""
from __future__ import annotations

import pytest

TRANSITION_MAP = {True: "TONGYI", False: "JUJUE"}     # (kept in their module; unused by their view)


def _callback_url(receiver) -> str:
    # get_node_callback_url: BKAPP_INNER_CALLBACK_HOST + "taskflow/api/v4/nodes/callback/%s/" % Fernet token
    return f"{receiver.base}/taskflow/api/v4/nodes/callback/gAAAAABmZ0x1c2Vfbm9kZV90b2tlbl9leGFtcGxl=/"


def plugin_execute(itsm, executor: str, verifier: str, title: str, content: str, callback_url: str) -> str:
    """ApproveService.plugin_execute: BKItsmClient(username=executor).create_ticket(...)."""
    kwargs = {
        "creator": executor,
        "fields": [
            {"key": "title", "value": title},
            {"key": "APPROVER", "value": verifier.replace(" ", "")},
            {"key": "APPROVAL_CONTENT", "value": content},
        ],
        "fast_approval": True,
        "meta": {"callback_url": callback_url},
    }
    result = itsm.post("create_ticket", username=executor, **kwargs)
    assert result["result"], result
    return result["data"]["sn"]


def node_transition(itsm, operator: str, sn: str, is_passed: bool, message: str) -> dict:
    """ITSMNodeTransitionView.post after it found the sn in the node's outputs."""
    ticket_info_result = itsm.get("get_ticket_info", username=operator, sn=sn)
    if not ticket_info_result["result"]:
        return {"result": False, "message": ticket_info_result["message"]}
    ticket_info_data = ticket_info_result["data"]
    state_id = ""
    for current_step in ticket_info_data["current_steps"]:
        if current_step["name"] == "内置审批节点":
            state_id = current_step["state_id"]
            break
    if not state_id:
        return {"result": False, "message": "该审批流程已结束"}
    fields = []
    for ticket_field in reversed(ticket_info_data["fields"]):
        if ticket_field["name"] == "备注":
            fields.append({"key": ticket_field["key"], "value": message})
        elif ticket_field["name"] == "审批意见":
            fields.append({"key": ticket_field["key"], "value": str(is_passed).lower()})
        if len(fields) == 3:
            break
    kwargs = {"operator": operator, "sn": sn, "state_id": state_id, "action_type": "TRANSITION", "fields": fields}
    itsm_result = itsm.post("operate_node", username=operator, **kwargs)
    if not itsm_result["result"]:
        return {"result": False, "message": itsm_result["message"]}
    return {"result": True, "data": None}


def plugin_schedule(callback_data: dict, rejected_block: bool = True) -> tuple[bool, str]:
    """ApproveService.plugin_schedule: (the node's result, its approve_result output)."""
    approve_result = callback_data["approve_result"]
    output = "通过" if approve_result else "拒绝"
    if not approve_result and not rejected_block:
        return True, output
    return approve_result, output


@pytest.mark.parametrize("is_passed", [True, False])
def test_bk_sops_approve_node_from_create_to_callback(live, deliver, receiver, is_passed):
    receiver.answer = {"result": True, "message": "success"}      # node_callback's reply
    itsm = live.caller("bk_sops")
    sn = plugin_execute(itsm, "alice", "leader, cm", "上线审批", "发布 订单服务 v2", _callback_url(receiver))

    # the approval page of bk-sops: the approver decides
    before = itsm.get("get_ticket_info", username="cm", sn=sn)["data"]
    assert [s["name"] for s in before["current_steps"]] == ["内置审批节点"]
    names = [f["name"] for f in before["fields"]]
    assert "审批意见" in names and "备注" in names            # listed before anyone decided
    assert node_transition(itsm, "cm", sn, is_passed, "" if is_passed else "窗口冲突") == {"result": True, "data": None}
    assert node_transition(itsm, "cm", sn, is_passed, "again") == {"result": False, "message": "该审批流程已结束"}

    # the callback reaches the node's URL; bk-sops' plugin_schedule reads a JSON boolean
    deliver()
    (path, body), = receiver.received
    assert path.startswith("/taskflow/api/v4/nodes/callback/")
    assert body["sn"] == sn and body["current_status"] == "FINISHED"
    assert body["approve_result"] is is_passed
    assert plugin_schedule(body) == (is_passed, "通过" if is_passed else "拒绝")
    assert plugin_schedule(body, rejected_block=False)[0] is True

    info = itsm.get("get_ticket_info", username="cm", sn=sn)["data"]
    decided = {f["name"]: f["value"] for f in info["fields"] if f["name"] in ("审批意见", "备注")}
    assert decided["审批意见"] == str(is_passed).lower()


def test_bk_sops_approver_outside_the_list_is_refused_and_nothing_changes(live, demo):
    itsm = live.caller("bk_sops")
    sn = plugin_execute(itsm, "alice", "leader", "上线审批", "发布", "")
    result = node_transition(itsm, "bob", sn, True, "")
    assert result["result"] is False and result["message"].startswith("单据操作失败"), result
    status = itsm.get("get_ticket_status", username="leader", sn=sn)["data"]
    assert status["current_status"] == "RUNNING"
