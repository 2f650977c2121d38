"""Approval nodes in the engine: or-sign, countersign (finish conditions, sequential), their outcome and logs.

Pure engine tests: no app, no database.
"""
from __future__ import annotations

import math

import pytest
from engine_kit import (ALICE, BOB, CAROL, DAVE, DIRECTORY, ROOT_ACTOR, approval_flow, assert_refused, build_flow,
                        check_allowed_agrees, decide, do, logs, of, start)
from hypothesis import given, settings
from hypothesis import strategies as st

from app.engine import operations as ops
from app.engine.state import FINISHED, RUNNING, ApprovalDecided, Actor, StepClosed, TicketEnded
from app.errors import OperationRefused, PermissionDenied

APPROVERS = ("bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan")


# --- or-sign -------------------------------------------------------------------------------------

def test_or_sign_first_decision_settles_the_node_and_logs_the_approver():
    flow = approval_flow()
    state = start(flow).state
    assert state.steps[0].users == {"bob", "carol", "dave"}
    out = decide(flow, state, CAROL, "true", "同意上线")
    assert out.state.status == FINISHED
    assert logs(out.events)[0] == "carol 审批节点【CAB 评审】：通过，备注：同意上线(通过)"
    assert of(out.events, ApprovalDecided) == [ApprovalDecided("cab", True, ("carol",))]
    assert of(out.events, TicketEnded)[0].approved is True
    assert out.state.values["cab_result"] == "true" and out.state.values["cab_remark"] == "同意上线"


def test_or_sign_rejection_follows_the_false_transition_and_the_ticket_is_not_approved():
    flow = approval_flow()
    out = decide(flow, start(flow).state, BOB, "false", "风险太高")
    assert logs(out.events)[0] == "bob 审批节点【CAB 评审】：拒绝，备注：风险太高(拒绝)"
    assert of(out.events, TicketEnded)[0].approved is False


def test_a_decision_other_than_true_or_false_is_refused_and_changes_nothing():
    flow = approval_flow()
    state = start(flow).state
    with pytest.raises(OperationRefused, match="请选择审批意见"):
        decide(flow, state, BOB, "maybe")
    assert state.steps[0].votes == ()


def test_or_sign_is_refused_to_someone_who_is_not_an_approver():
    flow = approval_flow()
    state = start(flow).state
    assert_refused(flow, state, ops.Transition("cab", {"cab_result": "true"}), Actor("mallory"), PermissionDenied,
                   "你不是节点【CAB 评审】的处理人，无法操作")


def test_an_approval_reached_through_a_rejection_does_not_leave_the_ticket_approved_at_a_plain_end():
    flow = build_flow(
        [{"key": "cab", "name": "审批", "kind": "approval", "processors": {"type": "PERSON", "value": ["bob"]}}],
        [{"from": "submit", "to": "cab"}, {"from": "cab", "to": "end"}])
    out = decide(flow, start(flow).state, BOB, "false")
    assert of(out.events, TicketEnded)[0].approved is False


# --- countersign ---------------------------------------------------------------------------------

def test_countersign_waits_for_every_approver_and_shows_who_is_still_pending():
    flow = approval_flow(multi=True)
    state = start(flow).state
    out = decide(flow, state, BOB, "true")
    step = out.state.step("cab")
    assert out.state.status == RUNNING and step.users == {"carol", "dave"}
    assert [v.username for v in step.votes] == ["bob"]
    out = decide(flow, out.state, DAVE, "true", "ok")
    out = decide(flow, out.state, CAROL, "true")
    assert out.state.status == FINISHED
    assert logs(out.events)[:2] == ["carol 审批节点【CAB 评审】：通过",
                                    "节点【CAB 评审】会签结束：通过（同意 3 人，不同意 0 人，共 3 人）(通过)"]
    assert of(out.events, ApprovalDecided)[0].deciders == ("bob", "dave", "carol")
    assert out.state.values["cab_remark"] == "dave：ok"


def test_countersign_all_agree_ends_rejected_at_the_first_rejection():
    flow = approval_flow(multi=True)
    out = decide(flow, start(flow).state, CAROL, "false", "不同意")
    assert out.state.status == FINISHED
    assert of(out.events, ApprovalDecided)[0].approved is False
    assert of(out.events, StepClosed)[0].values["cab_result"] == "false"


def test_countersign_at_least_two_agree_passes_on_the_second_agreement():
    flow = approval_flow(multi=True, agree=2)
    out = decide(flow, start(flow).state, BOB, "false")
    assert out.state.status == RUNNING
    out = decide(flow, out.state, CAROL, "true")
    assert out.state.status == RUNNING
    out = decide(flow, out.state, DAVE, "true")
    assert of(out.events, ApprovalDecided)[0].approved is True


def test_countersign_percentage_rejects_once_it_can_no_longer_pass():
    flow = approval_flow(multi=True, agree="60%")       # 3 approvers: 2 must agree
    out = decide(flow, start(flow).state, BOB, "false")
    assert out.state.status == RUNNING
    out = decide(flow, out.state, DAVE, "false")
    assert out.state.status == FINISHED and of(out.events, ApprovalDecided)[0].approved is False


