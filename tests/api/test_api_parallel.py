"""Parallel branches through the BlueKing API: the demo change flow to its end (CAB countersign, security ∥ DBA
review), ROUTER-P/COVERAGE in get_workflow_detail, every open branch in current_steps, and statement counts that
do not grow with the number of branches. Both databases."""
from sqlalchemy import select

from app.extensions import db
from app.models import Service
from tests.statement_counter import StatementCounter

CHANGE = dict(title="订单库加索引", change_type="normal", risk="medium", window="2030-01-05 22:00:00",
              duration_minutes=60, plan="<p>在线加索引</p>", rollback_plan="删除索引",
              security_impact="yes", db_change="yes")


def fields(**values):
    return [{"key": k, "value": v} for k, v in values.items()]


def service_id(app, key: str) -> int:
    with app.app_context():
        return db.session.execute(select(Service.id).where(Service.key == key)).scalar_one()


def current(api, sn, operator="admin"):
    return {s["name"]: s for s in api("get_ticket_status", sn=sn, operator=operator)["data"]["current_steps"]}


def operate(api, sn, step, who, **values):
    r = api("operate_node", username=who, sn=sn, operator=who, state_id=step["state_id"], action_type="TRANSITION",
            fields=fields(**values))
    assert r["result"], r
    return r


def test_the_change_flow_runs_to_its_end_with_the_cab_countersign_and_both_reviews_in_parallel(api, demo):
    sid = service_id(demo, "change_normal")
    detail = api("get_workflow_detail", workflow_id=api("get_service_detail", service_id=sid)["data"]["workflow_id"])
    types = {s["key"]: s["type"] for s in detail["data"]["states"]}
    assert types["review_fork"] == "ROUTER-P" and types["review_join"] == "COVERAGE" and types["cab_review"] == "APPROVAL"

    sn = api("create_ticket", username="bob", service_id=sid, creator="bob", fields=fields(**CHANGE))["data"]["sn"]
    operate(api, sn, current(api, sn)["变更经理审批"], "cm", cm_result="agree")
    operate(api, sn, current(api, sn)["CAB 评审"], "cab1", cab_review_result="true", cab_review_remark="可控")
    assert current(api, sn)["CAB 评审"]["pending_approvers"] == "cab2"
    operate(api, sn, current(api, sn)["CAB 评审"], "cab2", cab_review_result="true")

    steps = current(api, sn)
    assert sorted(steps) == ["DBA 评审", "安全评审"]              # both branches open at once
    assert steps["安全评审"]["processors"] == "eng1" and steps["DBA 评审"]["processors"] == "eng2"   # roles resolved, as upstream
    as_eng1 = current(api, sn, "eng1")
    assert [o["key"] for o in as_eng1["安全评审"]["operations"]] == ["TRANSITION"]
    assert as_eng1["DBA 评审"]["operations"] == []
    operate(api, sn, steps["DBA 评审"], "eng2", dba_opinion="已备份")
    assert sorted(current(api, sn)) == ["安全评审"]
    operate(api, sn, steps["安全评审"], "eng1", security_opinion="无暴露面变化")
    operate(api, sn, current(api, sn)["变更实施"], "ops1", impl_result="success", impl_log="完成")
    operate(api, sn, current(api, sn)["变更验证"], "bob", verify_result="ok")
    status = api("get_ticket_status", sn=sn)["data"]
    assert status["current_status"] == "FINISHED" and status["current_steps"] == []
    logs = [lg["message"] for lg in api("get_ticket_logs", sn=sn)["data"]["logs"]]
    assert "并行网关【专项评审】启动分支：安全评审、DBA 评审" in logs
    assert logs.count("分支【安全评审】到达汇聚网关【评审汇聚】，所有分支已汇聚") == 1


def parallel_flow(n: int) -> str:
    branches = "\n".join(f"  - {{key: b{i}, name: 分支{i}, kind: manual, processors: {{type: PERSON, value: [u{i}]}}}}"
                         for i in range(n))
    edges = "\n".join(f"  - {{from: fork, to: b{i}}}\n  - {{from: b{i}, to: join}}" for i in range(n))
    return f"""
key: wide_parallel_{n}
name: 多分支
service_type: change
nodes:
  - {{key: submit, name: 提单, kind: start, fields: [{{key: title, name: 标题, type: STRING}}]}}
  - {{key: fork, name: 并行, kind: parallel}}
{branches}
  - {{key: join, name: 汇聚, kind: converge}}
  - {{key: last, name: 收尾, kind: manual, processors: {{type: PERSON, value: [u0]}}}}
  - {{key: end, name: 结束, kind: end}}
transitions:
  - {{from: submit, to: fork}}
{edges}
  - {{from: join, to: last}}
  - {{from: last, to: end}}
"""


def _measure(app, api, make_service, n: int) -> dict[str, int]:
    sid = make_service(parallel_flow(n), users=("alice", *(f"u{i}" for i in range(n))))
    with app.app_context():
        engine = db.engine
    counts = {}
    with StatementCounter(engine) as c:
        r = api("create_ticket", username="alice", service_id=sid, creator="alice", fields=fields(title="t"))
    assert r["result"], r
    counts["create_ticket (fork)"] = c.count
    sn = r["data"]["sn"]
    steps = current(api, sn)
    assert len(steps) == n
    for i in range(n):
        with StatementCounter(engine) as c:
            operate(api, sn, steps[f"分支{i}"], f"u{i}")
        key = "operate_node (join)" if i == n - 1 else "operate_node (branch)"
        counts[key] = max(counts.get(key, 0), c.count)
    assert list(current(api, sn)) == ["收尾"]
    return counts


def test_statement_counts_do_not_grow_with_the_number_of_branches(demo, api, make_service):
    """Operating a branch and the join are constant. The fork is constant on PostgreSQL, where the ORM inserts
    the new steps in one INSERT ... RETURNING; on SQLite SQLAlchemy cannot match returned rowids to rows in a
    batch, so it inserts one step per statement (documented insertmanyvalues limit): bounded by the flow."""
    two = _measure(demo, api, make_service, 2)
    six = _measure(demo, api, make_service, 6)
    fork = "create_ticket (fork)"
    assert {k: v for k, v in two.items() if k != fork} == {k: v for k, v in six.items() if k != fork}, (two, six)
    if demo.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        assert six[fork] == two[fork], (two, six)
        # the rows after the steps go in one statement on PostgreSQL (rows_pg)
        assert two[fork] <= 8 and two["operate_node (branch)"] <= 7 and two["operate_node (join)"] <= 8, two
    else:
        assert six[fork] - two[fork] == 4, (two, six)          # one INSERT per extra branch on SQLite
    print(f"\nparallel API statements ({demo.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}): {two}")
