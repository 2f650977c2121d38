"""Eight callers on one step at the same moment: exactly one wins, and the ticket shows only what it did.

Each test runs ROUNDS rounds; a round is a fresh ticket at the step, then 8 callers released at once.
"""
import pytest
from race_kit import (
    assert_no_ended_ticket_has_open_steps,
    facts_of,
    race,
    the_one_winner,
)

ROUNDS = 20
ENTRY_POINTS = pytest.mark.parametrize("entry", ["api", "web"])

REQUESTER, IMPLEMENTER = "race_requester", "race_impl"
APPROVERS = [f"race_approver{i}" for i in range(8)]
TEAM = [f"race_member{i}" for i in range(8)]
DISPATCHERS = [f"race_dispatcher{i}" for i in range(8)]
TARGETS = [f"race_target{i}" for i in range(8)]        # one per caller: the winner's choice is recognizable

APPROVAL = """
key: race_approval
name: 并发审批
service_type: request
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true}]}
  - key: approve
    name: 审批
    kind: manual
    processors: {type: GENERAL, value: [race_approvers]}
    fields:
      - {key: result, name: 审批结果, type: RADIO, required: true,
         choices: [{key: agree, name: 同意}, {key: reject, name: 驳回}]}
  - {key: implement, name: 实施, kind: manual, processors: {type: PERSON, value: [race_impl]}}
  - {key: end, name: 结束, kind: end}
  - {key: rejected, name: 审批不通过, kind: end, approve_result: false}
transitions:
  - {from: submit, to: approve, name: 提交}
  - {from: approve, to: implement, name: 同意, when: {field: result, op: "==", value: agree}}
  - {from: approve, to: rejected, name: 驳回, when: {field: result, op: "==", value: reject}}
  - {from: implement, to: end, name: 完成}
"""

CLAIMING = """
key: race_claim
name: 并发认领
service_type: event
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true}]}
  - key: handle
    name: 处理
    kind: manual
    distribute_type: CLAIM_THEN_PROCESS
    processors: {type: GENERAL, value: [race_team]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: end}
"""

DISPATCHING = """
key: race_distribute
name: 并发派单
service_type: event
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true}]}
  - key: handle
    name: 派单处理
    kind: manual
    distribute_type: DISTRIBUTE_THEN_PROCESS
    assignors: {type: GENERAL, value: [race_dispatchers]}
    processors: {type: BY_ASSIGNOR}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: end}
"""

DELIVERING = """
key: race_deliver
name: 并发转单
service_type: event
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true}]}
  - key: handle
    name: 处理
    kind: manual
    processors: {type: GENERAL, value: [race_team]}
    can_deliver: true
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: end}
"""


@ENTRY_POINTS
def test_eight_concurrent_approvals_have_exactly_one_winner(door, demo, make_service):
    service = make_service(APPROVAL, roles={"race_approvers": APPROVERS}, users=(REQUESTER, IMPLEMENTER))
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"approval race {n}")

        outcomes = race([door.transition(a, ticket, "approve", {"result": "agree"}) for a in APPROVERS])

        facts = facts_of(demo, ticket.id)
        winner = the_one_winner(outcomes, n, facts)
        approvals = facts.logs_of("TRANSITION", "approve")
        assert [lg.operator for lg in approvals] == [winner.who], \
            f"round {n}: expected one 「同意」 log line, by {winner.who}:\n{facts}"
        assert len(facts.steps_at("implement")) == 1, f"round {n}: the next step was not opened exactly once:\n{facts}"
        assert facts.step_at("approve").status == "FINISHED" and facts.status == "RUNNING", f"round {n}:\n{facts}"
        assert [s.node_key for s in facts.open_steps] == ["implement"], f"round {n}:\n{facts}"
        assert_no_ended_ticket_has_open_steps(demo, n)


@ENTRY_POINTS
def test_eight_members_claiming_one_step_have_exactly_one_winner(door, demo, make_service):
    service = make_service(CLAIMING, roles={"race_team": TEAM}, users=(REQUESTER,))
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"claim race {n}")
        assert facts_of(demo, ticket.id).step_at("handle").status == "RECEIVING"

        outcomes = race([door.claim(m, ticket, "handle") for m in TEAM])

        facts = facts_of(demo, ticket.id)
        winner = the_one_winner(outcomes, n, facts)
        assert [lg.operator for lg in facts.logs_of("CLAIM", "handle")] == [winner.who], \
            f"round {n}: expected one claim log line, by {winner.who}:\n{facts}"
        step = facts.step_at("handle")
        assert (step.status, step.processors, step.users) == ("RUNNING", winner.who, (winner.who,)), \
            f"round {n}: the step should be RUNNING for {winner.who} alone:\n{facts}"
        assert facts.waiting == {step.id: {winner.who}}, f"round {n}: to-do index {facts.waiting}\n{facts}"
        assert_no_ended_ticket_has_open_steps(demo, n)


