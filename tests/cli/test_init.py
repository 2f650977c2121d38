"""`flask itsm init [--demo]` on a brand-new database: migrations, reference data, admin, idempotence."""
import os
import re

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from app import create_app
from app.extensions import db
from app.infra.search_ddl import is_search_object
from app.infra.uow import commit
from app.models import FlowVersion, Service, User

PG_SERVER = os.environ.get("ITSM_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/itsm_test")
MIGRATE_DB = f"itsm_migrate_test_{os.getpid()}"    # per test process: parallel runs never meet


def fresh_app(database_url, tmp_path, **extra):
    config = {"DATABASE_URL": database_url, "SECRET_KEY": "t", "PASSWORD_HASH_METHOD": "pbkdf2:sha256:1000",
              "ADMIN_PASSWORD": "pw-admin", "UPLOAD_DIR": str(tmp_path / "uploads")}
    config.update(extra)
    return create_app({k: v for k, v in config.items() if v is not None})


def init(app, *args):
    return app.test_cli_runner().invoke(args=["itsm", "init", *args])


def can_log_in(app, username, password) -> bool:
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    return response.status_code == 302


def counts(app):
    with app.app_context():
        return {
            "services": db.session.query(Service).count(),
            "versions": db.session.query(FlowVersion).count(),
            "users": db.session.query(User).count(),
            "distinct_users": db.session.query(User.username).distinct().count(),
        }


def schema_differences(app):
    """(tables in the database but not the models, tables in the models but not the database, alembic diffs)."""
    with app.app_context():
        with db.engine.connect() as connection:
            tables = {t for t in inspect(connection).get_table_names()
                      if t != "alembic_version" and not is_search_object(t)}
            context = MigrationContext.configure(connection, opts={
                "include_object": lambda obj, name, *_: not is_search_object(name)})
            diffs = compare_metadata(context, db.metadata)
        db.engine.dispose()
    expected = set(db.metadata.tables)
    return tables - expected, expected - tables, diffs


@pytest.fixture
def sqlite_url(tmp_path):
    return "sqlite:///" + str(tmp_path / "x.sqlite")


def test_init_with_demo_sets_up_everything(sqlite_url, tmp_path):
    app = fresh_app(sqlite_url, tmp_path)
    result = init(app, "--demo")
    assert result.exit_code == 0, result.output
    assert "ITSM is initialized." in result.output
    assert "password for admin" not in result.output          # it was given
    got = counts(app)
    assert got["services"] == 7 and got["versions"] == 7        # the demo's four, 内置审批服务 and bk-iam's two
    assert can_log_in(app, "admin", "pw-admin")
    assert not can_log_in(app, "admin", "wrong")


def test_init_twice_changes_nothing(sqlite_url, tmp_path):
    app = fresh_app(sqlite_url, tmp_path)
    assert init(app, "--demo").exit_code == 0
    first = counts(app)
    result = init(app, "--demo")
    assert result.exit_code == 0, result.output
    assert "flow deployed" not in result.output and "password for" not in result.output
    second = counts(app)
    assert second == first
    assert second["versions"] == 7 and second["users"] == second["distinct_users"] == 13
    assert can_log_in(app, "admin", "pw-admin")


def test_init_without_an_admin_password_prints_a_generated_one(sqlite_url, tmp_path):
    app = fresh_app(sqlite_url, tmp_path, ADMIN_PASSWORD=None)
    app.config.pop("ADMIN_PASSWORD", None)
    result = init(app)
    assert result.exit_code == 0, result.output
    match = re.search(r"password for admin \(shown once, keep it\): (\S+)", result.output)
    assert match, result.output
    assert can_log_in(app, "admin", match.group(1))
    assert counts(app)["services"] == 3                      # no --demo: only the built-in services
    assert "password for admin" not in init(app).output      # only the first run prints it


def test_init_with_demo_without_passwords_prints_the_shared_demo_password(sqlite_url, tmp_path):
    app = fresh_app(sqlite_url, tmp_path, ADMIN_PASSWORD=None)
    app.config.pop("ADMIN_PASSWORD", None)
    app.config.pop("DEMO_PASSWORD", None)
    result = init(app, "--demo")
    assert result.exit_code == 0, result.output
    shared = re.search(r"password for demo users \(shown once, keep it\): (\S+)", result.output).group(1)
    assert can_log_in(app, "alice", shared) and can_log_in(app, "pm", shared)


