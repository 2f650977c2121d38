"""bk-iam-saas (权限中心) application approvals, replayed from its source against a live server.

TencentBlueKing/bk-iam-saas:
- `saas/backend/component/itsm.py`: list_process (GET get_services, display_type=API, display_role=BK_IAM);
  get_process_nodes (GET get_service_roles); create_ticket (service_id, creator, meta {callback_url,
  state_processors}, fields title / application_type / organization / reason / content (a dict) each with a
  `meta.language`, `dynamic_fields`, `tag`, extra fields from kwargs); batch_query_ticket_result (POST
  ticket_approval_result); withdraw_ticket (POST operate_ticket WITHDRAW, operator = the applicant).
- `saas/backend/component/esb.py` (_call_esb_api): every call as `bk_username: "admin"` in
  X-Bkapi-Authorization (background tasks have no login).
- `saas/backend/plugins/approval_process/itsm.py` (ITSMApprovalProcessProvider): `get_default_process` looks for
  the services named 默认审批流程 / 用户组审批流程; `get_process_nodes`: processors_type IAM → the IAM role
  in `processors`, which must be one IAM supports.
- `saas/backend/plugins/application_ticket/itsm/itsm.py` (ITSMApplicationTicketProvider): node_processors for
  the IAM-sourced nodes only ({node id: "u1,u2"}); create_for_policy / create_for_group;
  `_convert_status`; `get_approval_ticket_from_callback_request` (ApprovalSLZ in `.../itsm/serializers.py`:
  sn, current_status among RUNNING/FINISHED/TERMINATED/SUSPENDED/REVOKED, approve_result boolean).
- `saas/backend/service/constants.py` (ProcessorNodeType, IAM_SUPPORT_PROCESSOR_TYPES) and
  `saas/backend/service/models/approval.py` (ApprovalProcess: id, name).
"""
from __future__ import annotations

import pytest

IAM_SUPPORT_PROCESSOR_TYPES = ["super_manager", "system_manager", "rating_manager", "instance_approver",
                               "instance_approver_merge"]
TICKET_STATUSES = ["RUNNING", "FINISHED", "TERMINATED", "SUSPENDED", "REVOKED"]
FORM_SCHEMES = {"content_table": {"type": "table", "attrs": {"column": [{"name": "操作", "type": "text"}]}}}


class Itsm:
    """backend.component.itsm over _call_esb_api (bk_username admin); returns `data` or raises."""

    def __init__(self, client):
        self.client = client

    def _call(self, method, name, data):
        body = (self.client.get if method == "GET" else self.client.post)(name, username="admin", **data)
        assert body["result"] and body["code"] == 0, body
        return body["data"]

    def list_process(self):
        return self._call("GET", "get_services", {"display_type": "API", "display_role": "BK_IAM"})

    def get_process_nodes(self, process_id, ticket_creator=""):
        params = {"service_id": process_id}
        if ticket_creator:
            params["ticket_creator"] = ticket_creator
        return self._call("GET", "get_service_roles", params)

    def create_ticket(self, process_id, creator, callback_url, node_processors, title, application_type_display,
                      organization_names, reason, content, tag="", dynamic_fields=None, **kwargs):
        data = {
            "service_id": process_id, "creator": creator,
            "meta": {"callback_url": callback_url, "state_processors": node_processors},
            "fields": [
                {"key": "title", "value": title, "meta": {"language": {"en": "title"}}},
                {"key": "application_type", "value": application_type_display,
                 "meta": {"language": {"en": "application type"}}},
                {"key": "organization", "value": organization_names, "meta": {"language": {"en": "organization"}}},
                {"key": "reason", "value": reason, "meta": {"language": {"en": "reason"}}},
                {"key": "content", "value": content, "meta": {"language": {"en": "content"}}},
            ],
        }
        if dynamic_fields:
            data["dynamic_fields"] = dynamic_fields
        if tag:
            data["tag"] = tag
        for k, v in kwargs.items():
            data["fields"].append({"key": k, "value": v})
        return self._call("POST", "create_ticket", data)

    def batch_query_ticket_result(self, sns):
        return self._call("POST", "ticket_approval_result", {"sn": sns})

    def withdraw_ticket(self, sn, operator):
        return self._call("POST", "operate_ticket", {"sn": sn, "operator": operator, "action_type": "WITHDRAW",
                                                     "action_message": "applicant withdraw ticket"})


