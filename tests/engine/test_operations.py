"""Every accepted operation: the new state and the events it emits.

Pure engine tests: no app, no database.
"""
from __future__ import annotations

from engine_kit import (ALICE, BOB, CAROL, DAVE, ERIN, MALLORY, ROOT_ACTOR, SUPER_NOTE, check_allowed_agrees, do,
                        listed, logs, manual, notifies, of, one_node_flow, snapshot, start, two_node_flow)

from app.engine import operations as ops
from app.engine import supervisors
from app.engine.state import (DISTRIBUTING, FINISHED, RECEIVING, REVOKED, RUNNING, SUSPEND, SUSPENDED, TERMINATED,
                              Log, Notify, StepChanged, StepClosed, TicketEnded)
from engine_kit import DIRECTORY, assert_refused

from app.errors import OperationRefused

# --- DELIVER (转单) ------------------------------------------------------------------


def test_deliver_hands_a_running_step_to_other_people():
    flow = one_node_flow(can_deliver=True)
    state = start(flow).state
    out = do(flow, state, ops.Deliver("work", "PERSON", ("carol", "dave"), "我休假"), BOB)
    (step,) = out.state.steps
    assert step.status == RUNNING
    assert step.processors_type == "PERSON" and step.processors == ("carol", "dave")
    assert step.users == frozenset({"carol", "dave"})
    assert logs(out.events) == ["bob 将节点【处理】转单给 carol,dave，备注：我休假"]
    assert out.events[0].action == "DELIVER" and out.events[0].node_key == "work"
    assert of(out.events, StepChanged) == [StepChanged(step)]
    assert notifies(out.events) == [Notify("deliver", frozenset({"carol", "dave"}), "work", "我休假")]


def test_deliver_to_a_role_makes_its_members_the_processors():
    flow = one_node_flow(can_deliver=True)
    out = do(flow, start(flow).state, ops.Deliver("work", "GENERAL", ("desk",), "转给服务台"), BOB)
    (step,) = out.state.steps
    assert step.processors_type == "GENERAL" and step.users == frozenset({"carol", "erin"})
    assert step.status == RUNNING


def test_delivered_step_is_processed_by_the_new_processors_only():
    flow = one_node_flow(can_deliver=True)
    state = do(flow, start(flow).state, ops.Deliver("work", "PERSON", ("dave",), "转"), BOB).state
    assert ("work", "TRANSITION") not in listed(flow, state, BOB)
    assert ("work", "TRANSITION") in listed(flow, state, DAVE)
    assert do(flow, state, ops.Transition("work", {"work_result": "ok"}), DAVE).state.status == FINISHED


def test_super_admin_delivers_any_step_with_the_note():
    flow = one_node_flow(can_deliver=True)
    out = do(flow, start(flow).state, ops.Deliver("work", "PERSON", ("dave",), "转"), ROOT_ACTOR)
    assert logs(out.events) == [f"root{SUPER_NOTE} 将节点【处理】转单给 dave，备注：转"]


def test_deliver_after_a_claim_keeps_the_step_running():
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]},
                         can_deliver=True)
    state = do(flow, start(flow).state, ops.Claim("work"), BOB).state
    out = do(flow, state, ops.Deliver("work", "GENERAL", ("desk",), "交给服务台"), BOB)
    assert out.state.steps[0].status == RUNNING
    assert out.state.steps[0].users == frozenset({"carol", "erin"})


# --- TERMINATE (step) ----------------------------------------------------------------


def test_terminate_step_terminates_the_ticket():
    flow = one_node_flow(can_terminate=True)
    out = do(flow, start(flow).state, ops.TerminateStep("work", "需求取消"), BOB)
    assert out.state.status == TERMINATED
    assert out.state.steps == ()
    assert out.state.is_over
    assert logs(out.events) == ["bob 终止了节点【处理】，原因：需求取消"]
    assert out.events[0] == Log("bob", "bob 终止了节点【处理】，原因：需求取消", "TERMINATE", "work")
    assert of(out.events, StepClosed) == [StepClosed("work", TERMINATED, "bob")]
    assert [e.status for e in of(out.events, TicketEnded)] == [TERMINATED]
    assert notifies(out.events) == [Notify("terminated", frozenset({"alice"}))]


def test_terminate_step_notifies_creator_and_processors_but_not_the_operator():
    flow = one_node_flow(can_terminate=True, processors={"type": "PERSON", "value": ["bob", "carol"]})
    out = do(flow, start(flow).state, ops.TerminateStep("work", "不做了"), BOB)
    assert notifies(out.events) == [Notify("terminated", frozenset({"alice", "carol"}))]