@ENTRY_POINTS
def test_eight_assignors_dispatching_one_step_have_exactly_one_winner(door, demo, make_service):
    service = make_service(DISPATCHING, roles={"race_dispatchers": DISPATCHERS}, users=(REQUESTER, *TARGETS))
    target_of = dict(zip(DISPATCHERS, TARGETS))
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"dispatch race {n}")
        assert facts_of(demo, ticket.id).step_at("handle").status == "DISTRIBUTING"

        outcomes = race([door.distribute(d, ticket, "handle", target_of[d]) for d in DISPATCHERS])

        facts = facts_of(demo, ticket.id)
        winner = the_one_winner(outcomes, n, facts)
        chosen = target_of[winner.who]
        assert [lg.operator for lg in facts.logs_of("DISTRIBUTE", "handle")] == [winner.who], \
            f"round {n}: expected one dispatch log line, by {winner.who}:\n{facts}"
        step = facts.step_at("handle")
        assert (step.status, step.processors, step.users) == ("RUNNING", chosen, (chosen,)), \
            f"round {n}: the step should be RUNNING for {chosen} alone (the winner's choice):\n{facts}"
        assert facts.waiting == {step.id: {chosen}}, f"round {n}: to-do index {facts.waiting}\n{facts}"
        assert_no_ended_ticket_has_open_steps(demo, n)


@ENTRY_POINTS
def test_eight_processors_transferring_one_step_have_exactly_one_winner(door, demo, make_service):
    service = make_service(DELIVERING, roles={"race_team": TEAM}, users=(REQUESTER, *TARGETS))
    target_of = dict(zip(TEAM, TARGETS))
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"transfer race {n}")

        outcomes = race([door.deliver(m, ticket, "handle", target_of[m], reason=f"交给 {target_of[m]}")
                         for m in TEAM])

        facts = facts_of(demo, ticket.id)
        winner = the_one_winner(outcomes, n, facts)
        chosen = target_of[winner.who]
        assert [lg.operator for lg in facts.logs_of("DELIVER", "handle")] == [winner.who], \
            f"round {n}: expected one transfer log line, by {winner.who}:\n{facts}"
        step = facts.step_at("handle")
        assert (step.status, step.processors, step.users) == ("RUNNING", chosen, (chosen,)), \
            f"round {n}: the step should be RUNNING for {chosen} alone (the winner's choice):\n{facts}"
        assert facts.waiting == {step.id: {chosen}}, f"round {n}: to-do index {facts.waiting}\n{facts}"
        assert_no_ended_ticket_has_open_steps(demo, n)


@ENTRY_POINTS
def test_four_agreeing_and_four_rejecting_at_once_leave_only_the_winners_decision(door, demo, make_service):
    service = make_service(APPROVAL, roles={"race_approvers": APPROVERS}, users=(REQUESTER, IMPLEMENTER))
    decision_of = {a: ("agree" if i < 4 else "reject") for i, a in enumerate(APPROVERS)}
    line_name = {"agree": "(同意)", "reject": "(驳回)"}          # the transition's name in the log line
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"agree or reject {n}")

        outcomes = race([door.transition(a, ticket, "approve", {"result": decision_of[a]}) for a in APPROVERS])

        facts = facts_of(demo, ticket.id)
        winner = the_one_winner(outcomes, n, facts)
        decided = decision_of[winner.who]
        other = "reject" if decided == "agree" else "agree"
        approvals = facts.logs_of("TRANSITION", "approve")
        assert [(lg.operator, line_name[decided] in lg.message) for lg in approvals] == [(winner.who, True)], \
            f"round {n}: expected one log line, {winner.who}'s {decided}:\n{facts}"
        assert not [lg for lg in facts.logs if line_name[other] in lg.message], \
            f"round {n}: the losing decision ({other}) left a log line:\n{facts}"
        assert facts.values["result"] == decided and facts.step_at("approve").data == {"result": decided}, \
            f"round {n}: the ticket holds another decision than the winner's ({decided}):\n{facts}"
        if decided == "agree":
            assert facts.status == "RUNNING" and len(facts.steps_at("implement")) == 1, \
                f"round {n}: agreed, so the ticket should wait at 实施 (opened once):\n{facts}"
            assert [s.node_key for s in facts.open_steps] == ["implement"], f"round {n}:\n{facts}"
        else:
            assert (facts.status, facts.approve_result) == ("FINISHED", False), \
                f"round {n}: rejected, so the ticket should be finished as not approved:\n{facts}"
            assert not facts.steps_at("implement") and not facts.open_steps, \
                f"round {n}: rejected, yet a step is open or 实施 was opened:\n{facts}"
        assert_no_ended_ticket_has_open_steps(demo, n)