def convert_status(ticket_status: str, approve_result: bool) -> str:
    """ITSMApplicationTicketProvider._convert_status."""
    if ticket_status == "FINISHED":
        return "pass" if approve_result else "reject"
    if ticket_status in ("TERMINATED", "REVOKED"):
        return "cancelled"
    return "pending"


class Iam:
    def __init__(self, itsm: Itsm, callback_url: str):
        self.itsm, self.callback_url = itsm, callback_url

    def get_default_process(self, name: str) -> dict:
        processes = [{"id": p["id"], "name": p["name"]} for p in self.itsm.list_process()]    # ApprovalProcess(**p)
        return next(p for p in processes if p["name"] == name)

    def get_process_nodes(self, process_id: int) -> list[dict]:
        nodes = []
        for node in self.itsm.get_process_nodes(process_id):
            source, kind = "OTHER", node["processors"]
            if node["processors_type"] == "IAM":
                source = "IAM"
                assert kind in IAM_SUPPORT_PROCESSOR_TYPES, f"ITSM_PROCESSOR_NOT_SUPPORT {node}"
            nodes.append({"id": node["id"], "name": node["name"], "processor_source": source, "processor_type": kind})
        return nodes

    def create(self, process_name: str, approvers: dict[str, list[str]], *, group: bool = False, tag: str = "") -> str:
        process = self.get_default_process(process_name)
        nodes = self.get_process_nodes(process["id"])
        node_processors = {n["id"]: ",".join(approvers[n["processor_type"]]) for n in nodes
                           if n["processor_source"] == "IAM"}
        params = {"process_id": process["id"], "creator": "alice", "callback_url": self.callback_url,
                  "node_processors": node_processors, "application_type_display": "申请加入用户组" if group
                  else "申请自定义权限", "organization_names": "总公司/销售部", "reason": "对账需要"}
        params["title"] = "申请加入 1 个用户组：(运维)DBA" if group else "申请配置平台2个操作权限"
        params["content"] = {"schemes": FORM_SCHEMES,
                             "form_data": [{"label": "配置平台", "scheme": "content_table",
                                            "value": [{"操作": "查看业务"}, {"操作": "编辑业务"}]}]}
        params["dynamic_fields"] = [
            {"name": "操作敏感等级", "type": "STRING", "value": "高", "meta": {"language": {"en": "action sensitivity level"}}},
            {"name": "权限获得者", "type": "STRING", "value": "alice", "meta": {"language": {"en": "recipient of permissions"}}},
        ]
        params["tag"] = tag or "bk_iam"
        return self.itsm.create_ticket(**params)["sn"]

    def list_by_sns(self, sns):
        return [{"sn": i["sn"], "url": i["ticket_url"], "status": convert_status(i["current_status"],
                                                                                i["approve_result"])}
                for i in self.itsm.batch_query_ticket_result(sns)]

    @staticmethod
    def from_callback(data: dict) -> dict:
        """get_approval_ticket_from_callback_request (ApprovalSLZ)."""
        assert isinstance(data["sn"], str) and data["current_status"] in TICKET_STATUSES, data
        assert isinstance(data["approve_result"], bool), data
        return {"sn": data["sn"], "status": convert_status(data["current_status"], data["approve_result"])}


@pytest.fixture
def iam(live, receiver):
    receiver.answer = {"result": True, "code": 0, "message": "OK", "data": {}}
    return Iam(Itsm(live.caller("bk_iam")), f"{receiver.base}/api/v1/application/approval/")


def _approve(live, sn: str, approver: str, result: str) -> None:
    itsm = live.caller("bk_iam", approver)
    step = itsm.get("get_ticket_status", sn=sn)["data"]["current_steps"][0]
    done = itsm.post("operate_node", sn=sn, operator=approver, state_id=step["state_id"], action_type="TRANSITION",
                     fields=[{"key": "approval_result", "value": result}])
    assert done["result"], done


