"""Daily reminders: after the configured local time, once per waiting step per day, only for `daily` flows."""
from __future__ import annotations

import threading
from datetime import datetime, timedelta

from app.extensions import db
from app.infra.uow import commit
from app.models import Notification, StepReminder, TicketStep
from app.jobs import daily_reminders
from app.timeutil import local, parse_local, utcnow

DAILY = "{channels: [email], frequency: daily}"


def _at(local_text: str, days: int = 0) -> datetime:
    """A naive UTC instant for a local wall-clock time today (+ days)."""
    day = local(utcnow()).date() + timedelta(days=days)
    return parse_local(f"{day:%Y-%m-%d} {local_text}")


def _opened(app, ticket_id: int, when: datetime) -> None:
    with app.app_context():
        db.session.query(TicketStep).filter_by(ticket_id=ticket_id, is_open=True).update({TicketStep.opened_at: when})
        commit()


def _reminders(app, now: datetime) -> int:
    with app.app_context():
        try:
            return daily_reminders(now)
        finally:
            db.session.remove()


def test_a_step_waiting_since_yesterday_gets_one_reminder_after_the_configured_time(app, configure, notify_flow,
                                                                                    submit, notices):
    configure(daily_time="09:30")
    ticket_id = submit(notify_flow(DAILY))
    _opened(app, ticket_id, _at("15:00:00", days=-1))

    assert _reminders(app, _at("09:29:00")) == 0
    assert _reminders(app, _at("09:30:00")) == 1
    assert _reminders(app, _at("09:31:00")) == 0
    assert _reminders(app, _at("18:00:00")) == 0
    assert [n for n in notices() if n[0] == "reminder"] == [("reminder", "PENDING", 0, ["bob", "carol"])]

    assert _reminders(app, _at("09:30:00", days=1)) == 1            # and again the next day
    assert len(notices(kind="reminder")) == 2


def test_default_reminder_time_is_nine_oclock(app, notify_flow, submit):
    ticket_id = submit(notify_flow(DAILY))
    _opened(app, ticket_id, _at("10:00:00", days=-3))

    assert _reminders(app, _at("08:59:59")) == 0
    assert _reminders(app, _at("09:00:00")) == 1


def test_no_reminder_for_once_flows_for_steps_opened_today_or_for_suspended_tickets(app, notify_flow, submit,
                                                                                    notices):
    from app.services.people.users import find_user
    from app.services.tickets.operations import operate_ticket

    once = submit(notify_flow("{channels: [email], frequency: once}"))
    today = submit(notify_flow(DAILY))
    suspended = submit(notify_flow(DAILY))
    _opened(app, once, _at("08:00:00", days=-2))
    _opened(app, today, _at("00:00:01"))
    _opened(app, suspended, _at("08:00:00", days=-2))
    with app.app_context():
        operate_ticket(suspended, find_user("bob"), "SUSPEND", message="等待备件")
        commit()

    assert _reminders(app, _at("12:00:00")) == 0
    assert notices(kind="reminder") == []


def test_no_reminder_when_the_flow_turned_notifications_off(app, notify_flow, submit):
    ticket_id = submit(notify_flow("{enabled: false, frequency: daily}"))
    _opened(app, ticket_id, _at("08:00:00", days=-2))

    assert _reminders(app, _at("12:00:00")) == 0


def test_two_schedulers_at_once_queue_one_reminder_per_step(app, notify_flow, submit, notices):
    service_id = notify_flow(DAILY)
    ids = [submit(service_id, f"单据 {i}") for i in range(5)]
    for ticket_id in ids:
        _opened(app, ticket_id, _at("08:00:00", days=-1))
    now, barrier, counts = _at("10:00:00"), threading.Barrier(2), []

    def scheduler():
        barrier.wait()
        counts.append(_reminders(app, now))

    threads = [threading.Thread(target=scheduler) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)

    assert sum(counts) == 5
    assert len(notices(kind="reminder")) == 5
    with app.app_context():
        assert db.session.query(StepReminder).count() == 5
        assert db.session.query(StepReminder).filter(StepReminder.notification_id.is_(None)).count() == 0


def test_reminder_email_names_the_step_and_since_when(app, smtp, configure, notify_flow, submit, send):
    configure(smtp=smtp)
    ticket_id = submit(notify_flow(DAILY), "服务器宕机")
    send()                                                # the first notice
    _opened(app, ticket_id, _at("17:20:00", days=-1))
    _reminders(app, _at("09:05:00"))

    send()

    reminders = [m for m in smtp.mails if "待办提醒" in m.subject]
    assert sorted(m.rcpt_tos[0] for m in reminders) == ["bob@example.com", "carol@example.com"]
    text = reminders[0].part("plain")
    yesterday = local(_at("17:20:00", days=-1)).strftime("%Y-%m-%d 17:20:00")
    assert "【领导审批】" in text and yesterday in text and "服务器宕机" in text
    with app.app_context():
        assert db.session.query(Notification).filter_by(kind="reminder", status="SENT").count() == 1
