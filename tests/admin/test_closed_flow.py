"""A flow template closed (关闭) in the back office stops new tickets on its services, on the web and the API.

Tickets already running go on; enabling the flow again makes the service submittable again.
"""
from __future__ import annotations

from admin_kit import text_of

from app.models import Flow, Service, Ticket

CLOSED_MESSAGE = "使用的流程「账号开通」已被管理员关闭，暂时不能提单"


def _close(admin, rows, key: str, action: str = "close") -> None:
    flow_id = str(rows.one(Flow, key=key).id)
    admin.post("/admin/flow/action/", {"action": action, "rowid": [flow_id], "url": "/admin/flow/"})


def test_a_closed_flow_refuses_the_submit_page_and_the_post(admin, browser, rows):
    service = rows.one(Service, key="account_apply")
    _close(admin, rows, "account_apply")
    alice = browser("alice")
    page = alice.get(f"/submit/{service.id}")
    assert page.status_code == 409 and CLOSED_MESSAGE in text_of(page)
    response = alice.post(f"/submit/{service.id}", {"title": "开通账号"}, follow_redirects=True)
    assert CLOSED_MESSAGE in text_of(response)          # a refused POST goes back with the message shown
    assert rows.count(Ticket) == 0
    _close(admin, rows, "account_apply", "enable")
    assert alice.get(f"/submit/{service.id}").status_code == 200

