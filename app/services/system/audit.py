"""Audit records for back-office changes: who, when, what (model + id), before/after with secrets masked."""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any

from sqlalchemy import inspect

from app.extensions import db
from app.models import AuditLog

MASK = "******"
SECRET_KEY_PATTERN = re.compile(r"(secret|password|token|auth|api[_-]?key|cookie|credential)", re.I)


def mask_secrets(value: Any, *, under_secret: bool = False) -> Any:
    """A copy of `value` where every value under a secret-looking key is replaced by the mask."""
    if isinstance(value, dict):
        return {k: mask_secrets(v, under_secret=under_secret or bool(SECRET_KEY_PATTERN.search(str(k))))
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_secrets(v, under_secret=under_secret) for v in value]
    if under_secret and value not in (None, "", {}, []):
        return MASK
    return value


def _plain(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat(sep=" ", timespec="seconds") if isinstance(value, datetime) else value.isoformat()
    return value


def snapshot(obj: Any, extra: dict | None = None) -> dict:
    """The row's column values as JSON-ready data (plus `extra`, e.g. role members), secrets masked."""
    data = {attr.key: _plain(getattr(obj, attr.key)) for attr in inspect(obj).mapper.column_attrs}
    data.update(extra or {})
    return mask_secrets(data)


def record(actor: str, action: str, model: str, object_id: Any = "", *, before: dict | None = None,
           after: dict | None = None, summary: str = "") -> AuditLog:
    """Add one audit row in the current transaction (the caller commits)."""
    row = AuditLog(actor=actor, action=action, model=model, object_id=str(object_id if object_id is not None else ""),
                   before=mask_secrets(before) if before is not None else None,
                   after=mask_secrets(after) if after is not None else None, summary=summary)
    db.session.add(row)
    return row
