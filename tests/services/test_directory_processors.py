"""Leader and department processors against the users directory: STARTER_LEADER, ASSIGN_LEADER, ORGANIZATION;
and the CSV import that fills the directory."""
from sqlalchemy import select

from app.extensions import db
from app.infra.uow import commit
from app.models import TicketStep, User
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket, operate_step

FLOW = """
key: leaders
name: 领导审批
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields: [{key: title, name: 标题, type: STRING, required: true}]
  - key: lead
    name: 直属领导审批
    kind: approval
    processors: {type: STARTER_LEADER}
  - key: work
    name: 运维处理
    kind: manual
    processors: {type: ORGANIZATION, value: [运维部]}
  - key: check
    name: 处理人领导确认
    kind: approval
    processors: {type: ASSIGN_LEADER, value: [work]}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: lead}
  - {from: lead, to: work}
  - {from: work, to: check}
  - {from: check, to: end}
"""


def _open_step(ticket_id):
    return db.session.execute(select(TicketStep).where(TicketStep.ticket_id == ticket_id,
                                                       TicketStep.is_open.is_(True))).scalar_one()


def test_leaders_and_departments_come_from_the_directory(demo, make_service):
    service_id = make_service(FLOW)
    with demo.test_request_context():
        ticket_id = create_ticket(service_id=service_id, creator=find_user("alice"), fields={"title": "t"}).id
        commit()
        step = _open_step(ticket_id)
        assert (step.node_key, step.processors_type, step.users) == ("lead", "PERSON", ["leader"])
        operate_step(ticket_id, find_user("leader"), "TRANSITION", "lead", fields={"lead_result": "true"})
        commit()
        step = _open_step(ticket_id)
        assert (step.node_key, step.processors_type, step.processors, step.users) == \
            ("work", "ORGANIZATION", "运维部", ["ops1", "ops2"])
        operate_step(ticket_id, find_user("ops2"), "TRANSITION", "work", fields={})
        commit()
        step = _open_step(ticket_id)
        assert (step.node_key, step.users) == ("check", ["cm"])        # ops2's leader


def test_the_directory_is_imported_from_csv_all_or_nothing(demo, tmp_path):
    runner = demo.test_cli_runner()
    good = tmp_path / "org.csv"
    good.write_text("username,department,leader\neng1,研发部,pm\neng2,研发部,pm\n", encoding="utf-8")
    result = runner.invoke(args=["itsm", "users", "import-directory", str(good)])
    assert result.exit_code == 0 and "updated 2 users" in result.output, result.output
    bad = tmp_path / "bad.csv"
    bad.write_text("username,department,leader\neng1,测试部,\nnobody,研发部,pm\neng2,研发部,ghost\n", encoding="utf-8")
    result = runner.invoke(args=["itsm", "users", "import-directory", str(bad)])
    assert result.exit_code == 1
    assert "第 3 行：用户 nobody 不存在" in result.output and "第 4 行：直属领导 ghost 不是已有用户" in result.output
    with demo.app_context():
        eng1 = db.session.execute(select(User).where(User.username == "eng1")).scalar_one()
        assert (eng1.department, eng1.leader) == ("研发部", "pm")          # the bad file changed nothing
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("user,dept\n", encoding="utf-8")
    result = runner.invoke(args=["itsm", "users", "import-directory", str(wrong)])
    assert result.exit_code == 1 and "CSV 缺少列" in result.output
