"""Exact behaviour of the flow loader's helpers (`app/flowdef/loader.py`).

Written against mutation testing: the dumped data and YAML text compared whole, the JSON line
scanner's every line and duplicate, the locator's fallback lines, message clean-up and de-duplication.
"""
from __future__ import annotations

import json

import pytest
import yaml

from app.flowdef.loader import (FlowIssue, FlowLoadError, _dedupe, _json_line_map, _line_map, _Locator,
                                _pydantic_message, dump_flow, dump_flow_yaml, flow_from_json, load_flow_file,
                                parse_flow_text)

FLOW = {
    "key": "f", "name": "流程", "service_type": "request",
    "nodes": [
        {"key": "s", "name": "提单", "kind": "start", "fields": [{"key": "title", "name": "标题", "type": "STRING"}]},
        {"key": "ap", "name": "审批", "kind": "approval", "processors": {"type": "STARTER"}},
        {"key": "ap2", "name": "复审", "kind": "approval", "processors": {"type": "STARTER"},
         "fields": [{"key": "why", "name": "原因", "type": "TEXT"}]},
        {"key": "m", "name": "处理", "kind": "manual", "processors": {"type": "PERSON", "value": "alice"}},
        {"key": "e", "name": "结束", "kind": "end"},
    ],
    "transitions": [
        {"from": "s", "to": "ap"},
        {"from": "ap", "to": "ap2", "when": {"not": {"field": "ap_result", "value": "false"}}},
        {"from": "ap", "to": "e", "name": "驳回", "when": {"field": "ap_result", "value": "false"}},
        {"from": "ap2", "to": "m"},
        {"from": "m", "to": "e"},
    ],
}


def test_dump_flow_is_the_file_format_without_defaults_and_builtin_fields():
    flow = parse_flow_text(json.dumps(FLOW), "f.json").definition
    assert dump_flow(flow) == {
        "key": "f", "name": "流程", "service_type": "request",
        "nodes": [
            {"key": "s", "name": "提单", "kind": "start", "fields": [{"key": "title", "name": "标题", "type": "STRING"}]},
            {"key": "ap", "name": "审批", "kind": "approval", "processors": {"type": "STARTER"}},
            {"key": "ap2", "name": "复审", "kind": "approval", "processors": {"type": "STARTER"},
             "fields": [{"key": "why", "name": "原因", "type": "TEXT"}]},
            {"key": "m", "name": "处理", "kind": "manual", "processors": {"type": "PERSON", "value": ["alice"]}},
            {"key": "e", "name": "结束", "kind": "end"},
        ],
        "transitions": [
            {"from": "s", "to": "ap"},
            {"from": "ap", "to": "ap2", "when": {"not": {"field": "ap_result", "value": "false"}}},
            {"from": "ap", "to": "e", "name": "驳回", "when": {"field": "ap_result", "value": "false"}},
            {"from": "ap2", "to": "m"},
            {"from": "m", "to": "e"},
        ],
    }
    # the definition itself keeps the decision fields
    assert [f.key for f in flow.node("ap").fields] == ["ap_result", "ap_remark"]


def test_dump_flow_keeps_a_manual_nodes_fields_named_like_decision_fields():
    data = json.loads(json.dumps(FLOW))
    data["nodes"][3]["fields"] = [{"key": "ap_result", "name": "手工", "type": "STRING"}]
    data["nodes"][1]["fields"] = []
    flow = flow_from_json(data).definition
    dumped = dump_flow(flow)
    assert dumped["nodes"][3]["fields"] == [{"key": "ap_result", "name": "手工", "type": "STRING"}]
    assert "fields" not in dumped["nodes"][1]


