"""Pooled PostgreSQL connections: pinged only after sitting idle (ITSM_DATABASE_PING_AFTER_IDLE)."""
import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db


def _app_with_a_killed_pooled_connection(database_url, tmp_path, ping_after_idle):
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite has no server to drop a connection")
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "t", "UPLOAD_DIR": str(tmp_path),
                      "DATABASE_PING_AFTER_IDLE": ping_after_idle})
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()                           # the connection goes back to the pool
    admin = create_engine(make_url(database_url).set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    admin.dispose()
    return app, pid


def test_an_idle_dead_connection_is_replaced_before_use(database_url, tmp_path):
    app, dead = _app_with_a_killed_pooled_connection(database_url, tmp_path, 0)
    with app.app_context():
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar() != dead
        db.session.remove()
        db.engine.dispose()


def test_a_busy_connection_is_not_pinged_so_one_request_may_fail(database_url, tmp_path):
    app, _ = _app_with_a_killed_pooled_connection(database_url, tmp_path, 3600)
    with app.app_context():
        with pytest.raises(OperationalError):
            db.session.execute(text("SELECT 1"))
        db.session.remove()
        assert db.session.execute(text("SELECT 1")).scalar() == 1       # the pool reconnected
        db.session.remove()
        db.engine.dispose()
