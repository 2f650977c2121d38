"""Exact behaviour of the BlueKing export translation's helpers (`app/flowdef/bk_export.py`).

Written against mutation testing: the document sniffing, id sections, key slugs, condition
normal form and leaves are pinned to exact values and exact messages.
"""
from __future__ import annotations

import hashlib

import pytest

from app.flowdef import bk_export as bk
from app.flowdef.model import AllOf, AnyOf, Compare, FlowDef, NotOf

WF = {"states": {}, "transitions": {}}


@pytest.mark.parametrize("data, expected", [
    (WF, True), ({"states": 1}, False), ({"transitions": 1}, False), ([WF], True), ([WF, WF], True),
    ([], False), ([WF, 1], False), ([1], False), ([{"x": 1}], False), ("text", False), (None, False),
    ({"workflow": {"states": {}}}, True), ({"workflow": [{"states": {}}]}, True), ({"workflow": []}, False),
    ({"workflow": [1]}, False), ({"workflow": {"transitions": {}}}, False), ({"workflow": "x"}, False),
    ([{"workflow": {"states": {}}}], True),
])
def test_is_bk_export(data, expected):
    assert bk.is_bk_export(data) is expected


def test_parse_bk_text():
    assert bk.parse_bk_text('{"a": [1]}') == {"a": [1]}
    with pytest.raises(bk.BkExportError) as exc:
        bk.parse_bk_text('{"a": ')
    assert exc.value.problems == ["not valid JSON: Expecting value: line 1 column 7 (char 6)"]
    assert str(exc.value) == "not valid JSON: Expecting value: line 1 column 7 (char 6)"
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_bk_export_error_joins_its_problems():
    err = bk.BkExportError(["a: one", "b: two"])
    assert err.problems == ["a: one", "b: two"] and str(err) == "a: one\nb: two"
    assert isinstance(err, ValueError)


@pytest.mark.parametrize("data", [{"x": 1}, [], "text", None, 5])
def test_from_bk_document_refuses_what_is_not_an_export(data):
    with pytest.raises(bk.BkExportError) as exc:
        bk.from_bk_document(data)
    assert exc.value.problems == ["not a BlueKing workflow export: expected a workflow with 'states' and "
                                  "'transitions', a list of them, or a service with 'workflow'"]


def test_from_bk_document_reports_every_broken_workflow_of_a_list():
    with pytest.raises(bk.BkExportError) as exc:
        bk.from_bk_document([{"states": 5, "transitions": {}}, {"states": {}, "transitions": "x"}])
    assert exc.value.problems[0].startswith("[0]")
    assert any(p.startswith("[1]") for p in exc.value.problems)
    assert "[0]states: expected an object keyed by id (or a list), got int" in exc.value.problems
    assert "[1]transitions: expected an object keyed by id (or a list), got str" in exc.value.problems


@pytest.mark.parametrize("value, text", [(None, ""), (0, "0"), ("", ""), ("a", "a"), (False, "False"), ([1], "[1]")])
def test_text(value, text):
    assert bk._text(value) == text


@pytest.mark.parametrize("value, parts", [
    (None, []), ("", []), ("a", ["a"]), (" a , b ,, c ", ["a", "b", "c"]), (",", []), (["a", " b ", "", " "], ["a", "b"]),
    (("x", 1), ["x", "1"]), (5, ["5"]), ([None], ["None"]),
])
def test_split(value, parts):
    assert bk._split(value) == parts


