"""Automatic (api / automation) steps in the pure engine: run by the system, failed, retried, skipped.

Pure engine tests: no app, no database. The scheduler's side (HTTP calls, retries in time) is in
tests/automation; here only what the engine decides.
"""
from __future__ import annotations

from engine_kit import (ALICE, BOB, CAROL, MALLORY, ROOT_ACTOR, assert_refused, build_flow, check_allowed_agrees,
                        do, logs, manual, notifies, of, start)

from app.engine import operations as ops
from app.engine.state import (FAILED, FINISHED, RUNNING, SUSPEND, SUSPENDED, SYSTEM, Actor, Log, StepChanged,
                              StepClosed, StepOpened, TicketEnded)
from app.errors import OperationRefused, PermissionDenied

SYSTEM_ACTOR = Actor(SYSTEM)


def _api(key="create", name="创建账号", processors=None):
    node = {"key": key, "name": name, "kind": "api", "api": "idm.create_account",
            "fields": [{"key": "account_id", "name": "账号 ID", "type": "STRING"}]}
    if processors is not None:
        node["processors"] = processors
    return node


def auto_flow(processors=None):
    """submit → create (api) → note (automation) → end, with a manual branch when the api says 'manual'."""
    note = {"key": "note", "name": "记录结果", "kind": "automation", "plugin": "set_fields",
            "params": {"fields": {"result_note": "done"}}}
    return build_flow(
        [_api(processors=processors), note,
         manual("fix", processors={"type": "GENERAL", "value": ["desk"]}, fields=[])],
        [{"from": "submit", "to": "create"},
         {"from": "create", "to": "fix", "name": "人工处理", "when": {"field": "account_id", "value": "manual"}},
         {"from": "create", "to": "note"},
         {"from": "note", "to": "end", "name": "结单"},
         {"from": "fix", "to": "end"}])


OPS_TEAM = {"type": "PERSON", "value": ["bob"]}


def test_entering_an_api_node_opens_a_running_automatic_step_and_notifies_nobody():
    outcome = start(auto_flow(OPS_TEAM))
    (step,) = outcome.state.steps
    assert (step.node_key, step.status, step.processors_type, step.kind) == ("create", RUNNING, "AUTOMATIC", "api")
    assert step.processors == ("bob",) and step.users == frozenset({"bob"})
    assert [e.step.node_key for e in of(outcome.events, StepOpened)] == ["create"]
    assert notifies(outcome.events) == []


def test_an_automatic_step_without_processors_has_nobody_to_retry_it():
    (step,) = start(auto_flow()).state.steps
    assert step.processors == () and step.users == frozenset()


def test_the_system_completing_a_step_keeps_its_values_and_enters_the_next_node():
    flow = auto_flow(OPS_TEAM)
    state = start(flow).state
    outcome = do(flow, state, ops.CompleteAutomatic("create", {"account_id": "ID-1"}), SYSTEM_ACTOR)
    assert outcome.state.values["account_id"] == "ID-1"
    assert [s.node_key for s in outcome.state.steps] == ["note"] and outcome.state.steps[0].kind == "automation"
    assert logs(outcome.events)[0] == "系统执行节点【创建账号】成功(完成)"
    (log,) = [e for e in outcome.events if isinstance(e, Log) and e.node_key == "create"]
    assert (log.operator, log.action) == (SYSTEM, "TRANSITION")
    (closed,) = of(outcome.events, StepClosed)
    assert (closed.node_key, closed.status, closed.by, dict(closed.values)) == ("create", FINISHED, SYSTEM,
                                                                                {"account_id": "ID-1"})
    assert outcome.state.others_acted            # the system is not the creator: withdraw is over
    ended = do(flow, outcome.state, ops.CompleteAutomatic("note", {"result_note": "x"}), SYSTEM_ACTOR)
    assert "系统执行节点【记录结果】成功(结单)" in logs(ended.events)
    assert of(ended.events, TicketEnded) == [TicketEnded(FINISHED, approved=True)]