def test_bk_iam_finds_its_builtin_processes_and_their_iam_nodes(iam):
    default = iam.get_default_process("默认审批流程")
    group = iam.get_default_process("用户组审批流程")
    assert [n["processor_type"] for n in iam.get_process_nodes(default["id"])] == ["super_manager"]
    nodes = iam.get_process_nodes(group["id"])
    assert [(n["name"], n["processor_source"], n["processor_type"]) for n in nodes] == \
        [("分级管理员审批", "IAM", "rating_manager")]
    assert {p["name"] for p in iam.itsm.list_process()} == {"默认审批流程", "用户组审批流程"}


@pytest.mark.parametrize("decision,status", [("true", "pass"), ("false", "reject")])
def test_bk_iam_policy_application_goes_to_the_approvers_it_names(iam, live, receiver, deliver, decision, status):
    sn = iam.create("默认审批流程", {"super_manager": ["leader", "cm"]})
    info = live.caller("bk_iam").get("get_ticket_info", sn=sn)["data"]
    step, = info["current_steps"]
    assert step["name"] == "超级管理员审批" and set(step["processors"].split(",")) == {"leader", "cm"}
    fields = {f["key"]: f for f in info["fields"]}
    assert fields["content"]["value"]["form_data"][0]["value"][1] == {"操作": "编辑业务"}    # the dict as sent
    assert "配置平台" in fields["content"]["display_value"]
    assert {f["name"]: f["value"] for f in info["fields"] if f["key"].startswith("dynamic_")} == \
        {"操作敏感等级": "高", "权限获得者": "alice"}
    assert iam.list_by_sns([sn]) == [{"sn": sn, "url": info["ticket_url"], "status": "pending"}]

    _approve(live, sn, "cm", decision)
    deliver()
    (path, body), = receiver.received
    assert path == "/api/v1/application/approval/"
    assert iam.from_callback(body) == {"sn": sn, "status": status}
    assert iam.list_by_sns([sn])[0]["status"] == status


def test_bk_iam_group_application_withdrawn_by_the_applicant_as_admin(iam, live, receiver, deliver):
    sn = iam.create("用户组审批流程", {"rating_manager": ["leader"]}, group=True, tag="bk_iam_group")
    iam.itsm.withdraw_ticket(sn, "alice")                 # authenticated as admin, operator = the applicant
    assert iam.list_by_sns([sn])[0]["status"] == "cancelled"
    deliver()
    assert iam.from_callback(receiver.bodies()[0]) == {"sn": sn, "status": "cancelled"}


def test_bk_iam_without_approvers_for_an_iam_node_is_refused(iam, live):
    process = iam.get_default_process("默认审批流程")
    body = live.caller("bk_iam").post("create_ticket", username="admin", service_id=process["id"], creator="alice",
                                      fields=[{"key": "title", "value": "x"}, {"key": "application_type", "value": "x"},
                                              {"key": "organization", "value": "x"}, {"key": "reason", "value": "x"},
                                              {"key": "content", "value": {"form_data": []}}])
    assert body["code"] == 3900003 and "meta.state_processors" in body["message"], body


def test_bk_iam_ticket_page_shows_the_application_to_its_approver(iam, live, browser):
    sn = iam.create("默认审批流程", {"super_manager": ["leader"]})
    info = live.caller("bk_iam").get("get_ticket_info", sn=sn)["data"]
    page = browser("leader").get(f"/tickets/{info['id']}")
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and "超级管理员审批" in text and "配置平台" in text


def test_get_tickets_filters_by_the_tag_a_ticket_was_created_with(iam, live):
    """Upstream's get_tickets takes `tag` (itsm/openapi/ticket/views.py): bk-iam's two kinds of tickets apart."""
    group = iam.create("用户组审批流程", {"rating_manager": ["leader"]}, group=True, tag="bk_iam_group")
    plain = iam.create("默认审批流程", {"super_manager": ["leader"]}, tag="bk_iam")
    api = live.caller("bk_iam")
    tagged = api.post("get_tickets", username="admin", tag="bk_iam_group")
    assert [t["sn"] for t in tagged["data"]["items"]] == [group], tagged
    assert [t["sn"] for t in api.post("get_tickets", username="admin", tag="bk_iam")["data"]["items"]] == [plain]
    both = api.post("get_tickets", username="admin")["data"]["items"]
    assert {group, plain} <= {t["sn"] for t in both}
    assert api.post("get_tickets", username="admin", tag="other")["data"]["count"] == 0