def test_super_admin_terminates_a_step_with_the_note():
    flow = one_node_flow(can_terminate=True)
    out = do(flow, start(flow).state, ops.TerminateStep("work", "违规"), ROOT_ACTOR)
    assert logs(out.events) == [f"root{SUPER_NOTE} 终止了节点【处理】，原因：违规"]
    assert out.state.status == TERMINATED


def test_terminate_step_is_accepted_on_a_receiving_step():
    # The brief puts no status condition on TERMINATE; docs/flows.md says "RUNNING → …terminate" (see report).
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]},
                         can_terminate=True)
    state = start(flow).state
    assert state.steps[0].status == RECEIVING
    assert do(flow, state, ops.TerminateStep("work", "不需要了"), BOB).state.status == TERMINATED


# --- TERMINATE (ticket) --------------------------------------------------------------


def test_processor_of_a_terminable_step_terminates_the_ticket():
    flow = one_node_flow(can_terminate=True)
    out = do(flow, start(flow).state, ops.TerminateTicket("不再需要"), BOB)
    assert out.state.status == TERMINATED and out.state.steps == ()
    assert logs(out.events) == ["bob 终止了单据，原因：不再需要"]
    assert out.events[0].action == "TERMINATE" and out.events[0].node_key is None
    assert of(out.events, StepClosed) == [StepClosed("work", TERMINATED, None)]
    assert [e.status for e in of(out.events, TicketEnded)] == [TERMINATED]
    assert notifies(out.events, "terminated") == [Notify("terminated", frozenset({"alice"}))]


def test_super_admin_terminates_any_ticket_with_the_note():
    flow = one_node_flow(can_terminate=False)
    out = do(flow, start(flow).state, ops.TerminateTicket("清理"), ROOT_ACTOR)
    assert out.state.status == TERMINATED
    assert logs(out.events) == [f"root{SUPER_NOTE} 终止了单据，原因：清理"]
    assert notifies(out.events) == [Notify("terminated", frozenset({"alice", "bob"}))]


def test_super_admin_who_is_a_processor_terminates_without_the_note():
    from app.engine.state import Actor

    flow = one_node_flow()
    out = do(flow, start(flow).state, ops.TerminateTicket("清理"), Actor("bob", is_superuser=True))
    assert logs(out.events) == ["bob 终止了单据，原因：清理"]


# --- SUSPEND / UNSUSPEND ---------------------------------------------------------------


def test_suspend_puts_ticket_and_steps_in_suspend():
    flow = one_node_flow()
    state = start(flow).state
    out = do(flow, state, ops.Suspend("等待备件"), BOB)
    assert out.state.status == SUSPENDED and out.state.pre_status == RUNNING
    (step,) = out.state.steps
    assert step.status == SUSPEND and step.pre_status == RUNNING
    assert step.users == state.steps[0].users
    assert out.events[0] == Log("bob", "bob 挂起了单据，原因：等待备件", "SUSPEND")
    assert of(out.events, StepChanged) == [StepChanged(step)]
    assert notifies(out.events) == [Notify("suspend", frozenset({"alice"}), message="等待备件")]


def test_super_admin_suspends_with_the_note():
    flow = one_node_flow()
    out = do(flow, start(flow).state, ops.Suspend("审计"), ROOT_ACTOR)
    assert logs(out.events) == [f"root{SUPER_NOTE} 挂起了单据，原因：审计"]
    assert notifies(out.events, "suspend")[0].users == frozenset({"alice", "bob"})


def test_a_receiving_candidate_may_suspend():
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]})
    out = do(flow, start(flow).state, ops.Suspend("等一下"), CAROL)
    assert out.state.steps[0].status == SUSPEND and out.state.steps[0].pre_status == RECEIVING


def test_unsuspend_restores_previous_statuses_exactly():
    flow = one_node_flow(distribute_type="DISTRIBUTE_THEN_CLAIM", processors={"type": "BY_ASSIGNOR"},
                         assignors={"type": "PERSON", "value": ["erin"]})
    state = start(flow).state
    assert state.steps[0].status == DISTRIBUTING
    suspended = do(flow, state, ops.Suspend("等"), ERIN).state
    out = do(flow, suspended, ops.Unsuspend("好了"), ERIN)
    assert out.state.status == RUNNING and out.state.pre_status is None
    assert out.state.steps == state.steps
    assert out.events[0] == Log("erin", "erin 恢复了单据，备注：好了", "UNSUSPEND")
    assert of(out.events, StepChanged) == [StepChanged(s) for s in state.steps]
    assert notifies(out.events) == [Notify("resume", frozenset({"alice"}), message="好了")]


def test_unsuspend_without_a_message_has_no_remark():
    flow = one_node_flow()
    suspended = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    out = do(flow, suspended, ops.Unsuspend(), BOB)
    assert logs(out.events) == ["bob 恢复了单据"]


