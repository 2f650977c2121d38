"""The approval node in the flow language: its decision fields, countersign options, the rules it is checked by.

Pure: no app, no database.
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from app.flowdef import FlowLoadError, dump_flow, dump_flow_yaml, flow_from_json, parse_flow_text  # noqa: E402

BASE = """\
key: demo
name: 演示
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING}
  - key: cab
    name: CAB 评审
    kind: approval
    processors: {type: PERSON, value: [cab1, cab2, cab3]}
    multi: true
    finish_condition: {agree: all}
    fields:
      - {key: risk_note, name: 风险说明, type: TEXT}
  - {key: end, name: 结束, kind: end}
  - {key: rejected, name: 审批不通过, kind: end, approve_result: false}
transitions:
  - {from: submit, to: cab}
  - {from: cab, to: end, name: 通过, when: {field: cab_result, value: "true"}}
  - {from: cab, to: rejected, name: 拒绝, when: {field: cab_result, value: "false"}}
"""


def issues(text: str) -> list[str]:
    with pytest.raises(FlowLoadError) as info:
        parse_flow_text(text, "demo.yaml")
    return [str(i) for i in info.value.issues]


def test_an_approval_node_has_the_decision_fields_before_its_own():
    node = parse_flow_text(BASE, "demo.yaml").node("cab")
    assert [(f.key, f.name, f.type, f.required) for f in node.fields] == [
        ("cab_result", "审批意见", "RADIO", True), ("cab_remark", "备注", "TEXT", False),
        ("risk_note", "风险说明", "TEXT", False)]
    assert [(c.key, c.name) for c in node.fields[0].choices] == [("true", "通过"), ("false", "拒绝")]


def test_transitions_may_read_the_approval_outcome():
    flow = parse_flow_text(BASE, "demo.yaml")
    assert flow.next_transition("cab", {"cab_result": "false"}).to == "rejected"
    assert flow.next_transition("cab", {"cab_result": "true"}).to == "end"


def test_an_approval_flow_round_trips_through_yaml_and_the_version_snapshot_without_its_builtin_fields():
    flow = parse_flow_text(BASE, "demo.yaml").definition
    data = dump_flow(flow)
    assert [f["key"] for f in data["nodes"][1]["fields"]] == ["risk_note"]
    assert flow_from_json(data).definition == flow
    assert parse_flow_text(dump_flow_yaml(flow), "again.yaml").definition == flow


@pytest.mark.parametrize("old, new, expected", [
    ("    processors: {type: PERSON, value: [cab1, cab2, cab3]}\n", "",
     "demo.yaml:10: nodes.1: an approval node needs 'processors' (the approvers)"),
    ("    multi: true\n", "",
     "demo.yaml:10: nodes.1: sequential and finish_condition need multi: true (a countersign)"),
    ("{agree: all}", "{agree: most}",
     "demo.yaml:15: nodes.1.finish_condition.agree: agree must be 'all', a number of approvers (>= 1)"
     " or a percentage such as '60%'"),
    ("{agree: all}", "{agree: 0}", "demo.yaml:15: nodes.1.finish_condition.agree: agree must be at least 1"),
    ("{key: risk_note, name: 风险说明, type: TEXT}", "{key: cab_result, name: 结果, type: TEXT}",
     "demo.yaml:10: nodes.1: field key 'cab_result' is reserved for the approval node's decision"),
    ("    multi: true\n", "    multi: true\n    distribute_type: CLAIM_THEN_PROCESS\n",
     "demo.yaml:10: nodes.1: an approval node is processed directly: distribute_type must be PROCESS"),
])
def test_broken_approval_nodes_are_reported_with_their_line(old, new, expected):
    text = BASE.replace(old, new, 1)
    assert text != BASE
    found = issues(text)
    assert any(i.startswith(expected) for i in found), found


def test_multi_on_a_manual_node_is_refused():
    text = BASE.replace("kind: approval", "kind: manual")
    assert "demo.yaml:10: nodes.1: multi, sequential and finish_condition belong to approval nodes only" \
        in issues(text)


VARIABLE = """\
key: demo
name: 演示
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING}
      - {key: approver, name: 审批人, type: MEMBER, required: true}
  - key: approve
    name: 审批
    kind: approval
    processors: {type: VARIABLE, value: [approver]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}
  - {from: approve, to: end}
"""


def test_a_variable_processor_reads_a_member_field_filled_before_the_node():
    assert parse_flow_text(VARIABLE, "demo.yaml").node("approve").processors.value == ("approver",)


@pytest.mark.parametrize("old, new, expected", [
    ("value: [approver]", "value: [aprover]",
     "demo.yaml:14: nodes.1.processors.value: VARIABLE field 'aprover' is not a field of this flow"),
    ("type: MEMBER,", "type: STRING,",
     "demo.yaml:14: nodes.1.processors.value: VARIABLE field 'approver' must be a MEMBER or MEMBERS field, not STRING"),
    ("{type: VARIABLE, value: [approver]}", "{type: VARIABLE}",
     "demo.yaml:14: nodes.1.processors: processor type VARIABLE needs a 'value'"),
])
def test_broken_variable_processors_are_reported(old, new, expected):
    assert expected in issues(VARIABLE.replace(old, new, 1))


def test_a_variable_field_filled_on_only_one_branch_is_refused():
    text = VARIABLE.replace("""  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}""", """  - key: pick
    name: 选审批人
    kind: manual
    processors: {type: STARTER}
    fields: [{key: second, name: 复核人, type: MEMBER}]
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}
  - {from: submit, to: pick, when: {field: title, value: x}}
  - {from: pick, to: approve}""").replace("value: [approver]", "value: [second]")
    assert any("VARIABLE field 'second' is not filled on every path before this node" in i for i in issues(text))


@pytest.mark.parametrize("old, new, expected", [
    ("{type: VARIABLE, value: [approver]}", "{type: STARTER_LEADER, value: [x]}",
     "demo.yaml:14: nodes.1.processors: processor type STARTER_LEADER takes no 'value'"),
    ("{type: VARIABLE, value: [approver]}", "{type: ASSIGN_LEADER, value: [submit]}",
     "demo.yaml:14: nodes.1.processors.value: ASSIGN_LEADER names a manual or approval node; 'submit' is not one"),
    ("{type: VARIABLE, value: [approver]}", "{type: ORGANIZATION}",
     "demo.yaml:14: nodes.1.processors: processor type ORGANIZATION needs a 'value'"),
])
def test_broken_leader_and_department_processors_are_reported(old, new, expected):
    assert expected in issues(VARIABLE.replace(old, new, 1))


def test_default_from_suggests_a_leader_on_member_fields_only_and_survives_the_round_trip():
    member = BASE.replace("{key: title, name: 标题, type: STRING}",
                          "{key: title, name: 标题, type: STRING}\n      - {key: approver, name: 审批人, type: MEMBER, "
                          "default_from: STARTER_LEADER}")
    flow = parse_flow_text(member, "demo.yaml").definition
    assert flow.start.fields[1].default_from == "STARTER_LEADER"
    assert "default_from: STARTER_LEADER" in dump_flow_yaml(flow)
    with pytest.raises(FlowLoadError) as info:
        parse_flow_text(BASE.replace("type: STRING}", "type: STRING, default_from: STARTER_LEADER}"), "demo.yaml")
    assert "demo.yaml:9" in str(info.value) and "'default_from' is for MEMBER or MEMBERS fields, not STRING" in str(info.value)
