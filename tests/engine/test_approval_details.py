"""What an approval node records, compared whole (found by mutation testing).

Pure engine tests: no app, no database. See "Mutation testing" in docs/architecture.md.
"""
from __future__ import annotations

import pytest
from engine_kit import BOB, CAROL, start
from engine_kit import approval_flow, decide

from app.engine.state import ApprovalDecided, Log, Notify, StepChanged, Vote
from app.errors import OperationRefused


def test_a_sequential_countersign_vote_is_logged_and_the_next_approver_told():
    flow = approval_flow(multi=True, sequential=True)
    state = start(flow).state
    out = decide(flow, state, BOB, "true", "可以", note="x")
    step = out.state.step("cab")
    assert step.votes == (Vote("bob", "true", "可以", {"note": "x"}),) and step.users == {"carol"}
    assert out.events == (Log("bob", "bob 审批节点【CAB 评审】：通过，备注：可以", "TRANSITION", "cab"), StepChanged(step),
                          Notify("todo", frozenset({"carol"}), "cab"))


def test_the_deciding_countersign_vote_closes_the_step_with_every_vote():
    flow = approval_flow(multi=True, approvers=("bob", "carol"))
    state = decide(flow, start(flow).state, BOB, "true", "好").state
    out = decide(flow, state, CAROL, "false", "不行")
    decided = state.step("cab").with_(votes=(Vote("bob", "true", "好", {}), Vote("carol", "false", "不行", {})),
                                      users=frozenset())
    assert list(out.events[:3]) == [Log("carol", "carol 审批节点【CAB 评审】：拒绝，备注：不行", "TRANSITION", "cab"),
                                    StepChanged(decided), ApprovalDecided("cab", False, ("bob", "carol"))]
    assert out.state.values["cab_remark"] == "bob：好；carol：不行"
    three = approval_flow(multi=True, approvers=("bob", "carol", "dave"), agree=1)
    remarks = decide(three, start(three).state, BOB, "true", "好").state.values["cab_remark"]
    assert remarks == "bob：好"


@pytest.mark.parametrize("values", [{}, {"cab_result": "maybe"}, {"cab_result": "TRUE "}])
def test_a_decision_must_be_true_or_false(values):
    from engine_kit import do
    from app.engine import operations as ops
    flow = approval_flow()
    state = start(flow).state
    if values.get("cab_result") == "TRUE ":           # case and spaces do not matter
        assert do(flow, state, ops.Transition("cab", values), BOB).state.values["cab_result"] == "true"
        return
    with pytest.raises(OperationRefused) as info:
        do(flow, state, ops.Transition("cab", values), BOB)
    assert info.value.message == "请选择审批意见：通过（true）或拒绝（false）"
