"""The sign node (会签): every processor submits the node's form; counts for later conditions; finish_when.

Pure engine tests: no app, no database.
"""
from __future__ import annotations

import pytest
from engine_kit import BOB, CAROL, DAVE, ROOT_ACTOR, assert_refused, build_flow, do, logs, start

from app.engine import operations as ops
from app.engine.state import FINISHED, RUNNING
from app.errors import OperationRefused, PermissionDenied
from app.flowdef import FlowLoadError, parse_flow_text


def sign_flow(finish_when=None):
    node = {"key": "vote", "name": "方案投票", "kind": "sign",
            "processors": {"type": "PERSON", "value": ["bob", "carol", "dave"]},
            "fields": [{"key": "plan", "name": "方案", "type": "RADIO", "required": True,
                        "choices": [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}]}]}
    if finish_when:
        node["finish_when"] = finish_when
    return build_flow([node], [
        {"from": "submit", "to": "vote"},
        {"from": "vote", "to": "end", "name": "选 A", "when": {"field": "plan_count_a", "op": ">=", "value": 2}},
        {"from": "vote", "to": "rejected", "name": "选 B"}],
        extra_nodes=[{"key": "rejected", "name": "不采用", "kind": "end", "approve_result": False}])


def test_a_sign_node_waits_for_every_processor_and_leaves_the_counts_for_conditions():
    flow = sign_flow()
    state = start(flow).state
    state = do(flow, state, ops.Transition("vote", {"plan": "a"}), BOB).state
    assert state.status == RUNNING and state.step("vote").users == {"carol", "dave"}
    state = do(flow, state, ops.Transition("vote", {"plan": "b"}), DAVE).state
    out = do(flow, state, ops.Transition("vote", {"plan": "a"}), CAROL)
    assert out.state.status == FINISHED
    assert {k: out.state.values[k] for k in ("vote_count", "plan_count_a", "plan_count_b")} == \
        {"vote_count": 3, "plan_count_a": 2, "plan_count_b": 1}
    assert logs(out.events) [:2] == ["carol 提交了会签节点【方案投票】", "节点【方案投票】会签结束（已提交 3/3 人）(选 A)"]


def test_finish_when_ends_a_sign_node_early():
    flow = sign_flow(finish_when={"field": "plan_count_b", "op": ">=", "value": 2})
    state = do(flow, start(flow).state, ops.Transition("vote", {"plan": "b"}), BOB).state
    out = do(flow, state, ops.Transition("vote", {"plan": "b"}), CAROL)
    assert out.state.status == FINISHED and out.state.values["vote_count"] == 2


def test_each_processor_submits_a_sign_node_once_and_others_are_refused():
    flow = sign_flow()
    state = do(flow, start(flow).state, ops.Transition("vote", {"plan": "a"}), BOB).state
    assert_refused(flow, state, ops.Transition("vote", {"plan": "a"}), BOB, OperationRefused, "你已提交过节点【方案投票】")
    assert_refused(flow, state, ops.Transition("vote", {"plan": "a"}), ROOT_ACTOR, PermissionDenied,
                   "你不是节点【方案投票】的待审批人，无法操作")


def test_finish_when_may_read_only_the_nodes_counts():
    text = """\
key: s
name: s
service_type: request
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: t, type: STRING}]}
  - key: vote
    name: 投票
    kind: sign
    processors: {type: PERSON, value: [a, b]}
    finish_when: {field: title, value: x}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: vote}
  - {from: vote, to: end}
"""
    with pytest.raises(FlowLoadError) as info:
        parse_flow_text(text, "s.yaml")
    assert [str(i) for i in info.value.issues] == [
        "s.yaml:10: nodes.1.finish_when: finish_when may read only this node's counts (vote_count), not 'title'"]
