"""Logging in with a password, throttled per account and per client address.

Failures are rows in `login_failures`, so every gunicorn worker and host counts the same
attempts. An account (the name as typed, known or not) gets LOGIN_MAX_FAILURES wrong
passwords and an address LOGIN_MAX_FAILURES_PER_ADDRESS within LOGIN_FAILURE_WINDOW seconds;
then it is refused, without checking the password, until the oldest of those failures leaves
the window. A successful login clears its account's failures (not its address's).
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import bindparam, delete, select

from app.errors import LoginThrottled
from app.extensions import db
from app.models import LoginFailure, User
from app.services.people.users import authenticate
from app.timeutil import local, utcnow

# the failures still inside the window, newest first: the limit-th one decides until when a key is refused
_BY_ACCOUNT = (select(LoginFailure.failed_at).where(LoginFailure.username == bindparam("key"),
                                                    LoginFailure.failed_at >= bindparam("since"))
               .order_by(LoginFailure.failed_at.desc()).offset(bindparam("skip")).limit(1))
_BY_ADDRESS = (select(LoginFailure.failed_at).where(LoginFailure.address == bindparam("key"),
                                                    LoginFailure.failed_at >= bindparam("since"))
               .order_by(LoginFailure.failed_at.desc()).offset(bindparam("skip")).limit(1))


def log_in(username: str, password: str, address: str) -> User | None:
    """The user these credentials prove, or None (the failure is recorded); LoginThrottled when this
    account or address failed too often lately."""
    username, address = (username or "").strip()[:64], (address or "")[:64]
    config = current_app.config
    now = utcnow()
    window = timedelta(seconds=config["LOGIN_FAILURE_WINDOW"])
    refused_until = max(filter(None, [
        _refused_until(_BY_ACCOUNT, username, config["LOGIN_MAX_FAILURES"], now - window),
        _refused_until(_BY_ADDRESS, address, config["LOGIN_MAX_FAILURES_PER_ADDRESS"], now - window),
    ]), default=None)
    if refused_until is not None:
        retry_at = refused_until + window
        minutes = max(1, -(-int((retry_at - now).total_seconds()) // 60))
        raise LoginThrottled(f"登录失败次数过多，请于 {local(retry_at):%H:%M} 后再试（约 {minutes} 分钟后）")
    user = authenticate(username, password)
    if user is None:
        db.session.execute(delete(LoginFailure).where(LoginFailure.failed_at < now - window))
        db.session.add(LoginFailure(username=username, address=address, failed_at=now))
    else:
        db.session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    db.session.flush()
    return user


def _refused_until(query, key: str, limit: int, since: datetime) -> datetime | None:
    """The oldest of the last `limit` failures inside the window when there are that many, else None."""
    if limit <= 0:
        return None
    return db.session.execute(query, {"key": key, "since": since, "skip": limit - 1}).scalar()