def test_super_admin_unsuspends_with_the_note():
    flow = one_node_flow()
    suspended = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    out = do(flow, suspended, ops.Unsuspend(), ROOT_ACTOR)
    assert logs(out.events) == [f"root{SUPER_NOTE} 恢复了单据"]


def test_processing_continues_after_unsuspend():
    flow = one_node_flow()
    state = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    state = do(flow, state, ops.Unsuspend(), BOB).state
    assert do(flow, state, ops.Transition("work", {"work_result": "ok"}), BOB).state.status == FINISHED


def test_suspended_ticket_lists_only_ticket_operations():
    flow = one_node_flow(can_terminate=True, can_deliver=True)
    state = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    assert listed(flow, state, BOB) == {(None, "UNSUSPEND")}      # terminating waits for the resume
    assert listed(flow, state, ALICE) == {(None, "SUPERVISE")}      # bob acted: no withdraw
    for actor in (ALICE, BOB, CAROL, ROOT_ACTOR):
        check_allowed_agrees(flow, state, actor)


# --- WITHDRAW --------------------------------------------------------------------------


def test_creator_withdraws_a_ticket_nobody_else_touched():
    flow = one_node_flow()
    state = start(flow).state
    out = do(flow, state, ops.Withdraw("提错了"), ALICE)
    assert out.state.status == REVOKED and out.state.steps == ()
    assert out.events[0] == Log("alice", "alice 撤回了单据，备注：提错了", "WITHDRAW")
    assert of(out.events, StepClosed) == [StepClosed("work", TERMINATED, None)]
    assert [e.status for e in of(out.events, TicketEnded)] == [REVOKED]
    assert notifies(out.events) == [Notify("revoked", frozenset({"bob"}))]


def test_withdraw_without_message_has_no_remark():
    flow = one_node_flow()
    assert logs(do(flow, start(flow).state, ops.Withdraw(), ALICE).events) == ["alice 撤回了单据"]


def test_creator_may_still_withdraw_after_handling_own_steps():
    flow = two_node_flow(first=manual("first", processors={"type": "STARTER"}, fields=[]))
    state = do(flow, start(flow).state, ops.Transition("first"), ALICE).state
    assert state.others_acted is False
    assert do(flow, state, ops.Withdraw(), ALICE).state.status == REVOKED


def test_creator_may_withdraw_while_suspended_by_themself():
    flow = one_node_flow(processors={"type": "STARTER"})
    state = do(flow, start(flow).state, ops.Suspend("想想"), ALICE).state
    assert (None, "WITHDRAW") in listed(flow, state, ALICE)
    assert do(flow, state, ops.Withdraw(), ALICE).state.status == REVOKED


# --- SUPERVISE -------------------------------------------------------------------------


def test_creator_supervises_by_default_and_current_processors_are_notified():
    flow = one_node_flow(processors={"type": "PERSON", "value": ["bob", "carol"]})
    state = start(flow).state
    out = do(flow, state, ops.Supervise("请尽快"), ALICE)
    assert out.state == state
    assert out.events == (Log("alice", "alice 督办了节点【处理】的处理人：bob,carol，备注：请尽快", "SUPERVISE"),
                          Notify("supervise", frozenset({"bob", "carol"}), message="请尽快"))


def test_supervise_without_message_has_no_remark():
    flow = one_node_flow()
    out = do(flow, start(flow).state, ops.Supervise(), ALICE)
    assert logs(out.events) == ["alice 督办了节点【处理】的处理人：bob"]


def test_supervisors_come_from_the_notify_policy():
    flow = one_node_flow(notify={"supervise": True, "supervisors": [{"type": "GENERAL", "value": ["desk"]}]})
    state = start(flow).state
    assert supervisors(flow, state, DIRECTORY) == frozenset({"carol", "erin"})
    assert notifies(do(flow, state, ops.Supervise(), ERIN).events) == [Notify("supervise", frozenset({"bob"}))]


def test_super_admin_supervises_any_ticket():
    flow = one_node_flow()
    out = do(flow, start(flow).state, ops.Supervise(), ROOT_ACTOR)
    assert notifies(out.events, "supervise")[0].users == frozenset({"bob"})


def test_supervise_notifies_assignors_of_a_distributing_step():
    flow = one_node_flow(distribute_type="DISTRIBUTE_THEN_PROCESS", processors={"type": "BY_ASSIGNOR"},
                         assignors={"type": "GENERAL", "value": ["desk"]})
    out = do(flow, start(flow).state, ops.Supervise(), ALICE)
    assert notifies(out.events) == [Notify("supervise", frozenset({"carol", "erin"}))]