def test_dump_flow_values_are_json_data():
    data = json.loads(json.dumps(FLOW))
    data["nodes"][3]["retry"] = {"times": 2}
    data["nodes"][3]["kind"] = "api"
    data["nodes"][3]["api"] = "cmdb.hosts"
    data["nodes"][3]["params"] = {"request": {"ids": [1, 2]}}
    dumped = dump_flow(flow_from_json(data).definition)
    assert dumped["nodes"][3]["retry"] == {"times": 2}
    assert dumped["nodes"][3]["params"] == {"request": {"ids": [1, 2]}}
    # tuples become lists (mode="json"), so the dump equals its own JSON round trip
    assert json.loads(json.dumps(dumped)) == dumped
    assert isinstance(dumped["nodes"], list) and isinstance(dumped["transitions"], list)


def test_dump_flow_yaml_text():
    flow = flow_from_json({
        "key": "y", "name": "中文名", "service_type": "change",
        "desc": "一段很长的说明 " + "word " * 30,
        "nodes": [{"key": "s", "name": "开始", "kind": "start"}, {"key": "e", "name": "结束", "kind": "end"}],
        "transitions": [{"from": "s", "to": "e"}],
    }).definition
    text = dump_flow_yaml(flow)
    desc = "一段很长的说明 " + "word " * 30
    assert text == (
        "key: y\n"
        "name: 中文名\n"
        "service_type: change\n"
        "desc: '一段很长的说明" + " word" * 18 + "\n  " + "word " * 12 + "'\n"
        "nodes:\n"
        "- key: s\n  name: 开始\n  kind: start\n"
        "- key: e\n  name: 结束\n  kind: end\n"
        "transitions:\n"
        "- from: s\n  to: e\n"
    )
    assert yaml.safe_load(text)["desc"] == desc


def test_dump_flow_yaml_keeps_the_document_order_and_reads_back():
    flow = parse_flow_text(json.dumps(FLOW), "f.json").definition
    text = dump_flow_yaml(flow)
    assert text.startswith("key: f\nname: 流程\nservice_type: request\nnodes:\n- key: s\n")
    assert "\\u" not in text
    assert parse_flow_text(text, "again.yaml").definition == flow


JSON_TEXT = (
    '{\n'
    '  "key": "f",\n'
    '  "nodes": [\n'
    '    {"key": "s",\n'
    '     "fields": []},\n'
    '\t{ "key" : "e" , "x": {} },\n'
    '    [1,\r\n'
    '     "a\\"b", {"q": null}]\n'
    '  ],\n'
    '  "key": "g",\n'
    '  "o": {"p": 1, "p": 2}\n'
    '}'
)


def test_json_line_map_names_the_line_of_every_key_and_item():
    lines, duplicates = _json_line_map(JSON_TEXT)
    assert lines == {
        (): 1, ("key",): 10, ("nodes",): 3,
        ("nodes", 0): 4, ("nodes", 0, "key"): 4, ("nodes", 0, "fields"): 5,
        ("nodes", 1): 6, ("nodes", 1, "key"): 6, ("nodes", 1, "x"): 6,
        ("nodes", 2): 7, ("nodes", 2, 0): 7, ("nodes", 2, 1): 8, ("nodes", 2, 2): 8, ("nodes", 2, 2, "q"): 8,
        ("o",): 11, ("o", "p"): 11,
    }
    assert duplicates == [(10, "key", "duplicate key 'key'"), (11, "o.p", "duplicate key 'p'")]


@pytest.mark.parametrize("text, lines", [
    ("{}", {(): 1}), ("[]", {(): 1}), ("\n\n 5", {(): 3}), ('"x"', {(): 1}),
    ("[\n1,\n2\n]", {(): 1, (0,): 2, (1,): 3}),
    ('{"a":\n\n[ ]}', {(): 1, ("a",): 1}),
    ('\n{"a": {\n"b": [\n{}\n]}}', {(): 2, ("a",): 2, ("a", "b"): 3, ("a", "b", 0): 4}),
])
def test_json_line_map_small_documents(text, lines):
    assert _json_line_map(text) == (lines, [])


