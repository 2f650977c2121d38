"""Ticket numbers: REQ|CRQ|INC|PBI + YYYYMMDD + a 6-digit daily counter, unique under concurrency."""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam

from app.extensions import db
from app.infra.database import dialect_insert
from app.models import SN_PREFIX, SnCounter
from app.timeutil import today_local


def next_sn(service_type: str) -> str:
    """Atomically take the next number of today's counter for this service type (one upsert)."""
    prefix, day = SN_PREFIX[service_type], today_local()
    value = db.session.execute(_upsert(db.engine.dialect.name), {"prefix": prefix, "day": day}).scalar_one()
    return f"{prefix}{day}{value:06d}"


@lru_cache(maxsize=None)
def _upsert(dialect: str):
    """The counter's upsert, built once per database kind."""
    stmt = dialect_insert(SnCounter, dialect).values(prefix=bindparam("prefix"), day=bindparam("day"), value=1)
    stmt = stmt.on_conflict_do_update(index_elements=["prefix", "day"], set_={"value": SnCounter.value + 1})
    return stmt.returning(SnCounter.value)