def test_supervise_does_not_count_as_acting():
    flow = one_node_flow(notify={"supervisors": [{"type": "PERSON", "value": ["dave"]}]})
    state = start(flow).state
    after = do(flow, state, ops.Supervise(), DAVE).state
    after = do(flow, after, ops.Supervise(), ROOT_ACTOR).state
    assert after.others_acted is False
    assert do(flow, after, ops.Withdraw(), ALICE).state.status == REVOKED


def test_supervise_is_allowed_while_suspended():
    flow = one_node_flow()
    state = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    out = do(flow, state, ops.Supervise(), ALICE)
    assert out.state == state
    assert notifies(out.events) == [Notify("supervise", frozenset({"bob"}))]


# --- acting and the others_acted flag --------------------------------------------------------


def test_any_accepted_operation_by_someone_else_marks_others_acted():
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]},
                         can_deliver=True)
    state = start(flow).state
    assert state.others_acted is False
    assert do(flow, state, ops.Claim("work"), BOB).state.others_acted is True
    assert do(flow, state, ops.Suspend("等"), BOB).state.others_acted is True
    assert do(flow, state, ops.Suspend("等"), ROOT_ACTOR).state.others_acted is True


def test_operations_by_the_creator_do_not_mark_others_acted():
    flow = one_node_flow(processors={"type": "STARTER"}, can_deliver=True)
    state = start(flow).state
    state = do(flow, state, ops.Suspend("等"), ALICE).state
    state = do(flow, state, ops.Unsuspend(), ALICE).state
    assert state.others_acted is False


def test_accepted_operations_never_mutate_their_input_state():
    flow = one_node_flow(can_deliver=True, can_terminate=True)
    state = start(flow).state
    before = snapshot(state)
    for op, actor in ((ops.Transition("work", {"work_result": "ok"}), BOB), (ops.Suspend("x"), BOB),
                      (ops.Deliver("work", "PERSON", ("dave",), "x"), BOB), (ops.TerminateStep("work", "x"), BOB),
                      (ops.TerminateTicket("x"), ROOT_ACTOR), (ops.Withdraw(), ALICE), (ops.Supervise(), ALICE)):
        do(flow, state, op, actor)
        assert snapshot(state) == before


def test_allowed_operations_of_a_fresh_process_ticket_per_actor():
    flow = one_node_flow(can_deliver=True, can_terminate=True)
    state = start(flow).state
    assert listed(flow, state, ALICE) == {(None, "WITHDRAW"), (None, "SUPERVISE")}
    assert listed(flow, state, BOB) == {(None, "SUSPEND"), (None, "TERMINATE"),
                                        ("work", "TRANSITION"), ("work", "DELIVER"), ("work", "TERMINATE")}
    assert listed(flow, state, MALLORY) == set()
    assert listed(flow, state, ROOT_ACTOR) == {(None, "SUSPEND"), (None, "SUPERVISE"), (None, "TERMINATE"),
                                               ("work", "TRANSITION"), ("work", "DELIVER"), ("work", "TERMINATE")}
    for actor in (ALICE, BOB, MALLORY, ROOT_ACTOR):
        check_allowed_agrees(flow, state, actor)


def test_allowed_operations_is_empty_on_an_over_ticket():
    from app.engine import allowed_operations

    flow = one_node_flow()
    for final in (do(flow, start(flow).state, ops.Transition("work", {"work_result": "ok"}), BOB).state,
                  do(flow, start(flow).state, ops.Withdraw(), ALICE).state,
                  do(flow, start(flow).state, ops.TerminateTicket("x"), ROOT_ACTOR).state):
        for actor in (ALICE, BOB, ROOT_ACTOR):
            assert allowed_operations(flow, final, actor, DIRECTORY) == ([], {})


def test_processor_may_not_terminate_a_suspended_ticket_until_it_is_resumed():
    # consistent with the step TERMINATE, which is refused while suspended too
    flow = one_node_flow(can_terminate=True)
    state = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    assert (None, "TERMINATE") not in listed(flow, state, BOB)
    assert_refused(flow, state, ops.TerminateTicket("不做了"), BOB, OperationRefused, "单据已挂起，请先恢复后再处理")
    resumed = do(flow, state, ops.Unsuspend(), BOB).state
    out = do(flow, resumed, ops.TerminateTicket("不做了"), BOB)
    assert out.state.status == TERMINATED and out.state.pre_status is None and out.state.steps == ()


def test_super_admin_may_terminate_a_suspended_ticket():
    flow = one_node_flow()
    state = do(flow, start(flow).state, ops.Suspend("等"), BOB).state
    assert do(flow, state, ops.TerminateTicket("清理"), ROOT_ACTOR).state.status == TERMINATED
