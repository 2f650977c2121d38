"""Processing modes (distribute_type) and processor types: how steps open and move.

Pure engine tests: no app, no database.
"""
from __future__ import annotations

from engine_kit import (ALICE, BOB, CAROL, DAVE, DIRECTORY, ERIN, MALLORY, ROOT_ACTOR, FakeDirectory,
                        assert_refused, build_flow, check_allowed_agrees, do, listed, logs, manual, notifies,
                        of, one_node_flow, radio, start)

from app.engine import operations as ops
from app.engine import open_step, resolve
from app.engine.state import (DISTRIBUTING, FINISHED, RECEIVING, RUNNING, Actor, Log, Notify, StepChanged,
                              StepClosed, StepOpened, TicketEnded)
from app.errors import OperationRefused, PermissionDenied
from app.flowdef import ProcessorSpec

# --- starting ------------------------------------------------------------------


def test_start_emits_flow_started_log_first():
    out = start(one_node_flow())
    first = out.events[0]
    assert isinstance(first, Log)
    assert first.message == "流程开始."
    assert first.operator == "alice" and first.action == "START" and first.node_key == "submit"


def test_start_submits_the_start_node_as_the_creator():
    out = start(one_node_flow(), values={"title": "磁盘满了"})
    assert logs(out.events)[1] == "alice 处理节点【提单】(提交)"
    closed = of(out.events, StepClosed)
    assert closed == [StepClosed("submit", FINISHED, "alice", {"title": "磁盘满了"})]
    assert out.state.values["title"] == "磁盘满了"
    assert out.state.creator == "alice"
    assert out.state.status == RUNNING
    assert out.state.others_acted is False


def test_start_event_order_is_log_log_closed_opened_notify():
    out = start(one_node_flow())
    kinds = [type(e).__name__ for e in out.events]
    assert kinds == ["Log", "Log", "StepClosed", "StepOpened", "Notify"]


def test_start_straight_to_an_end_finishes_the_ticket():
    flow = build_flow([manual("unused", processors={"type": "PERSON", "value": ["bob"]}, fields=[])],
                      [{"from": "submit", "to": "end", "name": "直接结束",
                        "when": {"field": "title", "value": "skip"}},
                       {"from": "submit", "to": "unused"}, {"from": "unused", "to": "end"}])
    out = start(flow, values={"title": "skip"})
    assert out.state.status == FINISHED
    assert out.state.steps == ()
    assert logs(out.events) == ["流程开始.", "alice 处理节点【提单】(直接结束)", "单据流程结束"]
    assert [e.status for e in of(out.events, TicketEnded)] == [FINISHED]
    assert notifies(out.events, "finished") == [Notify("finished", frozenset({"alice"}))]


def test_start_with_no_matching_transition_is_refused():
    flow = build_flow([manual("work", processors={"type": "PERSON", "value": ["bob"]}, fields=[])],
                      [{"from": "submit", "to": "work", "when": {"field": "title", "value": "x"}},
                       {"from": "work", "to": "end"}])
    try:
        start(flow, values={"title": "y"})
    except OperationRefused as exc:
        assert "没有满足条件的流转路径" in exc.message
    else:
        raise AssertionError("start_ticket accepted values no transition matches")


# --- PROCESS -----------------------------------------------------------------------


def test_process_step_opens_running_for_the_resolved_processors():
    out = start(one_node_flow(processors={"type": "PERSON", "value": ["bob", "carol"]}))
    (step,) = out.state.steps
    assert step.node_key == "work" and step.name == "处理"
    assert step.status == RUNNING
    assert step.processors_type == "PERSON" and step.processors == ("bob", "carol")
    assert step.users == frozenset({"bob", "carol"})
    assert of(out.events, StepOpened) == [StepOpened(step)]
    assert notifies(out.events) == [Notify("todo", frozenset({"bob", "carol"}), "work")]


def test_process_step_is_completed_by_any_one_processor():
    flow = one_node_flow(processors={"type": "PERSON", "value": ["bob", "carol"]})
    state = start(flow).state
    out = do(flow, state, ops.Transition("work", {"work_result": "ok"}), CAROL)
    assert out.state.status == FINISHED
    assert out.state.steps == ()
    assert "carol 处理节点【处理】(完成)" in logs(out.events)
    assert StepClosed("work", FINISHED, "carol", {"work_result": "ok"}) in out.events
    assert out.state.values["work_result"] == "ok"