def test_migrated_sqlite_schema_matches_the_models(sqlite_url, tmp_path):
    app = fresh_app(sqlite_url, tmp_path)
    assert init(app).exit_code == 0
    extra, missing, diffs = schema_differences(app)
    assert extra == set() and missing == set()
    assert diffs == []


def _pg_admin_engine():
    return create_engine(make_url(PG_SERVER).set(database="postgres"), isolation_level="AUTOCOMMIT")


@pytest.fixture
def pg_migrate_url():
    """A freshly created PostgreSQL database, dropped afterwards (skipped without a server)."""
    try:
        admin = _pg_admin_engine()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{MIGRATE_DB}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{MIGRATE_DB}"'))
    except Exception as exc:  # noqa: BLE001 - no server: nothing to test here
        if os.environ.get("ITSM_TEST_REQUIRE_PG") == "1":
            pytest.fail(f"PostgreSQL is required but unusable: {exc}")
        pytest.skip(f"PostgreSQL not available: {str(exc).splitlines()[0]}")
    yield make_url(PG_SERVER).set(database=MIGRATE_DB).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{MIGRATE_DB}" WITH (FORCE)'))
    admin.dispose()


def test_migrated_postgresql_schema_matches_the_models(pg_migrate_url, tmp_path):
    app = fresh_app(pg_migrate_url, tmp_path)
    result = init(app, "--demo")
    assert result.exit_code == 0, result.output
    assert counts(app)["versions"] == 7
    assert init(app, "--demo").exit_code == 0 and counts(app)["versions"] == 7
    extra, missing, diffs = schema_differences(app)
    assert extra == set() and missing == set()
    assert diffs == []


def _participants_and_counters(app):
    with app.app_context():
        people = {tuple(r) for r in db.session.execute(text(
            "SELECT ticket_id, username, is_creator FROM ticket_participants"))}
        handled = {(r[0], r[1]): r[2] for r in db.session.execute(text(
            "SELECT username, day, handled_steps FROM user_day_counters"))}
        db.session.remove()
        db.engine.dispose()
    return people, handled


def _migration_backfills_participants_and_counters(app):
    """Tickets written by the services, migrated down to 0007 and up again: 0008 rebuilds the same rows."""
    from flask_migrate import downgrade, upgrade

    from app.services.people.users import find_user
    from app.services.tickets.operations import create_ticket, operate_step

    assert init(app, "--demo").exit_code == 0
    with app.app_context():
        service_id = db.session.execute(text("SELECT id FROM services WHERE key = 'account_apply'")).scalar()
        fields = {"title": "迁移前的单", "system": "crm", "account_type": "permanent", "reason": "r"}
        first = create_ticket(service_id=service_id, creator=find_user("alice"), fields=fields).id
        create_ticket(service_id=service_id, creator=find_user("bob"), fields=fields)
        operate_step(first, find_user("leader"), "TRANSITION", "leader_approve",
                     fields={"leader_approve_result": "true", "leader_approve_remark": "ok"})
        commit()
        db.session.remove()
    before = _participants_and_counters(app)
    assert {(u, c) for t, u, c in before[0] if t == first} == {
        ("alice", True), ("leader", False), ("ops1", False), ("ops2", False)}
    from app.timeutil import today_local

    assert before[1] == {("leader", today_local()): 1}
    with app.app_context():
        downgrade(revision="0007")
        assert "ticket_participants" not in inspect(db.engine).get_table_names()
        upgrade(revision="0008")
        db.engine.dispose()
    assert _participants_and_counters(app) == before


def test_migration_0008_backfills_participants_and_counters_on_sqlite(sqlite_url, tmp_path):
    _migration_backfills_participants_and_counters(fresh_app(sqlite_url, tmp_path, DEMO_PASSWORD="pw-demo"))


def test_migration_0008_backfills_participants_and_counters_on_postgresql(pg_migrate_url, tmp_path):
    _migration_backfills_participants_and_counters(fresh_app(pg_migrate_url, tmp_path, DEMO_PASSWORD="pw-demo"))
