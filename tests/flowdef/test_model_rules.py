"""Exact behaviour of the flow model's own rules and lookups (`app/flowdef/model.py`).

Written against mutation testing: the automatic nodes' `params` checks with their whole messages,
the countersign arithmetic at its boundaries, the approval node's decision fields, and the
FlowDef lookups (first match, KeyError naming the key).
"""
from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.flowdef.model import (FieldDef, FinishCondition, FlowDef, NodeDef, _builtin_of, _check_automatic_params,
                               approval_fields)

REQUEST = "params.request must be a mapping (the request body / query template)"
RESPONSE = "params.response must map field keys to dotted paths of the response, e.g. {ip: data.ip}"


@pytest.mark.parametrize("params", [
    {}, {"request": {}}, {"request": []}, {"request": {"a": 1}}, {"request": [1, 2]},
    {"response": {}}, {"response": {"ip": "data.ip", "name": "data.name"}},
    {"success": {"field": "code", "op": "==", "value": 0}},
    {"success": {"all": [{"field": "a"}, {"not": {"field": "b"}}]}},
    {"request": {"q": 1}, "response": {"ip": "data.ip"}, "success": {"any": [{"field": "ok"}]}},
])
def test_valid_automatic_params(params):
    assert _check_automatic_params(params) is None


@pytest.mark.parametrize("request_", ["text", 1, None, True, ("a",)])
def test_request_must_be_a_mapping_or_a_list(request_):
    with pytest.raises(ValueError) as exc:
        _check_automatic_params({"request": request_})
    assert str(exc.value) == REQUEST


@pytest.mark.parametrize("response", [["data.ip"], "data.ip", None, {"ip": 1}, {"ip": "data.ip", "n": None},
                                      {"ip": ["data", "ip"]}])
def test_response_must_map_keys_to_paths(response):
    with pytest.raises(ValueError) as exc:
        _check_automatic_params({"response": response})
    assert str(exc.value) == RESPONSE


def test_request_is_checked_before_response_and_response_before_success():
    with pytest.raises(ValueError) as exc:
        _check_automatic_params({"request": "x", "response": "y", "success": "z"})
    assert str(exc.value) == REQUEST
    with pytest.raises(ValueError) as exc:
        _check_automatic_params({"response": "y", "success": "z"})
    assert str(exc.value) == RESPONSE


@pytest.mark.parametrize("success, detail", [
    ("x", "Compare\n  Input should be a valid dictionary or instance of Compare [type=model_type"),
    ({"field": "a", "op": "bad"}, "Compare.op\n  Input should be '==', '!=', '>', '>=', '<', '<=', 'in', 'notin' or "
                                  "'contains' [type=literal_error"),
    ({"all": []}, "AllOf.all\n  Tuple should have at least 1 item after validation, not 0 [type=too_short"),
    (None, "Compare\n  Input should be a valid dictionary or instance of Compare [type=model_type"),
])
def test_success_must_be_a_condition(success, detail):
    with pytest.raises(ValueError) as exc:
        _check_automatic_params({"success": success})
    message = str(exc.value)
    assert message.startswith("params.success is not a condition: 1 validation error for "
                              "tagged-union[Compare,AllOf,AnyOf,NotOf]\n")
    assert detail in message
    assert exc.value.__cause__ is None and exc.value.__suppress_context__


def test_the_params_rules_apply_to_api_and_automation_nodes_only():
    bad = {"request": "x"}
    for kind, extra in (("api", {"api": "cmdb.get_host"}), ("automation", {"plugin": "bk_sops"})):
        with pytest.raises(ValidationError) as exc:
            NodeDef(key="n", name="n", kind=kind, params=bad, **extra)
        assert REQUEST in str(exc.value)
    node = NodeDef(key="n", name="n", kind="manual", processors={"type": "STARTER"}, params=bad)
    assert node.params == bad


@pytest.mark.parametrize("agree, approvers, need", [
    ("all", 3, 3), ("all", 1, 1), ("all", 0, 1),
    (2, 3, 2), (1, 3, 1), (5, 3, 3), (3, 3, 3), (2, 0, 1),
    ("50%", 4, 2), ("50%", 3, 2), ("60%", 5, 3), ("60%", 4, 3), ("1%", 10, 1), ("100%", 7, 7), ("99%", 100, 99),
    ("34%", 3, 2), ("33%", 3, 1), ("10%", 0, 1), ("67%", 3, 3), ("66%", 3, 2),
])
def test_required_agreements(agree, approvers, need):
    assert FinishCondition(agree=agree).required(approvers) == need


