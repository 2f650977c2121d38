"""Alert receivers: `POST /alerts/<kind>/<name>` for Alertmanager, Grafana and generic JSON webhooks.

No login and no CSRF token: a monitoring system authenticates with the receiver's own secret
(bearer token or basic auth). The body is stored first and committed, so a burst is accepted
fast and nothing is lost; then, with ALERTS_PROCESS_INLINE, it is processed at once in a short
unit of work of its own (a failure leaves it queued for the scheduler's `process_alerts` job).
Answers are JSON: 200 accepted, 400 not JSON / not the receiver's format (kept for the admin),
401 wrong or missing secret (nothing stored), 413 too large.
"""
from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, jsonify, request

from app.errors import ItsmError
from app.extensions import csrf, db
from app.infra.uow import CommitOutsideBoundary, unit_of_work
from app.models import RECEIVER_KINDS
from app.services import alerts

log = logging.getLogger(__name__)
bp = Blueprint("alert_receivers", __name__, url_prefix="/alerts")


@bp.route("/<kind>/<name>", methods=["POST"])
def receive(kind: str, name: str):
    """Store one notification, then (optionally) process it."""
    if kind not in RECEIVER_KINDS:
        return _answer(404, "unknown receiver kind")
    limit = current_app.config["ALERTS_MAX_BODY_BYTES"]
    if (request.content_length or 0) > limit:
        return _answer(413, f"body larger than {limit} bytes")
    try:
        with unit_of_work():
            receiver = alerts.authenticate_receiver(kind, name, request.headers.get("Authorization", ""))
            payload = alerts.store_payload(receiver, request.get_data(cache=False)[:limit + 1])
            payload_id, status, problem = payload.id, payload.status, payload.last_error
    except ItsmError as exc:
        return _answer(exc.http_status, exc.message)
    if status == "REJECTED":
        return _answer(400, problem, payload_id=payload_id)
    if current_app.config["ALERTS_PROCESS_INLINE"]:
        _process_now(payload_id)
    return _answer(200, "accepted", payload_id=payload_id)


def _process_now(payload_id: int) -> None:
    """Process a stored payload in its own unit of work; on failure record it for the scheduler's retry."""
    worker = f"inline:{payload_id}"
    try:
        with unit_of_work():
            if not alerts.claim_payload(payload_id, worker):
                return
        with unit_of_work():
            alerts.process_payload(payload_id, worker)
    except CommitOutsideBoundary:
        raise
    except Exception as exc:  # noqa: BLE001 - the payload is stored; the scheduler retries it
        log.warning("alert payload %s: processing failed, left for the scheduler: %s", payload_id, exc)
        db.session.rollback()
        with unit_of_work():
            alerts.record_payload_failure(payload_id, worker, getattr(exc, "message", None) or str(exc))


def _answer(status: int, message: str, **extra):
    response = jsonify({"status": "ok" if status == 200 else "error", "message": message, **extra})
    response.status_code = status
    return response


def register_alert_receivers(app: Flask) -> None:
    csrf.exempt(bp)
    app.register_blueprint(bp)
