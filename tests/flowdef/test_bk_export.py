"""BlueKing workflow exports ⇄ our flow language (app/flowdef/bk_export.py), on the real export files.

The files (tests/fixtures/bk_exports, origin in its README): blueking-dbm's itsm_dbm.json, blueking-paas's
plugins_create_approval.json, bk-itsm's own initials/workflow/bk_itsm_builtin_workflow.json.
"""
from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from app.flowdef import parse_flow_text
from app.flowdef.loader import FlowLoadError
from app.flowdef.bk_export import BkExportError, from_bk, from_bk_document, to_bk, to_bk_service

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "bk_exports"
FILES = ["itsm_dbm.json", "plugins_create_approval.json", "bk_itsm_builtin_workflow.json"]


def load(name: str):
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def compiled(translation):
    return parse_flow_text(json.dumps(translation.flow, ensure_ascii=False), "<bk>")


def workflows(name: str) -> list[dict]:
    data = load(name)
    return data if isinstance(data, list) else [data["workflow"]]


def structure(workflow: dict) -> dict:
    """What a BlueKing user sees of a workflow: states (type, name, processors), lines, the form fields."""
    states = workflow["states"].values()
    name = {str(s["id"]): s["name"] for s in states}
    fields = {str(f["id"]): f for f in workflow["fields"].values()}

    def own_fields(s):
        return sorted(fields[str(i)]["key"] for i in s["fields"]
                      if (fields[str(i)].get("meta") or {}).get("code") != "APPROVE_RESULT"
                      and fields[str(i)]["name"] != "备注" or s["type"] != "APPROVAL")

    return {
        "states": sorted((s["type"], s["name"], s["processors_type"] if s["type"] not in ("START", "END") else "",
                          tuple(own_fields(s)) if s["type"] != "APPROVAL" else ()) for s in states),
        "transitions": sorted((name[str(t["from_state"])], name[str(t["to_state"])], t["name"])
                              for t in workflow["transitions"].values()),
    }


@pytest.mark.parametrize("name", FILES)
def test_each_real_export_translates_into_a_valid_flow(name):
    for t in from_bk_document(load(name)):
        flow = compiled(t).definition
        kinds = [n.kind for n in flow.nodes]
        assert kinds[0] == "start" and "end" in kinds and "approval" in kinds
        assert all(isinstance(n, str) and ": " in n for n in t.notes)


def test_dbm_export_maps_service_type_fields_and_the_variable_approver():
    t = from_bk(load("itsm_dbm.json"))
    assert t.service == {"name": "BK-DBM", "desc": "bk-dbm审批单据", "service_type": "request", "display_type": "OPEN",
                         "display_role": "", "can_ticket_agency": False, "owners": "admin",
                         "project_key": "bk_dbm_dev"}
    flow = compiled(t).definition
    assert [f.key for f in flow.start.fields] == ["title", "bk_biz_id", "approver", "summary"]
    approval = next(n for n in flow.nodes if n.kind == "approval")
    assert approval.name == "审批" and approval.processors.type == "VARIABLE" and approval.processors.value == ("approver",)
    assert [f.name for f in approval.fields] == ["审批意见", "备注"]        # upstream's three became the built-ins
    assert flow.biz_related is True
    assert any("is_auto_approve" in n for n in t.notes)


def test_paas_export_reports_the_missing_variable_field_and_sms():
    t = from_bk(load("plugins_create_approval.json"))
    approval = next(n for n in compiled(t).definition.nodes if n.kind == "approval")
    assert approval.processors.value == ("approver",)
    assert any("'SHENPIREN'" in n and "left out" in n for n in t.notes)
    assert any("SMS" in n for n in t.notes)


def test_upstream_builtin_conditions_on_the_approval_result_become_our_result_field():
    general = from_bk_document(load("bk_itsm_builtin_workflow.json"))[0]
    flow = compiled(general)
    first = next(n for n in flow.definition.nodes if n.name == "负责人审批")
    assert flow.next_transition(first.key, {first.result_key: "true"}).name == "通过"
    assert flow.next_transition(first.key, {first.result_key: "false"}).to == \
        next(n.key for n in flow.definition.nodes if n.kind == "end")
    change = compiled(from_bk_document(load("bk_itsm_builtin_workflow.json"))[1])
    test_node = next(n for n in change.definition.nodes if n.name == "测试验证")
    assert change.next_transition(test_node.key, {"YANZHENGJIEGUO": "BUTONGGUO"}).name == "验证不通过"
    assert change.definition.field("impact").source.dictionary == "IMPACT"