def test_the_values_an_automatic_step_produced_choose_its_outgoing_transition():
    flow = auto_flow(OPS_TEAM)
    outcome = do(flow, start(flow).state, ops.CompleteAutomatic("create", {"account_id": "manual"}), SYSTEM_ACTOR)
    assert [(s.node_key, s.users) for s in outcome.state.steps] == [("fix", frozenset({"carol", "erin"}))]
    assert logs(outcome.events)[0] == "系统执行节点【创建账号】成功(人工处理)"


def test_only_the_system_reports_an_automatic_result():
    flow = auto_flow(OPS_TEAM)
    state = start(flow).state
    for actor in (ALICE, BOB, ROOT_ACTOR):
        for op in (ops.CompleteAutomatic("create"), ops.FailAutomatic("create", "boom")):
            error = assert_refused(flow, state, op, actor, PermissionDenied, check_listed=False)
            assert error.message == "自动节点的结果只能由系统回报"


def test_the_system_cannot_report_on_a_step_that_is_not_a_running_automatic_one():
    flow = auto_flow(OPS_TEAM)
    state = start(flow).state
    manual_state = do(flow, state, ops.CompleteAutomatic("create", {"account_id": "manual"}), SYSTEM_ACTOR).state
    failed = do(flow, state, ops.FailAutomatic("create", "boom"), SYSTEM_ACTOR).state
    for st, node_key in ((manual_state, "fix"), (state, "note"), (failed, "create")):
        error = assert_refused(flow, st, ops.CompleteAutomatic(node_key), SYSTEM_ACTOR, OperationRefused,
                               check_listed=False)
        assert error.message == "该自动节点当前不在执行中"


def test_a_suspended_ticket_takes_no_automatic_result():
    flow = auto_flow(OPS_TEAM)
    suspended = do(flow, start(flow).state, ops.Suspend("维护窗口"), BOB).state
    assert suspended.status == SUSPENDED and suspended.steps[0].status == SUSPEND
    assert_refused(flow, suspended, ops.CompleteAutomatic("create"), SYSTEM_ACTOR, OperationRefused,
                   check_listed=False)
    resumed = do(flow, suspended, ops.Unsuspend(), BOB).state
    assert resumed.steps[0].status == RUNNING
    assert do(flow, resumed, ops.CompleteAutomatic("create"), SYSTEM_ACTOR).state.steps[0].node_key == "note"


def test_a_failed_attempt_with_retries_left_only_logs_when_it_runs_again():
    flow = auto_flow(OPS_TEAM)
    state = start(flow).state
    outcome = do(flow, state, ops.FailAutomatic("create", "HTTP 500", final=False, retry_in=30), SYSTEM_ACTOR)
    assert outcome.state.steps == state.steps and outcome.state.status == state.status
    (log,) = outcome.events
    assert log == Log(SYSTEM, "节点【创建账号】执行失败，30 秒后自动重试。", "AUTO_FAIL", "create")   # no detail


def test_the_final_failure_marks_the_step_failed_and_tells_its_processors():
    flow = auto_flow(OPS_TEAM)
    outcome = do(flow, start(flow).state, ops.FailAutomatic("create", "HTTP 500"), SYSTEM_ACTOR)
    (step,) = outcome.state.steps
    assert step.status == FAILED and outcome.state.status == RUNNING
    assert outcome.events[0] == Log(SYSTEM, "节点【创建账号】执行失败，已通知处理人重试或跳过。", "AUTO_FAIL", "create")
    assert [e.step.status for e in of(outcome.events, StepChanged)] == [FAILED]
    (notice,) = notifies(outcome.events, "failed")
    assert (notice.users, notice.node_key, notice.message) == (frozenset({"bob"}), "create", "HTTP 500")


def _failed(flow):
    return do(flow, start(flow).state, ops.FailAutomatic("create", "boom"), SYSTEM_ACTOR).state


def test_a_processor_retries_a_failed_step_and_it_runs_again():
    flow = auto_flow(OPS_TEAM)
    outcome = do(flow, _failed(flow), ops.RetryStep("create"), BOB)
    (step,) = outcome.state.steps
    assert step.status == RUNNING and step.node_key == "create"
    assert outcome.events[0] == Log("bob", "bob 重试了节点【创建账号】", "RETRY", "create")
    assert [e.step.status for e in of(outcome.events, StepChanged)] == [RUNNING]


