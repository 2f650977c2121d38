"""Sending notices: the scheduler's `send_notifications` and `daily_reminders` jobs.

`tickets.persist` writes `Notification` rows (the outbox) in the ticket's transaction. Here a
worker claims due rows (`workqueue.claim`: SKIP LOCKED on PostgreSQL, a guarded
UPDATE on SQLite, a lease for crashed workers), works out who gets it on which channel
(the flow version's policy channels ∩ each user's profile choices; the webhook is
system-wide), renders the kind's template and sends. Each send is recorded per target
(`NotificationDelivery`), so a retry resends only what failed. A row ends SENT, SKIPPED
(policy off, nobody to reach) or, after `NOTIFY_MAX_ATTEMPTS`, FAILED.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from jinja2 import TemplateError
from sqlalchemy import and_, exists, select, update

from app.engine.state import TICKET_STATUS_NAMES
from app.errors import ValidationFailed
from app.extensions import db
from app.infra.database import dialect_insert
from app.infra.public_url import public_base_url
from app.infra.workqueue import backoff_seconds, claim
from app.integrations.notify import ChannelNotConfigured, Message, Recipient, Result, get_channel
from app.models import ApiCallLog, Notification, NotificationDelivery, StepReminder, Ticket, TicketLog, TicketStep, User
from app.services.flows.library import compiled_version
from app.services.notify import render as notify_render
from app.services.notify import settings as notify_settings
from app.timeutil import fmt, local, parse_local, utcnow

log = logging.getLogger(__name__)
FINAL = ("SENT", "SKIPPED")
WAITING = ("RUNNING", "RECEIVING", "DISTRIBUTING")
CHANNEL_SETTINGS = {"email": notify_settings.SMTP, "webhook": notify_settings.WEBHOOK,
                    "wecom": notify_settings.WECOM}
from app.services.system.audit import record

# --- the send job: claim, then per notice prepare (read), send (network, no transaction), record ----------

@dataclass(frozen=True)
class NoticePlan:
    """One claimed notice ready to send, as plain data: the rendered message and who gets it on which channel."""

    notification_id: int
    message: Message | None
    plan: list                         # [(channel, [Recipient])]: everyone the policy reaches
    due: list                          # [(channel, [Recipient])]: those not reached yet
    configs: dict


def claim_due_notices(worker: str, limit: int = 20) -> list[int]:
    """Claim up to `limit` due notices for this worker; returns their ids."""
    return claim(Notification, worker, limit=limit, lease=timedelta(seconds=current_app.config["NOTIFY_LEASE_SECONDS"]))


def prepare_notice(notification_id: int, worker: str) -> NoticePlan | None:
    """Read and render what one claimed notice sends; None when it is not ours or was settled without sending."""
    notice = _claimed(notification_id, worker)
    if notice is None:
        return None
    ticket = db.session.get(Ticket, notice.ticket_id) if notice.ticket_id else None
    policy = compiled_version(ticket.flow_version_id).definition.notify if ticket else None
    if policy is None or not policy.enabled:
        _finish(notice, "SKIPPED")
        return None
    plan = _plan(policy.channels, _recipients(notice.recipients or []))
    done = _deliveries(notice.id)
    due = [(name, pending) for name, people in plan if (pending := _pending(name, people, done))]
    message = build_message(notice, ticket) if due else None
    return NoticePlan(notice.id, message, plan, due, {name: _config(name) for name, _ in due})


def send_notice(plan: NoticePlan) -> list[tuple[str, Result]]:
    """Send on every channel the notice is due on (network only: no transaction is open)."""
    return [(name, result) for name, pending in plan.due
            for result in _send(name, plan.message, pending, plan.configs[name])]


def record_notice(plan: NoticePlan, outcomes: list[tuple[str, Result]], worker: str) -> str | None:
    """Keep each send's outcome and settle the notice; returns its new status (None: the claim was lost)."""
    notice = _claimed(plan.notification_id, worker)
    if notice is None:                      # our lease ran out while sending and another worker took it over
        log.warning("notice %s: claim lost while sending; results not recorded", plan.notification_id)
        return None
    done = _deliveries(notice.id)
    for name, result in outcomes:
        _record(notice, name, result, done)
    return _settle(notice, plan.plan, done)