def test_process_step_is_not_claimable_or_distributable():
    flow = one_node_flow()
    state = start(flow).state
    assert listed(flow, state, BOB) == {(None, "SUSPEND"), ("work", "TRANSITION")}
    check_allowed_agrees(flow, state, BOB)


# --- CLAIM_THEN_PROCESS ---------------------------------------------------------


def test_claim_then_process_opens_receiving_for_a_group():
    out = start(one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]}))
    (step,) = out.state.steps
    assert step.status == RECEIVING
    assert step.processors_type == "GENERAL" and step.processors == ("ops",)
    assert step.users == frozenset({"bob", "carol"})
    assert step.action_type == "CLAIM"
    assert notifies(out.events) == [Notify("claim", frozenset({"bob", "carol"}), "work")]


def test_claim_then_process_claim_makes_the_step_running_for_the_claimer_only():
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]})
    state = start(flow).state
    out = do(flow, state, ops.Claim("work"), CAROL)
    (step,) = out.state.steps
    assert step.status == RUNNING
    assert step.processors_type == "PERSON" and step.processors == ("carol",)
    assert step.users == frozenset({"carol"})
    assert logs(out.events) == ["carol 认领了节点【处理】"]
    assert of(out.events, StepChanged) == [StepChanged(step)]
    assert out.events[0].action == "CLAIM" and out.events[0].node_key == "work"
    # the other candidate lost the step
    assert_refused(flow, out.state, ops.Transition("work", {"work_result": "ok"}), BOB, PermissionDenied)
    assert do(flow, out.state, ops.Transition("work", {"work_result": "ok"}), CAROL).state.status == FINISHED


def test_claim_then_process_with_one_processor_skips_the_claim():
    out = start(one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["solo"]}))
    (step,) = out.state.steps
    assert step.status == RUNNING
    assert step.processors_type == "PERSON" and step.processors == ("dave",)
    assert step.users == frozenset({"dave"})
    assert notifies(out.events) == [Notify("todo", frozenset({"dave"}), "work")]


def test_claim_then_process_with_starter_skips_the_claim_for_the_creator():
    out = start(one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "STARTER"}))
    (step,) = out.state.steps
    assert step.status == RUNNING and step.processors_type == "PERSON"
    assert step.processors == ("alice",) and step.users == frozenset({"alice"})


def test_claim_then_process_with_a_single_duplicated_person_skips_the_claim():
    out = start(one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "PERSON", "value": ["bob", "bob"]}))
    assert out.state.steps[0].status == RUNNING
    assert out.state.steps[0].processors == ("bob",)


def test_claim_then_process_with_an_empty_role_opens_receiving_with_nobody():
    out = start(one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ghosts"]}))
    (step,) = out.state.steps
    assert step.status == RECEIVING and step.users == frozenset()


def test_super_admin_claims_a_step_outside_their_role_with_the_note():
    flow = one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]})
    out = do(flow, start(flow).state, ops.Claim("work"), ROOT_ACTOR)
    assert logs(out.events) == ["root（超级管理员特殊处理） 认领了节点【处理】"]
    assert out.state.steps[0].users == frozenset({"root"})


# --- DISTRIBUTE_THEN_PROCESS -------------------------------------------------------


def _dtp(**kw):
    kw.setdefault("assignors", {"type": "GENERAL", "value": ["desk"]})
    kw.setdefault("processors", {"type": "BY_ASSIGNOR"})
    return one_node_flow(distribute_type="DISTRIBUTE_THEN_PROCESS", **kw)


def test_distribute_then_process_opens_distributing_for_the_assignors():
    out = start(_dtp())
    (step,) = out.state.steps
    assert step.status == DISTRIBUTING
    assert step.users == frozenset({"carol", "erin"})
    assert step.processors_type == "GENERAL" and step.processors == ("desk",)
    assert step.action_type == "DISTRIBUTE"
    assert notifies(out.events) == [Notify("distribute", frozenset({"carol", "erin"}), "work")]


