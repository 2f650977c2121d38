"""Approvals decided at the same moment: a countersign counts every approver once and finishes once;
on an or-sign, agree racing reject has exactly one winner. Over HTTP, API and web, both databases."""
import pytest
from race_kit import assert_no_ended_ticket_has_open_steps, describe, facts_of, race, the_one_winner
from sqlalchemy import select

from app.extensions import db
from app.models import TicketStep

ROUNDS = 10
ENTRY_POINTS = pytest.mark.parametrize("entry", ["api", "web"])

REQUESTER, IMPLEMENTER = "race_requester", "race_impl"
APPROVERS = [f"race_signer{i}" for i in range(8)]


def _flow(key: str, multi: bool) -> str:
    return f"""
key: {key}
name: 并发审批节点
service_type: change
nodes:
  - {{key: submit, name: 提单, kind: start, fields: [{{key: title, name: 标题, type: STRING, required: true}}]}}
  - key: cab
    name: CAB 评审
    kind: approval
    processors: {{type: PERSON, value: [{", ".join(APPROVERS)}]}}
    multi: {str(multi).lower()}
  - {{key: implement, name: 实施, kind: manual, processors: {{type: PERSON, value: [race_impl]}}}}
  - {{key: end, name: 结束, kind: end}}
  - {{key: rejected, name: 审批不通过, kind: end, approve_result: false}}
transitions:
  - {{from: submit, to: cab}}
  - {{from: cab, to: implement, name: 通过, when: {{field: cab_result, value: "true"}}}}
  - {{from: cab, to: rejected, name: 拒绝, when: {{field: cab_result, value: "false"}}}}
  - {{from: implement, to: end}}
"""


def _votes(app, ticket_id: int) -> list[str]:
    with app.app_context():
        try:
            sign = db.session.execute(select(TicketStep.approval).where(
                TicketStep.ticket_id == ticket_id, TicketStep.node_key == "cab")).scalar_one()
            return [v["username"] for v in sign["votes"]]
        finally:
            db.session.remove()


@ENTRY_POINTS
def test_eight_approvers_of_one_countersign_deciding_at_once_are_each_counted_once(door, demo, make_service):
    service = make_service(_flow("race_countersign", True), users=(REQUESTER, IMPLEMENTER, *APPROVERS))
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"countersign race {n}")

        outcomes = race([door.transition(a, ticket, "cab", {"cab_result": "true"}) for a in APPROVERS])

        facts = facts_of(demo, ticket.id)
        assert all(o.ok for o in outcomes), f"round {n}: every approver's vote should count:{describe(outcomes)}\n{facts}"
        assert sorted(_votes(demo, ticket.id)) == sorted(APPROVERS), f"round {n}: votes\n{facts}"
        votes = [lg.operator for lg in facts.logs_of("TRANSITION", "cab") if "审批节点" in lg.message]
        assert sorted(votes) == sorted(APPROVERS), f"round {n}: one vote log line per approver:\n{facts}"
        ends = [lg for lg in facts.logs if "会签结束" in lg.message]
        assert len(ends) == 1 and "同意 8 人，不同意 0 人，共 8 人" in ends[0].message, f"round {n}: finished once:\n{facts}"
        assert len(facts.steps_at("implement")) == 1, f"round {n}: the next step opened once:\n{facts}"
        assert facts.step_at("cab").status == "FINISHED" and facts.approve_result is True, f"round {n}:\n{facts}"
        assert facts.waiting == {facts.step_at("implement").id: {IMPLEMENTER}}, f"round {n}: {facts.waiting}"
        assert_no_ended_ticket_has_open_steps(demo, n)


@ENTRY_POINTS
def test_agree_racing_reject_on_an_or_sign_has_exactly_one_decision(door, demo, make_service):
    service = make_service(_flow("race_orsign", False), users=(REQUESTER, IMPLEMENTER, *APPROVERS))
    decision_of = {a: ("true" if i % 2 == 0 else "false") for i, a in enumerate(APPROVERS)}
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"or-sign race {n}")

        outcomes = race([door.transition(a, ticket, "cab", {"cab_result": decision_of[a]}) for a in APPROVERS])

        facts = facts_of(demo, ticket.id)
        winner = the_one_winner(outcomes, n, facts)
        decided = decision_of[winner.who]
        assert _votes(demo, ticket.id) == [winner.who], f"round {n}: one vote, the winner's:\n{facts}"
        lines = facts.logs_of("TRANSITION", "cab")
        word = "通过" if decided == "true" else "拒绝"
        assert [(lg.operator, f"：{word}" in lg.message) for lg in lines] == [(winner.who, True)], \
            f"round {n}: one log line, {winner.who}'s {word}:\n{facts}"
        assert facts.values["cab_result"] == decided, f"round {n}:\n{facts}"
        if decided == "true":
            assert len(facts.steps_at("implement")) == 1 and facts.status == "RUNNING", f"round {n}:\n{facts}"
        else:
            assert facts.status == "FINISHED" and facts.approve_result is False, f"round {n}:\n{facts}"
        assert_no_ended_ticket_has_open_steps(demo, n)
