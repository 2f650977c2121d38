"""Ticket numbers: REQ|CRQ|INC|PBI + YYYYMMDD + a 6-digit daily counter, unique under concurrency."""
from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite

from app.extensions import db
from app.models import SN_PREFIX, SnCounter
from app.timeutil import today_local


def next_sn(service_type: str) -> str:
    """Atomically take the next number of today's counter for this service type (one upsert)."""
    prefix, day = SN_PREFIX[service_type], today_local()
    name = db.engine.dialect.name
    stmt = _UPSERTS.get(name)
    if stmt is None:
        stmt = _UPSERTS[name] = _upsert(postgresql if name == "postgresql" else sqlite)
    value = db.session.execute(stmt, {"prefix": prefix, "day": day}).scalar_one()
    return f"{prefix}{day}{value:06d}"


_UPSERTS: dict = {}     # dialect name -> the upsert, built once


def _upsert(dialect):
    stmt = dialect.insert(SnCounter).values(prefix=bindparam("prefix"), day=bindparam("day"), value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["prefix", "day"], set_={"value": SnCounter.value + 1})
    return stmt.returning(SnCounter.value)