def test_by_id():
    problems: list[str] = []
    assert bk._by_id(None, "states", problems, "w.") == {}
    assert bk._by_id({"1": {"id": 1, "n": "a"}, "2": {"id": "2"}}, "states", problems, "w.") == {
        "1": {"id": 1, "n": "a"}, "2": {"id": "2"}}
    assert bk._by_id([{"id": 3}, {"id": ""}, {"id": None}, {"n": 1}, "x", {"id": 0}], "fields", problems, "w.") == {
        "3": {"id": 3}, "0": {"id": 0}}
    assert problems == ["w.fields[1]: expected an object with an 'id'", "w.fields[2]: expected an object with an 'id'",
                        "w.fields[3]: expected an object with an 'id'", "w.fields[4]: expected an object with an 'id'"]
    problems.clear()
    assert bk._by_id("x", "transitions", problems, "") == {}
    assert bk._by_id(7, "transitions", problems, "[2]") == {}
    assert problems == ["transitions: expected an object keyed by id (or a list), got str",
                        "[2]transitions: expected an object keyed by id (or a list), got int"]
    assert bk._by_id({}, "states", problems, "") == {} and bk._by_id([], "states", problems, "") == {}


def sha(name: str) -> str:
    return "bk_" + hashlib.sha1(name.encode("utf-8")).hexdigest()[:10]


@pytest.mark.parametrize("name, given, key", [
    ("whatever", "my_key", "my_key"), ("whatever", "_k1", "_k1"),
    ("Server Apply", None, "bk_server_apply"), ("Server Apply", "", "bk_server_apply"),
    ("Server Apply", "1bad", "bk_server_apply"), ("  Mixed--Case!! 2 ", "bad key", "bk_mixed_case_2"),
    ("a" * 40, None, "bk_" + "a" * 40), ("a" * 41, None, sha("a" * 41)),
    ("服务器申请", None, sha("服务器申请")), ("VM 申请", None, sha("VM 申请")), ("!!!", None, sha("!!!")),
    ("1st flow", None, sha("1st flow")), ("_x_", None, "bk_x"),
])
def test_flow_key(name, given, key):
    assert bk._flow_key(name, given) == key


def test_leaves():
    a, b, c = {"key": "a"}, {"key": "b", "condition": "=="}, {"key": "c"}
    assert bk._leaves({"expressions": [{"expressions": [a, {"key": ""}, b]}, c, 5, {"expressions": None}]}) == [a, b, c]
    assert bk._leaves(a) == [a]
    assert bk._leaves({"key": None}) == [] and bk._leaves({}) == []
    assert bk._leaves("x") == [] and bk._leaves(None) == [] and bk._leaves([a]) == []


def test_dnf():
    a, b, c, d = (Compare(field=k) for k in "abcd")
    assert bk._dnf(a, False) == [[(a, False)]]
    assert bk._dnf(NotOf(not_=a), False) == [[(a, True)]]
    assert bk._dnf(NotOf(not_=NotOf(not_=a)), False) == [[(a, False)]]
    assert bk._dnf(AllOf(all=(a, b)), False) == [[(a, False), (b, False)]]
    assert bk._dnf(AnyOf(any=(a, b)), False) == [[(a, False)], [(b, False)]]
    # (a or b) and (c or d)
    assert bk._dnf(AllOf(all=(AnyOf(any=(a, b)), AnyOf(any=(c, d)))), False) == [
        [(a, False), (c, False)], [(a, False), (d, False)], [(b, False), (c, False)], [(b, False), (d, False)]]
    # not (a and b) == not a or not b;  not (a or b) == not a and not b
    assert bk._dnf(NotOf(not_=AllOf(all=(a, b))), False) == [[(a, True)], [(b, True)]]
    assert bk._dnf(NotOf(not_=AnyOf(any=(a, b))), False) == [[(a, True), (b, True)]]
    assert bk._dnf(AnyOf(any=(a, b)), True) == [[(a, True), (b, True)]]
    with pytest.raises(TypeError) as exc:
        bk._dnf("x", False)
    assert str(exc.value) == "not a condition: 'x'"


