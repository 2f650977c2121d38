import re

from app.extensions import db
from app.models import Ticket, TicketStep


def test_login_page_renders(app):
    client = app.test_client()
    assert client.get("/login").status_code == 200


def test_workbench_needs_login(demo):
    response = demo.test_client().get("/")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_requester_submits_and_leader_approves(browser):
    alice, leader = browser("alice"), browser("leader")
    catalog = alice.get("/submit").get_data(as_text=True)
    service_id = re.search(r"账号开通.*?/submit/(\d+)", catalog, re.S).group(1)
    response = alice.post(f"/submit/{service_id}", data={
        "title": "申请 CRM 只读账号", "system": "crm", "account_type": "permanent", "permissions": ["read"],
        "reason": "销售数据分析需要"})
    assert response.status_code == 302, response.get_data(as_text=True)
    ticket_id = int(re.search(r"/tickets/(\d+)", response.headers["Location"]).group(1))
    sn = _ticket(leader.app, ticket_id)[0]
    assert sn in leader.get("/tickets?tab=todo").get_data(as_text=True)      # in the leader's to-do list

    response = leader.post(f"/tickets/{ticket_id}/steps/leader_approve/transition",
                           data={"leader_approve-leader_approve_result": "true", "leader_approve-leader_approve_remark": "同意"})
    assert response.status_code == 302
    _, steps = _ticket(leader.app, ticket_id)
    assert steps == [("submit", "FINISHED"), ("leader_approve", "FINISHED"), ("implement", "RECEIVING")]
    assert sn not in leader.get("/tickets?tab=todo").get_data(as_text=True)      # out of the leader's to-do list


def _ticket(app, ticket_id):
    with app.app_context():
        sn = db.session.get(Ticket, ticket_id).sn
        steps = [(s.node_key, s.status) for s in
                 db.session.query(TicketStep).filter_by(ticket_id=ticket_id).order_by(TicketStep.id)]
        return sn, steps
