"""SQL statements per create and per operation do not grow with the number of fields."""
from flask import current_app

from app.extensions import db
from app.infra.uow import commit
from app.services.people.users import find_user
from app.services.system.dictionaries import load_dictionary_files
from app.services.tickets.operations import create_ticket, operate_step
from tests.statement_counter import StatementCounter, wide_flow


def _measure(app, make_service, n: int) -> dict[str, int]:
    with app.app_context():
        load_dictionary_files(current_app.config["DICTIONARIES_DIR"])
        commit()
    yaml_text, start_values, step_values = wide_flow(n)
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
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql"):
        # PostgreSQL writes processors, logs, participants, counters and notices in one statement (rows_pg)
        assert five["create"] <= 9 and five["transition"] <= 9 and five["claim"] <= 5, five
    print(f"\nstatements per operation ({app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}): {five}")
