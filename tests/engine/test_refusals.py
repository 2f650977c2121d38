"""Every refusal: the right error class, a clear message, the state unchanged, and
`allowed_operations` / `refusal` agreeing with `apply`.

Pure engine tests: no app, no database.
"""
from __future__ import annotations

import pytest
from engine_kit import (ALICE, BOB, CAROL, CLOSED_MSG, DAVE, ERIN, MALLORY, NOT_SUSPENDED_MSG, ROOT_ACTOR,
                        assert_refused, check_allowed_agrees, do, listed, one_node_flow, start)

from app.engine import operations as ops
from app.engine.state import FINISHED, REVOKED, TERMINATED, Actor
from app.errors import OperationRefused, PermissionDenied

OK = {"work_result": "ok"}


def _process(**kw):
    return one_node_flow(**kw)


def _claim(**kw):
    return one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]}, **kw)


def _distribute(mode="DISTRIBUTE_THEN_PROCESS", **kw):
    return one_node_flow(distribute_type=mode, processors={"type": "BY_ASSIGNOR"},
                         assignors={"type": "PERSON", "value": ["erin"]}, **kw)


# --- step operations in the wrong step status ---------------------------------------


def test_transition_on_receiving_step_is_refused():
    flow = _claim()
    assert_refused(flow, start(flow).state, ops.Transition("work", OK), BOB, OperationRefused, "该节点待认领，请先认领")


def test_transition_on_distributing_step_is_refused():
    flow = _distribute()
    assert_refused(flow, start(flow).state, ops.Transition("work", OK), ERIN, OperationRefused, "该节点待派单，请先派单")


def test_claim_on_running_step_is_refused():
    flow = _process()
    assert_refused(flow, start(flow).state, ops.Claim("work"), BOB, OperationRefused, "该节点已在处理中")


def test_claim_on_distributing_step_is_refused():
    flow = _distribute("DISTRIBUTE_THEN_CLAIM")
    assert_refused(flow, start(flow).state, ops.Claim("work"), ERIN, OperationRefused, "该节点待派单，请先派单")


def test_claim_on_an_already_claimed_step_is_refused():
    flow = _claim()
    state = do(flow, start(flow).state, ops.Claim("work"), BOB).state
    assert_refused(flow, state, ops.Claim("work"), CAROL, OperationRefused, "该节点已在处理中")


def test_distribute_on_running_step_is_refused():
    flow = _process()
    assert_refused(flow, start(flow).state, ops.Distribute("work", "PERSON", ("dave",)), BOB, OperationRefused,
                   "该节点已在处理中")


def test_distribute_on_receiving_step_is_refused():
    flow = _claim()
    assert_refused(flow, start(flow).state, ops.Distribute("work", "PERSON", ("dave",)), BOB, OperationRefused,
                   "该节点待认领，请先认领")


def test_distribute_twice_is_refused():
    flow = _distribute()
    state = do(flow, start(flow).state, ops.Distribute("work", "PERSON", ("dave",)), ERIN).state
    assert_refused(flow, state, ops.Distribute("work", "PERSON", ("bob",)), ERIN, OperationRefused, "该节点已在处理中")


def test_deliver_on_receiving_step_is_refused():
    flow = _claim(can_deliver=True)
    assert_refused(flow, start(flow).state, ops.Deliver("work", "PERSON", ("dave",), "x"), BOB, OperationRefused,
                   "该节点待认领，请先认领")


def test_deliver_on_distributing_step_is_refused():
    flow = _distribute(can_deliver=True)
    assert_refused(flow, start(flow).state, ops.Deliver("work", "PERSON", ("dave",), "x"), ERIN, OperationRefused,
                   "该节点待派单，请先派单")


# --- node capabilities ---------------------------------------------------------------


def test_deliver_on_a_node_without_can_deliver_is_refused_even_for_super_admin():
    flow = _process(can_deliver=False)
    state = start(flow).state
    for actor in (BOB, ROOT_ACTOR):
        assert_refused(flow, state, ops.Deliver("work", "PERSON", ("dave",), "x"), actor, OperationRefused,
                       "节点【处理】不允许转单")


def test_terminate_step_on_a_node_without_can_terminate_is_refused_even_for_super_admin():
    flow = _process(can_terminate=False)
    state = start(flow).state
    for actor in (BOB, ROOT_ACTOR):
        assert_refused(flow, state, ops.TerminateStep("work", "x"), actor, OperationRefused, "节点【处理】不允许终止")


