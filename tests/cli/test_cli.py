"""`flask itsm ...`: flows validate / load / export / deploy, users create, roles add-member."""
import re
import shutil
from pathlib import Path

from app.extensions import db
from app.models import Flow, FlowVersion, RoleMember, Service, Ticket, User

SHIPPED = Path(__file__).resolve().parents[2] / "flows_yaml"

TINY = """\
key: tiny
name: 小流程
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
  - key: check
    name: 确认
    kind: manual
    processors: {type: STARTER}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: check}
  - {from: check, to: end}
"""

# line 9 names a node key that does not exist
BROKEN = TINY.replace("  - {from: check, to: end}", "  - {from: check, to: nowhere}")


def _count(app, model, **filters):
    with app.app_context():
        return db.session.query(model).filter_by(**filters).count()


# --- flows validate -------------------------------------------------------------

def test_validate_accepts_the_shipped_flows(itsm_cli):
    result = itsm_cli("flows", "validate")
    assert result.exit_code == 0, result.output
    for key in ("account_apply", "change_normal", "incident_handle", "problem_manage"):
        assert re.search(rf"^ok .*\({key}: \d+ nodes\)$", result.output, re.M), result.output


def test_validate_reports_file_and_line_of_a_broken_flow(itsm_cli, tmp_path):
    broken = tmp_path / "broken.yaml"
    broken.write_text(BROKEN, encoding="utf-8")
    result = itsm_cli("flows", "validate", broken)
    assert result.exit_code == 1
    line = next(i for i, text in enumerate(BROKEN.splitlines(), start=1) if "nowhere" in text)
    assert f"{broken}:{line}:" in result.output, result.output
    assert "nowhere" in result.output