def test_distribute_then_process_without_explicit_processors_opens_distributing():
    flow = one_node_flow(distribute_type="DISTRIBUTE_THEN_PROCESS", processors=None,
                         assignors={"type": "PERSON", "value": ["erin"]})
    assert flow.node("work").processors is None
    (step,) = start(flow).state.steps
    assert step.status == DISTRIBUTING and step.users == frozenset({"erin"})


def test_distribute_then_process_with_starter_assignors_lets_the_creator_dispatch():
    (step,) = start(_dtp(assignors={"type": "STARTER"})).state.steps
    assert step.status == DISTRIBUTING
    assert step.processors_type == "STARTER" and step.processors == ("alice",)
    assert step.users == frozenset({"alice"})


def test_distribute_to_people_makes_the_step_running_for_them():
    flow = _dtp()
    state = start(flow).state
    out = do(flow, state, ops.Distribute("work", "PERSON", ("bob", "dave"), "请处理"), ERIN)
    (step,) = out.state.steps
    assert step.status == RUNNING
    assert step.processors_type == "PERSON" and step.processors == ("bob", "dave")
    assert step.users == frozenset({"bob", "dave"})
    assert logs(out.events) == ["erin 将节点【处理】派单给 bob,dave，备注：请处理"]
    assert out.events[0].action == "DISTRIBUTE"
    assert of(out.events, StepChanged) == [StepChanged(step)]
    assert notifies(out.events) == [Notify("distribute", frozenset({"bob", "dave"}), "work", "请处理")]


def test_distribute_to_a_general_role_makes_the_step_running_for_its_members():
    flow = _dtp()
    out = do(flow, start(flow).state, ops.Distribute("work", "GENERAL", ("ops",)), CAROL)
    (step,) = out.state.steps
    assert step.status == RUNNING
    assert step.processors_type == "GENERAL" and step.processors == ("ops",)
    assert step.users == frozenset({"bob", "carol"})
    assert logs(out.events) == ["carol 将节点【处理】派单给 ops"]


def test_distribute_then_process_even_one_person_is_running_not_claiming():
    flow = _dtp()
    out = do(flow, start(flow).state, ops.Distribute("work", "GENERAL", ("ops",)), CAROL)
    assert out.state.steps[0].status == RUNNING          # a group on DISTRIBUTE_THEN_PROCESS: no claim
    out = do(flow, start(flow).state, ops.Distribute("work", "PERSON", ("dave",)), CAROL)
    assert out.state.steps[0].status == RUNNING


def test_distributed_processors_complete_the_step_and_assignors_no_longer_can():
    flow = _dtp()
    state = do(flow, start(flow).state, ops.Distribute("work", "PERSON", ("dave",)), ERIN).state
    assert_refused(flow, state, ops.Transition("work", {"work_result": "ok"}), ERIN, PermissionDenied)
    assert do(flow, state, ops.Transition("work", {"work_result": "ok"}), DAVE).state.status == FINISHED


def test_distribute_to_an_empty_role_is_refused():
    flow = _dtp()
    state = start(flow).state
    assert_refused(flow, state, ops.Distribute("work", "GENERAL", ("ghosts",)), ERIN, OperationRefused,
                   "指定的处理人为空或角色下没有成员，请重新选择")


# --- DISTRIBUTE_THEN_CLAIM ---------------------------------------------------------


def _dtc(**kw):
    kw.setdefault("assignors", {"type": "PERSON", "value": ["erin"]})
    kw.setdefault("processors", {"type": "BY_ASSIGNOR"})
    return one_node_flow(distribute_type="DISTRIBUTE_THEN_CLAIM", **kw)


def test_distribute_then_claim_opens_distributing_for_the_assignors():
    out = start(_dtc())
    (step,) = out.state.steps
    assert step.status == DISTRIBUTING and step.users == frozenset({"erin"})
    assert step.processors_type == "PERSON" and step.processors == ("erin",)
    assert notifies(out.events) == [Notify("distribute", frozenset({"erin"}), "work")]


