"""create_ticket's `dynamic_fields` (bk-iam, blueking-dbm: fields a calling system adds to one ticket) on the ticket
page and its printout: labelled, read-only, escaped; a LINK is a link only when it is an http(s) address."""
from app.extensions import db
from app.infra.uow import commit
from app.models import User
from app.services.tickets import create_ticket

DYNAMIC = [
    {"name": "操作敏感等级", "type": "STRING", "value": "高", "meta": {"language": {"en": "action sensitivity level"}}},
    {"name": "单据链接", "type": "LINK", "value": "http://dbm.example/ticket?id=1&x=2"},
    {"name": "可疑链接", "type": "LINK", "value": "javascript:alert(1)"},
    {"name": "备注<script>", "type": "STRING", "value": "<script>alert('x')</script>"},
    {"name": "数量", "type": "INT", "value": 3},
]


def _ticket_with_dynamic_fields(demo, itsm) -> int:
    """What the API's create_ticket stores for a caller sending dynamic_fields (alice's account request)."""
    service_id = itsm.service_id("account_apply")
    with demo.app_context():
        alice = db.session.query(User).filter_by(username="alice").one()
        ticket = create_ticket(service_id=service_id, creator=alice, source="API",
                               fields={"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent",
                                       "reason": "工作需要"}, meta={"dynamic_fields": DYNAMIC})
        ticket_id = ticket.id
        commit()
        db.session.remove()
        return ticket_id


def test_the_ticket_page_shows_the_callers_extra_fields_labelled_and_escaped(browser, itsm, demo):
    ticket_id = _ticket_with_dynamic_fields(demo, itsm)
    page = browser("alice").get(f"/tickets/{ticket_id}").get_data(as_text=True)
    extra = page.split('id="extra-fields"', 1)[1].split('id="progress-details"', 1)[0]
    assert "附加信息" in extra and "操作敏感等级" in extra and ">高<" in extra and ">3<" in extra
    assert '<a href="http://dbm.example/ticket?id=1&amp;x=2" rel="noopener noreferrer"' in extra
    assert "javascript:alert(1)" in extra and 'href="javascript' not in extra        # shown, never a link
    assert "<script>" not in extra and "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in extra
    assert "<form" not in extra and "<input" not in extra                               # read-only


def test_the_extra_fields_use_the_callers_english_label_and_are_in_the_printout(browser, itsm, demo):
    ticket_id = _ticket_with_dynamic_fields(demo, itsm)
    alice = browser("alice")
    printout = alice.get(f"/tickets/{ticket_id}/print").get_data(as_text=True)
    extra = printout.split('id="extra-fields"', 1)[1].split("</dl>", 1)[0]
    assert "操作敏感等级" in extra and "http://dbm.example/ticket?id=1&amp;x=2" in extra and "<a " not in extra
    alice.post("/language", data={"lang": "en"})
    page = alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
    assert "Additional information" in page and "action sensitivity level" in page
    assert "单据链接" in page                       # no English label sent: the caller's own


def test_a_ticket_without_dynamic_fields_has_no_extra_section(browser, itsm):
    alice = browser("alice")
    ticket_id = itsm.submit(alice, "account_apply", {"title": "申请 CRM 账号", "system": "crm",
                                                     "account_type": "permanent", "reason": "工作需要"})
    assert 'id="extra-fields"' not in alice.get(f"/tickets/{ticket_id}").get_data(as_text=True)