# --- required input -----------------------------------------------------------------------


@pytest.mark.parametrize("message", ["", "   "])
def test_deliver_without_a_reason_is_refused(message):
    flow = _process(can_deliver=True)
    assert_refused(flow, start(flow).state, ops.Deliver("work", "PERSON", ("dave",), message), BOB,
                   OperationRefused, "请输入转单原因")


@pytest.mark.parametrize("message", ["", " \n"])
def test_terminate_step_without_a_reason_is_refused(message):
    flow = _process(can_terminate=True)
    assert_refused(flow, start(flow).state, ops.TerminateStep("work", message), BOB, OperationRefused, "请输入终止原因！")


@pytest.mark.parametrize("message", ["", "  "])
def test_terminate_ticket_without_a_reason_is_refused(message):
    flow = _process()
    assert_refused(flow, start(flow).state, ops.TerminateTicket(message), ROOT_ACTOR, OperationRefused, "请输入终止原因！")


@pytest.mark.parametrize("message", ["", "\t"])
def test_suspend_without_a_reason_is_refused(message):
    flow = _process()
    assert_refused(flow, start(flow).state, ops.Suspend(message), BOB, OperationRefused, "请输入挂起原因")


@pytest.mark.parametrize("ptype", ["CMDB", "STARTER", "OPEN", "BY_ASSIGNOR", "ROBOT"])
def test_distribute_to_other_processor_types_is_refused(ptype):
    flow = _distribute()
    assert_refused(flow, start(flow).state, ops.Distribute("work", ptype, ("x",)), ERIN, OperationRefused,
                   "处理人类型只能是 PERSON（个人）或 GENERAL（通用角色）")


@pytest.mark.parametrize("ptype", ["CMDB", "STARTER"])
def test_deliver_to_other_processor_types_is_refused(ptype):
    flow = _process(can_deliver=True)
    assert_refused(flow, start(flow).state, ops.Deliver("work", ptype, ("x",), "x"), BOB, OperationRefused,
                   "处理人类型只能是 PERSON（个人）或 GENERAL（通用角色）")


def test_distribute_to_nobody_is_refused():
    flow = _distribute()
    assert_refused(flow, start(flow).state, ops.Distribute("work", "PERSON", ()), ERIN, OperationRefused, "请指定处理人")


def test_deliver_to_nobody_is_refused():
    flow = _process(can_deliver=True)
    assert_refused(flow, start(flow).state, ops.Deliver("work", "GENERAL", (), "x"), BOB, OperationRefused, "请指定处理人")


def test_deliver_to_an_empty_role_is_refused():
    flow = _process(can_deliver=True)
    assert_refused(flow, start(flow).state, ops.Deliver("work", "GENERAL", ("ghosts", "no_such_role"), "x"), BOB,
                   OperationRefused, "指定的处理人为空或角色下没有成员，请重新选择")


@pytest.mark.parametrize("blank", [("",), ("  ",)])
def test_distribute_to_a_blank_username_is_refused(blank):
    flow = _distribute()
    assert_refused(flow, start(flow).state, ops.Distribute("work", "PERSON", blank), ERIN, OperationRefused)


def test_deliver_to_a_blank_username_is_refused():
    flow = _process(can_deliver=True)
    assert_refused(flow, start(flow).state, ops.Deliver("work", "PERSON", ("",), "x"), BOB, OperationRefused)


def test_transition_with_values_no_transition_matches_is_refused_and_changes_nothing():
    flow = _process()
    state = start(flow).state
    err = assert_refused(flow, state, ops.Transition("work", {"work_result": "maybe"}), BOB, OperationRefused,
                         "没有满足条件的流转路径，请检查填写的内容")
    assert err is not None
    assert "work_result" not in state.values
    assert ("work", "TRANSITION") in listed(flow, state, BOB)       # the refusal is about the values, not the op


def test_transition_without_the_deciding_value_is_refused():
    flow = _process()
    assert_refused(flow, start(flow).state, ops.Transition("work", {}), BOB, OperationRefused,
                   "没有满足条件的流转路径，请检查填写的内容")


# --- who may act --------------------------------------------------------------------------


@pytest.mark.parametrize("op", [ops.Transition("work", OK), ops.Deliver("work", "PERSON", ("dave",), "x"),
                                ops.TerminateStep("work", "x")], ids=lambda o: o.key)
