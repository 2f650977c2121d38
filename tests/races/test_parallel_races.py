"""Two parallel branches operated at the same moment by their own processors: each branch closes once,
the converge fires exactly once and the next step opens once. Over HTTP, API and web, both databases."""
import pytest
from race_kit import assert_no_ended_ticket_has_open_steps, describe, facts_of, race

ROUNDS = 10
ENTRY_POINTS = pytest.mark.parametrize("entry", ["api", "web"])

REQUESTER, SECURITY, DBA, IMPLEMENTER = "par_requester", "par_security", "par_dba", "par_impl"

FLOW = """
key: race_parallel
name: 并发并行分支
service_type: change
nodes:
  - {key: submit, name: 提单, kind: start, fields: [{key: title, name: 标题, type: STRING, required: true}]}
  - {key: fork, name: 专项评审, kind: parallel}
  - {key: security, name: 安全评审, kind: manual, processors: {type: PERSON, value: [par_security]}}
  - {key: dba, name: DBA 评审, kind: manual, processors: {type: PERSON, value: [par_dba]}}
  - {key: join, name: 评审汇聚, kind: converge}
  - {key: implement, name: 实施, kind: manual, processors: {type: PERSON, value: [par_impl]}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: fork}
  - {from: fork, to: security}
  - {from: fork, to: dba}
  - {from: security, to: join}
  - {from: dba, to: join}
  - {from: join, to: implement}
  - {from: implement, to: end}
"""


@ENTRY_POINTS
def test_both_branches_finishing_at_once_join_exactly_once(door, demo, make_service):
    service = make_service(FLOW, users=(REQUESTER, SECURITY, DBA, IMPLEMENTER))
    for n in range(ROUNDS):
        ticket = door.create(service, REQUESTER, title=f"parallel race {n}")

        outcomes = race([door.transition(SECURITY, ticket, "security", {}),
                         door.transition(DBA, ticket, "dba", {})])

        facts = facts_of(demo, ticket.id)
        assert all(o.ok for o in outcomes), f"round {n}: both branches should close:{describe(outcomes)}\n{facts}"
        for node in ("security", "dba"):
            assert [s.status for s in facts.steps_at(node)] == ["FINISHED"], f"round {n}: {node} once\n{facts}"
        joined = [lg for lg in facts.logs if "所有分支已汇聚" in lg.message]
        assert len(joined) == 1, f"round {n}: the converge fires once:\n{facts}"
        assert len(facts.steps_at("implement")) == 1, f"round {n}: the next step opened once:\n{facts}"
        assert facts.waiting == {facts.step_at("implement").id: {IMPLEMENTER}}, f"round {n}: {facts.waiting}"
        assert_no_ended_ticket_has_open_steps(demo, n)
