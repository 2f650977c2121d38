"""Back-office fixtures: Flask-Admin raises hidden view errors in these tests; helpers to read rows."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from app.extensions import db


@pytest.fixture(autouse=True)
def _admin_raises(request):
    """FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION on (read per request), so a hidden admin error fails the test."""
    if "app" not in request.fixturenames:
        yield
        return
    app = request.getfixturevalue("app")
    app.config["FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION"] = True
    yield
    app.config.pop("FLASK_ADMIN_RAISE_ON_VIEW_EXCEPTION", None)


@pytest.fixture
def admin(browser):
    """The demo's super admin, logged in."""
    return browser("admin")


class Rows:
    """Read the database in a fresh app context (what a user would see after the request)."""

    def __init__(self, app):
        self.app = app

    def one(self, model_, **by):
        with self.app.app_context():
            row = db.session.execute(select(model_).filter_by(**by)).scalar_one_or_none()
            if row is not None:
                db.session.expunge(row)
            return row

    def count(self, model, *where):
        with self.app.app_context():
            return db.session.execute(select(func.count()).select_from(model).where(*where)).scalar()

    def all(self, model, *where, order_by=None):
        with self.app.app_context():
            stmt = select(model).where(*where)
            if order_by is not None:
                stmt = stmt.order_by(order_by)
            rows = list(db.session.execute(stmt).scalars())
            for r in rows:
                db.session.expunge(r)
            return rows


@pytest.fixture
def rows(demo):
    return Rows(demo)