def test_non_processor_step_operations_are_denied(op):
    flow = _process(can_deliver=True, can_terminate=True)
    state = start(flow).state
    for actor in (ALICE, CAROL, MALLORY, Actor("Bob")):
        assert_refused(flow, state, op, actor, PermissionDenied, "你不是节点【处理】的处理人，无法操作")


def test_claim_by_a_non_candidate_is_denied():
    flow = _claim()
    assert_refused(flow, start(flow).state, ops.Claim("work"), DAVE, PermissionDenied, "你不是节点【处理】的处理人，无法操作")


def test_claim_on_a_step_with_no_candidates_is_denied_except_for_super_admin():
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ghosts"]})
    state = start(flow).state
    assert_refused(flow, state, ops.Claim("work"), BOB, PermissionDenied)
    assert do(flow, state, ops.Claim("work"), ROOT_ACTOR).state.steps[0].users == frozenset({"root"})


def test_distribute_by_a_non_assignor_is_denied():
    flow = _distribute()
    assert_refused(flow, start(flow).state, ops.Distribute("work", "PERSON", ("dave",)), BOB, PermissionDenied,
                   "你不是节点【处理】的处理人，无法操作")


def test_step_operation_on_a_node_without_an_open_step_is_refused():
    flow = _process()
    state = start(flow).state
    for node_key in ("submit", "end", "nope"):
        assert_refused(flow, state, ops.Transition(node_key, OK), ROOT_ACTOR, OperationRefused, "该节点当前不可处理")


# --- suspended tickets ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", [ops.Transition("work", OK), ops.Claim("work"),
                                ops.Distribute("work", "PERSON", ("dave",)),
                                ops.Deliver("work", "PERSON", ("dave",), "x"), ops.TerminateStep("work", "x")],
                         ids=lambda o: o.key)
def test_step_operations_while_suspended_are_refused_even_for_super_admin(op):
    flow = _process(can_deliver=True, can_terminate=True)
    state = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    for actor in (BOB, ROOT_ACTOR):
        assert_refused(flow, state, op, actor, OperationRefused, "单据已挂起，请先恢复后再处理")


def test_second_suspend_is_refused():
    flow = _process()
    state = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    for actor in (BOB, ROOT_ACTOR):
        assert_refused(flow, state, ops.Suspend("再等"), actor, OperationRefused, "单据已处于挂起状态，不能重复挂起")


def test_suspend_by_a_non_processor_is_denied():
    flow = _process()
    state = start(flow).state
    for actor in (ALICE, CAROL, MALLORY):
        assert_refused(flow, state, ops.Suspend("等"), actor, PermissionDenied, "只有当前处理人可以挂起单据")


def test_unsuspend_a_running_ticket_is_refused():
    flow = _process()
    state = start(flow).state
    for actor in (BOB, ROOT_ACTOR):
        assert_refused(flow, state, ops.Unsuspend(), actor, OperationRefused, NOT_SUSPENDED_MSG)


def test_unsuspend_by_a_non_processor_is_denied():
    flow = _process()
    state = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    for actor in (ALICE, MALLORY):
        assert_refused(flow, state, ops.Unsuspend(), actor, PermissionDenied, "只有当前处理人可以恢复单据")


# --- withdraw ------------------------------------------------------------------------------------


def test_withdraw_by_anyone_but_the_creator_is_denied():
    flow = _process()
    state = start(flow).state
    for actor in (BOB, MALLORY, ROOT_ACTOR):
        assert_refused(flow, state, ops.Withdraw(), actor, PermissionDenied, "只有提单人可以撤单")


def test_withdraw_after_someone_else_acted_is_refused():
    flow = _claim()
    state = do(flow, start(flow).state, ops.Claim("work"), BOB).state
    assert state.others_acted
    assert_refused(flow, state, ops.Withdraw(), ALICE, OperationRefused, "单据已有他人处理，无法撤单")


def test_withdraw_after_a_super_admin_suspended_and_resumed_is_refused():
    flow = _process()
    state = do(flow, start(flow).state, ops.Suspend("查"), ROOT_ACTOR).state
    state = do(flow, state, ops.Unsuspend(), ROOT_ACTOR).state
    assert_refused(flow, state, ops.Withdraw(), ALICE, OperationRefused, "单据已有他人处理，无法撤单")


def test_withdraw_after_a_refused_operation_by_someone_else_is_still_possible():
    flow = _process()
    state = start(flow).state
    with pytest.raises(OperationRefused):
        do(flow, state, ops.Transition("work", {"work_result": "maybe"}), BOB)
    assert do(flow, state, ops.Withdraw(), ALICE).state.status == REVOKED