def record_notice_crash(notification_id: int, worker: str) -> None:
    """An unexpected error counts as a failed attempt, so the notice backs off instead of looping."""
    notice = _claimed(notification_id, worker)
    if notice is not None:
        _retry_or_fail(notice)


def _claimed(notification_id: int, worker: str) -> Notification | None:
    return db.session.execute(select(Notification).where(
        Notification.id == notification_id, Notification.claimed_by == worker)).scalar_one_or_none()


def _deliveries(notification_id: int) -> dict:
    return {(d.channel, d.target): d for d in db.session.execute(
        select(NotificationDelivery).where(NotificationDelivery.notification_id == notification_id)).scalars()}


def _recipients(usernames: list[str]) -> list[Recipient]:
    """Enabled users as recipients (an unknown name still reaches group channels by its username)."""
    users = {u.username: u for u in db.session.execute(select(User).where(User.username.in_(usernames))).scalars()}
    return [Recipient(name, users[name].display_name, users[name].email or "") if name in users else Recipient(name)
            for name in usernames if name not in users or users[name].is_enabled]


def _plan(channels, recipients: list[Recipient]) -> list[tuple[str, list[Recipient]]]:
    """(channel, recipients) per policy channel: the users who chose it; the webhook gets everyone."""
    choices = notify_settings.user_channels([r.username for r in recipients])
    plan = []
    for name in channels:
        people = recipients if name == "webhook" else [r for r in recipients if name in choices[r.username]]
        if people:
            plan.append((name, people))
    return plan


def _targets(channel_name: str, people: list[Recipient]) -> list[str]:
    return [p.username for p in people] if get_channel(channel_name).per_recipient else ["*"]


def _pending(channel_name: str, people: list[Recipient], done: dict) -> list[Recipient]:
    if get_channel(channel_name).per_recipient:
        return [p for p in people if _status(done, channel_name, p.username) not in FINAL]
    return people if _status(done, channel_name, "*") not in FINAL else []


def _status(done: dict, channel_name: str, target: str) -> str | None:
    row = done.get((channel_name, target))
    return row.status if row else None


def _config(channel_name: str) -> dict:
    return notify_settings.channel_config(CHANNEL_SETTINGS[channel_name]) if channel_name in CHANNEL_SETTINGS else {}


def _send(channel_name: str, message: Message, people: list[Recipient], config: dict) -> list[Result]:
    try:
        return get_channel(channel_name).deliver(message, people, config)
    except ChannelNotConfigured as exc:
        log.warning("notice %s: %s", message.notification_id, exc)
        return [Result(t, ok=False, error=str(exc), skipped=True) for t in _targets(channel_name, people)]


def _record(notice: Notification, channel_name: str, result: Result, done: dict) -> None:
    """Keep the outcome of one send and log its HTTP calls (already masked) in the API call log."""
    now = utcnow()
    row = done.get((channel_name, result.target))
    if row is None:
        row = NotificationDelivery(notification_id=notice.id, channel=channel_name, target=result.target, attempts=0)
        db.session.add(row)
        done[(channel_name, result.target)] = row
    row.attempts += 1
    row.status = "SENT" if result.ok else "SKIPPED" if result.skipped else "FAILED"
    row.error, row.updated_at = result.error[:1000], now
    row.sent_at = now if result.ok else None
    for call in result.calls:
        db.session.add(ApiCallLog(
            ticket_id=notice.ticket_id, method=call.method, url=call.url, request_headers=call.request_headers,
            request_body=call.request_body, status_code=call.status_code, ok=call.ok,
            response_body=call.response_body, error=call.error, duration_ms=call.duration_ms,
            called_by=f"notify:{channel_name}"))


def _settle(notice: Notification, plan, done: dict) -> str:
    """SENT when every planned target is done, else retry with backoff, FAILED after the last attempt."""
    planned = [done.get((name, t)) for name, people in plan for t in _targets(name, people)]
    if all(row is not None and row.status in FINAL for row in planned):
        return _finish(notice, "SENT" if any(row.status == "SENT" for row in planned) else "SKIPPED")
    return _retry_or_fail(notice)


