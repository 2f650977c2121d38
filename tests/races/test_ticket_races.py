"""A ticket operation (suspend, withdraw, terminate) racing the approval of the current step: one of them applies.

Four approvers submit 「同意」 while four callers suspend, withdraw (the requester) or terminate the
ticket, all at once. Whichever wins, the others are refused, and the ticket shows only the winner's
operation: an approval opens 实施 once; a suspend leaves the step suspended and nothing approved; a
withdraw or terminate ends the ticket with no step left open.
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
ENDS_AS = {"WITHDRAW": "REVOKED", "TERMINATE": "TERMINATED"}

APPROVAL = """
key: race_ticket_ops
name: 并发单据操作
service_type: change
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true}]}
  - key: approve
    name: 审批
    kind: manual
    processors: {type: GENERAL, value: [race_approvers]}
    can_terminate: true
    fields:
      - {key: result, name: 审批结果, type: RADIO, required: true, choices: [{key: agree, name: 同意}]}
  - {key: implement, name: 实施, kind: manual, processors: {type: PERSON, value: [race_impl]}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: approve, name: 提交}
  - {from: approve, to: implement, name: 同意}
  - {from: implement, to: end, name: 完成}
"""


@ENTRY_POINTS
@pytest.mark.parametrize("action", ["SUSPEND", "WITHDRAW", "TERMINATE"])
def test_a_ticket_action_racing_an_approval_has_exactly_one_winner(door, demo, make_service, action):
    service = make_service(APPROVAL, roles={"race_approvers": APPROVERS}, users=(REQUESTER, IMPLEMENTER))
    # approvers 0-3 approve; approvers 4-7 suspend or terminate; withdrawing is the requester's (4 callers too)
    actors = [REQUESTER] * 4 if action == "WITHDRAW" else APPROVERS[4:]
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"{action.lower()} or approve {n}")
        approving = [door.transition(a, ticket, "approve", {"result": "agree"}) for a in APPROVERS[:4]]
        acting = [door.ticket_action(who, ticket, action, reason=f"{action} race {n}") for who in actors]

        outcomes = race([c for pair in zip(approving, acting) for c in pair])

        facts = facts_of(demo, ticket.id)
        winner = the_one_winner(outcomes, n, facts)
        approvals, actions = facts.logs_of("TRANSITION", "approve"), facts.logs_of(action)
        if winner.action == action:
            assert [lg.operator for lg in actions] == [winner.who] and not approvals, \
                f"round {n}: {action} won, so one {action} log line and no approval were expected:\n{facts}"
            assert not facts.steps_at("implement"), f"round {n}: {action} won, yet 实施 was opened:\n{facts}"
            approve = facts.step_at("approve")
            if action == "SUSPEND":
                assert facts.status == "SUSPENDED" and (approve.is_open, approve.status, approve.pre_status) \
                    == (True, "SUSPEND", "RUNNING"), f"round {n}: the ticket should wait, suspended, at 审批:\n{facts}"
            else:
                assert facts.status == ENDS_AS[action] and approve.status == "TERMINATED", f"round {n}:\n{facts}"
                assert not facts.open_steps, f"round {n}: {action} won, yet steps are open:\n{facts}"
        else:
            assert [lg.operator for lg in approvals] == [winner.who] and not actions, \
                f"round {n}: the approval won, so one 「同意」 log line and no {action} were expected:\n{facts}"
            assert facts.status == "RUNNING" and len(facts.steps_at("implement")) == 1, \
                f"round {n}: the approval won, so the ticket should run at 实施 (opened once):\n{facts}"
            assert [(s.node_key, s.status) for s in facts.open_steps] == [("implement", "RUNNING")], \
                f"round {n}: only 实施 should be open, and running:\n{facts}"
        assert_no_ended_ticket_has_open_steps(demo, n)