@pytest.mark.parametrize("agree, stored", [
    ("all", "all"), (" all ", "all"), (1, 1), ("3", 3), (" 2 ", 2), ("60%", "60%"), ("060%", "60%"), ("100%", "100%"),
    ("1%", "1%"),
])
def test_agree_is_normalised(agree, stored):
    assert FinishCondition(agree=agree).agree == stored
    assert FinishCondition().agree == "all"


@pytest.mark.parametrize("agree, message", [
    (True, "agree must be 'all', a number of approvers (>= 1) or a percentage such as '60%'"),
    (0, "agree must be at least 1"), (-1, "agree must be at least 1"),
    ("0", "agree must be 'all', a number of approvers (>= 1) or a percentage such as '60%'"),
    ("0%", "agree must be 'all', a number of approvers (>= 1) or a percentage such as '60%'"),
    ("101%", "agree must be 'all', a number of approvers (>= 1) or a percentage such as '60%'"),
    ("x%", "agree must be 'all', a number of approvers (>= 1) or a percentage such as '60%'"),
    ("ALL", "agree must be 'all', a number of approvers (>= 1) or a percentage such as '60%'"),
])
def test_agree_refusals(agree, message):
    with pytest.raises(ValidationError) as exc:
        FinishCondition(agree=agree)
    assert exc.value.errors()[0]["msg"] == f"Value error, {message}"


def test_builtin_of():
    builtin = approval_fields("n")
    assert _builtin_of(builtin, "n_result") is builtin[0]
    assert _builtin_of(builtin, "n_remark") is builtin[1]
    assert _builtin_of(builtin, "other") is None
    assert _builtin_of((), "n_result") is None


def approval(**kw) -> NodeDef:
    return NodeDef(key="ap", name="审批", kind="approval", processors={"type": "STARTER"}, **kw)


def test_approval_node_prepends_its_decision_fields_once():
    own = FieldDef(key="why", name="原因", type="TEXT")
    node = approval(fields=(own,))
    assert [f.key for f in node.fields] == ["ap_result", "ap_remark", "why"]
    # the decision fields written out as they are (e.g. a dumped flow read back) are not doubled
    again = approval(fields=node.fields)
    assert again.fields == node.fields
    only_remark = approval(fields=(node.fields[1], own))
    assert only_remark.fields == node.fields


def test_approval_node_refuses_a_changed_decision_field():
    with pytest.raises(ValidationError) as exc:
        approval(fields=(FieldDef(key="ap_remark", name="别的", type="TEXT"),))
    assert exc.value.errors()[0]["msg"] == "Value error, field key 'ap_remark' is reserved for the approval node's decision"
    with pytest.raises(ValidationError) as exc:
        approval(fields=(FieldDef(key="ap_result", name="x", type="TEXT"), FieldDef(key="ap_remark", name="y", type="TEXT")))
    assert exc.value.errors()[0]["msg"] == "Value error, field key 'ap_result' is reserved for the approval node's decision"


@pytest.mark.parametrize("kw, message", [
    (dict(distribute_type="CLAIM_THEN_PROCESS"), "an approval node is processed directly: distribute_type must be PROCESS"),
    (dict(can_deliver=True), "an approval node cannot be delivered (can_deliver)"),
    (dict(sequential=True), "sequential and finish_condition need multi: true (a countersign)"),
    (dict(finish_condition={"agree": 1}), "sequential and finish_condition need multi: true (a countersign)"),
])
def test_approval_shape_refusals(kw, message):
    with pytest.raises(ValidationError) as exc:
        approval(**kw)
    assert exc.value.errors()[0]["msg"] == f"Value error, {message}"


def test_approval_node_needs_processors():
    with pytest.raises(ValidationError) as exc:
        NodeDef(key="ap", name="审批", kind="approval")
    assert exc.value.errors()[0]["msg"] == "Value error, an approval node needs 'processors' (the approvers)"


