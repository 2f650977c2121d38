"""Email through a real SMTP server: who receives what, HTML and text, the ticket's words and link."""
from __future__ import annotations

from app.extensions import db
from app.infra.uow import commit
from app.models import Notification, NotificationDelivery
from app.services.people.users import find_user
from app.services.tickets.operations import operate_ticket


def test_new_todo_is_emailed_to_each_processor_with_text_and_html(smtp, configure, notify_flow, submit, send,
                                                                   notices):
    configure(smtp=smtp)
    ticket_id = submit(notify_flow("{channels: [email]}"), "申请 VPN 账号")

    assert send() == 1

    mails = sorted(smtp.mails, key=lambda m: m.rcpt_tos)
    assert [m.rcpt_tos for m in mails] == [["bob@example.com"], ["carol@example.com"]]
    mail = mails[0]
    assert mail.mail_from == "itsm@example.com"
    assert "李四" in str(mail.message["To"])
    assert mail.subject.startswith("【ITSM】待办：REQ") and "申请 VPN 账号" in mail.subject
    text, html = mail.part("plain"), mail.part("html")
    for body in (text, html):
        assert "领导审批" in body                         # the step
        assert "张三" in body                             # the requester
        assert f"/tickets/{ticket_id}" in body            # the link
    assert "alice 处理节点【提单】" in text                 # who did what
    assert html.lstrip().startswith("<!doctype html>") and "<p" in html
    assert notices() == [("todo", "SENT", 1, ["bob", "carol"])]


def test_supervise_notice_names_the_supervisor_and_the_note(app, smtp, configure, notify_flow, submit, send):
    configure(smtp=smtp)
    ticket_id = submit(notify_flow("{channels: [email], supervise: true}"))
    send()
    with app.app_context():
        operate_ticket(ticket_id, find_user("alice"), "SUPERVISE", message="请今天处理完")
        commit()

    send()

    supervise = [m for m in smtp.mails if "督办" in m.subject]
    assert sorted(m.rcpt_tos[0] for m in supervise) == ["bob@example.com", "carol@example.com"]
    text = supervise[0].part("plain")
    assert "张三 督办了" in text and "请今天处理完" in text and "领导审批" in text


def test_a_notice_is_sent_once_even_when_the_job_runs_again(smtp, configure, notify_flow, submit, send):
    configure(smtp=smtp)
    submit(notify_flow())

    send(), send("w2"), send()

    assert len(smtp.mails) == 2


def test_user_without_email_address_is_skipped_and_the_others_still_get_it(app, smtp, configure, notify_flow,
                                                                          submit, send, notices):
    configure(smtp=smtp)
    with app.app_context():
        find_user("carol").email = ""
        commit()
    submit(notify_flow())

    send()

    assert [m.rcpt_tos for m in smtp.mails] == [["bob@example.com"]]
    assert notices() == [("todo", "SENT", 1, ["bob", "carol"])]
    with app.app_context():
        skipped = db.session.query(NotificationDelivery).filter_by(target="carol").one()
        assert (skipped.status, skipped.error) == ("SKIPPED", "没有邮箱地址")


def test_finished_ticket_notifies_the_creator(app, smtp, configure, notify_flow, submit, send):
    from app.services.tickets.operations import operate_step

    configure(smtp=smtp)
    ticket_id = submit(notify_flow())
    send()
    with app.app_context():
        operate_step(ticket_id, find_user("bob"), "TRANSITION", "approve", fields={})
        commit()

    send()

    finished = [m for m in smtp.mails if "单据已结束" in m.subject]
    assert [m.rcpt_tos for m in finished] == [["alice@example.com"]]
    with app.app_context():
        assert db.session.query(Notification).filter_by(kind="finished", status="SENT").count() == 1