def test_validate_with_a_good_and_a_broken_file_fails(itsm_cli, tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    (tmp_path / "zz_broken.yaml").write_text("key: [unclosed\n", encoding="utf-8")
    result = itsm_cli("flows", "validate", tmp_path)
    assert result.exit_code == 1
    assert re.search(rf"{re.escape(str(tmp_path / 'zz_broken.yaml'))}:\d+:", result.output), result.output


# --- flows load / export --------------------------------------------------------

def test_load_then_export_is_a_byte_identical_round_trip(app, itsm_cli, tmp_path):
    source = tmp_path / "in"
    shutil.copytree(SHIPPED, source)
    (source / "tiny.yaml").write_text(TINY, encoding="utf-8")
    result = itsm_cli("flows", "load", source)
    assert result.exit_code == 0, result.output
    assert _count(app, Flow) == 8
    for key in ("account_apply", "builtin_approval", "change_normal", "iam_default", "iam_group", "incident_handle",
                "problem_manage", "tiny"):
        assert f"loaded {key}" in result.output

    out = tmp_path / "out"
    result = itsm_cli("flows", "export", out)
    assert result.exit_code == 0, result.output
    inputs = sorted(p.name for p in source.iterdir())
    assert sorted(p.name for p in out.iterdir()) == inputs
    for name in inputs:
        assert (out / name).read_bytes() == (source / name).read_bytes(), name


def test_loading_twice_updates_the_templates_in_place(app, itsm_cli, tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    assert itsm_cli("flows", "load", tmp_path).exit_code == 0
    (tmp_path / "tiny.yaml").write_text(TINY.replace("name: 小流程", "name: 小流程二"), encoding="utf-8")
    assert itsm_cli("flows", "load", tmp_path).exit_code == 0
    with app.app_context():
        (row,) = db.session.query(Flow).all()
        assert row.name == "小流程二" and "小流程二" in row.source


def test_a_broken_file_in_the_load_directory_loads_nothing(app, itsm_cli, tmp_path):
    shutil.copytree(SHIPPED, tmp_path / "in")
    (tmp_path / "in" / "zz_broken.yaml").write_text(BROKEN.replace("key: tiny", "key: broken"), encoding="utf-8")
    result = itsm_cli("flows", "load", tmp_path / "in")
    assert result.exit_code == 1
    assert "zz_broken.yaml:" in result.output
    assert _count(app, Flow) == 0


# --- flows deploy ----------------------------------------------------------------

def test_deploying_twice_makes_versions_one_and_two(app, itsm_cli, tmp_path):
    (tmp_path / "tiny.yaml").write_text(TINY, encoding="utf-8")
    assert itsm_cli("flows", "load", tmp_path).exit_code == 0
    first = itsm_cli("flows", "deploy", "tiny")
    second = itsm_cli("flows", "deploy", "tiny")
    assert first.exit_code == 0 and second.exit_code == 0, first.output + second.output
    assert "deployed tiny v1" in first.output and "deployed tiny v2" in second.output
    with app.app_context():
        numbers = [v.version_number for v in db.session.query(FlowVersion).order_by(FlowVersion.id)]
        assert numbers == [1, 2]
        assert db.session.query(Flow).one().status == "ENABLED"


def test_deploying_an_unknown_flow_fails(app, itsm_cli):
    result = itsm_cli("flows", "deploy", "no_such_flow")
    assert result.exit_code == 1
    assert "no_such_flow" in result.output and "不存在" in result.output
    assert _count(app, FlowVersion) == 0


def test_deploy_refuses_a_flow_whose_roles_do_not_exist(app, itsm_cli):
    """Loaded without the demo roles, 账号开通 names it_ops: not deployable yet."""
    assert itsm_cli("flows", "load", SHIPPED).exit_code == 0
    result = itsm_cli("flows", "deploy", "account_apply")
    assert result.exit_code == 1
    assert "it_ops" in result.output
    assert _count(app, FlowVersion) == 0


def test_redeploying_a_demo_flow_keeps_running_tickets_on_their_version(demo, itsm_cli):
    with demo.app_context():
        service = db.session.query(Service).filter_by(key="change_normal").one()
        before = service.flow_version_id
    result = itsm_cli("flows", "deploy", "change_normal")
    assert result.exit_code == 0 and "deployed change_normal v2" in result.output
    with demo.app_context():
        assert db.session.query(Service).filter_by(key="change_normal").one().flow_version_id == before


def submit_and_approve_account(app) -> int:
    """alice asks for an account and the leader approves it (through the services, as the web does)."""
    from app.infra.uow import unit_of_work
    from app.services.people.users import find_user
    from app.services.tickets.operations import create_ticket, operate_step

    with app.test_request_context():
        with unit_of_work():
            service = db.session.query(Service).filter_by(key="account_apply").one()
            ticket = create_ticket(service_id=service.id, creator=find_user("alice"),
                                   fields={"title": "申请账号", "system": "crm", "account_type": "permanent",
                                           "permissions": ["read"], "reason": "工作需要"})
            ticket_id = ticket.id
        with unit_of_work():
            operate_step(ticket_id, find_user("leader"), "TRANSITION", "leader_approve",
                         fields={"leader_approve_result": "true"})
    return ticket_id


# --- users and roles ---------------------------------------------------------------

def test_created_user_can_log_in_with_the_printed_password(demo, itsm_cli, try_login):
    result = itsm_cli("users", "create", "carol", "--display-name", "卡萝")
    assert result.exit_code == 0, result.output
    assert "created user carol" in result.output
    password = re.search(r"password \(shown once\): (\S+)", result.output).group(1)
    status, client = try_login(demo, "carol", password)
    assert status == 302
    assert "卡萝" in client.get("/").get_data(as_text=True)
    assert try_login(demo, "carol", password + "x")[0] == 400
    with demo.app_context():
        assert db.session.query(User).filter_by(username="carol").one().is_superuser is False


def test_user_created_with_a_given_password_and_admin_flag(demo, itsm_cli, try_login):
    result = itsm_cli("users", "create", "root2", "--admin", "--password", "s3cret-pass")
    assert result.exit_code == 0 and "(super admin)" in result.output
    assert "s3cret-pass" not in result.output
    status, client = try_login(demo, "root2", "s3cret-pass")
    assert status == 302
    assert "所有单据" in client.get("/tickets").get_data(as_text=True)


def test_duplicate_user_fails_with_a_message(demo, itsm_cli):
    result = itsm_cli("users", "create", "alice")
    assert result.exit_code == 1
    assert "用户 alice 已存在" in result.output
    assert _count(demo, User, username="alice") == 1


def test_invalid_user_name_fails(demo, itsm_cli):
    result = itsm_cli("users", "create", "bad name")
    assert result.exit_code == 1 and "用户名" in result.output
    assert _count(demo, User, username="bad name") == 0


def test_role_member_sees_the_role_tickets_to_claim(demo, itsm_cli, try_login):
    password = re.search(r"password \(shown once\): (\S+)",
                         itsm_cli("users", "create", "carol").output).group(1)
    result = itsm_cli("roles", "add-member", "it_ops", "carol")
    assert result.exit_code == 0 and "carol is now a member of it_ops" in result.output
    assert itsm_cli("roles", "add-member", "it_ops", "carol").exit_code == 0     # idempotent
    with demo.app_context():
        assert db.session.query(RoleMember).filter_by(username="carol").count() == 1

    # a request approved by the leader now waits for ops1, ops2 and carol to claim
    ticket_id = submit_and_approve_account(demo)
    status, carol = try_login(demo, "carol", password)
    assert status == 302
    with demo.app_context():
        sn = db.session.get(Ticket, ticket_id).sn
    assert sn in carol.get("/tickets?tab=claim").get_data(as_text=True)
    assert carol.get(f"/tickets/{ticket_id}").status_code == 200


def test_unknown_role_fails(demo, itsm_cli):
    result = itsm_cli("roles", "add-member", "no_such_role", "alice")
    assert result.exit_code == 1 and "角色 no_such_role 不存在" in result.output


def test_unknown_user_for_a_role_fails(demo, itsm_cli):
    result = itsm_cli("roles", "add-member", "it_ops", "nobody")
    assert result.exit_code == 1 and "用户 nobody 不存在" in result.output
    assert _count(demo, RoleMember, username="nobody") == 0
