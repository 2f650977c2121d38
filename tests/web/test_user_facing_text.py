"""Every message a user sees is a sentence in their language (issue 17.7): error pages, the notice outbox."""
import re
from html import unescape

from app.extensions import db
from app.infra.uow import commit
from app.models import Notification

ACCOUNT = {"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent", "reason": "工作需要"}
WERKZEUG_WORDS = ("You don't have the permission", "The requested URL was not found", "Forbidden", "Not Found",
                  "browser (or proxy)", "Internal Server Error")


def _text_of(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return unescape(re.sub(r"<[^>]+>", " ", html))


def _text(response) -> str:
    return _text_of(response.get_data(as_text=True))


def test_403_and_404_pages_say_what_happened_in_chinese_without_werkzeug_english(browser):
    alice = browser("alice")
    forbidden = alice.get("/admin/")
    for response, sentence in ((alice.get("/no-such-page"), "您要找的页面不存在"),
                               (alice.get("/statistics/"), "只有超级管理员和统计管理员可以查看运营数据")):
        text = _text(response)
        assert sentence in text, text
        assert not any(word in text for word in WERKZEUG_WORDS), text
    assert forbidden.status_code in (302, 403)


def test_error_pages_follow_the_users_language(browser):
    alice = browser("alice")
    alice.post("/language", data={"lang": "en"})
    text = _text(alice.get("/no-such-page"))
    assert "The page you asked for does not exist" in text and "页面" not in text, text


def test_the_notice_outbox_names_statuses_and_tickets_in_words(demo, browser, itsm):
    ticket_id = itsm.submit(browser("alice"), "account_apply", ACCOUNT)
    sn = itsm.snapshot(ticket_id).ticket.sn
    with demo.app_context():
        notices = [Notification(ticket_id=ticket_id, kind="todo", recipients=["bob"], status=s, attempts=1)
                   for s in ("SENT", "SKIPPED", "FAILED", "PENDING")]
        db.session.add_all(notices)
        commit()
        first = notices[0].id
    admin = browser("admin")
    page = admin.get("/admin/notification/").get_data(as_text=True)
    table = page[page.index("model-list"):]
    text = _text_of(table[:table.index("</table>")])
    assert {"已发送", "未发送（无可用渠道或接收人）", "发送失败", "待发送", sn} <= set(re.findall(r"\S+", text)), text
    assert not re.search(r"\b(SENT|SKIPPED|PENDING)\b", text), text
    assert not re.search(rf"#{ticket_id}\b", text)
    details = _text(admin.get(f"/admin/notification/details/?id={first}"))
    assert "领取时间" in details and "Claimed" not in details and sn in details, details