def test_a_json_flow_with_tabs_reports_lines_from_the_json_scan():
    data = json.loads(json.dumps(FLOW))
    data["nodes"][1]["processors"] = {"type": "PERSON"}
    text = json.dumps(data, indent="\t", ensure_ascii=False)
    with pytest.raises(FlowLoadError) as exc:
        parse_flow_text(text, "f.json")
    line = text.splitlines().index('\t\t\t"processors": {') + 1
    assert [str(i) for i in exc.value.issues] == [
        f"f.json:{line}: nodes.1.processors: processor type PERSON needs a 'value'"]


def test_a_json_flow_with_tabs_and_a_duplicate_key():
    text = '{\n\t"key": "a",\n\t"name": "n",\n\t"key": "b"\n}'
    with pytest.raises(FlowLoadError) as exc:
        parse_flow_text(text, "f.json")
    assert [str(i) for i in exc.value.issues] == ["f.json:4: key: duplicate key 'key'"]


def test_line_map():
    root = yaml.compose("a: 1\nb:\n  - x\n  - c: 2\n")
    assert _line_map(root) == {(): 1, ("a",): 1, ("b",): 2, ("b", 0): 3, ("b", 1): 4, ("b", 1, "c"): 4}
    assert _line_map(None) == {}


def test_locator_issue_lines_and_paths():
    data = {"nodes": [{"key": "a", "fields": [{"key": "x"}]}], "name": "n"}
    lines = {(): 1, ("nodes",): 2, ("nodes", 0): 3, ("nodes", 0, "key"): 3, ("nodes", 0, "fields"): 4,
             ("name",): 9}
    loc = _Locator("f.yaml", data, lines)
    assert str(loc.issue(("name",), "m")) == "f.yaml:9: name: m"
    # a path deeper than the map falls back to the nearest line known
    assert str(loc.issue(("nodes", 0, "fields", 0, "key"), "m")) == "f.yaml:4: nodes.0.fields.0.key: m"
    # pydantic's tags and positions that are not in the document are dropped
    assert str(loc.issue(("nodes", 0, "function-after[x]", "key"), "m")) == "f.yaml:3: nodes.0.key: m"
    assert str(loc.issue(("nodes", 5, "key"), "m")) == "f.yaml:2: nodes: m"
    assert str(loc.issue(("nodes", 1, "key"), "m")) == "f.yaml:2: nodes: m"      # one past the last item
    assert str(loc.issue(("nodes", -1), "m")) == "f.yaml:2: nodes: m"
    assert str(loc.issue(("nodes", "0"), "m")) == "f.yaml:2: nodes: m"
    assert str(loc.issue(("name", "x"), "m")) == "f.yaml:9: name: m"
    assert str(loc.issue((), "m")) == "f.yaml:1: <root>: m"
    assert str(loc.issue(("nodes", 0), "m", missing="name")) == "f.yaml:3: nodes.0.name: m"
    assert str(loc.issue(("nodes", 0), "m", missing=0)) == "f.yaml:3: nodes.0.0: m"
    # a map without the root line: line 1
    assert str(_Locator("g", {"a": 1}, {}).issue(("a",), "m")) == "g:1: a: m"
    assert loc.issue(("name",), "m") == FlowIssue("f.yaml", 9, "name", "m")


def test_locator_pydantic_issue():
    loc = _Locator("f", {"nodes": [{"key": "a"}]}, {(): 1, ("nodes",): 2, ("nodes", 0): 3})
    missing = loc.pydantic_issue({"loc": ("nodes", 0, "name"), "type": "missing", "msg": "Field required"})
    assert str(missing) == "f:3: nodes.0.name: missing key 'name'"
    root_missing = loc.pydantic_issue({"loc": (), "type": "missing", "msg": "Field required"})
    assert str(root_missing) == "f:1: <root>: Field required"
    other = loc.pydantic_issue({"loc": ("nodes", 0, "key"), "type": "string_type", "msg": "Value error, bad"})
    assert str(other) == "f:3: nodes.0.key: bad"


