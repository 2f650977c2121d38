"""Time in one place: stored as naive UTC, shown in the configured time zone."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
_zone = ZoneInfo("Asia/Shanghai")


def set_zone(name: str) -> None:
    global _zone
    _zone = ZoneInfo(name)


def utcnow() -> datetime:
    """Naive UTC now, as every timestamp column stores it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def local(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    return dt.replace(tzinfo=timezone.utc).astimezone(_zone).replace(tzinfo=None)


def fmt(dt: datetime | None) -> str | None:
    """`YYYY-MM-DD HH:MM:SS` in local time, or None (the API's datetime format)."""
    value = local(dt)
    return value.strftime(DATETIME_FORMAT) if value else None


def parse_local(text: str) -> datetime:
    """A local `YYYY-MM-DD HH:MM:SS` (or date only) string as naive UTC."""
    text = text.strip()
    dt = datetime.strptime(text, DATETIME_FORMAT if " " in text else "%Y-%m-%d")
    return dt.replace(tzinfo=_zone).astimezone(timezone.utc).replace(tzinfo=None)


def today_local() -> str:
    return datetime.now(_zone).strftime("%Y%m%d")
