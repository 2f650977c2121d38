"""Engine set-up per database and dialect helpers (the unit of work is in `app.infra.uow`)."""
from __future__ import annotations

import time

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from app.extensions import db
from app.infra.search_ddl import register_sqlite_functions


def configure_engine(engine: Engine, *, ping_after_idle: float | None = None) -> None:
    """SQLite: foreign keys on, WAL, and `BEGIN IMMEDIATE` so writers queue instead of failing.

    Other databases: a pooled connection idle for `ping_after_idle` seconds or more is pinged
    when checked out (and replaced if dead).
    """
    if engine.dialect.name != "sqlite":
        if ping_after_idle is not None:
            _ping_after_idle(engine, ping_after_idle)
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        dbapi_conn.isolation_level = None      # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()
        register_sqlite_functions(dbapi_conn)  # the knowledge search triggers call one (search_ddl)

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def _ping_after_idle(engine: Engine, seconds: float) -> None:
    """Like `pool_pre_ping`, but only for connections that sat idle: a busy worker reuses a
    connection it returned milliseconds ago, and a round trip per request to check it is waste.
    A connection that died while in use is handled by SQLAlchemy's disconnect detection.
    """
    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn, record):
        record.info["itsm_idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn, record, _proxy):
        idle_since = record.info.get("itsm_idle_since")
        if idle_since is None or time.monotonic() - idle_since < seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # noqa: BLE001 - any failure: the pool drops it and connects anew
            raise DisconnectionError("a pooled connection did not answer the ping") from exc


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def dialect_insert(model, dialect: str | None = None):
    """`INSERT` with ON CONFLICT support for PostgreSQL or SQLite (default: the current database).

    Statements used on every operation are built once per database kind: wrap the builder
    in `functools.lru_cache` keyed by `db.engine.dialect.name` and pass that name here.
    """
    if (dialect or db.engine.dialect.name) == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(model)
