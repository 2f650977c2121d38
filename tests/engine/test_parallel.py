"""Parallel and converge gateways in the engine: forking, each branch on its own, joining once.

Pure engine tests: no app, no database.
"""
from __future__ import annotations

import pytest
from engine_kit import (ALICE, BOB, CAROL, DAVE, ERIN, ROOT_ACTOR, assert_refused, build_flow, check_allowed_agrees, do,
                        logs, manual, of, opened, parallel_flow, start)

from app.engine import operations as ops
from app.engine.state import (FINISHED, REVOKED, RUNNING, SUSPEND, SUSPENDED, TERMINATED, ApprovalDecided, Join,
                              StepClosed, StepOpened, TicketEnded)
from app.errors import OperationRefused, PermissionDenied


def keys(state) -> list[str]:
    return [s.node_key for s in state.steps]


def test_a_parallel_gateway_opens_every_branch_whose_condition_holds_at_once():
    flow = parallel_flow()
    out = opened(flow)
    assert keys(out.state) == ["security", "dba"]
    assert {s.node_key: s.users for s in out.state.steps} == {"security": {"bob"}, "dba": {"carol"}}
    assert out.state.joins == {"join": Join("fork", ("security", "dba"))}
    assert "并行网关【并行评审】启动分支：安全评审、DBA 评审" in logs(out.events)
    assert [e.step.node_key for e in of(out.events, StepOpened)] == ["security", "dba"]


def test_a_branch_whose_condition_fails_is_not_started_and_the_converge_does_not_wait_for_it():
    flow = parallel_flow()
    out = opened(flow, sec="no", db="yes")
    assert keys(out.state) == ["dba"]
    out = do(flow, out.state, ops.Transition("dba"), CAROL)
    assert keys(out.state) == ["implement"]
    assert "分支【DBA 评审】到达汇聚网关【评审汇聚】，所有分支已汇聚" in logs(out.events)


def test_no_branch_condition_holding_is_refused_clearly_and_nothing_starts():
    flow = parallel_flow()
    with pytest.raises(OperationRefused) as info:
        opened(flow, sec="no", db="no")
    assert info.value.message == "并行网关【并行评审】没有满足条件的分支，请检查填写的内容"


def test_an_unconditional_empty_branch_arrives_at_once_so_no_review_goes_straight_through():
    flow = parallel_flow(empty_branch=True)
    out = opened(flow, sec="no", db="no")
    assert keys(out.state) == ["implement"]
    assert out.state.joins["join"].arrived == ("join",)
    assert any("分支【直接汇聚】" in m for m in logs(out.events))


def test_the_converge_waits_for_every_started_branch_and_continues_exactly_once():
    flow = parallel_flow()
    state = opened(flow).state
    first = do(flow, state, ops.Transition("security"), BOB)
    assert keys(first.state) == ["dba"]
    assert "分支【安全评审】到达汇聚网关【评审汇聚】，等待分支：DBA 评审" in logs(first.events)
    assert not of(first.events, StepOpened)
    second = do(flow, first.state, ops.Transition("dba"), CAROL)
    assert keys(second.state) == ["implement"]
    assert [e.step.node_key for e in of(second.events, StepOpened)] == ["implement"]
    assert second.state.joins["join"].complete
    done = do(flow, second.state, ops.Transition("implement"), DAVE)
    assert done.state.status == FINISHED


def test_either_branch_may_finish_first():
    flow = parallel_flow()
    state = opened(flow).state
    state = do(flow, state, ops.Transition("dba"), CAROL).state
    assert keys(state) == ["security"]
    assert keys(do(flow, state, ops.Transition("security"), BOB).state) == ["implement"]


def test_operating_one_branch_leaves_the_other_branch_untouched():
    flow = parallel_flow()
    state = opened(flow).state
    dba_before = state.step("dba")
    out = do(flow, state, ops.Transition("security"), BOB)
    assert out.state.step("dba") == dba_before
    assert [e.node_key for e in of(out.events, StepClosed)] == ["security"]


def test_each_branch_has_its_own_processors():
    flow = parallel_flow()
    state = opened(flow).state
    assert_refused(flow, state, ops.Transition("dba"), BOB, PermissionDenied, "你不是节点【DBA 评审】的处理人，无法操作")
    assert_refused(flow, state, ops.Transition("security"), CAROL, PermissionDenied,
                   "你不是节点【安全评审】的处理人，无法操作")
    assert check_allowed_agrees(flow, state, BOB) >= {("security", "TRANSITION")}
    assert ("dba", "TRANSITION") not in check_allowed_agrees(flow, state, BOB)