def test_dnf_is_capped_at_256_terms():
    parts = [AnyOf(any=(Compare(field=f"a{i}"), Compare(field=f"b{i}"))) for i in range(9)]   # 2**9 = 512 terms
    terms = bk._dnf(AllOf(all=tuple(parts)), False)
    assert len(terms) == 256
    wide = AnyOf(any=tuple(Compare(field=f"f{i}") for i in range(300)))
    assert len(bk._dnf(wide, False)) == 256
    assert bk._dnf(wide, False)[255] == [(Compare(field="f255"), False)]


def small_flow(**transition) -> FlowDef:
    return FlowDef.model_validate({
        "key": "small", "name": "小流程", "service_type": "change", "desc": "说明",
        "nodes": [{"key": "s", "name": "开始", "kind": "start",
                   "fields": [{"key": "n", "name": "数", "type": "INT"}, {"key": "tags", "name": "标签", "type": "STRING"}]},
                  {"key": "e", "name": "结束", "kind": "end"}],
        "transitions": [{"from": "s", "to": "e", **transition}],
    })


def test_exporter_leaves_and_groups():
    exporter = bk._Exporter(small_flow())
    cond = AnyOf(any=(Compare(field="n", op=">", value=3),
                      NotOf(not_=Compare(field="tags", op="contains", value="x")),
                      AllOf(all=(Compare(field="ghost", op="in", value=("a", "b")),
                                 NotOf(not_=Compare(field="n", op="in", value=["1"]))))))
    assert exporter.condition(cond, "w") == {"type": "or", "expressions": [
        {"type": "and", "expressions": [{"key": "n", "condition": ">", "value": 3, "type": "INT", "source": "field"}]},
        {"type": "and", "expressions": [{"key": "tags", "condition": "notissuperset", "value": ["x"], "type": "STRING",
                                         "source": "field"}]},
        {"type": "and", "expressions": [
            {"key": "ghost", "condition": "in", "value": ["a", "b"], "type": "STRING", "source": "field"},
            {"key": "n", "condition": "notin", "value": ["1"], "type": "INT", "source": "field"}]},
    ]}
    assert exporter.condition(Compare(field="n", op="<=", value=1), "w") == {"type": "and", "expressions": [
        {"type": "and", "expressions": [{"key": "n", "condition": "<=", "value": 1, "type": "INT", "source": "field"}]}]}
    assert exporter.condition(None, "w") is None
    assert exporter.notes == []


@pytest.mark.parametrize("op, negated", list(bk.NEGATED.items()))
def test_every_operator_negates_to_its_opposite(op, negated):
    assert bk.NEGATED[negated] == op


def test_a_condition_with_more_than_64_alternatives_is_cut_with_a_note():
    exporter = bk._Exporter(small_flow())
    wide = AnyOf(any=tuple(Compare(field="n", value=i) for i in range(65)))
    out = exporter.condition(wide, "transitions.0")
    assert len(out["expressions"]) == 64 and out["expressions"][63]["expressions"][0]["value"] == 63
    assert exporter.notes == ["transitions.0: the condition is too large to write in BlueKing's two-level form; "
                              "it is exported as its first 64 alternatives"]
    exporter = bk._Exporter(small_flow())
    exactly = AnyOf(any=tuple(Compare(field="n", value=i) for i in range(64)))
    assert len(exporter.condition(exactly, "w")["expressions"]) == 64 and exporter.notes == []


def test_to_bk_service_body():
    flow = small_flow()
    body, notes = bk.to_bk_service(flow)
    workflow, workflow_notes = bk.to_bk(flow)
    assert notes == workflow_notes
    assert {k: v for k, v in body.items() if k != "workflow"} == {
        "key": "change", "name": "小流程", "desc": "说明", "owners": "", "can_ticket_agency": False, "is_valid": True,
        "display_type": "OPEN", "display_role": "", "source": "custom", "project_key": "0"}
    assert body["workflow"] == workflow
    named, _ = bk.to_bk_service(flow, name="服务", desc="描述")
    assert (named["name"], named["desc"]) == ("服务", "描述")
