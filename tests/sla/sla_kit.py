"""Helpers for the SLA tests: local wall-clock times as stored instants, the China working calendar."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

HOUR = 3600


def utc(text: str, zone: str = "Asia/Shanghai") -> datetime:
    """A local wall-clock time (`YYYY-MM-DD HH:MM`) as the naive UTC instant the database stores."""
    local = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(timezone.utc).replace(tzinfo=None)