def test_distribute_then_claim_to_a_group_opens_receiving():
    flow = _dtc()
    out = do(flow, start(flow).state, ops.Distribute("work", "GENERAL", ("ops",), "认领一下"), ERIN)
    (step,) = out.state.steps
    assert step.status == RECEIVING
    assert step.processors_type == "GENERAL" and step.processors == ("ops",)
    assert step.users == frozenset({"bob", "carol"})
    assert notifies(out.events) == [Notify("claim", frozenset({"bob", "carol"}), "work", "认领一下")]
    assert logs(out.events) == ["erin 将节点【处理】派单给 ops，备注：认领一下"]


def test_distribute_then_claim_to_one_person_skips_the_claim():
    flow = _dtc()
    out = do(flow, start(flow).state, ops.Distribute("work", "PERSON", ("dave",)), ERIN)
    (step,) = out.state.steps
    assert step.status == RUNNING
    assert step.processors_type == "PERSON" and step.processors == ("dave",)
    assert step.users == frozenset({"dave"})
    assert notifies(out.events) == [Notify("distribute", frozenset({"dave"}), "work", "")]


def test_distribute_then_claim_to_a_one_member_role_skips_the_claim_as_person():
    flow = _dtc()
    out = do(flow, start(flow).state, ops.Distribute("work", "GENERAL", ("solo",)), ERIN)
    (step,) = out.state.steps
    assert step.status == RUNNING
    assert step.processors_type == "PERSON" and step.processors == ("dave",)


def test_distribute_then_claim_full_cycle_distribute_claim_process():
    flow = _dtc()
    state = start(flow).state
    state = do(flow, state, ops.Distribute("work", "PERSON", ("bob", "carol")), ERIN).state
    assert state.steps[0].status == RECEIVING
    state = do(flow, state, ops.Claim("work"), BOB).state
    assert state.steps[0].status == RUNNING and state.steps[0].users == frozenset({"bob"})
    out = do(flow, state, ops.Transition("work", {"work_result": "ok"}), BOB)
    assert out.state.status == FINISHED


# --- processor types ---------------------------------------------------------------


def test_person_processors_resolve_to_the_listed_usernames():
    assert resolve(ProcessorSpec(type="PERSON", value=("bob", "dave")), "alice", DIRECTORY) == {"bob", "dave"}


def test_general_processors_resolve_through_the_directory():
    directory = FakeDirectory()
    (step,) = start(one_node_flow(processors={"type": "GENERAL", "value": ["ops", "solo"]}), directory=directory).state.steps
    assert step.users == frozenset({"bob", "carol", "dave"})
    assert step.processors_type == "GENERAL" and step.processors == ("ops", "solo")
    assert ("GENERAL", ("ops", "solo")) in directory.calls


def test_cmdb_processors_resolve_through_the_directory_as_cmdb_roles():
    directory = FakeDirectory()
    flow = one_node_flow(processors={"type": "CMDB", "value": ["biz_ops"]}, biz_related=True)
    (step,) = start(flow, directory=directory).state.steps
    assert step.processors_type == "CMDB" and step.processors == ("biz_ops",)
    assert step.users == frozenset({"erin", "dave"})
    assert ("CMDB", ("biz_ops",)) in directory.calls


def test_starter_processors_are_the_creator():
    (step,) = start(one_node_flow(processors={"type": "STARTER"}), creator="dave").state.steps
    assert step.processors_type == "STARTER" and step.processors == ("dave",)
    assert step.users == frozenset({"dave"})


def test_starter_step_is_processed_by_the_creator_only():
    flow = one_node_flow(processors={"type": "STARTER"})
    state = start(flow).state
    assert_refused(flow, state, ops.Transition("work", {"work_result": "ok"}), BOB, PermissionDenied)
    out = do(flow, state, ops.Transition("work", {"work_result": "ok"}), ALICE)
    assert out.state.status == FINISHED
    assert out.state.others_acted is False


def _open_start_flow():
    start_node = {"key": "submit", "name": "提单", "kind": "start", "processors": {"type": "OPEN"},
                  "fields": [{"key": "title", "name": "标题", "type": "STRING"}]}
    return build_flow([manual("work", name="处理", processors={"type": "PERSON", "value": ["bob"]})],
                      [{"from": "submit", "to": "work", "name": "提交"},
                       {"from": "work", "to": "end", "name": "完成", "when": {"field": "work_result", "value": "ok"}},
                       {"from": "work", "to": "submit", "name": "退回", "when": {"field": "work_result", "value": "back"}}],
                      start=start_node)


