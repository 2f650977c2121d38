"""Every validation rule of the flow language, with the exact `file:line: path: message` it reports.

Pure: no app, no database. Each test starts from BASE (a valid flow), breaks
one thing, and checks what an admin would read in the CLI.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # run without an installed package or a pytest pythonpath
    sys.path.insert(0, str(ROOT))

from app.flowdef import FlowLoadError, load_flow_file, parse_flow_text  # noqa: E402

# Line numbers matter: every expected message below points into this text.
BASE = """\
key: demo
name: 演示
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING}
  - key: approve
    name: 审批
    kind: manual
    processors: {type: GENERAL, value: [leaders]}
    fields:
      - key: result
        name: 结果
        type: RADIO
        choices: [{key: agree, name: 同意}, {key: reject, name: 拒绝}]
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve}
  - {from: approve, to: end}
"""
#  line  1 key            line 10 - key: approve       line 19 - {key: end ...}
#  line  4 nodes          line 13 processors           line 20 transitions
#  line  5 - key: submit  line 15 - key: result        line 21 submit -> approve
#  line  9 title field    line 18 choices              line 22 approve -> end


def variant(*pairs: str) -> str:
    """BASE with each (old, new) replacement applied exactly once."""
    text = BASE
    for old, new in zip(pairs[::2], pairs[1::2]):
        assert text.count(old) == 1, f"{old!r} must occur once in BASE"
        text = text.replace(old, new)
    return text


def issues(text: str, **kw) -> list[str]:
    """The issue lines the loader reports for `text` (it must fail)."""
    with pytest.raises(FlowLoadError) as exc:
        parse_flow_text(text, "demo.yaml", **kw)
    return [str(i) for i in exc.value.issues]


def test_base_flow_is_valid():
    flow = parse_flow_text(BASE, "demo.yaml", known_roles={"leaders"}, known_dictionaries=set())
    assert [n.key for n in flow.definition.nodes] == ["submit", "approve", "end"]


def test_error_str_joins_all_issues_one_per_line():
    with pytest.raises(FlowLoadError) as exc:
        parse_flow_text(variant("kind: manual", "kind: manul", "service_type: request", "service_type: x"),
                        "demo.yaml")
    assert str(exc.value).splitlines() == [str(i) for i in exc.value.issues]
    assert [(i.line, i.path) for i in exc.value.issues] == [(3, "service_type"), (12, "nodes.1.kind")]


def test_load_flow_file_names_the_file(tmp_path):
    path = tmp_path / "broken.yaml"
    path.write_text(variant("kind: manual", "kind: manul"), encoding="utf-8")
    with pytest.raises(FlowLoadError) as exc:
        load_flow_file(path)
    assert str(exc.value.issues[0]).startswith(f"{path}:12: nodes.1.kind: ")


# --- schema rules -----------------------------------------------------------

def test_unknown_node_kind():
    assert issues(variant("kind: manual", "kind: manul")) == [
        "demo.yaml:12: nodes.1.kind: unknown node kind 'manul'; allowed: start, manual, approval, sign, api, automation, parallel, converge, end"]


def test_unknown_field_type():
    assert issues(variant("type: STRING", "type: STRNG")) == [
        "demo.yaml:9: nodes.0.fields.0.type: unknown field type 'STRNG'; allowed: STRING, TEXT, INT, DATE, "
        "DATETIME, DATETIMERANGE, TABLE, SELECT, MULTISELECT, CHECKBOX, RADIO, MEMBER, MEMBERS, RICHTEXT, "
        "FILE, CUSTOMTABLE, TREESELECT, CASCADE, LINK, CUSTOM-FORM"]


def test_unknown_key_in_a_node_is_a_typo():
    assert issues(variant("    processors:", "    procesors: x\n    processors:")) == [
        "demo.yaml:13: nodes.1.procesors: unknown key 'procesors'"]


def test_unknown_service_type():
    assert issues(variant("service_type: request", "service_type: incidents")) == [
        "demo.yaml:3: service_type: unknown service_type 'incidents'; allowed: request, change, "
        "event (incident), question (problem)"]


def test_service_type_aliases_are_stored_as_upstream_keys():
    flow = parse_flow_text(variant("service_type: request", "service_type: incident"), "demo.yaml")
    assert flow.definition.service_type == "event"


def test_node_key_must_be_an_identifier():
    assert issues(variant("key: approve\n", "key: 2approve\n")) == [
        "demo.yaml:10: nodes.1.key: String should match pattern '^[A-Za-z_][A-Za-z0-9_]*$'"]


def test_unknown_distribute_type():
    assert issues(variant("    processors: {type: GENERAL",
                          "    distribute_type: CLAIM\n    processors: {type: GENERAL")) == [
        "demo.yaml:13: nodes.1.distribute_type: Input should be 'PROCESS', 'CLAIM_THEN_PROCESS', "
        "'DISTRIBUTE_THEN_PROCESS' or 'DISTRIBUTE_THEN_CLAIM'"]


def test_unknown_processor_type():
    assert issues(variant("{type: GENERAL, value: [leaders]}", "{type: ROLE, value: [bob]}")) == [
        "demo.yaml:13: nodes.1.processors.type: Input should be 'PERSON', 'GENERAL', 'CMDB', 'STARTER', "
        "'BY_ASSIGNOR', 'OPEN', 'VARIABLE', 'STARTER_LEADER', 'ASSIGN_LEADER', 'ORGANIZATION' or 'IAM'"]


def test_iam_processors_name_one_iam_role():
    assert issues(variant("{type: GENERAL, value: [leaders]}", "{type: IAM, value: [boss]}")) == [
        "demo.yaml:13: nodes.1.processors: processor type IAM takes one IAM role: super_manager, "
        "system_manager, rating_manager, instance_approver"]


def test_person_processors_need_a_value():
    assert issues(variant("{type: GENERAL, value: [leaders]}", "{type: PERSON}")) == [
        "demo.yaml:13: nodes.1.processors: processor type PERSON needs a 'value'"]


def test_starter_processors_take_no_value():
    assert issues(variant("{type: GENERAL, value: [leaders]}", "{type: STARTER, value: [bob]}")) == [
        "demo.yaml:13: nodes.1.processors: processor type STARTER takes no 'value'"]


def test_manual_node_needs_processors():
    assert issues(variant("    processors: {type: GENERAL, value: [leaders]}\n", "")) == [
        "demo.yaml:10: nodes.1: a manual node needs 'processors'"]


def test_open_processors_on_a_manual_node():
    assert issues(variant("{type: GENERAL, value: [leaders]}", "{type: OPEN}")) == [
        "demo.yaml:13: nodes.1.processors: processors OPEN is allowed on the start node only"]


def test_open_processors_on_the_start_node_are_allowed():
    flow = parse_flow_text(variant("    kind: start\n", "    kind: start\n    processors: {type: OPEN}\n"), "demo.yaml")
    assert flow.start.effective_processors.type == "OPEN"


def test_by_assignor_without_a_distribute_mode():
    assert issues(variant("{type: GENERAL, value: [leaders]}", "{type: BY_ASSIGNOR}")) == [
        "demo.yaml:13: nodes.1.processors: processors BY_ASSIGNOR needs distribute_type DISTRIBUTE_THEN_PROCESS "
        "or DISTRIBUTE_THEN_CLAIM"]


def test_distribute_mode_needs_assignors():
    assert issues(variant("    processors: {type: GENERAL, value: [leaders]}\n",
                          "    distribute_type: DISTRIBUTE_THEN_PROCESS\n    processors: {type: BY_ASSIGNOR}\n")) == [
        "demo.yaml:10: nodes.1: DISTRIBUTE_THEN_PROCESS needs 'assignors' (who dispatches)"]


def test_assignors_cannot_be_open():
    assert issues(variant("    processors: {type: GENERAL, value: [leaders]}\n",
                          "    distribute_type: DISTRIBUTE_THEN_CLAIM\n    assignors: {type: OPEN}\n"
                          "    processors: {type: BY_ASSIGNOR}\n")) == [
        "demo.yaml:14: nodes.1.assignors.type: assignors cannot be OPEN"]


def test_choice_field_needs_choices_or_source():
    assert issues(variant("        choices: [{key: agree, name: 同意}, {key: reject, name: 拒绝}]\n", "")) == [
        "demo.yaml:15: nodes.1.fields.0: a RADIO field needs 'choices' or a 'source'"]


def test_choices_and_source_together():
    assert issues(variant("        choices: [{key: agree, name: 同意}, {key: reject, name: 拒绝}]\n",
                          "        choices: [{key: agree, name: 同意}]\n        source: {dictionary: RESULTS}\n")) == [
        "demo.yaml:15: nodes.1.fields.0: give either 'choices' or 'source', not both"]


def test_source_names_exactly_one_origin():
    assert issues(variant("        choices: [{key: agree, name: 同意}, {key: reject, name: 拒绝}]\n",
                          "        source: {dictionary: RESULTS, api: results}\n")) == [
        "demo.yaml:18: nodes.1.fields.0.source: give exactly one of 'dictionary' or 'api'"]


def test_table_field_needs_columns():
    assert issues(variant("{key: title, name: 标题, type: STRING}", "{key: hosts, name: 主机, type: CUSTOMTABLE}")) == [
        "demo.yaml:9: nodes.0.fields.0: a CUSTOMTABLE field needs 'columns'"]


def test_regex_must_compile():
    assert issues(variant("type: STRING}", "type: STRING, regex: '[a-'}")) == [
        "demo.yaml:9: nodes.0.fields.0.regex: regex does not compile: unterminated character set at position 0"]


def test_end_node_has_no_fields():
    assert issues(variant("{key: end, name: 结束, kind: end}",
                          "{key: end, name: 结束, kind: end, fields: [{key: x, name: x, type: STRING}]}")) == [
        "demo.yaml:19: nodes.2: an end node has no fields"]


def test_api_node_needs_api():
    assert issues(variant("kind: manual\n    processors: {type: GENERAL, value: [leaders]}", "kind: api")) == [
        "demo.yaml:10: nodes.1: an api node needs 'api' (the configured API's key)"]


def test_automation_node_needs_plugin():
    assert issues(variant("kind: manual\n    processors: {type: GENERAL, value: [leaders]}", "kind: automation")) == [
        "demo.yaml:10: nodes.1: an automation node needs 'plugin'"]


def test_unknown_notify_channel():
    assert issues(variant("service_type: request\n", "service_type: request\nnotify: {channels: [sms]}\n")) == [
        "demo.yaml:4: notify.channels.0: Input should be 'email', 'webhook', 'wecom' or 'log'"]


def test_unknown_condition_operator_is_reported_on_op():
    found = issues(variant("{from: approve, to: end}",
                           "{from: approve, to: end, when: {field: result, op: '=', value: agree}}"))
    assert found[0] == ("demo.yaml:22: transitions.1.when.op: Input should be '==', '!=', '>', '>=', '<', '<=', "
                        "'in', 'notin' or 'contains'")


def test_a_flow_needs_two_nodes_and_a_transition():
    text = "key: x\nname: x\nservice_type: request\nnodes:\n  - {key: s, name: s, kind: start}\ntransitions: []\n"
    assert issues(text) == [
        "demo.yaml:4: nodes: Tuple should have at least 2 items after validation, not 1",
        "demo.yaml:6: transitions: Tuple should have at least 1 item after validation, not 0"]


def test_document_must_be_a_mapping():
    assert issues("- a\n- b\n") == [
        "demo.yaml:1: <root>: a flow file must be a mapping with key, name, nodes, transitions"]


def test_broken_yaml_syntax_names_its_line():
    assert issues(variant("value: [leaders]}", "value: [leaders}")) == [
        "demo.yaml:13: <root>: not valid YAML/JSON: expected ',' or ']', but got '}'"]


def test_broken_yaml_indentation_names_its_line():
    assert issues(variant("    name: 审批\n", "     name: 审批\n")) == [
        "demo.yaml:11: <root>: not valid YAML/JSON: mapping values are not allowed here"]


# --- graph and reference rules ----------------------------------------------

def test_transition_to_unknown_node():
    assert issues(variant("{from: approve, to: end}", "{from: approve, to: finish}")) == [
        "demo.yaml:22: transitions.1.to: transition to unknown node 'finish'"]


def test_transition_from_unknown_node():
    assert issues(variant("{from: approve, to: end}", "{from: aprove, to: end}")) == [
        "demo.yaml:22: transitions.1.from: transition from unknown node 'aprove'"]


def test_unreachable_node():
    assert issues(variant("{from: submit, to: approve}", "{from: submit, to: end}")) == [
        "demo.yaml:10: nodes.1: node 'approve' is unreachable from the start node"]


def test_no_path_to_an_end():
    text = variant(
        "  - {key: end, name: 结束, kind: end}\n",
        "  - key: stuck\n    name: 卡住\n    kind: manual\n    processors: {type: STARTER}\n"
        "  - {key: end, name: 结束, kind: end}\n",
        "  - {from: approve, to: end}\n",
        "  - {from: approve, to: end, when: {field: result, op: '==', value: agree}}\n"
        "  - {from: approve, to: stuck}\n")
    assert issues(text) == ["demo.yaml:19: nodes.2: no path from node 'stuck' to an end node"]


def test_exactly_one_start_node():
    assert issues(variant("kind: start", "kind: manual\n    processors: {type: STARTER}")) == [
        "demo.yaml:4: nodes: a flow needs exactly one start node, found 0"]
    assert issues(variant("kind: manual\n    processors: {type: GENERAL, value: [leaders]}", "kind: start")) == [
        "demo.yaml:4: nodes: a flow needs exactly one start node, found 2"]


def test_at_least_one_end_node():
    assert issues(variant("{key: end, name: 结束, kind: end}",
                          "{key: end, name: 结束, kind: manual, processors: {type: STARTER}}")) == [
        "demo.yaml:4: nodes: a flow needs at least one end node"]


def test_end_node_has_no_outgoing_transitions():
    assert issues(BASE + "  - {from: end, to: submit}\n") == [
        "demo.yaml:23: transitions.2.from: an end node ('end') has no outgoing transitions"]


def test_duplicate_node_key():
    text = variant("  - {key: end, name: 结束, kind: end}\n",
                   "  - {key: end, name: 结束, kind: end}\n  - {key: end, name: 完成, kind: end}\n")
    assert issues(text) == ["demo.yaml:20: nodes.3.key: duplicate node key 'end'"]


def test_duplicate_field_key():
    assert issues(variant("      - key: result\n", "      - key: title\n")) == [
        "demo.yaml:15: nodes.1.fields.0.key: duplicate field key 'title' (already on node 'submit')"]


def test_two_default_transitions():
    assert issues(BASE + "  - {from: approve, to: submit}\n") == [
        "demo.yaml:23: transitions.2: node 'approve' has more than one transition without 'when'"]


def test_cmdb_role_in_a_flow_that_is_not_business_related():
    assert issues(variant("{type: GENERAL, value: [leaders]}", "{type: CMDB, value: [biz_ops]}")) == [
        "demo.yaml:13: nodes.1.processors.type: CMDB business roles are allowed only in a flow with biz_related: true"]


def test_cmdb_role_in_a_business_related_flow_is_allowed():
    text = variant("service_type: request\n", "service_type: request\nbiz_related: true\n",
                   "{type: GENERAL, value: [leaders]}", "{type: CMDB, value: [biz_ops]}")
    assert parse_flow_text(text, "demo.yaml").node("approve").processors.type == "CMDB"


def test_unknown_role_when_known_roles_given():
    assert issues(BASE, known_roles={"it_ops"}) == ["demo.yaml:13: nodes.1.processors.value: unknown role 'leaders'"]


def test_unknown_dictionary_when_known_dictionaries_given():
    text = variant("{key: title, name: 标题, type: STRING}",
                   "{key: level, name: 级别, type: SELECT, source: {dictionary: LEVELS}}")
    assert issues(text, known_dictionaries={"IMPACT"}) == [
        "demo.yaml:9: nodes.0.fields.0.source.dictionary: unknown data dictionary 'LEVELS'"]
    assert parse_flow_text(text, "demo.yaml")  # not checked when the caller gives no dictionaries


def test_condition_on_an_unknown_field():
    text = variant("{from: approve, to: end}",
                   "{from: approve, to: end, when: {field: reslt, op: '==', value: agree}}") \
        + "  - {from: approve, to: submit}\n"
    assert issues(text) == ["demo.yaml:22: transitions.1.when: condition field 'reslt' is not a field of this flow"]


BRANCHES = """\
key: branch
name: 分支
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: urgent, name: 紧急, type: CHECKBOX}
  - key: fast
    name: 快速审批
    kind: manual
    processors: {type: GENERAL, value: [leaders]}
    fields:
      - {key: risk, name: 风险, type: INT}
  - key: slow
    name: 常规审批
    kind: manual
    processors: {type: GENERAL, value: [leaders]}
  - key: check
    name: 复核
    kind: manual
    processors: {type: STARTER}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: fast, when: {field: urgent, op: "==", value: true}}
  - {from: submit, to: slow}
  - {from: fast, to: check}
  - {from: slow, to: check}
  - {from: check, to: end, when: {field: risk, op: ">", value: 3}}
  - {from: check, to: end}