def test_a_super_admin_retrying_someone_elses_step_is_marked_in_the_log():
    flow = auto_flow(OPS_TEAM)
    outcome = do(flow, _failed(flow), ops.RetryStep("create"), ROOT_ACTOR)
    assert logs(outcome.events) == ["root（超级管理员特殊处理） 重试了节点【创建账号】"]


def test_a_processor_skips_a_failed_step_and_the_flow_goes_on_without_its_values():
    flow = auto_flow(OPS_TEAM)
    outcome = do(flow, _failed(flow), ops.SkipStep("create", "手工开通了"), BOB)
    assert [s.node_key for s in outcome.state.steps] == ["note"] and "account_id" not in outcome.state.values
    (log,) = [e for e in outcome.events if isinstance(e, Log) and e.node_key == "create"]
    assert log == Log("bob", "bob 跳过了执行失败的节点【创建账号】，备注：手工开通了", "SKIP", "create")
    (closed,) = of(outcome.events, StepClosed)
    assert (closed.status, closed.by, dict(closed.values)) == (FINISHED, "bob", {})


def test_a_skip_without_a_note_logs_no_note_and_a_super_admin_is_marked():
    flow = auto_flow(OPS_TEAM)
    outcome = do(flow, _failed(flow), ops.SkipStep("create"), ROOT_ACTOR)
    assert logs(outcome.events)[0] == "root（超级管理员特殊处理） 跳过了执行失败的节点【创建账号】"


def test_nobody_else_retries_or_skips_and_a_running_step_cannot_be():
    flow = auto_flow(OPS_TEAM)
    failed = _failed(flow)
    for op in (ops.RetryStep("create"), ops.SkipStep("create")):
        for actor in (ALICE, CAROL, MALLORY, SYSTEM_ACTOR):
            assert_refused(flow, failed, op, actor, PermissionDenied, "你没有重试或跳过节点【创建账号】的权限")
        error = assert_refused(flow, start(flow).state, op, BOB, OperationRefused)
        assert error.message == "只有执行失败的自动节点可以重试或跳过"
    manual_state = do(flow, start(flow).state, ops.CompleteAutomatic("create", {"account_id": "manual"}),
                      SYSTEM_ACTOR).state
    assert_refused(flow, manual_state, ops.RetryStep("fix"), CAROL, OperationRefused,
                   "只有执行失败的自动节点可以重试或跳过")


def test_people_cannot_process_an_automatic_step_by_hand():
    flow = auto_flow(OPS_TEAM)
    state = start(flow).state
    for op in (ops.Transition("create", {}), ops.Claim("create"), ops.Distribute("create", "PERSON", ("bob",)),
               ops.Deliver("create", "PERSON", ("carol",), "换人")):
        assert_refused(flow, state, op, BOB, OperationRefused, "自动节点由系统执行，不能手动处理")
        assert_refused(flow, state, op, ROOT_ACTOR, OperationRefused, "自动节点由系统执行，不能手动处理")


def test_allowed_operations_agree_with_apply_on_running_and_failed_automatic_steps():
    flow = auto_flow(OPS_TEAM)
    for state in (start(flow).state, _failed(flow)):
        for actor in (ALICE, BOB, CAROL, MALLORY, ROOT_ACTOR):
            check_allowed_agrees(flow, state, actor)


def test_skipping_into_a_role_step_opens_it_for_the_roles_members():
    flow = build_flow([_api(processors=OPS_TEAM), manual("fix", processors={"type": "GENERAL", "value": ["desk"]},
                                                         fields=[])],
                      [{"from": "submit", "to": "create"}, {"from": "create", "to": "fix"},
                       {"from": "fix", "to": "end"}])
    outcome = do(flow, _failed(flow), ops.SkipStep("create"), BOB)
    assert [(s.node_key, s.users) for s in outcome.state.steps] == [("fix", frozenset({"carol", "erin"}))]
