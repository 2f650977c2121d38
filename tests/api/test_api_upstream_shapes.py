"""Upstream-shaped output (issue 15): GENERAL roles resolved to usernames, conditions as `{type, expressions}`,
field configuration as upstream's (regex rule key, show_type/show_conditions, source keys), and result
callbacks delivered only when the receiver answers code 0."""
import pytest

FLOW = """
key: api_shapes
name: 形状
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true, regex: "^[a-z]+$", regex_message: 只能小写, max_length: 20}
      - {key: risk, name: 风险, type: SELECT, choices: [{key: high, name: 高}, {key: low, name: 低}]}
      - {key: reason, name: 理由, type: TEXT, required: true, hide_when: {field: risk, op: "!=", value: high}}
      - {key: count, name: 数量, type: INT}
  - key: review
    name: 评审
    kind: manual
    processors: {type: GENERAL, value: [reviewers]}
  - {key: end, name: 结束, kind: end}
  - {key: other, name: 其他, kind: end}
transitions:
  - {from: submit, to: review}
  - {from: review, to: end, when: {all: [{field: risk, value: high}, {field: count, op: ">", value: 3}]}}
  - {from: review, to: other, when: {any: [{not: {field: risk, value: high}}, {field: count, op: in, value: [1, 2]}]}}
"""


@pytest.fixture
def shaped(api, make_service):
    return make_service(FLOW, users=("alice",), roles={"reviewers": ["rev2", "rev1"]})


def test_field_config_is_shaped_like_upstream(api, shaped):
    fields = {f["key"]: f for f in api("get_service_detail", service_id=shaped)["data"]["fields"]}
    title = fields["title"]
    assert (title["regex"], title["custom_regex"], title["regex_config"]) == ("CUSTOM", "^[a-z]+$", {})
    assert (title["regex_message"], title["max_length"]) == ("只能小写", 20)
    assert (title["show_type"], title["show_conditions"]) == (1, {})
    assert (title["source_uri"], title["api_instance_id"], title["kv_relation"]) == ("", 0, {})
    assert fields["risk"]["regex"] == "EMPTY" and fields["risk"]["custom_regex"] == ""
    reason = fields["reason"]
    assert reason["validate_type"] == "REQUIRE" and reason["show_type"] == 0
    assert reason["show_conditions"] == {"type": "and", "expressions": [
        {"key": "risk", "condition": "!=", "value": "high", "type": "SELECT", "source": "field"}]}


def test_workflow_transitions_carry_upstream_conditions(api, shaped):
    workflow_id = api("get_service_detail", service_id=shaped)["data"]["workflow_id"]
    transitions = api("get_workflow_detail", workflow_id=workflow_id)["data"]["transitions"]
    first, to_end, to_other = transitions
    assert first["condition_type"] == "default" and first["condition"] == {
        "type": "and", "expressions": [{"type": "and", "expressions": [
            {"key": "G_INT_1", "condition": "==", "value": 1}]}]}
    assert to_end["condition_type"] == "by_field"
    assert to_end["condition"] == {"type": "and", "expressions": [{"type": "and", "expressions": [
        {"key": "risk", "condition": "==", "value": "high", "type": "SELECT", "source": "field"},
        {"key": "count", "condition": ">", "value": 3, "type": "INT", "source": "field"}]}]}
    assert to_other["condition"] == {"type": "and", "expressions": [{"type": "or", "expressions": [
        {"key": "risk", "condition": "!=", "value": "high", "type": "SELECT", "source": "field"},      # not ==
        {"key": "count", "condition": "in", "value": "1,2", "type": "INT", "source": "field"}]}]}
    assert to_end["when"] == {"all": [{"field": "risk", "op": "==", "value": "high"},
                                      {"field": "count", "op": ">", "value": 3}]}


def test_general_roles_are_resolved_to_usernames(api, shaped):
    roles = api("get_service_roles", service_id=shaped)["data"]
    assert roles == [{"id": 2, "name": "评审", "processors": "rev1,rev2", "processors_type": "GENERAL",
                      "sign_type": "or"}]
    sn = api("create_ticket", service_id=shaped, creator="alice",
             fields=[{"key": "title", "value": "abc"}, {"key": "risk", "value": "low"}])["data"]["sn"]
    step = api("get_ticket_info", sn=sn)["data"]["current_steps"][0]
    assert step["processors_type"] == "GENERAL" and sorted(step["processors"].split(",")) == ["rev1", "rev2"]


@pytest.mark.parametrize("status, body, problem", [
    (200, '{"code": 0, "message": "ok"}', ""),
    (201, '{"result": true}', ""),
    (200, '{"code": "0"}', ""),
    (200, '{"code": 1, "message": "bad token"}', "回应 code 不为 0：code=1, message=bad token"),
    (200, '{"ok": true}', "回应 code 不为 0：code=None, message="),
    (200, 'ok', "回应不是 JSON 对象（需要 code 为 0）：ok"),
    (204, '', "HTTP 204: "),
    (500, '{"code": 0}', 'HTTP 500: {"code": 0}'),
])
def test_a_callback_counts_as_delivered_only_with_code_0(status, body, problem):
    from app.integrations.http_api import HttpResult
    from app.services.integration.callbacks import delivery_problem

    assert delivery_problem(HttpResult(status, body, None, "", 5)) == problem
