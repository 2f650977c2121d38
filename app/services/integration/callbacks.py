"""Result callbacks: when a ticket created with meta.callback_url ends, POST its result there.

Rows are claimed in the database (an UPDATE ... RETURNING claim that works on
SQLite and PostgreSQL, with a lease so a crashed worker's claims come back),
so several scheduler processes never deliver one callback twice.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app, g
from sqlalchemy import and_, or_, select, update

from app.errors import ValidationFailed
from app.extensions import db
from app.infra.uow import OutboundFirst
from app.integrations import destinations
from app.integrations.destinations import DestinationRefused, parse_allow_list
from app.infra.workqueue import backoff_seconds, claim
from app.integrations.http_api import HttpResult
from app.integrations.http_api import send as http_send
from app.models import ApiApp, Ticket, TicketCallback, TicketParticipant, User
from app.timeutil import utcnow

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class CallbackPost:
    """One claimed callback as plain data: where to POST what, within how long, and where it may go."""

    id: int
    url: str
    payload: dict
    deadline: float
    max_bytes: int
    app_code: str = ""
    allowed_hosts: tuple[str, ...] = ()       # the creating app's allow-list when the callback is sent
    allow_private: bool = False


# --- where a callback may go (issue 13: meta.callback_url must not reach inside the network) ---------------

_RESOLVED = "itsm_callback_hosts"        # flask.g: {host: addresses or the reason it did not resolve}


def check_callback_url(app: ApiApp, url: str) -> None:
    """At create_ticket: the callback host is on the app's allow-list and resolves to addresses it may reach.

    Resolving the host is a network call: the first time, OutboundFirst makes the entry point resolve it
    with no transaction open and run the request again, which finds the answer in this request's cache.
    """
    allow_list = parse_allow_list(app.callback_hosts)
    try:
        host = destinations.host_of(url)
        if allow_list and destinations.host_listed(host, allow_list):
            resolved = g.setdefault(_RESOLVED, {})
            if host not in resolved:
                raise OutboundFirst(lambda: host, _resolve_quietly, _remember_resolution)
            if isinstance(resolved[host], str):
                raise DestinationRefused(resolved[host])
            destinations.check(url, allow_list, app.callback_private, resolved[host], app_code=app.app_code)
        else:
            destinations.check(url, allow_list, app.callback_private, [], app_code=app.app_code)
    except DestinationRefused as exc:
        raise ValidationFailed(f"meta.callback_url 被拒绝：{exc}") from None


def _resolve_quietly(host: str) -> list[str] | str:
    try:
        return destinations.resolve(host)
    except DestinationRefused as exc:
        return str(exc)


def _remember_resolution(host: str, addresses: list[str] | str) -> None:
    g.setdefault(_RESOLVED, {})[host] = addresses


def claim_due_callbacks(worker: str, limit: int = 20) -> list[int]:
    """Claim up to `limit` due callbacks for this worker; returns their ids."""
    return claim(TicketCallback, worker, limit=limit, lease=LEASE)


def prepare_callback(callback_id: int, worker: str) -> CallbackPost | None:
    """The callback to send, if this worker still holds its claim."""
    cb = _claimed(callback_id, worker)
    if cb is None:
        return None
    ticket = db.session.get(Ticket, cb.ticket_id)
    app_code = str(((ticket.meta if ticket else None) or {}).get("app_code") or "")
    app = db.session.execute(select(ApiApp).where(ApiApp.app_code == app_code)).scalar_one_or_none() \
        if app_code else None
    allowed = tuple(parse_allow_list(app.callback_hosts)) if app is not None and app.is_enabled else ()
    return CallbackPost(cb.id, cb.url, dict(cb.payload), float(current_app.config["CALLBACK_TIMEOUT"]),
                        int(current_app.config["OUTBOUND_MAX_BYTES"]), app_code, allowed,
                        bool(app is not None and app.callback_private))


def send_callback(post: CallbackPost) -> HttpResult:
    """POST the result (network only, within the total deadline; redirects are not followed).

    The destination is checked again now (the allow-list may have changed, and DNS may answer
    differently than when the ticket was created), and once more against the connected peer's address.
    """
    try:
        destinations.check(post.url, list(post.allowed_hosts), post.allow_private, app_code=post.app_code)
    except DestinationRefused as exc:
        log.warning("callback %s refused: %s", post.id, exc)
        return HttpResult(None, "", None, f"回调地址被拒绝：{exc}", 0)
    result = http_send("POST", post.url, payload=post.payload, timeout=post.deadline, max_bytes=post.max_bytes,
                       expect_json=False, peer_guard=destinations.peer_guard(post.allow_private))
    log.info("callback %s for ticket %s -> %s in %d ms", post.id, post.payload.get("sn"),
             "ok" if result.ok else (result.error or f"HTTP {result.status_code}"), result.duration_ms)
    return result


def delivery_problem(result: HttpResult) -> str:
    """Why a callback answer does not count as delivered, or "" when it does.

    As upstream requires (Ticket.callback_request): HTTP 200 or 201 with a JSON object whose `code` is 0;
    `result: true` counts too (BlueKing envelopes carry both, some receivers only `result`).
    """
    if result.error or result.status_code is None:
        return result.error or "没有收到回应"
    if result.status_code not in (200, 201):
        return f"HTTP {result.status_code}: {result.text[:200]}"
    try:
        body = json.loads(result.text) if result.text else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"回应不是 JSON 对象（需要 code 为 0）：{result.text[:200]}"
    code = body.get("code")
    if (code == 0 and not isinstance(code, bool)) or code == "0" or body.get("result") is True:
        return ""
    return f"回应 code 不为 0：code={code!r}, message={str(body.get('message', ''))[:200]}"


def record_callback(post: CallbackPost, result: HttpResult, worker: str) -> bool:
    """Settle the attempt: success, or the next try with exponential backoff (only while the claim is ours)."""
    cb = _claimed(post.id, worker)
    if cb is None:
        log.warning("callback %s: claim lost while sending; result not recorded", post.id)
        return False
    now = utcnow()
    cb.attempts += 1
    cb.claimed_by, cb.claimed_at, cb.updated_at = None, None, now
    problem = delivery_problem(result)
    if not problem:
        cb.status, cb.last_error = "SUCCEEDED", ""
    else:
        cb.last_error = problem[:500]
        if cb.attempts >= current_app.config["CALLBACK_MAX_ATTEMPTS"]:
            cb.status = "FAILED"
        else:
            cb.next_attempt_at = now + timedelta(seconds=backoff_seconds(cb.attempts))
    return not problem


def _claimed(callback_id: int, worker: str) -> TicketCallback | None:
    return db.session.execute(select(TicketCallback).where(
        and_(TicketCallback.id == callback_id, TicketCallback.claimed_by == worker))).scalar_one_or_none()


def failed_callback_sns(user: User, *, see_all: bool) -> list[str]:
    """Tickets whose callback has failed at least once and not yet succeeded (until read by approval_result).

    Only tickets `user` may view (its creator and participants), unless `see_all` (super admins, apps trusted
    to act for users): the list must not tell anyone else which tickets exist.
    """
    stmt = (select(Ticket.sn).join(TicketCallback, TicketCallback.ticket_id == Ticket.id)
            .where(TicketCallback.status != "SUCCEEDED", TicketCallback.attempts > 0,
                   TicketCallback.reported.is_(False)))
    if not (see_all or user.is_superuser):
        involved = select(TicketParticipant.ticket_id).where(TicketParticipant.username == user.username)
        stmt = stmt.where(or_(Ticket.creator == user.username, Ticket.id.in_(involved)))
    return list(db.session.execute(stmt.order_by(Ticket.sn).distinct()).scalars())


def mark_reported(ticket_ids: list[int]) -> None:
    if ticket_ids:
        db.session.execute(update(TicketCallback).where(TicketCallback.ticket_id.in_(ticket_ids),
                                                        TicketCallback.status != "SUCCEEDED")
                           .values(reported=True), execution_options={"synchronize_session": False})