def test_an_approver_decides_a_countersign_once():
    flow = approval_flow(multi=True)
    state = decide(flow, start(flow).state, BOB, "true").state
    assert_refused(flow, state, ops.Transition("cab", {"cab_result": "true"}), BOB, OperationRefused,
                   "你已审批过节点【CAB 评审】")


def test_a_super_admin_who_is_not_an_approver_cannot_vote_on_a_countersign():
    flow = approval_flow(multi=True)
    assert_refused(flow, start(flow).state, ops.Transition("cab", {"cab_result": "true"}), ROOT_ACTOR,
                   PermissionDenied, "你不是节点【CAB 评审】的待审批人，无法操作")


def test_sequential_countersign_asks_the_approvers_in_the_listed_order():
    flow = approval_flow(multi=True, sequential=True, approvers=("dave", "bob", "carol"))
    state = start(flow).state
    assert state.step("cab").users == {"dave"}
    assert_refused(flow, state, ops.Transition("cab", {"cab_result": "true"}), BOB, OperationRefused,
                   "节点【CAB 评审】按顺序会签，还未轮到你审批")
    out = decide(flow, state, DAVE, "true")
    assert out.state.step("cab").users == {"bob"}
    assert [n.users for n in out.events if type(n).__name__ == "Notify"] == [{"bob"}]


def test_extra_fields_of_an_approval_node_are_kept_with_each_vote_and_on_the_ticket():
    flow = approval_flow(multi=True, extra=[{"key": "risk_note", "name": "风险说明", "type": "TEXT"}])
    out = decide(flow, start(flow).state, BOB, "true", risk_note="低")
    assert out.state.step("cab").votes[0].values == {"risk_note": "低"}
    out = decide(flow, out.state, CAROL, "true")
    out = decide(flow, out.state, DAVE, "true")
    assert out.state.values["risk_note"] == "低"


def test_allowed_operations_agree_with_apply_on_a_countersign():
    flow = approval_flow(multi=True)
    state = decide(flow, start(flow).state, BOB, "true").state
    for actor in (ALICE, BOB, CAROL, DAVE, ROOT_ACTOR):
        check_allowed_agrees(flow, state, actor)


# --- property: a countersign's outcome is its finish condition applied to the decisions ------------

def _needed(agree, n: int) -> int:
    if agree is None or agree == "all":
        need = n
    elif isinstance(agree, int):
        need = agree
    else:
        need = math.ceil(n * int(agree[:-1]) / 100)
    return max(1, min(need, n))


@settings(max_examples=200, deadline=None, database=None)
@given(n=st.integers(1, 8), agree=st.one_of(st.none(), st.just("all"), st.integers(1, 10),
                                            st.integers(1, 100).map(lambda p: f"{p}%")),
       sequential=st.booleans(), data=st.data())
def test_countersign_outcome_equals_the_finish_condition_applied_to_the_decisions(n, agree, sequential, data):
    approvers = APPROVERS[:n]
    flow = approval_flow(multi=True, sequential=sequential, agree=agree, approvers=approvers)
    state = start(flow).state
    order = list(approvers) if sequential else data.draw(st.permutations(approvers))
    results = data.draw(st.lists(st.sampled_from(["true", "false"]), min_size=n, max_size=n))
    need = _needed(agree, n)
    decided, agree_count, reject_count = None, 0, 0
    for who, result in zip(order, results):
        if decided is not None:
            # the node is over: nobody's decision is accepted any more
            with pytest.raises((OperationRefused, PermissionDenied)):
                decide(flow, state, Actor(who), result)
            continue
        out = decide(flow, state, Actor(who), result)
        agree_count += result == "true"
        reject_count += result == "false"
        expected = "true" if agree_count >= need else "false" if n - reject_count < need else None
        state = out.state
        found = of(out.events, ApprovalDecided)
        if expected is None:
            assert state.status == RUNNING and not found
            assert state.step("cab").users.isdisjoint({v.username for v in state.step("cab").votes})
        else:
            assert [d.approved for d in found] == [expected == "true"]
            assert state.status == FINISHED and state.values["cab_result"] == expected
            decided = expected
    assert decided is not None          # every approver decided: the node always settles


# --- approvers chosen per ticket -------------------------------------------------------------------

def _variable_flow(multi=True, sequential=False):
    start_node = {"key": "submit", "name": "提单", "kind": "start",
                  "fields": [{"key": "title", "name": "标题", "type": "STRING"},
                             {"key": "approvers", "name": "审批人", "type": "MEMBERS", "required": True}]}
    node = {"key": "cab", "name": "CAB 评审", "kind": "approval", "multi": multi,
            "processors": {"type": "VARIABLE", "value": ["approvers"]}}
    if sequential:
        node["sequential"] = True
    return build_flow([node], [{"from": "submit", "to": "cab"},
                               {"from": "cab", "to": "end", "when": {"field": "cab_result", "value": "true"}},
                               {"from": "cab", "to": "submit", "when": {"field": "cab_result", "value": "false"}}],
                      start=start_node)