def _retry_or_fail(notice: Notification) -> str:
    notice.attempts += 1
    notice.claimed_by, notice.claimed_at = None, None
    if notice.attempts >= current_app.config["NOTIFY_MAX_ATTEMPTS"]:
        notice.status = "FAILED"
    else:
        notice.next_attempt_at = utcnow() + timedelta(seconds=backoff_seconds(notice.attempts))
    return notice.status


def _finish(notice: Notification, status: str) -> str:
    notice.status, notice.attempts = status, notice.attempts + 1
    notice.claimed_by, notice.claimed_at = None, None
    return status


# --- the message ---------------------------------------------------------------

def build_message(notice: Notification, ticket: Ticket) -> Message:
    """Render the notice's template with what happened on the ticket (admin's template, else the default)."""
    context = notice_context(notice, ticket)
    try:
        parts = notify_render.render(notice.kind, context)
    except TemplateError:
        log.exception("notice template %s is broken; the default one is used", notice.kind)
        defaults = {k: notify_render.default_source(k) for k in (notice.kind, notify_render.LAYOUT)
                    if k in notify_render.KINDS or k == notify_render.LAYOUT}
        parts = notify_render.render(notice.kind, context, overrides=defaults)
    return Message(notification_id=notice.id, kind=notice.kind, url=context["url"], ticket_sn=ticket.sn,
                   ticket_id=ticket.id, **parts)


def notice_context(notice: Notification, ticket: Ticket) -> dict:
    """Plain data a notice template sees: the ticket, the step(s), who did what, the link."""
    last = None
    if notice.kind != "reminder":
        last = db.session.execute(select(TicketLog).where(
            TicketLog.ticket_id == ticket.id, TicketLog.created_at <= notice.created_at)
            .order_by(TicketLog.id.desc()).limit(1)).scalar_one_or_none()
    steps = _steps(notice, ticket)
    operator = last.operator if last and last.operator != "system" else ""
    names = dict(db.session.execute(select(User.username, User.display_name)
                                    .where(User.username.in_({ticket.creator, operator} - {""}))).all())
    base = public_base_url()
    return {
        "kind": notice.kind, "kind_name": notify_render.KINDS.get(notice.kind, notice.kind), "site_name": "蓝鲸 ITSM",
        "ticket": {"id": ticket.id, "sn": ticket.sn, "title": ticket.title, "status": ticket.status,
                   "status_name": TICKET_STATUS_NAMES.get(ticket.status, ticket.status), "creator": ticket.creator,
                   "creator_name": names.get(ticket.creator, ""), "service_type": ticket.service_type,
                   "created_at": fmt(ticket.created_at)},
        "steps": [s.name for s in steps], "step": "、".join(s.name for s in steps),
        "waiting_since": fmt(min((s.opened_at for s in steps), default=None)) or "",
        "operator": operator, "operator_name": names.get(operator, ""), "action": last.message if last else "",
        "note": notice.message or "", "recipients": list(notice.recipients or []),
        "url": f"{base}/tickets/{ticket.id}",
    }


def _steps(notice: Notification, ticket: Ticket) -> list[TicketStep]:
    """The step a reminder is about; else the open steps the recipients work on (else all open steps)."""
    if notice.kind == "reminder":
        return list(db.session.execute(select(TicketStep).join(StepReminder, StepReminder.step_id == TicketStep.id)
                                       .where(StepReminder.notification_id == notice.id)).scalars())
    open_steps = list(db.session.execute(select(TicketStep).where(
        TicketStep.ticket_id == ticket.id, TicketStep.is_open.is_(True)).order_by(TicketStep.id)).scalars())
    recipients = set(notice.recipients or [])
    mine = [s for s in open_steps if recipients & set(s.users or [])]
    return mine or open_steps


# --- daily reminders -------------------------------------------------------------

