"""Which services the front office offers (upstream's 可见范围, display_type/display_role): OPEN to everyone,
GENERAL to members of a listed role, PERSON to listed users, INVISIBLE and API to nobody in the front office
(other systems still create tickets on them through the API). Both databases."""
from __future__ import annotations

from app.extensions import db
from app.infra.uow import commit
from app.models import Service

ACCOUNT = {"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent", "reason": "工作需要",
           "approver": "leader"}


def _show(app, key: str, display_type: str, display_role: str = "") -> int:
    with app.app_context():
        service = db.session.query(Service).filter_by(key=key).one()
        service.display_type, service.display_role = display_type, display_role
        commit()
        return service.id


def _offered(user) -> str:
    return user.get("/submit").get_data(as_text=True)


def test_open_services_are_offered_to_everyone(browser, demo):
    service_id = _show(demo, "account_apply", "OPEN")
    alice = browser("alice")
    assert f"/submit/{service_id}" in _offered(alice)
    assert alice.get(f"/submit/{service_id}").status_code == 200


def test_invisible_and_api_services_are_not_offered_nor_submittable_on_the_web(browser, demo, itsm):
    alice = browser("alice")
    for display_type in ("INVISIBLE", "API"):
        service_id = _show(demo, "account_apply", display_type)
        assert f"/submit/{service_id}" not in _offered(alice)
        page = alice.get(f"/submit/{service_id}")
        assert page.status_code == 404 and "不在您可提单的范围内" in page.get_data(as_text=True)
        assert alice.post(f"/submit/{service_id}", data=ACCOUNT).status_code in (302, 404)
    assert itsm.ticket_count() == 0


def test_role_and_person_scoped_services_are_offered_to_those_named(browser, demo):
    service_id = _show(demo, "account_apply", "GENERAL", "it_ops,cab")
    ops1, alice = browser("ops1"), browser("alice")
    assert f"/submit/{service_id}" in _offered(ops1)
    assert f"/submit/{service_id}" not in _offered(alice)
    assert alice.get(f"/submit/{service_id}").status_code == 404
    service_id = _show(demo, "account_apply", "PERSON", "alice")
    assert f"/submit/{service_id}" in _offered(alice)
    assert f"/submit/{service_id}" not in _offered(ops1)