def test_countersign_options_with_multi():
    node = approval(multi=True, sequential=True, finish_condition={"agree": "60%"})
    assert node.is_countersign and node.sequential and node.finish_condition.agree == "60%"


def flow() -> FlowDef:
    return FlowDef.model_validate({
        "key": "f", "name": "f", "service_type": "request",
        "nodes": [
            {"key": "s", "name": "s", "kind": "start", "fields": [{"key": "title", "name": "标题", "type": "STRING"}]},
            {"key": "m", "name": "m", "kind": "manual", "processors": {"type": "STARTER"},
             "fields": [{"key": "a", "name": "A", "type": "STRING"}, {"key": "b", "name": "B", "type": "STRING"}]},
            {"key": "m2", "name": "m2", "kind": "manual", "processors": {"type": "STARTER"},
             "fields": [{"key": "a", "name": "A again", "type": "STRING"}]},
            {"key": "e", "name": "e", "kind": "end"},
        ],
        "transitions": [{"from": "s", "to": "m"}, {"from": "m", "to": "m2", "name": "one"},
                        {"from": "m", "to": "e", "name": "two"}, {"from": "m2", "to": "e"}],
    })


def test_flow_lookups():
    f = flow()
    assert f.node("m").name == "m" and f.node("e").kind == "end"
    with pytest.raises(KeyError) as exc:
        f.node("nope")
    assert exc.value.args == ("nope",)
    assert [t.name for t in f.outgoing("m")] == ["one", "two"]
    assert [t.to for t in f.outgoing("s")] == ["m"]
    assert f.outgoing("e") == () and f.outgoing("nope") == ()
    assert [x.key for x in f.all_fields()] == ["title", "a", "b", "a"]
    assert f.field("a").name == "A"            # the first node's field of that key
    assert f.field("b").name == "B"
    with pytest.raises(KeyError) as exc:
        f.field("nope")
    assert exc.value.args == ("nope",)
    assert f.start.key == "s"


@pytest.mark.parametrize("kind, kw, message", [
    ("parallel", dict(fields=[{"key": "f", "name": "f", "type": "STRING"}]), "a parallel gateway has no fields"),
    ("converge", dict(fields=[{"key": "f", "name": "f", "type": "STRING"}]), "a converge gateway has no fields"),
    ("converge", dict(processors={"type": "STARTER"}),
     "a converge gateway has no processors or assignors (the engine passes it)"),
    ("parallel", dict(assignors={"type": "STARTER"}),
     "a parallel gateway has no processors or assignors (the engine passes it)"),
    ("converge", dict(can_deliver=True), "a converge gateway takes no distribute_type, can_deliver or can_terminate"),
    ("parallel", dict(can_terminate=True), "a parallel gateway takes no distribute_type, can_deliver or can_terminate"),
    ("converge", dict(distribute_type="CLAIM_THEN_PROCESS"),
     "a converge gateway takes no distribute_type, can_deliver or can_terminate"),
])
def test_gateway_shape_refusals(kind, kw, message):
    with pytest.raises(ValidationError) as exc:
        NodeDef(key="g", name="g", kind=kind, **kw)
    assert [e["msg"] for e in exc.value.errors()] == [f"Value error, {message}"]


def test_sign_counts_for_every_choice_type():
    yn = [{"key": "y", "name": "Y"}, {"key": "n", "name": "N"}]
    fields = [{"key": k.lower(), "name": k, "type": k, "choices": yn}
              for k in ("RADIO", "SELECT", "MULTISELECT", "CHECKBOX", "TREESELECT", "CASCADE")]
    fields.append({"key": "txt", "name": "t", "type": "STRING"})
    fields.append({"key": "empty", "name": "e", "type": "CHECKBOX"})
    node = NodeDef(key="sg", name="会签", kind="sign", processors={"type": "STARTER"}, fields=fields)
    assert node.sign_counts() == ("sg_count", "radio_count_y", "radio_count_n", "select_count_y", "select_count_n",
                                  "multiselect_count_y", "multiselect_count_n", "checkbox_count_y", "checkbox_count_n")
    manual = NodeDef(key="m", name="m", kind="manual", processors={"type": "STARTER"}, fields=fields[:1])
    assert manual.sign_counts() == ()