@pytest.mark.parametrize("name", FILES)
def test_round_trip_export_of_an_import_keeps_the_structure(name):
    for original, t in zip(workflows(name), from_bk_document(load(name))):
        flow = compiled(t).definition
        exported, notes = to_bk(flow)
        assert structure(exported)["transitions"] == structure(original)["transitions"]
        ours = {(s[0], s[1]) for s in structure(exported)["states"]}
        assert ours == {(s[0], s[1]) for s in structure(original)["states"]}
        again = from_bk(json.loads(json.dumps(exported)))
        assert again.flow == t.flow                             # a fixed point: nothing drifts on the way back
        assert compiled(again).definition == flow


def test_export_of_a_service_is_what_import_service_takes():
    flow = compiled(from_bk(load("itsm_dbm.json"))).definition
    body, _ = to_bk_service(flow, name="BK-DBM")
    assert body["key"] == "request" and body["name"] == "BK-DBM"
    assert compiled(from_bk(body)).definition == flow


def test_conditions_with_any_not_and_contains_survive_the_round_trip():
    text = """
key: cond
name: 条件
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: risk, name: 风险, type: SELECT, choices: [{key: low, name: 低}, {key: high, name: 高}]}
      - {key: tags, name: 标签, type: MULTISELECT, choices: [{key: db, name: DB}, {key: net, name: 网络}]}
      - {key: size, name: 规模, type: INT}
  - {key: check, name: 审核, kind: approval, processors: {type: PERSON, value: [admin]}, multi: true,
     finish_condition: {agree: "60%"}}
  - {key: end, name: 结束, kind: end}
transitions:
  - from: submit
    to: check
    when: {any: [{field: risk, op: "==", value: high}, {all: [{field: tags, op: contains, value: [db]},
           {not: {field: size, op: "<", value: 10}}]}]}
  - {from: submit, to: end}
  - {from: check, to: end, when: {field: check_result, op: "==", value: "true"}}
  - {from: check, to: submit}
"""
    flow = parse_flow_text(text).definition
    exported, _ = to_bk(flow)
    back = compiled(from_bk(exported))
    for values in ({"risk": "high", "tags": [], "size": 1}, {"risk": "low", "tags": ["db"], "size": 20},
                   {"risk": "low", "tags": ["db"], "size": 5}, {"risk": "low", "tags": ["net"], "size": 50}):
        assert back.next_transition("submit", values).to == parse_flow_text(text).next_transition("submit", values).to
    node = back.definition.node("check")
    assert node.multi and node.finish_condition.agree == "60%"


def _dbm():
    return copy.deepcopy(load("itsm_dbm.json"))


@pytest.mark.parametrize("damage, expected", [
    (lambda d: d["workflow"].__setitem__("states", "nope"), "workflow.states: expected an object keyed by id"),
    (lambda d: d["workflow"]["states"]["1908"].__setitem__("type", "MAGIC"), "unknown state type 'MAGIC'"),
    (lambda d: d["workflow"]["states"]["1908"].__setitem__("processors_type", "EMPTY"),
     "workflow.states.1908: processors_type is EMPTY"),
    (lambda d: d["workflow"]["transitions"]["2015"].__setitem__("to_state", 4242), "unknown states '1908' → '4242'"),
    (lambda d: d["workflow"]["states"]["1905"].__setitem__("fields", [4126, 777]), "field id 777 is not in"),
    (lambda d: d["workflow"]["transitions"]["2015"].update(condition_type="by_field", condition={
        "type": "and", "expressions": [{"key": "ghost", "condition": "==", "value": 1}]}), "condition key 'ghost'"),
    (lambda d: d["workflow"]["transitions"]["2015"].update(condition_type="by_field", condition={
        "type": "and", "expressions": [{"key": "title", "condition": "~=", "value": 1}]}), "operator '~='"),
    (lambda d: d["workflow"].__setitem__("states", {}), "the workflow has no states"),
])
def test_broken_exports_are_refused_naming_where_and_what(damage, expected):
    data = _dbm()
    damage(data)
    with pytest.raises(BkExportError) as info:
        from_bk(data)
    assert any(expected in p for p in info.value.problems), info.value.problems


def test_a_router_p_without_branches_imports_but_the_flow_check_refuses_it_naming_the_gateway():
    """A gateway that opens one branch and never converges is not a flow we can run: refused, not run."""
    data = _dbm()
    data["workflow"]["states"]["1908"]["type"] = "ROUTER-P"
    translation = from_bk(data)
    assert [n["kind"] for n in translation.flow["nodes"]] == ["start", "parallel", "end"]
    with pytest.raises(FlowLoadError) as info:
        compiled(translation)
    assert "parallel gateway 'state_1908' needs at least two outgoing transitions" in str(info.value)


def test_a_document_that_is_not_an_export_is_refused():
    with pytest.raises(BkExportError, match="not a BlueKing workflow export"):
        from_bk_document({"key": "x", "nodes": []})