@pytest.mark.parametrize("err, message", [
    ({"msg": "Value error, bad thing", "type": "value_error", "loc": ("a",)}, "bad thing"),
    ({"msg": "Assertion failed, not so", "type": "assertion_error", "loc": ("a",)}, "not so"),
    ({"msg": "Value error, Assertion failed, x", "type": "value_error", "loc": ("a",)}, "x"),
    ({"msg": "Field required", "type": "missing", "loc": ("a",)}, "Field required"),
    ({"msg": "xValue error, y", "type": "value_error", "loc": ("a",)}, "xValue error, y"),
    ({"msg": "Extra inputs are not permitted", "type": "extra_forbidden", "loc": ("nodes", 0, "colour")},
     "unknown key 'colour'"),
])
def test_pydantic_message(err, message):
    assert _pydantic_message(err) == message


def test_dedupe_keeps_the_first_of_each_line_path_and_message():
    a = FlowIssue("f", 1, "p", "m")
    issues = [a, FlowIssue("other", 1, "p", "m"), FlowIssue("f", 2, "p", "m"), FlowIssue("f", 1, "q", "m"),
              FlowIssue("f", 1, "p", "n"), a]
    assert _dedupe(issues) == [a, FlowIssue("f", 2, "p", "m"), FlowIssue("f", 1, "q", "m"), FlowIssue("f", 1, "p", "n")]
    assert _dedupe([]) == []


def test_flow_from_json_takes_text_or_data():
    text = json.dumps(FLOW)
    assert flow_from_json(text).definition == flow_from_json(json.loads(text)).definition
    assert flow_from_json(text).definition.node("m").processors.value == ("alice",)


def test_load_flow_file_reads_utf8_and_passes_the_checks(tmp_path):
    path = tmp_path / "f.yaml"
    data = json.loads(json.dumps(FLOW))
    data["nodes"][3]["processors"] = {"type": "GENERAL", "value": "ops"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_flow_file(str(path)).definition.name == "流程"
    with pytest.raises(FlowLoadError) as exc:
        load_flow_file(path, known_roles={"dba"})
    assert [i.message for i in exc.value.issues] == ["unknown role 'ops'"]
    assert exc.value.issues[0].file == str(path)


def test_dump_flow_yaml_wraps_at_100_columns():
    desc = "x" * 65 + " " + "y" * 29 + " z"
    flow = flow_from_json({"key": "w", "name": "w", "service_type": "change", "desc": desc,
                           "nodes": [{"key": "s", "name": "s", "kind": "start"}, {"key": "e", "name": "e", "kind": "end"}],
                           "transitions": [{"from": "s", "to": "e"}]}).definition
    # the line is 101 columns with " z": wrapped at 100, not at 101
    assert f"desc: {'x' * 65} {'y' * 29}\n  z\nnodes:" in dump_flow_yaml(flow)


def test_json_line_map_of_compact_json():
    text = '{"a":{},\n"b":[{},[],\n{"c":1,"d":[2,3]}],"e":{"f":{}},\n"g":"x"}'
    lines, duplicates = _json_line_map(text)
    assert lines == {(): 1, ("a",): 1, ("b",): 2, ("b", 0): 2, ("b", 1): 2, ("b", 2): 3, ("b", 2, "c"): 3,
                     ("b", 2, "d"): 3, ("b", 2, "d", 0): 3, ("b", 2, "d", 1): 3, ("e",): 3, ("e", "f"): 3,
                     ("g",): 4}
    assert duplicates == []
    lines, _ = _json_line_map('[1,\n{"k":\n2},\n[]\n,"z"]')
    assert lines == {(): 1, (0,): 1, (1,): 2, (1, "k"): 2, (2,): 4, (3,): 5}


def test_a_broken_document_has_no_path():
    with pytest.raises(FlowLoadError) as exc:
        parse_flow_text("key: [\n", "f.yaml")
    assert exc.value.issues[0].path == "" and exc.value.issues[0].line == 2
    with pytest.raises(FlowLoadError) as exc:
        parse_flow_text("- a\n", "f.yaml")
    assert exc.value.issues == [FlowIssue("f.yaml", 1, "", "a flow file must be a mapping with key, name, nodes, "
                                                            "transitions")]