def test_open_start_step_reopened_by_a_back_edge_is_open_to_anyone():
    flow = _open_start_flow()
    state = do(flow, start(flow).state, ops.Transition("work", {"work_result": "back"}), BOB).state
    (step,) = state.steps
    assert step.node_key == "submit" and step.kind == "start"
    assert step.processors_type == "OPEN" and step.is_open_to_anyone
    assert step.users == frozenset()
    out = do(flow, state, ops.Transition("submit", {"title": "改好了"}), MALLORY)
    assert logs(out.events)[0] == "mallory 处理节点【提单】(提交)"        # no super-admin note: anyone may
    assert out.state.steps[0].node_key == "work"


def test_default_start_step_reopened_by_a_back_edge_belongs_to_the_creator():
    flow = one_node_flow()
    state = do(flow, start(flow).state, ops.Transition("work", {"work_result": "back"}), BOB).state
    (step,) = state.steps
    assert step.node_key == "submit" and step.status == RUNNING
    assert step.processors_type == "STARTER" and step.users == frozenset({"alice"})
    assert_refused(flow, state, ops.Transition("submit", {"title": "x"}), BOB, PermissionDenied)
    assert do(flow, state, ops.Transition("submit", {"title": "x"}), ALICE).state.steps[0].node_key == "work"


def test_by_assignor_processors_are_set_by_the_dispatcher():
    flow = _dtp(processors={"type": "BY_ASSIGNOR"})
    assert resolve(flow.node("work").processors, "alice", DIRECTORY) == frozenset()
    state = do(flow, start(flow).state, ops.Distribute("work", "PERSON", ("mallory",)), ERIN).state
    assert state.steps[0].users == frozenset({"mallory"})
    assert do(flow, state, ops.Transition("work", {"work_result": "ok"}), MALLORY).state.status == FINISHED


def test_open_step_reports_the_notifications_it_sends():
    flow = one_node_flow(processors={"type": "STARTER"})
    step, notes = open_step(flow, flow.node("work"), "erin", DIRECTORY)
    assert step.users == frozenset({"erin"}) and notes == [Notify("todo", frozenset({"erin"}), "work")]


# --- multi-node walks ---------------------------------------------------------------


def test_transition_closes_the_step_and_opens_the_next_node():
    flow = build_flow([manual("a", name="甲", processors={"type": "PERSON", "value": ["bob"]}, fields=[]),
                       manual("b", name="乙", distribute_type="CLAIM_THEN_PROCESS",
                              processors={"type": "GENERAL", "value": ["desk"]}, fields=[])],
                      [{"from": "submit", "to": "a"}, {"from": "a", "to": "b", "name": "通过"}, {"from": "b", "to": "end"}])
    state = start(flow).state
    out = do(flow, state, ops.Transition("a", {}), BOB)
    assert [type(e).__name__ for e in out.events] == ["Log", "StepClosed", "StepOpened", "Notify"]
    assert logs(out.events) == ["bob 处理节点【甲】(通过)"]
    (step,) = out.state.steps
    assert step.node_key == "b" and step.status == RECEIVING
    assert out.state.others_acted is True


def test_transition_without_a_name_logs_submit():
    flow = build_flow([manual("a", name="甲", processors={"type": "PERSON", "value": ["bob"]}, fields=[])],
                      [{"from": "submit", "to": "a"}, {"from": "a", "to": "end"}])
    out = do(flow, start(flow).state, ops.Transition("a"), BOB)
    assert logs(out.events)[0] == "bob 处理节点【甲】(提交)"
    assert "单据流程结束" in logs(out.events)