def enqueue_daily_reminders(now: datetime | None = None) -> int:
    """After the configured local time, queue one `reminder` per open step of a `daily` flow waiting since
    before today; the (step, day) key makes it once per step per day, even with several schedulers."""
    now = now or utcnow()
    today = local(now)
    if (today.hour, today.minute) < notify_settings.daily_time():
        return 0
    day = today.strftime("%Y%m%d")
    candidates = [(step_id, ticket_id, users) for step_id, ticket_id, users, version_id in _waiting_steps(day, today)
                  if users and _wants_daily(version_id)]
    if not candidates:
        return 0
    stamp = utcnow()          # rows are due now, whatever instant `now` decided the day
    won = set(db.session.execute(
        dialect_insert(StepReminder).on_conflict_do_nothing()
        .values([{"step_id": s, "day": day, "created_at": stamp} for s, _, _ in candidates])
        .returning(StepReminder.step_id)).scalars())
    notices = [(step_id, Notification(ticket_id=ticket_id, kind="reminder", recipients=sorted(users), message="",
                                      status="PENDING", attempts=0, created_at=stamp, next_attempt_at=stamp))
               for step_id, ticket_id, users in candidates if step_id in won]
    db.session.add_all([n for _, n in notices])
    db.session.flush()
    if notices:
        db.session.execute(update(StepReminder), [{"step_id": s, "day": day, "notification_id": n.id} for s, n in notices])
    return len(notices)


def _waiting_steps(day: str, today: datetime):
    day_start = parse_local(today.strftime("%Y-%m-%d"))
    already = exists().where(and_(StepReminder.step_id == TicketStep.id, StepReminder.day == day))
    return db.session.execute(
        select(TicketStep.id, TicketStep.ticket_id, TicketStep.users, Ticket.flow_version_id)
        .join(Ticket, Ticket.id == TicketStep.ticket_id)
        .where(TicketStep.is_open.is_(True), TicketStep.status.in_(WAITING), TicketStep.opened_at < day_start,
               Ticket.status == "RUNNING", ~already)
        .order_by(TicketStep.id)).all()


def _wants_daily(version_id: int) -> bool:
    policy = compiled_version(version_id).definition.notify
    return policy.enabled and policy.frequency == "daily"


# --- operators ---------------------------------------------------------------------

@dataclass(frozen=True)
class TestMessage:
    """The back office's test button: a sample notice for one user on one channel, as plain data."""

    channel: str
    message: Message
    recipient: Recipient
    config: dict


def test_message(channel_name: str, username: str) -> TestMessage:
    """Render a sample notice to the user `username` on one channel (read phase of the test button)."""
    if channel_name not in CHANNEL_SETTINGS and channel_name != "log":
        raise ValidationFailed(f"未知的通知方式 {channel_name}")
    context = notify_render.sample_context()
    parts = notify_render.render("todo", context)
    message = Message(notification_id=0, kind="test", url=context["url"], ticket_sn=context["ticket"]["sn"],
                      **{**parts, "subject": "【测试】" + parts["subject"]})
    user = db.session.execute(select(User).where(User.username == username)).scalar_one()
    return TestMessage(channel_name, message, Recipient(user.username, user.display_name, user.email or ""),
                       _config(channel_name))


def send_test_message(test: TestMessage) -> Result:
    """Send the sample notice now (network only: no transaction is open)."""
    (result,) = _send(test.channel, test.message, [test.recipient], test.config)
    return result


def record_test_message(test: TestMessage, result: Result) -> Result:
    """Log the test send's HTTP calls (already masked) in the API call log."""
    for call in result.calls:
        db.session.add(ApiCallLog(method=call.method, url=call.url, request_headers=call.request_headers,
                                  request_body=call.request_body, status_code=call.status_code, ok=call.ok,
                                  response_body=call.response_body, error=call.error, duration_ms=call.duration_ms,
                                  called_by=test.recipient.username))
    db.session.flush()
    return result


def retry_notifications(ids: list[int], *, by: str) -> int:
    """Queue FAILED notices again from scratch (the back office's action); returns how many."""

    rows = list(db.session.execute(select(Notification).where(Notification.id.in_(ids),
                                                              Notification.status == "FAILED")).scalars())
    for notice in rows:
        notice.status, notice.attempts, notice.next_attempt_at = "PENDING", 0, utcnow()
        notice.claimed_by = notice.claimed_at = None
        record(by, "retry", "Notification", notice.id, summary=f"重新发送通知 {notice.kind}")
    db.session.flush()
    return len(rows)
