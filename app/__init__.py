"""Application factory: it only wires (STYLE.md 1)."""
from __future__ import annotations

import secrets
from pathlib import Path

from flask import Flask

from .extensions import csrf, db, login_manager, migrate

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ItsmFlask(Flask):
    """Flask whose view runs again after a network call it needed was made with no transaction open."""

    def dispatch_request(self):
        from .infra.uow import run_again_after_outbound

        return run_again_after_outbound(super().dispatch_request)


def create_app(overrides: dict | None = None) -> Flask:
    """Build the app: defaults, instance/config.py, ITSM_* variables, then `overrides` (tests)."""
    app = ItsmFlask(__name__, instance_path=str(PROJECT_ROOT / "instance"), instance_relative_config=True,
                template_folder=str(PROJECT_ROOT / "templates"))
    app.config.from_object("app.config.Defaults")
    app.config.from_pyfile("config.py", silent=True)
    app.config.from_prefixed_env("ITSM")
    if overrides:
        app.config.update(overrides)
    _finalize_config(app)
    trust_proxies(app)
    configure_extensions(app)
    register_blueprints(app)
    init_admin(app)
    register_cli(app)
    register_errorhandlers(app)
    register_security_headers(app)
    return app


def _finalize_config(app: Flask) -> None:
    cfg = app.config
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    url = cfg.get("SQLALCHEMY_DATABASE_URI") or cfg.get("DATABASE_URL") \
        or f"sqlite:///{Path(app.instance_path) / 'itsm.sqlite'}"
    if url.startswith(("postgres://", "postgresql://")):
        url = "postgresql+psycopg://" + url.split("://", 1)[1]
    cfg["SQLALCHEMY_DATABASE_URI"] = url
    if url.startswith("sqlite"):
        cfg["SQLALCHEMY_ENGINE_OPTIONS"] = {"connect_args": {"timeout": 30}, **cfg["SQLALCHEMY_ENGINE_OPTIONS"]}
    if not cfg.get("SECRET_KEY"):
        if cfg["ENV"] == "production":
            raise RuntimeError("ITSM_SECRET_KEY must be set in production")
        key_file = Path(app.instance_path) / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        cfg["SECRET_KEY"] = key_file.read_text().strip()
    # Secure cookies (sent over HTTPS only) in production unless COOKIE_SECURE says otherwise
    secure = cfg["ENV"] == "production" if cfg.get("COOKIE_SECURE") is None else bool(cfg["COOKIE_SECURE"])
    cfg["COOKIE_SECURE"] = cfg["SESSION_COOKIE_SECURE"] = cfg["REMEMBER_COOKIE_SECURE"] = secure
    if cfg["ENV"] == "production" and not cfg.get("BASE_URL"):
        app.logger.warning("ITSM_BASE_URL is not set: links in notices, callbacks and API answers fall back to "
                           "the request's host or http://127.0.0.1:5000; set it to the site's public address")
    cfg["FLOWS_DIR"] = cfg.get("FLOWS_DIR") or str(PROJECT_ROOT / "flows_yaml")
    cfg["DICTIONARIES_DIR"] = cfg.get("DICTIONARIES_DIR") or str(PROJECT_ROOT / "dictionaries")
    cfg["ALERTS_DIR"] = cfg.get("ALERTS_DIR") or str(PROJECT_ROOT / "alerts_yaml")
    cfg["SLA_DIR"] = cfg.get("SLA_DIR") or str(PROJECT_ROOT / "sla_yaml")
    cfg["UPLOAD_DIR"] = cfg.get("UPLOAD_DIR") or str(Path(app.instance_path) / "uploads")
    from .timeutil import set_zone

    set_zone(cfg["TIMEZONE"])


def trust_proxies(app: Flask) -> None:
    """Behind PROXY_COUNT reverse proxies, take the client's address and scheme from their X-Forwarded-* headers
    (the login throttle counts per client address)."""
    count = int(app.config["PROXY_COUNT"] or 0)
    if count > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def configure_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (register the tables)
    from .infra.database import configure_engine
    from .infra.uow import install_commit_guard
    from .services.sla.outcomes import install_outcome_rollup

    db.init_app(app)
    migrate.init_app(app, db, directory=str(PROJECT_ROOT / "app" / "migrations"))
    csrf.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "请先登录"
    login_manager.login_message_category = "warning"
    with app.app_context():
        configure_engine(db.engine, ping_after_idle=app.config["DATABASE_PING_AFTER_IDLE"])
    install_commit_guard(app)
    install_outcome_rollup()                # sla_outcomes follows the tickets' decided clocks


def register_blueprints(app: Flask) -> None:
    from .api import register_api
    from .web import health, register_web
    from .web.input import register_input_boundary

    register_input_boundary(app)            # first: the bounded int converter applies to every route
    app.register_blueprint(health.bp)
    register_web(app)
    register_api(app)
    from .web.alerts import register_alert_receivers

    register_alert_receivers(app)


def init_admin(app: Flask) -> None:
    from .admin import init_admin as build_admin

    build_admin(app)


def register_cli(app: Flask) -> None:
    from .cli import itsm_cli

    app.cli.add_command(itsm_cli)


def register_errorhandlers(app: Flask) -> None:
    from .web.errors import register_error_pages

    register_error_pages(app)


def register_security_headers(app: Flask) -> None:
    from .web.security_headers import register_security_headers as register

    register(app)