def test_a_finished_branch_accepts_no_more_operations():
    flow = parallel_flow()
    state = do(flow, opened(flow).state, ops.Transition("security"), BOB).state
    assert_refused(flow, state, ops.Transition("security"), BOB, OperationRefused, "该节点当前不可处理")
    assert_refused(flow, state, ops.Transition("security"), ROOT_ACTOR, OperationRefused, "该节点当前不可处理")


def test_suspend_and_resume_act_on_every_open_branch():
    flow = parallel_flow()
    state = opened(flow).state
    out = do(flow, state, ops.Suspend("等窗口"), BOB)
    assert out.state.status == SUSPENDED and {s.status for s in out.state.steps} == {SUSPEND}
    assert_refused(flow, out.state, ops.Transition("dba"), CAROL, OperationRefused, "单据已挂起，请先恢复后再处理")
    back = do(flow, out.state, ops.Unsuspend(), CAROL)
    assert back.state.status == RUNNING and {s.status for s in back.state.steps} == {RUNNING}


def test_withdraw_closes_every_open_branch():
    flow = parallel_flow()
    out = do(flow, opened(flow).state, ops.Withdraw("不要了"), ALICE)
    assert out.state.status == REVOKED and out.state.steps == ()
    assert sorted(e.node_key for e in of(out.events, StepClosed)) == ["dba", "security"]


def test_terminating_one_branch_terminates_the_whole_ticket():
    flow = parallel_flow()
    out = do(flow, opened(flow).state, ops.TerminateStep("security", "风险太高"), BOB)
    assert out.state.status == TERMINATED and out.state.steps == ()
    assert {(e.node_key, e.status) for e in of(out.events, StepClosed)} == {("security", TERMINATED),
                                                                           ("dba", TERMINATED)}
    assert of(out.events, TicketEnded) == [TicketEnded(TERMINATED)]


def test_a_countersign_inside_a_branch_votes_on_its_own_and_a_loop_stays_on_its_branch():
    flow = parallel_flow(cab=True)
    state = opened(flow).state
    assert keys(state) == ["security", "dba"]
    state = do(flow, state, ops.Transition("security", {"security_result": "false"}), BOB).state
    assert keys(state) == ["dba", "security_again"]
    state = do(flow, state, ops.Transition("dba"), CAROL).state
    assert state.joins["join"].arrived == ("dba",)
    state = do(flow, state, ops.Transition("security_again"), BOB).state
    state = do(flow, state, ops.Transition("security", {"security_result": "true"}), BOB).state
    out = do(flow, state, ops.Transition("security", {"security_result": "true"}), ERIN)
    assert of(out.events, ApprovalDecided)[0].approved
    assert keys(out.state) == ["implement"]


NESTED = [
    {"key": "outer", "name": "外层并行", "kind": "parallel"},
    manual("a", processors={"type": "PERSON", "value": ["bob"]}, fields=[]),
    {"key": "inner", "name": "内层并行", "kind": "parallel"},
    manual("b1", processors={"type": "PERSON", "value": ["carol"]}, fields=[]),
    manual("b2", processors={"type": "PERSON", "value": ["dave"]}, fields=[]),
    {"key": "inner_join", "name": "内层汇聚", "kind": "converge"},
    manual("b3", processors={"type": "PERSON", "value": ["carol"]}, fields=[]),
    {"key": "outer_join", "name": "外层汇聚", "kind": "converge"},
]
NESTED_T = [
    {"from": "submit", "to": "outer"}, {"from": "outer", "to": "a"}, {"from": "outer", "to": "inner"},
    {"from": "inner", "to": "b1"}, {"from": "inner", "to": "b2"}, {"from": "b1", "to": "inner_join"},
    {"from": "b2", "to": "inner_join"}, {"from": "inner_join", "to": "b3"}, {"from": "b3", "to": "outer_join"},
    {"from": "a", "to": "outer_join"}, {"from": "outer_join", "to": "end"},
]


def test_a_parallel_region_nested_in_a_branch_joins_before_its_outer_branch_goes_on():
    flow = build_flow(NESTED, NESTED_T)
    state = start(flow).state
    assert keys(state) == ["a", "b1", "b2"]
    state = do(flow, state, ops.Transition("b1"), CAROL).state
    state = do(flow, state, ops.Transition("a"), BOB).state
    assert keys(state) == ["b2"]
    state = do(flow, state, ops.Transition("b2"), DAVE).state
    assert keys(state) == ["b3"]
    out = do(flow, state, ops.Transition("b3"), CAROL)
    assert out.state.status == FINISHED
    assert out.state.joins["outer_join"].arrived == ("a", "inner")
