"""Shared fixtures: the app on SQLite and on PostgreSQL, a clean database per test, demo data, clients.

Every test that uses `app` runs twice, once per database. PostgreSQL comes from
`ITSM_TEST_PG_URL` (default: the local server, a database `itsm_test_<pid>`
created for the run and dropped after it); without a server those runs are skipped, unless
`ITSM_TEST_REQUIRE_PG=1` (as in CI), which turns that into a failure.
"""
from __future__ import annotations

import os
import re

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.extensions import db
from app.infra.uow import commit

# one database per test process, so parallel runs (several checkouts, several developers) never meet
PG_URL = os.environ.get("ITSM_TEST_PG_URL", f"postgresql+psycopg://postgres@127.0.0.1:5432/itsm_test_{os.getpid()}")
PG_OWNED = "ITSM_TEST_PG_URL" not in os.environ
REQUIRE_PG = os.environ.get("ITSM_TEST_REQUIRE_PG") == "1"
DEMO_PASSWORD = "demo-pass-123"
ADMIN_PASSWORD = "admin-pass-123"


def _ensure_pg_database(url: str) -> str | None:
    """Create the test database when missing; return why PostgreSQL is unusable, or None."""
    from sqlalchemy.engine import make_url

    target = make_url(url)
    try:
        admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                  {"n": target.database}).scalar()
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{target.database}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - any connection problem means "no PostgreSQL here"
        return str(exc).splitlines()[0]
    return None


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request, tmp_path_factory):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'itsm.sqlite'}"
    problem = _ensure_pg_database(PG_URL)
    if problem:
        if REQUIRE_PG:
            pytest.fail(f"PostgreSQL is required (ITSM_TEST_REQUIRE_PG=1) but unusable: {problem}")
        pytest.skip(f"PostgreSQL not available: {problem}")
    if PG_OWNED:
        request.addfinalizer(_drop_pg_database)
    return PG_URL


def _drop_pg_database() -> None:
    from sqlalchemy.engine import make_url

    target = make_url(PG_URL)
    admin = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    application = create_app({
        "TESTING": True,
        "DATABASE_URL": database_url,
        "SECRET_KEY": "test-secret",
        "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
        "UPLOAD_DIR": str(tmp_path_factory.mktemp("uploads")),
        "SERVER_NAME": "itsm.test",
        "GUARD_COMMITS": True,
    })
    with application.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:      # whatever an earlier run of any checkout left behind
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            db.drop_all()
        db.create_all()
    yield application
    with application.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture(autouse=True)
def _clean_database(request):
    """Empty every table after each test that used the app (the schema stays)."""
    yield
    if "app" not in request.fixturenames:
        return
    application = request.getfixturevalue("app")
    from app.services.flows import library as flows

    flows._compiled_cache.clear()
    with application.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())


@pytest.fixture
def ctx(app):
    """An application context with a request, for calling services directly."""
    with app.test_request_context():
        yield
        db.session.rollback()


@pytest.fixture
def demo(app):
    """The README's demo data: admin, users, roles, catalogs, four services on deployed flows."""
    from app.services.system.setup import init_system

    with app.app_context():
        init_system(demo=True, admin_password=ADMIN_PASSWORD, demo_password=DEMO_PASSWORD)
        commit()
    return app


class Browser:
    """A test client that logs in and sends the session's CSRF token with every form."""

    def __init__(self, app, username: str | None = None, password: str = DEMO_PASSWORD):
        self.app = app
        self.client = app.test_client()
        self.token = None
        self.username = username
        if username:
            self.login(username, ADMIN_PASSWORD if username == "admin" else password)

    def csrf(self) -> str:
        if self.token is None:
            page = self.client.get("/login").get_data(as_text=True)
            self.token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        return self.token

    def login(self, username: str, password: str):
        response = self.client.post("/login", data={"username": username, "password": password,
                                                    "csrf_token": self.csrf()})
        assert response.status_code == 302, f"login as {username} failed"
        self.token = None      # a fresh session after login
        page = self.client.get("/").get_data(as_text=True)
        self.token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        return response

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def post(self, url, data=None, *, csrf: bool = True, **kw):
        data = dict(data or {})
        if csrf:
            data.setdefault("csrf_token", self.token or self.csrf())
        return self.client.post(url, data=data, **kw)


@pytest.fixture
def browser(demo):
    """`browser("alice")`: a logged-in test client for a demo user."""
    return lambda username=None: Browser(demo, username)


@pytest.fixture
def make_service(app):
    """`make_service(yaml_text, roles={"r": ["u1"]}, users=[...])`: load, deploy and publish a flow; returns the service id."""
    from app.services.catalog.browse import ensure_service
    from app.services.flows.library import deploy_flow, save_flow_source
    from app.services.people.users import add_role_member, create_user, ensure_role, find_user

    def make(yaml_text: str, *, roles: dict | None = None, users: tuple = ()) -> int:
        with app.app_context():
            names = set(users) | {u for members in (roles or {}).values() for u in members}
            for name in sorted(names):
                if find_user(name) is None:
                    create_user(name, password=DEMO_PASSWORD, is_superuser=(name == "admin"))
            for key, members in (roles or {}).items():
                ensure_role(key, key)
                for m in members:
                    add_role_member(key, m)
            flow = save_flow_source(yaml_text, by="test")
            version = deploy_flow(flow.key, by="test")
            service = ensure_service(flow.key, flow.name, service_type=flow.service_type, flow_version_id=version.id)
            commit()
            return service.id

    return make


@pytest.fixture
def password_of():
    """The password of a demo account in tests."""
    return lambda username: ADMIN_PASSWORD if username == "admin" else DEMO_PASSWORD


@pytest.fixture
def live_server(demo):
    """The demo app served by werkzeug in a thread on 127.0.0.1 (browser tests: SQLite parameter only)."""
    import threading

    from werkzeug.serving import make_server

    if "postgresql" in demo.config["SQLALCHEMY_DATABASE_URI"]:
        pytest.skip("browser tests run against the SQLite parameter")
    demo.config["SERVER_NAME"] = None
    server = make_server("127.0.0.1", 0, demo, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)
    demo.config["SERVER_NAME"] = "itsm.test"
