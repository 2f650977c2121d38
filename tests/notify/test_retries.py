"""Failures: retried with exponential backoff, only what failed is resent, FAILED after the last attempt;
a crashed worker's claim is taken over after the lease."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.extensions import db
from app.infra.uow import commit
from app.models import Notification, NotificationDelivery
from app.timeutil import utcnow

SECRET = "whsec-0123456789"


def _make_due(app):
    with app.app_context():
        db.session.query(Notification).update({Notification.next_attempt_at: utcnow() - timedelta(seconds=1)})
        commit()


def _next_attempt_in(app) -> float:
    with app.app_context():
        (notice,) = db.session.query(Notification).all()
        return (notice.next_attempt_at - utcnow()).total_seconds()


def test_smtp_refusal_is_retried_with_exponential_backoff(app, smtp, configure, notify_flow, submit, send, notices):
    configure(smtp=smtp)
    smtp.sink.refuse = "451 4.3.0 Try again later"
    submit(notify_flow())

    send()
    assert notices() == [("todo", "PENDING", 1, ["bob", "carol"])]
    assert 25 < _next_attempt_in(app) <= 30
    assert send() == 0                                   # not due before the backoff ends

    _make_due(app)
    send()
    assert notices()[0][2] == 2 and 55 < _next_attempt_in(app) <= 60

    smtp.sink.refuse = None
    _make_due(app)
    send()
    assert notices() == [("todo", "SENT", 3, ["bob", "carol"])]
    assert sorted(m.rcpt_tos[0] for m in smtp.mails) == ["bob@example.com", "carol@example.com"]


def test_a_retry_resends_only_the_channels_that_failed(app, smtp, receiver, configure, notify_flow, submit, send,
                                                       notices):
    configure(smtp=smtp, webhook=(receiver.url, SECRET))
    receiver.status = 503
    submit(notify_flow("{channels: [email, webhook]}"))

    send()
    assert len(smtp.mails) == 2 and len(receiver.hits) == 1
    assert notices()[0][1:3] == ("PENDING", 1)

    receiver.status = 200
    _make_due(app)
    send()

    assert len(smtp.mails) == 2                          # the emails went out the first time: not again
    assert len(receiver.hits) == 2
    assert notices()[0][1:3] == ("SENT", 2)
    with app.app_context():
        hook = db.session.query(NotificationDelivery).filter_by(channel="webhook").one()
        assert (hook.status, hook.attempts, hook.error) == ("SENT", 2, "")


def test_notice_is_failed_after_the_last_attempt_and_never_sent_again(app, receiver, configure, notify_flow, submit,
                                                                      send, notices):
    configure(webhook=(receiver.url, SECRET))
    receiver.status = 500
    submit(notify_flow("{channels: [webhook]}"))
    attempts = app.config["NOTIFY_MAX_ATTEMPTS"]

    for _ in range(attempts):
        send()
        _make_due(app)

    assert notices() == [("todo", "FAILED", attempts, ["bob", "carol"])]
    assert len(receiver.hits) == attempts
    assert send() == 0 and len(receiver.hits) == attempts
    with app.app_context():
        hook = db.session.query(NotificationDelivery).one()
        assert (hook.status, hook.error) == ("FAILED", "HTTP 500")


def test_connection_refused_is_a_failed_attempt(app, configure, notify_flow, submit, send, notices):
    from notify_kit import free_port

    configure(webhook=(f"http://127.0.0.1:{free_port()}/hook", SECRET))
    submit(notify_flow("{channels: [webhook]}"))

    send()

    assert notices()[0][1:3] == ("PENDING", 1)
    with app.app_context():
        assert "ConnectionError" in db.session.query(NotificationDelivery).one().error


@pytest.mark.parametrize("claimed_minutes_ago, taken_over", [(10, True), (1, False)])
def test_a_crashed_workers_claim_is_taken_over_after_the_lease(app, smtp, configure, notify_flow, submit, send,
                                                               claimed_minutes_ago, taken_over):
    configure(smtp=smtp)
    submit(notify_flow())
    with app.app_context():
        db.session.query(Notification).update({Notification.claimed_by: "dead-host:1",
                                               Notification.claimed_at: utcnow() - timedelta(minutes=claimed_minutes_ago)})
        commit()

    assert send("w2") == (1 if taken_over else 0)
    assert len(smtp.mails) == (2 if taken_over else 0)
