"""/healthz: the health check for load balancers and process supervisors.

Public and cheap: no login, no session cookie, no CSRF (GET only), and no database unless
`?db=1` asks for a `SELECT 1`. The answer says nothing but "ok" or "unavailable".
"""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from app.extensions import db

bp = Blueprint("health", __name__)


@bp.route("/healthz", methods=["GET"])
def healthz():
    """200 `{"status": "ok"}`; with `?db=1` also the database: 503 when it does not answer."""
    if request.args.get("db") != "1":
        return _answer({"status": "ok"}, 200)
    try:
        _select_one()
    except Exception as exc:  # noqa: BLE001 - any failure means "unavailable" to the load balancer
        current_app.logger.error("health check: database unavailable: %s", _reason(exc))
        return _answer({"status": "error", "database": "unavailable"}, 503)
    return _answer({"status": "ok", "database": "ok"}, 200)


def _select_one() -> None:
    """`SELECT 1` on a pooled DBAPI connection: no ORM session, and no `BEGIN IMMEDIATE` on SQLite."""
    connection = db.engine.raw_connection()
    try:
        cursor = connection.cursor()
        cursor.execute("SELECT 1")
        cursor.fetchone()
        cursor.close()
    finally:
        connection.close()


def _answer(body: dict, status: int):
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _reason(exc: Exception) -> str:
    """The error's class and first line, with the database password masked (the URL is never logged)."""
    message = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [""])[0]
    password = db.engine.url.password
    if password:
        message = message.replace(str(password), "***")
    return f"{type(exc).__name__}: {message}"[:300]