def test_variable_approvers_are_the_people_picked_in_an_earlier_field_in_their_order():
    flow = _variable_flow(sequential=True)
    state = start(flow, values={"title": "t", "approvers": ["dave", "bob"]}).state
    step = state.step("cab")
    assert step.approvers == ("dave", "bob") and step.users == {"dave"}
    assert (step.processors_type, step.processors) == ("PERSON", ("dave", "bob"))


def test_processors_assigned_at_creation_replace_the_nodes_own():
    flow = approval_flow(multi=True)
    state = start_ticket_assigned(flow, {"cab": ("erin", "carol")})
    assert state.step("cab").approvers == ("erin", "carol") and state.step("cab").users == {"erin", "carol"}
    out = decide(flow, state, CAROL, "true")
    assert out.state.step("cab").users == {"erin"}


def start_ticket_assigned(flow, assigned):
    from app.engine import start_ticket

    return start_ticket(flow, "alice", {"title": "t"}, DIRECTORY, assigned=assigned).state


# --- leaders and departments ----------------------------------------------------------------------

class OrgDirectory(type(DIRECTORY)):
    """The fake directory plus departments, leaders and who submitted earlier steps."""

    def __init__(self):
        super().__init__()
        self.leaders = {"alice": "bob", "carol": "dave"}
        self.departments = {"ops": {"carol", "erin"}}
        self.handled = {"work": "carol"}

    def leaders_of(self, usernames):
        return frozenset(self.leaders[u] for u in usernames if u in self.leaders)

    def department_members(self, departments):
        return frozenset(u for d in departments for u in self.departments.get(d, ()))

    def step_processor(self, node_key):
        return self.handled.get(node_key)


@pytest.mark.parametrize("spec, expected", [
    ({"type": "STARTER_LEADER"}, {"bob"}),
    ({"type": "ASSIGN_LEADER", "value": ["work"]}, {"dave"}),
    ({"type": "ORGANIZATION", "value": ["ops"]}, {"carol", "erin"}),
])
def test_leader_and_department_processors_resolve_through_the_directory(spec, expected):
    flow = build_flow(
        [{"key": "work", "name": "处理", "kind": "manual", "processors": {"type": "PERSON", "value": ["carol"]}},
         {"key": "cab", "name": "审批", "kind": "approval", "processors": spec}],
        [{"from": "submit", "to": "work"}, {"from": "work", "to": "cab"}, {"from": "cab", "to": "end"}])
    directory = OrgDirectory()
    state = start(flow, directory=directory).state
    state = do(flow, state, ops.Transition("work", {}), CAROL, directory).state
    assert state.step("cab").users == expected


# --- upstream's node variables ---------------------------------------------------------------------

def test_a_decided_countersign_leaves_upstreams_variables_for_later_conditions():
    flow = approval_flow(multi=True, agree=2)
    state = start(flow).state
    state = decide(flow, state, BOB, "false", "不行").state
    state = decide(flow, state, CAROL, "true").state
    assert "cab_pass_count" not in state.values                      # still open: nothing decided yet
    out = decide(flow, state, DAVE, "false")
    assert {k: out.state.values[k] for k in flow.definition.node("cab").approval_variables().values()} == {
        "cab_result": "false", "cab_approver": "bob,carol,dave", "cab_process_count": 3, "cab_pass_count": 1,
        "cab_reject_count": 2, "cab_pass_rate": 33.33, "cab_reject_rate": 66.67}


def test_an_or_sign_counts_its_one_decision():
    flow = approval_flow()
    out = decide(flow, start(flow).state, DAVE, "true")
    values = out.state.values
    assert (values["cab_approver"], values["cab_process_count"], values["cab_pass_count"], values["cab_reject_count"],
            values["cab_pass_rate"], values["cab_reject_rate"]) == ("dave", 1, 1, 0, 100, 0)


def test_a_transition_may_read_a_countersigns_reject_count():
    flow = build_flow(
        [{"key": "cab", "name": "CAB", "kind": "approval", "processors": {"type": "PERSON", "value": ["bob", "carol"]},
          "multi": True}],
        [{"from": "submit", "to": "cab", "name": "提交"},
         {"from": "cab", "to": "rejected", "name": "驳回", "when": {"field": "cab_reject_count", "op": ">=", "value": 1}},
         {"from": "cab", "to": "end", "name": "通过", "when": {"field": "cab_pass_rate", "op": ">=", "value": 100}}],
        extra_nodes=[{"key": "rejected", "name": "驳回", "kind": "end", "approve_result": False}])
    out = decide(flow, start(flow).state, BOB, "false")
    assert any(line.endswith("(驳回)") for line in logs(out.events)) and of(out.events, TicketEnded)[0].approved is False
    state = decide(flow, start(flow).state, BOB, "true").state
    out = decide(flow, state, CAROL, "true")
    assert any(line.endswith("(通过)") for line in logs(out.events)) and of(out.events, TicketEnded)[0].approved is True
