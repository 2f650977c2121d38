"""System settings (基础配置): attachment storage, the CMDB cache clear time."""
from __future__ import annotations

from typing import Any

from flask import current_app

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Setting
from app.services.system import audit as admin_audit
from app.timeutil import fmt, utcnow

CACHE_CLEARED_AT = "cache_cleared_at"


def get_setting(key: str, default: Any = None) -> Any:
    row = db.session.get(Setting, key)
    return default if row is None else row.value


def set_setting(key: str, value: Any, *, by: str) -> None:
    """Store one setting and record the change."""
    row = db.session.get(Setting, key)
    before = None if row is None else {key: row.value}
    if row is None:
        row = Setting(key=key, value=value, updated_by=by)
        db.session.add(row)
    else:
        row.value, row.updated_by = value, by
    db.session.flush()
    admin_audit.record(by, "update", "Setting", key, before=before, after={key: value})


def attachment_settings() -> dict:
    """The attachment storage folder and size limit in MB (stored values, else the configuration's)."""
    cfg = current_app.config
    return {"upload_dir": get_setting("upload_dir", cfg["UPLOAD_DIR"]),
            "upload_max_mb": get_setting("upload_max_mb", round(cfg["UPLOAD_MAX_BYTES"] / 1024 / 1024, 2))}
from app.services.flows import library as flows


def save_attachment_settings(upload_dir: str, upload_max_mb: float, *, by: str) -> None:
    upload_dir = (upload_dir or "").strip()
    if not upload_dir:
        raise ValidationFailed("附件存储目录不能为空")
    if not 0 < upload_max_mb <= 1024:
        raise ValidationFailed("附件大小上限应在 0 到 1024 MB 之间")
    set_setting("upload_dir", upload_dir, by=by)
    set_setting("upload_max_mb", upload_max_mb, by=by)


def clear_cache(*, by: str) -> str:
    """Forget cached CMDB businesses/roles and compiled flows; remember when (local `YYYY-MM-DD HH:MM:SS`)."""

    flows._compiled_cache.clear()
    now = fmt(utcnow())
    set_setting(CACHE_CLEARED_AT, now, by=by)
    return now
