"""Details of what the engine records that no other engine test pinned down (found by mutation testing).

Pure engine tests: no app, no database. See "Mutation testing" in docs/architecture.md.
"""
from __future__ import annotations

import pytest
from engine_kit import BOB, CAROL, DIRECTORY, ROOT_ACTOR, build_flow, do, manual, of, one_node_flow, start

from app.engine import operations as ops
from app.engine import supervisors
from app.engine.state import (FAILED, RECEIVING, RUNNING, SUSPEND, SUSPENDED, TERMINATED, WAIT, Log, Step,
                              TicketState, action_type_of)
from app.errors import OperationRefused


def test_a_steps_action_type_is_automatic_or_what_its_status_waits_for():
    assert action_type_of("api", RUNNING) == action_type_of("automation", FAILED) == "AUTOMATIC"
    assert action_type_of("manual", RECEIVING) == "CLAIM"
    assert action_type_of("manual", SUSPEND, RECEIVING) == "CLAIM"          # suspended: what it waited for before
    for status in (RUNNING, WAIT, FAILED, SUSPEND):                           # everything else is processed
        assert action_type_of("manual", status) == "TRANSITION"
    assert Step("n", "n", RUNNING, "PERSON", kind="api").action_type == "AUTOMATIC"


def test_supervisors_are_everyone_every_listed_spec_names():
    flow = one_node_flow(notify={"supervise": True, "supervisors": [{"type": "PERSON", "value": ["dave"]},
                                                                    {"type": "GENERAL", "value": ["desk"]}]})
    assert supervisors(flow, start(flow).state, DIRECTORY) == frozenset({"dave", "carol", "erin"})


def test_the_claim_log_names_the_claimer_as_operator():
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]})
    outcome = do(flow, start(flow).state, ops.Claim("work"), BOB)
    (log,) = of(outcome.events, Log)
    assert (log.operator, log.action, log.node_key) == ("bob", "CLAIM", "work")


def test_terminating_a_suspended_ticket_leaves_no_status_to_resume_to():
    flow = one_node_flow(can_terminate=True)
    suspended = do(flow, start(flow).state, ops.Suspend("等待"), BOB).state
    assert suspended.pre_status == RUNNING
    ended = do(flow, suspended, ops.TerminateTicket("不做了"), ROOT_ACTOR).state
    assert (ended.status, ended.pre_status, ended.steps) == (TERMINATED, None, ())


def test_resuming_a_suspended_ticket_with_no_recorded_status_makes_it_running():
    """A row suspended before pre_status was kept resumes as RUNNING, not as nothing."""
    flow = one_node_flow()
    running = start(flow).state
    step = running.steps[0].with_(status=SUSPEND, pre_status=RUNNING)
    legacy = TicketState(status=SUSPENDED, creator=running.creator, values=running.values, steps=(step,))
    resumed = do(flow, legacy, ops.Unsuspend(), BOB).state
    assert resumed.status == RUNNING and resumed.steps[0].status == RUNNING


def test_the_processing_log_names_operator_action_and_node():
    flow = one_node_flow()
    outcome = do(flow, start(flow).state, ops.Transition("work", {"work_result": "ok"}), BOB)
    (log,) = [e for e in of(outcome.events, Log) if e.node_key == "work"]
    assert (log.operator, log.action, log.message) == ("bob", "TRANSITION", "bob 处理节点【处理】(完成)")


def test_values_that_match_no_outgoing_transition_are_refused_with_what_to_do():
    flow = build_flow([manual("work", processors={"type": "PERSON", "value": ["bob"]}, fields=[])],
                      [{"from": "submit", "to": "work"},
                       {"from": "work", "to": "end", "when": {"field": "title", "value": "go"}}])
    state = start(flow).state
    with pytest.raises(OperationRefused) as refused:
        do(flow, state, ops.Transition("work", {}), BOB)
    assert refused.value.message == "没有满足条件的流转路径，请检查填写的内容"


def test_processing_a_step_still_waiting_for_a_claim_or_a_dispatch_says_what_comes_first():
    claim = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]})
    with pytest.raises(OperationRefused) as refused:
        do(claim, start(claim).state, ops.Transition("work", {"work_result": "ok"}), BOB)
    assert refused.value.message == "该节点待认领，请先认领"
    dispatch = one_node_flow(distribute_type="DISTRIBUTE_THEN_PROCESS", assignors={"type": "PERSON", "value": ["bob"]})
    with pytest.raises(OperationRefused) as refused:
        do(dispatch, start(dispatch).state, ops.Transition("work", {"work_result": "ok"}), BOB)
    assert refused.value.message == "该节点待派单，请先派单"


def test_dispatching_to_a_one_member_role_for_claiming_gives_the_step_to_that_person():
    flow = one_node_flow(distribute_type="DISTRIBUTE_THEN_CLAIM", assignors={"type": "GENERAL", "value": ["desk"]})
    state = start(flow).state
    assert state.steps[0].processors_type == "GENERAL"
    outcome = do(flow, state, ops.Distribute("work", "GENERAL", ("solo",)), CAROL)
    (step,) = outcome.state.steps
    assert (step.status, step.processors_type, step.processors) == (RUNNING, "PERSON", ("dave",))
    (log,) = of(outcome.events, Log)
    assert (log.operator, log.action, log.node_key) == ("carol", "DISTRIBUTE", "work")


def test_claiming_a_step_someone_is_already_processing_says_so():
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]})
    claimed = do(flow, start(flow).state, ops.Claim("work"), BOB).state
    with pytest.raises(OperationRefused) as refused:
        do(flow, claimed, ops.Claim("work"), ROOT_ACTOR)
    assert refused.value.message == "该节点已在处理中"


def test_acting_on_a_node_with_no_open_step_or_on_a_suspended_ticket_says_why():
    flow = one_node_flow()
    state = start(flow).state
    with pytest.raises(OperationRefused) as refused:
        do(flow, state, ops.Transition("submit", {}), BOB)
    assert refused.value.message == "该节点当前不可处理"
    suspended = do(flow, state, ops.Suspend("等待"), BOB).state
    with pytest.raises(OperationRefused) as refused:
        do(flow, suspended, ops.Transition("work", {"work_result": "ok"}), BOB)
    assert refused.value.message == "单据已挂起，请先恢复后再处理"
