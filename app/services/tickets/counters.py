"""Running totals per user and local day: steps handled and how long they were open.

The workbench shows "handled" all time and for the last 30 days with their average
time. Aggregating `ticket_steps` for a processor who closed a hundred thousand steps
costs a scan of all of them; these counters cost one upsert per operation that closes
steps (in the same transaction) and a read of at most one row per day.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime
from functools import lru_cache

from sqlalchemy import Connection, func, select, text

from app.engine.state import SYSTEM
from app.extensions import db
from app.infra.database import dialect_insert
from app.models import UserDayCounter
from app.timeutil import local


def local_day(at: datetime) -> str:
    return local(at).strftime("%Y%m%d")


def record_handled(handled: dict[str, list], now: datetime) -> None:
    """Add {username: [steps closed, seconds open]} to today's counters (one upsert)."""
    if not handled:
        return
    db.session.execute(_upsert(db.engine.dialect.name), handled_rows(handled, now))


def handled_rows(handled: dict[str, list], now: datetime) -> list[dict]:
    """Today's counter rows for {username: [steps closed, seconds open]}."""
    day = local_day(now)
    return [{"username": u, "day": day, "handled_steps": n, "handling_seconds": secs}
            for u, (n, secs) in sorted(handled.items())]


@lru_cache(maxsize=None)
def _upsert(dialect: str):
    """The day counter's upsert, built once per database kind (building costs more than running it)."""
    table = UserDayCounter.__table__
    stmt = dialect_insert(table, dialect)
    return stmt.on_conflict_do_update(index_elements=["username", "day"], set_={
        "handled_steps": table.c.handled_steps + stmt.excluded.handled_steps,
        "handling_seconds": table.c.handling_seconds + stmt.excluded.handling_seconds})


def handled_totals(username: str, since: datetime | None = None) -> tuple[int, float]:
    """(steps handled, seconds they were open) by this user, all time or from `since` (local days)."""
    stmt = select(func.coalesce(func.sum(UserDayCounter.handled_steps), 0),
                  func.coalesce(func.sum(UserDayCounter.handling_seconds), 0.0)).where(
        UserDayCounter.username == username)
    if since is not None:
        stmt = stmt.where(UserDayCounter.day >= local_day(since))
    steps, seconds = db.session.execute(stmt).one()
    return int(steps), float(seconds)


def rebuild(connection: Connection) -> int:
    """Recompute every counter from the closed steps (migrations, bulk loads); returns rows written.

    Steps are summed per closer and UTC hour in SQL, then bucketed into local days here,
    so any configured time zone with whole-hour offsets is exact.
    """
    pg = connection.dialect.name == "postgresql"
    hour = "date_trunc('hour', closed_at)" if pg else "strftime('%Y-%m-%d %H:00:00', closed_at)"
    seconds = ("EXTRACT(EPOCH FROM closed_at - opened_at)" if pg
               else "(julianday(closed_at) - julianday(opened_at)) * 86400.0")
    totals: dict[tuple[str, str], list] = defaultdict(lambda: [0, 0.0])
    rows = connection.execute(text(
        f"SELECT closed_by, {hour} AS hour, COUNT(*), COALESCE(SUM({seconds}), 0) FROM ticket_steps "
        f"WHERE closed_by IS NOT NULL AND closed_by <> :system AND kind <> 'start' AND closed_at IS NOT NULL "
        f"GROUP BY closed_by, {hour}"), {"system": SYSTEM})
    for username, at, n, secs in rows:
        at = at if isinstance(at, datetime) else datetime.fromisoformat(at)
        tally = totals[(username, local_day(at))]
        tally[0] += n
        tally[1] += float(secs)
    table = UserDayCounter.__table__
    connection.execute(table.delete())
    if totals:
        connection.execute(table.insert(), [{"username": u, "day": d, "handled_steps": n, "handling_seconds": s}
                                            for (u, d), (n, s) in sorted(totals.items())])
    return len(totals)
