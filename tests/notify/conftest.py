"""Fixtures for notification tests: SMTP and HTTP receivers, a flow with a chosen notify policy, users with email."""
from __future__ import annotations

import pytest
from notify_kit import HttpReceiver, SmtpServer

from app.extensions import db
from app.infra.uow import commit
from app.models import Notification
from app.services.notify import settings as notify_settings
from app.services.people.users import find_user

FLOW = """
key: notify_{key}
name: 通知测试
service_type: request
notify: {policy}
nodes:
  - {{key: submit, name: 提单, kind: start, fields: [{{key: title, name: 标题, type: STRING, required: true}}]}}
  - key: approve
    name: 领导审批
    kind: manual
    processors: {{type: PERSON, value: [{processors}]}}
  - {{key: end, name: 结束, kind: end}}
transitions:
  - {{from: submit, to: approve}}
  - {{from: approve, to: end}}
"""
PEOPLE = {"alice": "张三", "bob": "李四", "carol": "王五"}


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def receiver():
    with HttpReceiver() as server:
        yield server


@pytest.fixture
def people(app):
    """alice (requester), bob and carol (approvers), each with a display name and an email address."""
    from app.services.people.users import create_user

    with app.app_context():
        for name, display in PEOPLE.items():
            create_user(name, password="pw-123456", display_name=display, email=f"{name}@example.com")
        commit()
    return list(PEOPLE)


@pytest.fixture
def notify_flow(app, make_service, people):
    """`notify_flow("{channels: [email]}", processors="bob, carol")`: a deployed flow with that policy; its service id."""
    counter = iter(range(1000))

    def make(policy: str = "{channels: [email]}", *, processors: str = "bob, carol") -> int:
        return make_service(FLOW.format(key=next(counter), policy=policy, processors=processors))

    return make


@pytest.fixture
def configure(app):
    """Store channel settings as an admin would (`configure(smtp=server, webhook=(url, secret), wecom=url)`)."""

    def apply(*, smtp=None, webhook=None, wecom=None, daily_time=None):
        with app.app_context():
            if smtp is not None:
                notify_settings.save_smtp(host="127.0.0.1", port=smtp.port, security="none", username="", password="",
                                          sender="ITSM <itsm@example.com>", timeout=5, by="admin")
            if webhook is not None:
                notify_settings.save_webhook(url=webhook[0], secret=webhook[1], timeout=5, by="admin")
            if wecom is not None:
                notify_settings.save_wecom(url=wecom, timeout=5, by="admin")
            if daily_time is not None:
                notify_settings.save_daily_time(daily_time, by="admin")
            commit()

    return apply


@pytest.fixture
def submit(app):
    """`submit(service_id, "title", by="alice")`: create a ticket through the service; returns its id."""
    from app.services.tickets.operations import create_ticket

    def make(service_id: int, title: str = "申请 VPN 账号", *, by: str = "alice") -> int:
        with app.app_context():
            ticket = create_ticket(service_id=service_id, creator=find_user(by), fields={"title": title})
            commit()
            return ticket.id

    return make


@pytest.fixture
def send(app):
    """Run the send job once as worker `w` (`send()` returns how many notices it attempted)."""
    from app.jobs import send_notifications as deliver_due_notifications

    def run(worker: str = "w1") -> int:
        with app.app_context():
            try:
                return deliver_due_notifications(worker)
            finally:
                db.session.remove()

    return run


@pytest.fixture
def notices(app):
    """The notification rows as (kind, status, attempts, recipients), oldest first."""

    def read(**filters):
        with app.app_context():
            rows = db.session.query(Notification).filter_by(**filters).order_by(Notification.id).all()
            out = [(n.kind, n.status, n.attempts, list(n.recipients)) for n in rows]
            db.session.remove()
            return out

    return read
