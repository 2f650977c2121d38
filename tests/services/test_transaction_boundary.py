"""One transaction boundary: entry points commit, services never do, and the suite's guard proves it.

The suite runs with GUARD_COMMITS on: any commit that does not come from `app.infra.uow`
raises CommitOutsideBoundary. A service that committed in the middle of an operation would
release the ticket's row lock (issue 12: `api_choices` did, and two racing approvals both won).
"""
from __future__ import annotations

import pytest

from app.extensions import db
from app.infra.uow import CommitOutsideBoundary, OutboundFirst, outside_transaction, run_again_after_outbound, \
    unit_of_work
from app.models import Role, Ticket


def test_a_commit_outside_the_unit_of_work_raises_and_writes_nothing(app):
    with app.app_context():
        db.session.add(Role(key="stray", name="stray", type="GENERAL"))
        with pytest.raises(CommitOutsideBoundary):
            db.session.commit()
        db.session.rollback()
        assert db.session.query(Role).filter_by(key="stray").count() == 0


def test_the_unit_of_work_commits_once_and_is_not_reentrant(app):
    with app.app_context():
        with unit_of_work():
            db.session.add(Role(key="kept", name="kept", type="GENERAL"))
        with pytest.raises(CommitOutsideBoundary):
            with unit_of_work():
                with unit_of_work():
                    pass
        assert db.session.query(Role).filter_by(key="kept").count() == 1


def test_without_the_guard_a_plain_commit_is_allowed(app):
    app.config["GUARD_COMMITS"] = False
    try:
        with app.app_context():
            db.session.add(Role(key="plain", name="plain", type="GENERAL"))
            db.session.commit()
            assert db.session.query(Role).filter_by(key="plain").count() == 1
    finally:
        app.config["GUARD_COMMITS"] = True


def test_a_service_that_commits_mid_operation_fails_the_request_and_changes_nothing(demo, browser, monkeypatch):
    """A regression like issue 12's (a service committing inside an operation) is caught through HTTP."""
    from app.services.tickets import numbers

    real = numbers.next_sn

    def committing_next_sn(service_type):
        sn = real(service_type)
        db.session.commit()                     # what a careless service would do
        return sn

    monkeypatch.setattr("app.services.tickets.operations.next_sn", committing_next_sn)
    alice = browser("alice")
    with demo.app_context():
        service_id = db.session.execute(db.text("SELECT id FROM services WHERE key = 'account_apply'")).scalar()
    demo.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        response = alice.post(f"/submit/{service_id}", data={"title": "开通", "account_type": "permanent",
                                                            "system": "crm", "reason": "新员工"})
    finally:
        demo.config["PROPAGATE_EXCEPTIONS"] = None
    assert response.status_code == 500
    with demo.app_context():
        assert db.session.query(Ticket).count() == 0


def test_outside_transaction_calls_with_no_transaction_open_and_records_in_a_new_one(app):
    seen = {}
    with app.app_context():
        db.session.execute(db.text("SELECT 1"))          # a read transaction left open by the caller

        def call(plan):
            seen["open during the call"] = db.session().in_transaction()
            return plan + "-called"

        def record(plan, result):
            db.session.add(Role(key=result, name=result, type="GENERAL"))
            return result

        assert outside_transaction(lambda: "r", call, record) == "r-called"
        assert seen == {"open during the call": False}
        assert db.session.query(Role).filter_by(key="r-called").count() == 1


def test_a_request_needing_a_call_first_runs_again_after_it(app):
    calls = []
    with app.app_context():
        def view():
            with unit_of_work():
                db.session.add(Role(key=f"try{len(calls)}", name="t", type="GENERAL"))
                if not calls:
                    raise OutboundFirst(lambda: "plan", lambda plan: calls.append(db.session().in_transaction()),
                                        lambda plan, result: None)
                return "done"

        assert run_again_after_outbound(view) == "done"
        assert calls == [False]                                   # the call ran with no transaction open
        assert [r.key for r in db.session.query(Role).filter(Role.key.like("try%"))] == ["try1"]


def test_an_api_call_dying_after_drawing_a_number_leaves_no_ticket_and_burns_no_number(demo, monkeypatch):
    """The API's half of "nothing lost, nothing half-done": work dies mid-request, the whole of it rolls back."""
    import json

    from app.infra.uow import commit
    from app.services.integration.api_apps import create_api_app
    from app.services.tickets import numbers

    with demo.app_context():
        create_api_app("kill-test", act_for_users=True, secret="kill-test-secret")
        commit()
        service_id = db.session.execute(db.text("SELECT id FROM services WHERE key = 'account_apply'")).scalar()
    real = numbers.next_sn

    def dying_next_sn(service_type):
        real(service_type)                      # the number is drawn inside the request's transaction ...
        raise RuntimeError("worker killed")     # ... then the work dies before the ticket is written

    client = demo.test_client()
    headers = {"X-Bkapi-Authorization": json.dumps({"bk_app_code": "kill-test", "bk_app_secret": "kill-test-secret",
                                                    "bk_username": "alice"})}
    body = {"service_id": service_id, "creator": "alice", "fields": [
        {"key": k, "value": v} for k, v in {"title": "开通", "system": "crm", "account_type": "permanent",
                                            "reason": "新员工"}.items()]}
    monkeypatch.setattr("app.services.tickets.operations.next_sn", dying_next_sn)
    answer = client.post("/api/c/compapi/v2/itsm/create_ticket/", json=body, headers=headers).get_json()
    assert (answer["result"], answer["code"]) == (False, 3900004)
    with demo.app_context():
        assert db.session.query(Ticket).count() == 0
    monkeypatch.setattr("app.services.tickets.operations.next_sn", real)
    answer = client.post("/api/c/compapi/v2/itsm/create_ticket/", json=body, headers=headers).get_json()
    assert answer["result"] and answer["data"]["sn"].endswith("000001"), answer    # the dead call's number is free
