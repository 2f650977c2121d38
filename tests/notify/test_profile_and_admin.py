"""The profile page (channels, email, language) and the back office's notification settings."""
from __future__ import annotations

import re
from html import unescape

import pytest

from app.extensions import db
from app.infra.uow import commit
from app.models import AuditLog, Notification, NotifyPreference, Setting, User

SMTP_PASSWORD = "smtp-pass-9876"
ROBOT_KEY = "robot-key-abcdef123456"


@pytest.fixture(autouse=True)
def _admin_raises(app):
    app.config["FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION"] = True
    yield
    app.config.pop("FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION", None)


def text_of(response) -> str:
    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))


def _one(app, model_, **by):
    with app.app_context():
        row = db.session.query(model_).filter_by(**by).one_or_none()
        if row is not None:
            db.session.expunge(row)
        return row


# --- profile -------------------------------------------------------------------

def test_profile_shows_the_users_email_and_every_channel_chosen_by_default(browser):
    page = browser("bob").get("/profile").get_data(as_text=True)

    assert 'value="bob@example.com"' in page
    for channel in ("email", "wecom", "log"):
        assert re.search(rf'<input checked[^>]*value="{channel}"|<input[^>]*value="{channel}"[^>]*checked', page)


def test_profile_saves_email_channels_and_language(demo, browser):
    bob = browser("bob")
    response = bob.post("/profile", {"email": "bob@corp.example", "channels": ["wecom", "log"], "language": "en"})

    assert response.status_code == 302
    assert _one(demo, NotifyPreference, username="bob").channels == ["wecom", "log"]
    user = _one(demo, User, username="bob")
    assert (user.email, user.language) == ("bob@corp.example", "en")
    page = bob.get("/profile", follow_redirects=True)
    assert "Profile saved" in text_of(page) and "Notify me by" in text_of(page)


def test_profile_refuses_a_bad_email_and_changes_nothing(demo, browser):
    response = browser("bob").post("/profile", {"email": "not-an-email", "channels": ["email"], "language": "zh"})

    assert response.status_code == 200
    assert "邮箱地址格式不正确" in text_of(response)
    assert _one(demo, User, username="bob").email == "bob@example.com"
    assert _one(demo, NotifyPreference, username="bob") is None


def test_profile_needs_login_and_csrf(demo, browser):
    assert browser().get("/profile").status_code == 302
    response = browser("bob").post("/profile", {"email": "x@example.com", "language": "zh"}, csrf=False)
    assert response.status_code == 400
    assert _one(demo, User, username="bob").email == "bob@example.com"


def test_profile_link_is_in_the_menu_bar(browser):
    assert 'id="nav-profile"' in browser("alice").get("/").get_data(as_text=True)


# --- back office ---------------------------------------------------------------------

def test_notification_settings_are_for_super_admins_only(browser):
    assert browser("bob").get("/admin/notifysettings/").status_code == 403
    assert browser("admin").get("/admin/notifysettings/").status_code == 200


def test_smtp_password_is_masked_on_screen_kept_when_unchanged_and_never_audited(demo, browser):
    admin = browser("admin")
    form = {"host": "smtp.example.com", "port": "465", "security": "ssl", "username": "itsm",
            "password": SMTP_PASSWORD, "sender": "ITSM <itsm@example.com>", "timeout": "10"}
    assert admin.post("/admin/notifysettings/smtp/", form).status_code == 302

    page = admin.get("/admin/notifysettings/").get_data(as_text=True)
    assert SMTP_PASSWORD not in page and 'value="******"' in page and "smtp.example.com" in page

    assert admin.post("/admin/notifysettings/smtp/", {**form, "password": "******", "port": "587",
                                                      "security": "starttls"}).status_code == 302
    stored = _one(demo, Setting, key="notify.smtp").value
    assert (stored["password"], stored["port"], stored["security"]) == (SMTP_PASSWORD, 587, "starttls")
    with demo.app_context():
        audits = db.session.query(AuditLog).filter_by(model="Setting", object_id="notify.smtp").all()
        assert len(audits) == 2 and all(SMTP_PASSWORD not in str(a.before) + str(a.after) for a in audits)


def test_smtp_settings_with_a_bad_sender_are_refused(demo, browser):
    response = browser("admin").post("/admin/notifysettings/smtp/", {
        "host": "smtp.example.com", "port": "25", "security": "none", "sender": "itsm", "password": ""},
        follow_redirects=True)
    assert "发件人应为邮箱地址" in text_of(response)
    assert _one(demo, Setting, key="notify.smtp") is None