def test_first_matching_conditional_transition_wins_over_later_ones_and_the_default():
    flow = build_flow([manual("a", processors={"type": "PERSON", "value": ["bob"]},
                              fields=[radio("r", "x", "y", "z")]),
                       manual("b1", processors={"type": "PERSON", "value": ["bob"]}, fields=[]),
                       manual("b2", processors={"type": "PERSON", "value": ["bob"]}, fields=[])],
                      [{"from": "submit", "to": "a"},
                       {"from": "a", "to": "end"},                                            # default first in file
                       {"from": "a", "to": "b1", "when": {"field": "r", "op": "in", "value": ["x", "y"]}},
                       {"from": "a", "to": "b2", "when": {"field": "r", "value": "x"}},
                       {"from": "b1", "to": "end"}, {"from": "b2", "to": "end"}])
    state = start(flow).state
    assert do(flow, state, ops.Transition("a", {"r": "x"}), BOB).state.steps[0].node_key == "b1"
    assert do(flow, state, ops.Transition("a", {"r": "y"}), BOB).state.steps[0].node_key == "b1"
    assert do(flow, state, ops.Transition("a", {"r": "z"}), BOB).state.status == FINISHED


def test_transition_conditions_see_values_from_earlier_nodes():
    flow = build_flow([manual("a", processors={"type": "PERSON", "value": ["bob"]}, fields=[]),
                       manual("b", processors={"type": "PERSON", "value": ["bob"]}, fields=[])],
                      [{"from": "submit", "to": "a"},
                       {"from": "a", "to": "b", "when": {"field": "title", "value": "long"}},
                       {"from": "a", "to": "end"}, {"from": "b", "to": "end"}])
    assert do(flow, start(flow, values={"title": "long"}).state, ops.Transition("a"), BOB).state.steps[0].node_key == "b"
    assert do(flow, start(flow, values={"title": "short"}).state, ops.Transition("a"), BOB).state.status == FINISHED


def test_self_loop_reopens_the_same_node_once():
    flow = build_flow([manual("a", processors={"type": "PERSON", "value": ["bob"]}, fields=[radio("again", "y", "n")])],
                      [{"from": "submit", "to": "a"},
                       {"from": "a", "to": "a", "name": "再来", "when": {"field": "again", "value": "y"}},
                       {"from": "a", "to": "end"}])
    out = do(flow, start(flow).state, ops.Transition("a", {"again": "y"}), BOB)
    assert [s.node_key for s in out.state.steps] == ["a"]
    assert [type(e).__name__ for e in out.events] == ["Log", "StepClosed", "StepOpened", "Notify"]


def test_action_type_follows_the_status_and_survives_a_suspend():
    flow = _dtc()
    state = start(flow).state
    assert state.steps[0].action_type == "DISTRIBUTE"
    suspended = do(flow, state, ops.Suspend("等待"), ERIN).state
    assert suspended.steps[0].action_type == "DISTRIBUTE"


def test_every_mode_allowed_operations_agree_with_apply_for_every_actor():
    flows = [one_node_flow(), _dtp(), _dtc(can_deliver=True, can_terminate=True),
             one_node_flow(distribute_type="CLAIM_THEN_PROCESS", processors={"type": "GENERAL", "value": ["ops"]},
                           can_terminate=True)]
    for flow in flows:
        state = start(flow).state
        for actor in (ALICE, BOB, CAROL, DAVE, ERIN, MALLORY, ROOT_ACTOR, Actor("bob", is_superuser=True)):
            check_allowed_agrees(flow, state, actor)


def test_reaching_an_end_reports_whether_that_end_counts_as_approved():
    flow = build_flow([manual("work", processors={"type": "PERSON", "value": ["bob"]}, fields=[radio("r", "yes", "no")]),
                       ],
                      [{"from": "submit", "to": "work"},
                       {"from": "work", "to": "end", "when": {"field": "r", "value": "yes"}},
                       {"from": "work", "to": "end_no", "when": {"field": "r", "value": "no"}}],
                      extra_nodes=[{"key": "end_no", "name": "不通过", "kind": "end", "approve_result": False}])
    state = start(flow).state
    (yes,) = of(do(flow, state, ops.Transition("work", {"r": "yes"}), BOB).events, TicketEnded)
    (no,) = of(do(flow, state, ops.Transition("work", {"r": "no"}), BOB).events, TicketEnded)
    assert (yes.status, yes.approved) == (FINISHED, True)
    assert (no.status, no.approved) == (FINISHED, False)