# --- supervise -----------------------------------------------------------------------------------


def test_supervise_on_a_flow_without_supervision_is_refused_even_for_super_admin():
    flow = _process(notify={"supervise": False})
    state = start(flow).state
    for actor in (ALICE, ROOT_ACTOR):
        assert_refused(flow, state, ops.Supervise(), actor, OperationRefused, "该流程未开启督办")


def test_supervise_by_a_non_supervisor_is_denied():
    flow = _process()
    state = start(flow).state
    for actor in (BOB, MALLORY):        # even the current processor is no supervisor
        assert_refused(flow, state, ops.Supervise(), actor, PermissionDenied, "你没有督办该单据的权限")


def test_creator_is_no_supervisor_when_the_policy_names_others():
    flow = _process(notify={"supervisors": [{"type": "GENERAL", "value": ["desk"]}]})
    assert_refused(flow, start(flow).state, ops.Supervise(), ALICE, PermissionDenied, "你没有督办该单据的权限")


def test_supervise_with_nobody_to_remind_is_refused():
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ghosts"]})
    assert_refused(flow, start(flow).state, ops.Supervise(), ALICE, OperationRefused, "当前没有可督办的处理人")


# --- terminate the ticket -------------------------------------------------------------------------


def test_terminate_ticket_by_a_processor_of_a_non_terminable_step_is_denied():
    flow = _process(can_terminate=False)
    state = start(flow).state
    for actor in (BOB, ALICE, MALLORY):
        assert_refused(flow, state, ops.TerminateTicket("x"), actor, PermissionDenied, "你没有终止该单据的权限")


def test_terminate_ticket_by_a_non_processor_of_a_terminable_step_is_denied():
    flow = _process(can_terminate=True)
    assert_refused(flow, start(flow).state, ops.TerminateTicket("x"), CAROL, PermissionDenied, "你没有终止该单据的权限")


# --- over tickets ------------------------------------------------------------------------------------


def _over_states():
    flow = _process(can_deliver=True, can_terminate=True)
    yield flow, do(flow, start(flow).state, ops.Transition("work", OK), BOB).state
    yield flow, do(flow, start(flow).state, ops.TerminateStep("work", "x"), BOB).state
    yield flow, do(flow, start(flow).state, ops.Withdraw(), ALICE).state


def test_over_tickets_have_the_final_statuses():
    assert [s.status for _, s in _over_states()] == [FINISHED, TERMINATED, REVOKED]


@pytest.mark.parametrize("op", [ops.Transition("work", OK), ops.Claim("work"),
                                ops.Distribute("work", "PERSON", ("dave",)),
                                ops.Deliver("work", "PERSON", ("dave",), "x"), ops.TerminateStep("work", "x"),
                                ops.Suspend("x"), ops.Unsuspend("x"), ops.Withdraw("x"), ops.Supervise("x"),
                                ops.TerminateTicket("x")], ids=lambda o: type(o).__name__)
def test_any_operation_on_an_over_ticket_is_refused(op):
    for flow, state in _over_states():
        for actor in (ALICE, BOB, ROOT_ACTOR):
            assert_refused(flow, state, op, actor, OperationRefused, CLOSED_MSG)


def test_unknown_operation_is_refused():
    class Reopen:
        key = "REOPEN"

    flow = _process()
    assert_refused(flow, start(flow).state, Reopen(), ROOT_ACTOR, OperationRefused, "不支持的操作类型: REOPEN",
                   check_listed=False)


# --- allowed_operations agrees with apply in refused situations ----------------------------------------


def test_allowed_operations_agree_with_apply_across_a_whole_life():
    flow = _distribute("DISTRIBUTE_THEN_CLAIM", can_deliver=True, can_terminate=True)
    actors = (ALICE, BOB, CAROL, DAVE, ERIN, MALLORY, ROOT_ACTOR)
    state = start(flow).state
    for op, actor in ((ops.Distribute("work", "GENERAL", ("ops",)), ERIN), (ops.Suspend("等"), BOB),
                      (ops.Unsuspend(), CAROL), (ops.Claim("work"), CAROL),
                      (ops.Deliver("work", "PERSON", ("dave",), "转"), CAROL)):
        for a in actors:
            check_allowed_agrees(flow, state, a)
        state = do(flow, state, op, actor).state
    for a in actors:
        check_allowed_agrees(flow, state, a)
