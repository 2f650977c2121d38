"""SQL statements per create and per operation do not grow with the number of fields."""
from flask import current_app

from app.extensions import db
from app.infra.uow import commit
from app.services.people.users import find_user
from app.services.system.dictionaries import load_dictionary_files
from app.services.tickets.operations import create_ticket, operate_step
from tests.statement_counter import StatementCounter

# the first five cover every kind of lookup a field can need (dictionary, users), so 5 and 50 compare fairly
TYPES = ["STRING", "SELECT_DICT", "MEMBERS", "RADIO", "INT", "TEXT", "DATE", "MULTISELECT"]


def _field(i: int, offset: int = 0) -> tuple[str, object]:
    kind = TYPES[i % len(TYPES)]
    key = f"f{i + offset}"
    i += offset
    if kind == "SELECT_DICT":
        return f"{{key: {key}, name: 字段{i}, type: SELECT, required: true, source: {{dictionary: IMPACT}}}}", "high"
    if kind in ("MULTISELECT", "RADIO"):
        return (f"{{key: {key}, name: 字段{i}, type: {kind}, required: true, "
                f"choices: [{{key: a, name: A}}, {{key: b, name: B}}]}}", "a")
    if kind == "MEMBERS":
        return f"{{key: {key}, name: 字段{i}, type: MEMBERS}}", "alice"
    value = {"STRING": "text", "TEXT": "long text", "INT": "42", "DATE": "2026-11-28"}[kind]
    return f"{{key: {key}, name: 字段{i}, type: {kind}, required: true}}", value


def _flow(n: int) -> tuple[str, dict, dict]:
    start = [_field(i) for i in range(n)]
    step = [_field(i, n) for i in range(n)]
    yaml_text = f"""
key: wide{n}
name: 宽表单{n}
service_type: change
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {{key: title, name: 标题, type: STRING, required: true}}
{chr(10).join('      - ' + f for f, _ in start)}
  - key: approve
    name: 审批
    kind: manual
    processors: {{type: GENERAL, value: [approvers]}}
    fields:
{chr(10).join('      - ' + f for f, _ in step)}
  - key: implement
    name: 实施
    kind: manual
    distribute_type: CLAIM_THEN_PROCESS
    processors: {{type: GENERAL, value: [approvers]}}
  - {{key: end, name: 结束, kind: end}}
transitions:
  - {{from: submit, to: approve}}
  - {{from: approve, to: implement}}
  - {{from: implement, to: end}}
"""
    start_values = {"title": "wide", **{f"f{i}": v for i, (_, v) in enumerate(start)}}
    step_values = {f"f{n + i}": v for i, (_, v) in enumerate(step)}
    return yaml_text, start_values, step_values


def _measure(app, make_service, n: int) -> dict[str, int]:
    with app.app_context():
        load_dictionary_files(current_app.config["DICTIONARIES_DIR"])
        commit()
    yaml_text, start_values, step_values = _flow(n)
    service_id = make_service(yaml_text, roles={"approvers": ["u1", "u2"]}, users=("alice",))
    counts = {}
    with app.test_request_context():
        alice = find_user("alice")
        with StatementCounter(db.engine) as c:
            ticket_id = create_ticket(service_id=service_id, creator=alice, fields=start_values).id
            commit()
        counts["create"] = c.count

    with app.test_request_context():
        u1 = find_user("u1")
        with StatementCounter(db.engine) as c:
            operate_step(ticket_id, u1, "TRANSITION", "approve", fields=step_values)
            commit()
        counts["transition"] = c.count

    with app.test_request_context():
        u1 = find_user("u1")
        with StatementCounter(db.engine) as c:
            operate_step(ticket_id, u1, "CLAIM", "implement")
            commit()
        counts["claim"] = c.count
    return counts


def test_statement_counts_do_not_grow_with_the_number_of_fields(app, make_service):
    five = _measure(app, make_service, 5)
    fifty = _measure(app, make_service, 50)
    assert five == fifty, (five, fifty)
    # the budget: a regression that adds a query per field or per step shows up here
    # (SQLite adds its BEGIN IMMEDIATE to each; every operation upserts the ticket's participants,
    # a closed step also the closer's workbench counter)
    assert five["create"] <= 13 and five["transition"] <= 15 and five["claim"] <= 9, five
    print(f"\nstatements per operation ({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}): {five}")
