"""/healthz: the load balancer's health check is public, cheap, and says nothing sensitive."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import event
from sqlalchemy.exc import OperationalError

from app import create_app
from app.extensions import db


@pytest.fixture
def database_use(app):
    """Counts of pool checkouts and statements while the test runs."""
    seen = {"checkouts": 0, "statements": []}

    def on_checkout(*_):
        seen["checkouts"] += 1

    def on_execute(conn, cursor, statement, *_):
        seen["statements"].append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "checkout", on_checkout)
    event.listen(engine, "before_cursor_execute", on_execute)
    yield seen
    event.remove(engine, "checkout", on_checkout)
    event.remove(engine, "before_cursor_execute", on_execute)


def test_healthz_answers_ok_to_an_anonymous_client(app):
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == "no-store"


def test_healthz_touches_no_database_and_sets_no_cookie(app, database_use):
    client = app.test_client()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert "Set-Cookie" not in response.headers
    assert client.get_cookie("session") is None
    assert database_use == {"checkouts": 0, "statements": []}


def test_healthz_refuses_post_with_405_not_a_csrf_error_or_login_redirect(app):
    response = app.test_client().post("/healthz")
    assert response.status_code == 405
    assert "Location" not in response.headers


def test_healthz_with_db_runs_select_1(app, database_use):
    response = app.test_client().get("/healthz?db=1")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}
    assert "Set-Cookie" not in response.headers
    # one pooled connection, used through the driver: no ORM session, no BEGIN IMMEDIATE on SQLite
    assert database_use == {"checkouts": 1, "statements": []}


def test_healthz_with_db_answers_503_when_the_database_fails(app, monkeypatch, caplog):
    with app.app_context():
        engine = db.engine

    def broken():
        raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))

    monkeypatch.setattr(engine, "raw_connection", broken)
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/healthz?db=1")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unavailable"}
    assert "server closed the connection" in caplog.text
    assert "server closed" not in response.get_data(as_text=True)


def test_healthz_with_an_unreachable_database_logs_neither_url_nor_password(caplog):
    """A real connection failure (nothing listens on port 1): 503, and the log names the error only."""
    app = create_app({"TESTING": True, "SECRET_KEY": "test-secret",
                      "DATABASE_URL": "postgresql+psycopg://itsm:s3cret-pw@127.0.0.1:1/itsm"})
    with caplog.at_level(logging.ERROR):
        response = app.test_client().get("/healthz?db=1")
    assert response.status_code == 503
    assert response.get_json() == {"status": "error", "database": "unavailable"}
    assert "health check: database unavailable: OperationalError" in caplog.text
    assert "s3cret-pw" not in caplog.text and "postgresql" not in caplog.text
    assert app.test_client().get("/healthz").status_code == 200     # the plain check still answers
    with app.app_context():
        db.engine.dispose()
