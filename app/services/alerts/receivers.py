"""Receivers: stable URLs `/alerts/<kind>/<name>`, each with its own secret, and the intake that stores payloads.

A receiver authenticates by its secret alone (bearer token or basic auth, as Alertmanager's
`http_config` sends them); the secret is generated once, shown once and stored as a SHA-256
hash (it is random, so a fast hash is enough and a burst of alerts costs no password hashing).
Intake only stores: the processor reads the queue (`processing`).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import secrets

from sqlalchemy import func, select

from app.errors import AuthenticationFailed, ItsmError, NotFound
from app.extensions import db
from app.limits import text_problem
from app.models import RECEIVER_KINDS, AlertPayload, AlertReceiver
from app.timeutil import utcnow

NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
AUTH_KINDS = ("bearer", "basic")


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_receiver(kind: str, name: str, *, auth: str = "bearer", username: str = "",
                    secret: str | None = None) -> tuple[AlertReceiver, str]:
    """A new receiver and its secret (returned once; only its hash is kept)."""
    if kind not in RECEIVER_KINDS:
        raise ItsmError(f"未知的告警来源 {kind!r}，可选：{', '.join(RECEIVER_KINDS)}")
    if not NAME.match(name or ""):
        raise ItsmError("接收器名称只能包含小写字母、数字、下划线和连字符（最多 64 个字符）")
    if auth not in AUTH_KINDS:
        raise ItsmError(f"未知的认证方式 {auth!r}，可选：bearer、basic")
    if auth == "basic" and not re.match(r"^[A-Za-z0-9_.-]{1,64}$", username or ""):
        raise ItsmError("basic 认证需要用户名（字母、数字、._-，最多 64 个字符）")
    if db.session.execute(select(AlertReceiver.id).where(AlertReceiver.kind == kind,
                                                         AlertReceiver.name == name)).first():
        raise ItsmError(f"接收器 {kind}/{name} 已存在")
    secret = secret or secrets.token_urlsafe(32)
    if len(secret) < 16:
        raise ItsmError("密钥至少 16 个字符")
    receiver = AlertReceiver(kind=kind, name=name, auth=auth, username=username if auth == "basic" else "",
                             secret_hash=_digest(secret))
    db.session.add(receiver)
    db.session.flush()
    return receiver, secret


def rotate_secret(receiver_id: int) -> str:
    """A new secret for a receiver (the old one stops working at commit)."""
    receiver = db.session.get(AlertReceiver, receiver_id)
    if receiver is None:
        raise NotFound("接收器不存在")
    secret = secrets.token_urlsafe(32)
    receiver.secret_hash = _digest(secret)
    return secret


def list_receivers() -> list[AlertReceiver]:
    return list(db.session.execute(select(AlertReceiver).order_by(AlertReceiver.kind, AlertReceiver.name)).scalars())


def _presented_secret(receiver: AlertReceiver, authorization: str) -> str | None:
    scheme, _, value = (authorization or "").partition(" ")
    if receiver.auth == "bearer" and scheme.lower() == "bearer":
        return value.strip()
    if receiver.auth == "basic" and scheme.lower() == "basic":
        try:
            user, _, password = base64.b64decode(value.strip(), validate=True).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            return None
        return password if hmac.compare_digest(user, receiver.username) else None
    return None


def authenticate_receiver(kind: str, name: str, authorization: str) -> AlertReceiver:
    """The active receiver `kind/name` if the Authorization header carries its secret; else AuthenticationFailed (401)."""
    receiver = db.session.execute(select(AlertReceiver).where(
        AlertReceiver.kind == kind, AlertReceiver.name == name, AlertReceiver.is_active.is_(True))).scalar_one_or_none()
    presented = _presented_secret(receiver, authorization) if receiver else None
    if receiver is None or presented is None or not hmac.compare_digest(_digest(presented), receiver.secret_hash):
        raise AuthenticationFailed("告警接收器认证失败：密钥缺失或错误")
    return receiver


def store_payload(receiver: AlertReceiver, raw: bytes) -> AlertPayload:
    """Store a received body first. JSON in the receiver's format is queued (PENDING); anything else is kept as
    REJECTED for the admin to see, with the reason (after the entry point commits the row)."""
    body, problem = _decode(receiver.kind, raw)
    payload = AlertPayload(receiver_id=receiver.id, body=body, received_at=utcnow(), next_attempt_at=utcnow())
    if problem:
        payload.status, payload.last_error = "REJECTED", problem
    db.session.add(payload)
    db.session.flush()
    return payload


def _decode(kind: str, raw: bytes) -> tuple[dict, str]:
    """(body to keep, why it is refused or "")."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        return {"raw": raw[:4096].decode("utf-8", "replace").replace("\x00", "")}, f"请求体不是合法的 JSON：{exc}"
    from .payloads import shape_problem

    unusable = text_problem(json.dumps(body, ensure_ascii=False))
    if unusable:
        return {"raw": raw[:4096].decode("utf-8", "replace").replace("\x00", "")}, unusable
    problem = shape_problem(kind, body)
    if problem:
        return (body if isinstance(body, dict) else {"raw": body}), problem
    return body, ""


def payload_counts() -> dict[str, int]:
    """Payloads per status (the back office's queue view)."""
    return dict(db.session.execute(select(AlertPayload.status, func.count()).group_by(AlertPayload.status)).all())