def test_wecom_robot_key_is_kept_apart_and_masked(demo, browser):
    admin = browser("admin")
    url = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ROBOT_KEY}"
    admin.post("/admin/notifysettings/wecom/", {"url": url, "timeout": "5"})

    page = admin.get("/admin/notifysettings/").get_data(as_text=True)
    assert ROBOT_KEY not in page and "send?key=******" in page
    admin.post("/admin/notifysettings/wecom/", {"url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=******",
                                                "timeout": "8"})
    assert _one(demo, Setting, key="notify.wecom").value == {
        "url": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send", "api_key": ROBOT_KEY, "timeout": 8.0}


def test_webhook_secret_is_masked_and_the_reminder_time_checked(demo, browser):
    admin = browser("admin")
    admin.post("/admin/notifysettings/webhook/", {"url": "https://hooks.example.com/itsm", "secret": "s3cret-value"})
    assert "s3cret-value" not in admin.get("/admin/notifysettings/").get_data(as_text=True)

    bad = admin.post("/admin/notifysettings/reminder/", {"daily_time": "25:00"}, follow_redirects=True)
    assert "提醒时间应为 HH:MM" in text_of(bad)
    admin.post("/admin/notifysettings/reminder/", {"daily_time": "8:30"})
    assert _one(demo, Setting, key="notify.daily_time").value == "08:30"


def test_admin_edits_a_template_and_the_notice_uses_it(demo, browser):
    from app.services.notify.delivery import build_message
    from app.services.people.users import find_user
    from app.services.tickets.operations import create_ticket

    admin = browser("admin")
    source = "{% block subject %}待办 {{ ticket.sn }}{% endblock %}{% block body %}请处理 {{ step }}{% endblock %}"
    response = admin.post("/admin/notifysettings/template/todo/", {"source": source})
    assert "模板已保存" in text_of(response) and "待办 REQ20250101000001" in text_of(response)

    with demo.app_context():
        service_id = db.session.execute(db.text("SELECT id FROM services WHERE key = 'account_apply'")).scalar()
        ticket = create_ticket(service_id=service_id, creator=find_user("alice"),
                               fields={"title": "开通 CRM", "system": "crm", "account_type": "permanent",
                                       "reason": "新入职"})
        db.session.flush()
        notice = db.session.query(Notification).filter_by(ticket_id=ticket.id, kind="todo").one()
        message = build_message(notice, ticket)
        assert message.subject == f"待办 {ticket.sn}" and message.text.startswith("请处理 直属领导审批")
        db.session.rollback()

    assert "已自定义" in text_of(admin.get("/admin/notifysettings/"))
    admin.post("/admin/notifysettings/template/todo/reset/")
    assert _one(demo, Setting, key="notify.template.todo").value is None


@pytest.mark.parametrize("source, message", [
    ("{% block subject %}{{ ''.__class__.__mro__[1].__subclasses__() }}{% endblock %}", "模板有错误"),
    ("{% block subject %}{{ ticket.sn {% endblock %}", "模板有错误"),
])
def test_a_broken_or_unsafe_template_is_refused(demo, browser, source, message):
    response = browser("admin").post("/admin/notifysettings/template/todo/", {"source": source})
    assert message in text_of(response)
    assert _one(demo, Setting, key="notify.template.todo") is None


def test_test_button_emails_the_admin(demo, browser, smtp):
    admin = browser("admin")
    with demo.app_context():
        db.session.query(User).filter_by(username="admin").update({User.email: "admin@example.com"})
        commit()
    admin.post("/admin/notifysettings/smtp/", {"host": "127.0.0.1", "port": str(smtp.port), "security": "none",
                                               "sender": "itsm@example.com", "password": "", "timeout": "5"})

    page = text_of(admin.post("/admin/notifysettings/test/email/", follow_redirects=True))

    assert "测试通知已发送" in page
    assert [m.rcpt_tos for m in smtp.mails] == [["admin@example.com"]] and "【测试】" in smtp.mails[0].subject


def test_failed_notices_can_be_queued_again_from_the_outbox(demo, browser):
    with demo.app_context():
        notice = Notification(ticket_id=None, kind="todo", recipients=["bob"], status="FAILED", attempts=5)
        db.session.add(notice)
        commit()
        notice_id = notice.id
    admin = browser("admin")
    assert "bob" in text_of(admin.get("/admin/notification/"))

    admin.post("/admin/notification/action/", {"action": "retry", "rowid": [str(notice_id)]})

    row = _one(demo, Notification, id=notice_id)
    assert (row.status, row.attempts) == ("PENDING", 0)
    assert _one(demo, AuditLog, model="Notification", action="retry") is not None