def test_router_p_and_coverage_become_parallel_and_converge_and_export_back():
    """bk-itsm's own test flow: 项目启动 → ROUTER-P → three branches → COVERAGE → 工作总结."""
    [t] = from_bk_document(load("bk_itsm_parallel_flow1.json"))
    flow = compiled(t).definition
    gateways = {n.kind: n for n in flow.nodes if n.kind in ("parallel", "converge")}
    assert gateways["parallel"].name == "并行网关" and gateways["converge"].name == "汇聚网关"
    names = {n.key: n.name for n in flow.nodes}
    fanned = sorted(names[tr.to] for tr in flow.transitions if tr.from_ == gateways["parallel"].key)
    joined = sorted(names[tr.from_] for tr in flow.transitions if tr.to == gateways["converge"].key)
    assert fanned == joined == ["产品设计工作", "前端开发工作", "后端开发工作"]
    back, _notes = to_bk(flow)
    assert sorted(s["type"] for s in back["states"].values()).count("ROUTER-P") == 1
    lines = [line for line in structure(back)["transitions"] if line[0] != "开始"]    # upstream's START → 提单
    assert lines == sorted((names[tr.from_], names[tr.to], tr.name) for tr in flow.transitions)
    again = compiled(from_bk(back)).definition
    assert [n.kind for n in again.nodes].count("parallel") == 1 and [n.kind for n in again.nodes].count("converge") == 1


def bscp_template() -> dict:
    """bk-bscp's create_shared_approve.json.tpl with its `[[ ]]` placeholders filled (as its v2.go does)."""
    text = (FIXTURES / "bscp_create_shared_approve.json.tpl").read_text(encoding="utf-8")
    return json.loads(text.replace("[[.BCSPGateway]]", "http://bscp.example.com").replace("[[.BkAppCode]]", "bk-bscp")
                      .replace("[[.BkAppSecret]]", "s3cret"))


def test_bscp_webhooks_become_http_webhook_nodes_with_upstream_variables_translated():
    flow = compiled(from_bk({"key": "request", "name": "创建上线审批", "workflow": bscp_template()})).definition
    passed = next(n for n in flow.nodes if n.name == "成功回调")
    assert (passed.kind, passed.plugin) == ("automation", "http_webhook")
    assert passed.params["url"] == ("http://bscp.example.com/api/v1/config/biz_id/{{ fields.BIZ_ID }}/app_id/"
                                    "{{ fields.APP_ID }}/release_id/{{ fields.RELEASE_ID }}/approve")
    assert passed.params["headers"] == {"X-Bkapi-Authorization": '{"bk_app_code": "bk-bscp", "bk_app_secret": "s3cret"}',
                                        "X-Bkapi-User-Name": "admin"}
    assert passed.params["body"] == {"title": "{{ ticket.title }}", "currentStatus": "{{ ticket.current_status }}",
                                     "sn": "{{ ticket.sn }}", "ticketUrl": "{{ ticket.url }}", "applyInCluster": True,
                                     "approveResult": True, "publish_status": "pending_publish"}
    assert passed.params["success"] == {"field": "data.code", "op": "==", "value": 0}
    assert passed.params["method"] == "POST" and passed.params["timeout"] == 10


def test_bscp_countersign_rejection_line_reads_the_nodes_reject_count():
    flow = compiled(from_bk({"key": "request", "name": "创建上线审批", "workflow": bscp_template()}))
    sign = next(n for n in flow.definition.nodes if n.name == "会签审批")
    assert sign.multi and sign.finish_condition is None            # REJECT_COUNT >= 1: the first rejection ends it
    keys = sign.approval_variables()
    assert flow.next_transition(sign.key, {sign.result_key: "false", keys["REJECT_COUNT"]: 1}).name == "审批驳回"
    assert flow.next_transition(sign.key, {sign.result_key: "true", keys["REJECT_COUNT"]: 0}).name == "审批通过"


def test_bscp_template_export_keeps_its_webhooks_and_imports_back_unchanged():
    original = bscp_template()
    t = from_bk({"key": "request", "name": "创建上线审批", "workflow": original})
    exported, notes = to_bk(compiled(t).definition)
    assert notes == ["notify.channels: log has no BlueKing equivalent; left out"]     # nothing about the webhooks
    assert structure(exported)["transitions"] == structure(original)["transitions"]
    hooks = [s for s in exported["states"].values() if s["type"] == "WEBHOOK"]
    assert sorted(s["name"] for s in hooks) == ["失败回调", "成功回调"]
    info = hooks[0]["extras"]["webhook_info"]
    assert "{{BIZ_ID}}" in info["url"] and info["success_exp"] == "resp.data.code==0"
    assert "{{ticket_sn}}" in info["body"]["content"]
    again = from_bk(json.loads(json.dumps(exported)))
    assert again.flow == {**t.flow, "key": again.flow["key"]}
