"""The lists as they stay fast at scale: participants, capped totals, running counters, recent activity.

Issue 8: each list is an index range in the order it shows (app/services/queries.py);
these tests pin what a user sees of that design.
"""
import re

from sqlalchemy import select

from app.extensions import db
from app.models import TicketParticipant, UserDayCounter
from app.services.tickets import queries

ACCOUNT = {"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent", "reason": "工作需要"}
SN = re.compile(r"\b(?:REQ|CRQ|INC|PBI)\d{14}\b")


def _table_sns(html: str) -> list[str]:
    """Ticket numbers in the page's ticket table, in the order shown."""
    return SN.findall(html.split("ticket-table", 1)[-1]) if "ticket-table" in html else []


def _numbers(page: str) -> str:
    return page.split('id="my-numbers"')[1].split('id="todo"')[0]


def _approve(leader, ticket_id):
    r = leader.post(f"/tickets/{ticket_id}/steps/leader_approve/transition",
                    data={"leader_approve-leader_approve_result": "true"})
    assert r.status_code == 302


def test_participants_are_the_creator_the_processors_and_the_operators(browser, itsm, demo):
    alice, leader, ops1 = browser("alice"), browser("leader"), browser("ops1")
    ticket_id = itsm.submit(alice, "account_apply", ACCOUNT)
    _approve(leader, ticket_id)                      # implement opens for the ops role: ops1 and ops2
    assert ops1.post(f"/tickets/{ticket_id}/steps/implement/claim").status_code == 302
    with demo.app_context():
        rows = db.session.execute(select(TicketParticipant.username, TicketParticipant.is_creator)
                                  .where(TicketParticipant.ticket_id == ticket_id)
                                  .order_by(TicketParticipant.username)).all()
    assert [tuple(r) for r in rows] == [("alice", True), ("leader", False), ("ops1", False), ("ops2", False)]
    sn = itsm.snapshot(ticket_id).ticket.sn
    # ops2 was offered the step: the ticket stays in their global view, and opens for them
    ops2 = browser("ops2")
    assert _table_sns(ops2.get("/tickets").get_data(as_text=True)) == [sn]
    assert _table_sns(ops2.get("/tickets?tab=history").get_data(as_text=True)) == []     # not ended yet
    assert ops2.get(f"/tickets/{ticket_id}").status_code == 200
    # a running ticket is no one's history; a stranger sees nothing and may not open it
    assert _table_sns(alice.get("/tickets?tab=history").get_data(as_text=True)) == []
    bob = browser("bob")
    assert _table_sns(bob.get("/tickets").get_data(as_text=True)) == []
    assert bob.get(f"/tickets/{ticket_id}").status_code == 403


def test_lists_are_newest_first_and_totals_stop_at_the_cap(browser, itsm, demo, monkeypatch):
    monkeypatch.setattr(queries, "COUNT_CAP", 3)
    alice, leader = browser("alice"), browser("leader")
    ids = [itsm.submit(alice, "account_apply", {**ACCOUNT, "title": f"第 {i} 张"}) for i in range(5)]
    sns = [itsm.snapshot(i).ticket.sn for i in ids]
    monkeypatch.setitem(demo.config, "PAGE_SIZE", 2)
    page1 = leader.get("/tickets?tab=todo").get_data(as_text=True)
    assert _table_sns(page1) == [sns[4], sns[3]]
    assert "第 1 / 2+ 页，共 3+ 条" in page1                # 5 tickets waiting, counted up to the cap
    page3 = leader.get("/tickets?tab=todo&page=3").get_data(as_text=True)
    assert _table_sns(page3) == [sns[0]] and "下一页" in page3
    assert 'page-item disabled"><a class="page-link" href="/tickets?page=4' in page3   # no page 4
    assert _table_sns(leader.get("/tickets?tab=todo&sort=created").get_data(as_text=True)) == [sns[0], sns[1]]
    assert "3+" in _numbers(leader.get("/").get_data(as_text=True))       # 我的待办 on the workbench
    monkeypatch.setattr(queries, "COUNT_CAP", 1000)
    page1 = leader.get("/tickets?tab=todo").get_data(as_text=True)
    assert "第 1 / 3 页，共 5 条" in page1


def test_handled_steps_and_time_are_running_totals(browser, itsm, demo):
    alice, leader = browser("alice"), browser("leader")
    for _ in range(2):
        _approve(leader, itsm.submit(alice, "account_apply", ACCOUNT))
    with demo.app_context():
        (counter,) = db.session.execute(select(UserDayCounter).where(UserDayCounter.username == "leader")).scalars()
        assert counter.handled_steps == 2 and counter.handling_seconds >= 0
        assert db.session.execute(select(UserDayCounter).where(UserDayCounter.username == "alice")).first() is None
    numbers = _numbers(leader.get("/").get_data(as_text=True))
    assert re.search(r'<div class="h3 mb-0">2</div><div class="text-muted small">已处理', numbers)


def test_recent_activity_merges_my_actions_and_others_on_my_tickets(browser, itsm):
    alice, leader = browser("alice"), browser("leader")
    first = itsm.submit(alice, "account_apply", {**ACCOUNT, "title": "较早"})
    for i in range(12):                                   # many of alice's own, newer tickets
        itsm.submit(alice, "account_apply", {**ACCOUNT, "title": f"新的 {i}"})
    _approve(leader, first)                               # others act on her oldest ticket, last of all
    activity = alice.get("/").get_data(as_text=True).split('id="activity"')[1]
    items = re.findall(r'<li class="list-group-item py-2 small">(.*?)</li>', activity, re.S)
    assert len(items) == 10
    assert "leader 审批节点【直属领导审批】：通过(通过)" in items[0]
    assert itsm.snapshot(first).ticket.sn in items[0]