"""


def test_condition_on_a_field_defined_on_one_branch_only():
    assert issues(BRANCHES) == [
        "demo.yaml:30: transitions.4.when: condition field 'risk' is not defined on every path before this transition"]


def test_condition_on_a_field_defined_on_every_branch_is_allowed():
    text = BRANCHES.replace("    processors: {type: GENERAL, value: [leaders]}\n  - key: check",
                            "    processors: {type: GENERAL, value: [leaders]}\n"
                            "    fields:\n      - {key: risk2, name: 风险, type: INT}\n  - key: check")
    text = text.replace('{field: risk, op: ">", value: 3}',
                        '{any: [{field: urgent, op: "==", value: true}, {not: {field: title, op: "==", value: x}}]}')
    assert issues(text) == [
        "demo.yaml:32: transitions.4.when: condition field 'title' is not a field of this flow"]
    ok = text.replace('{field: title, op: "==", value: x}', '{field: urgent, op: "==", value: false}')
    assert parse_flow_text(ok, "demo.yaml").next_transition("check", {"urgent": False}).to == "end"


def test_hide_when_on_a_field_of_a_later_node():
    text = variant("type: STRING}", "type: STRING, hide_when: {field: result, op: '==', value: agree}}")
    assert issues(text) == [
        "demo.yaml:9: nodes.0.fields.0.hide_when: hide_when field 'result' is not defined on this node "
        "or every path before it"]


def test_hide_when_on_an_unknown_field():
    text = variant("type: STRING}", "type: STRING, hide_when: {field: titel, op: '==', value: ''}}")
    assert issues(text) == [
        "demo.yaml:9: nodes.0.fields.0.hide_when: hide_when field 'titel' is not a field of this flow"]


def test_hide_when_on_a_field_of_the_same_node_is_allowed():
    text = variant("      - {key: title, name: 标题, type: STRING}\n",
                   "      - {key: title, name: 标题, type: STRING}\n"
                   "      - {key: why, name: 原因, type: TEXT, hide_when: {field: title, op: '==', value: ''}}\n")
    flow = parse_flow_text(text, "demo.yaml")
    assert flow.is_hidden("why", {"title": ""}) and not flow.is_hidden("why", {"title": "x"})


# --- formerly known gaps of the loader -----------------------------------------

def test_duplicate_yaml_key_is_reported():
    assert issues(variant("    name: 审批\n", "    name: 审批\n    name: 审批2\n")) == [
        "demo.yaml:12: nodes.1.name: duplicate key 'name'"]


def test_missing_required_key_is_named():
    assert issues(variant("    name: 审批\n", "")) == ["demo.yaml:10: nodes.1.name: missing key 'name'"]


def test_unknown_condition_operator_is_reported_once():
    assert len(issues(variant("{from: approve, to: end}",
                              "{from: approve, to: end, when: {field: result, op: '=', value: agree}}"))) == 1


def test_two_broken_nodes_report_only_their_own_errors():
    assert [i.split(": ")[1] for i in issues(variant("kind: manual", "kind: manul", "type: STRING", "type: STRNG"))] \
        == ["nodes.0.fields.0.type", "nodes.1.kind"]


def test_missing_key_of_a_transition_and_of_a_condition_is_named():
    assert issues(variant("{from: approve, to: end}", "{to: end}")) == [
        "demo.yaml:22: transitions.1.from: missing key 'from'"]
    assert issues(variant("{from: approve, to: end}", "{from: approve, to: end, when: {op: '==', value: agree}}")) == [
        "demo.yaml:22: transitions.1.when.field: missing key 'field'"]


def test_bad_operator_inside_nested_conditions_is_reported_once():
    assert issues(variant("{from: approve, to: end}",
                          "{from: approve, to: end, when: {not: {all: [{field: result, op: '=', value: agree}]}}}")) == [
        "demo.yaml:22: transitions.1.when.not.all.0.op: Input should be '==', '!=', '>', '>=', '<', '<=', "
        "'in', 'notin' or 'contains'"]


def test_duplicate_key_in_a_flow_mapping():
    assert issues(variant("{key: end, name: 结束, kind: end}", "{key: end, name: 结束, kind: end, kind: manual}")) == [
        "demo.yaml:19: nodes.2.kind: duplicate key 'kind'"]


def test_too_few_valid_items_is_still_reported():
    text = "key: x\nname: x\nservice_type: request\nnodes:\n  - {key: s, name: s, kind: strt}\n" \
           "transitions: [{from: s, to: s}]\n"
    assert issues(text) == [
        "demo.yaml:5: nodes.0.kind: unknown node kind 'strt'; allowed: start, manual, approval, sign, api, automation, parallel, converge, end"]
    assert issues(text.replace("kind: strt", "kind: start")) == [
        "demo.yaml:4: nodes: Tuple should have at least 2 items after validation, not 1"]


# --- JSON flow files ----------------------------------------------------------

def tab_json(data: dict) -> str:
    return json.dumps(data, indent="\t", ensure_ascii=False)


def json_line(text: str, needle: str) -> int:
    """The 1-based line of the one line of `text` that contains `needle`."""
    found = [n for n, line in enumerate(text.splitlines(), 1) if needle in line]
    assert len(found) == 1, needle
    return found[0]


def test_tab_indented_json_loads(tmp_path):
    text = tab_json(yaml.safe_load(BASE))
    with pytest.raises(yaml.YAMLError):  # the reason for the JSON fallback: tabs are not YAML indentation
        yaml.safe_load(text)
    path = tmp_path / "demo.json"
    path.write_text(text, encoding="utf-8")
    flow = load_flow_file(path)
    assert [n.key for n in flow.definition.nodes] == ["submit", "approve", "end"]
    assert flow.definition == parse_flow_text(BASE, "demo.yaml").definition


def test_tab_indented_json_errors_name_their_lines():
    data = yaml.safe_load(BASE)
    data["nodes"][1]["kind"] = "manul"
    del data["nodes"][2]["name"]
    data["transitions"][1]["when"] = {"all": [{"field": "result", "op": "=", "value": "agree"}]}
    text = tab_json(data)
    end_node = json_line(text, '"key": "end"') - 1          # the `{` that opens nodes.2
    op_line = json_line(text, '"op"')
    assert issues(text) == [
        f"demo.yaml:{json_line(text, 'manul')}: nodes.1.kind: unknown node kind 'manul'; "
        "allowed: start, manual, approval, sign, api, automation, parallel, converge, end",
        f"demo.yaml:{end_node}: nodes.2.name: missing key 'name'",
        f"demo.yaml:{op_line}: transitions.1.when.all.0.op: Input should be '==', '!=', '>', "
        "'>=', '<', '<=', 'in', 'notin' or 'contains'"]


def test_tab_indented_json_duplicate_key_and_syntax_error():
    text = tab_json(yaml.safe_load(BASE)).replace('"kind": "manual",', '"kind": "manual",\n\t\t\t"kind": "api",')
    assert issues(text) == [f"demo.yaml:{json_line(text, 'api')}: nodes.1.kind: duplicate key 'kind'"]
    text = tab_json(yaml.safe_load(BASE)).replace('"kind": "manual"', '"kind" "manual"')
    assert issues(text) == [f"demo.yaml:{json_line(text, 'manual')}: <root>: not valid YAML/JSON: "
                            "Expecting ':' delimiter"]
