"""Uploaded files of FILE fields: stored under the instance folder with safe names."""
from __future__ import annotations

import uuid
from pathlib import Path

from flask import current_app
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from app.errors import ValidationFailed
from app.extensions import db
from app.models import Attachment
from app.services.system.settings import attachment_settings


# Content types an attachment is served with, by extension; anything else is application/octet-stream.
# The type the uploader's browser claimed is never used: "notes.txt" sent as text/html stays text/plain.
SAFE_CONTENT_TYPES = {
    "txt": "text/plain", "log": "text/plain", "md": "text/plain", "csv": "text/csv",
    "json": "application/json", "yaml": "text/plain", "yml": "text/plain", "xml": "text/plain",
    "pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg",
    "gif": "image/gif", "bmp": "image/bmp", "webp": "image/webp",
    "doc": "application/msword", "xls": "application/vnd.ms-excel", "ppt": "application/vnd.ms-powerpoint",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "zip": "application/zip", "gz": "application/gzip", "tar": "application/x-tar", "7z": "application/x-7z-compressed",
}


def safe_content_type(filename: str) -> str:
    """The content type to serve a file with, from its extension's allow-list (never the uploader's claim)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    return SAFE_CONTENT_TYPES.get(ext, "application/octet-stream")


def limits() -> tuple[Path, int]:
    """Where uploads go and their size limit: the back office's 基础配置, else the configuration."""
    settings = attachment_settings()
    return Path(settings["upload_dir"]), int(float(settings["upload_max_mb"]) * 1024 * 1024)


def upload_dir() -> Path:
    path = limits()[0]
    path.mkdir(parents=True, exist_ok=True)
    return path


def store_upload(file: FileStorage, username: str, field_key: str = "") -> Attachment:
    """Save one upload (size and extension checked) and record it; the name on disk is random."""
    original = (file.filename or "").strip()
    safe = secure_filename(original) or "file"
    ext = original.rsplit(".", 1)[-1].lower() if "." in original else ""
    allowed = {e.lower() for e in current_app.config["UPLOAD_EXTENSIONS"]}
    if ext not in allowed:
        raise ValidationFailed(f"不支持的附件类型：{original}（允许：{', '.join(sorted(allowed))}）")
    stored = uuid.uuid4().hex
    folder, max_bytes = limits()
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / stored
    file.save(target)
    size = target.stat().st_size
    if size > max_bytes:
        target.unlink(missing_ok=True)
        raise ValidationFailed(f"附件 {original} 超过大小限制 {max_bytes / 1024 / 1024:g} MB")
    name = original.replace("/", "_").replace("\\", "_")[:255] or safe
    row = Attachment(original_name=name, stored_name=stored, size=size, field_key=field_key,
                     content_type=safe_content_type(original), uploaded_by=username)
    db.session.add(row)
    db.session.flush()
    return row


def stored_path(row: Attachment) -> Path:
    """Where an attachment's file is: the storage folder, or the default one it was saved in before a move."""
    path = upload_dir() / row.stored_name
    default = Path(current_app.config["UPLOAD_DIR"]) / row.stored_name
    # files stay where they were saved when an admin moves the storage folder later
    return path if path.exists() or not default.exists() else default


PURGE_BATCH = 500


def purge_abandoned_uploads(now=None) -> list[Path]:
    """Forget uploads that never became part of a ticket (kept across a failed submit, then abandoned) once they
    are older than ABANDONED_UPLOAD_HOURS; returns their files, which the caller removes after the commit."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.timeutil import utcnow

    cutoff = (now or utcnow()) - timedelta(hours=current_app.config["ABANDONED_UPLOAD_HOURS"])
    rows = db.session.execute(select(Attachment).where(Attachment.ticket_id.is_(None), Attachment.created_at < cutoff)
                              .order_by(Attachment.id).limit(PURGE_BATCH)).scalars().all()
    paths = [stored_path(row) for row in rows]
    for row in rows:
        db.session.delete(row)
    db.session.flush()
    return paths


def remove_files(paths) -> None:
    """Delete stored files; one already gone is no error."""
    for path in paths:
        Path(path).unlink(missing_ok=True)
