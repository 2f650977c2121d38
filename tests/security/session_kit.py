"""Helpers for the session and login attacks: log in, steal a cookie, call the API with a bk_token."""
from __future__ import annotations

import json
import re
from contextlib import contextmanager

from app.infra.uow import commit

APP_CODE, APP_SECRET = "plain-app", "plain-secret"     # an app NOT allowed to name users: it needs a bk_token
HOST = "itsm.test"                                     # the test app's SERVER_NAME


def login_form_token(client, **kw) -> str:
    page = client.get("/login", **kw).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def try_login(client, username: str, password: str, **kw):
    """POST the login form as a browser would (fresh CSRF token); returns the response."""
    token = login_form_token(client, base_url=kw["base_url"]) if "base_url" in kw else login_form_token(client)
    return client.post("/login", data={"username": username, "password": password, "csrf_token": token}, **kw)


def stolen_copy(app, client):
    """A second client carrying a copy of `client`'s session cookie (what an attacker who copied it has)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session", domain=HOST).value, domain=HOST)
    return thief


def bk_token_of(client) -> str:
    cookie = client.get_cookie("bk_token", domain=HOST)
    assert cookie is not None and cookie.value
    return cookie.value


def register_plain_app(app) -> None:
    from app.services.integration.api_apps import create_api_app

    with app.app_context():
        create_api_app(APP_CODE, act_for_users=False, secret=APP_SECRET)
        commit()


def api_with_token(app, token: str, name: str = "get_services") -> dict:
    """Call the API as the plain app, proving the user with `token` sent explicitly (as BlueKing clients do)."""
    auth = {"bk_app_code": APP_CODE, "bk_app_secret": APP_SECRET, "bk_token": token}
    response = app.test_client().get(f"/api/c/compapi/v2/itsm/{name}/",
                                     headers={"X-Bkapi-Authorization": json.dumps(auth)})
    assert response.status_code == 200
    return response.get_json()


def set_password_by_cli(app, username: str, password: str) -> None:
    result = app.test_cli_runner().invoke(args=["itsm", "users", "set-password", username, "--password", password])
    assert result.exit_code == 0, result.output


def opens_workbench(client) -> bool:
    """Whether this client's cookies open the workbench (a logged-out client is sent to /login)."""
    response = client.get("/")
    if response.status_code == 302:
        assert "/login" in response.headers["Location"]
        return False
    assert response.status_code == 200
    return True


@contextmanager
def second_host(app, **overrides):
    """Another app process on the same database (a second gunicorn worker or host), `overrides` on its config."""
    from app import create_app
    from app.extensions import db

    other = create_app({**{key: app.config[key] for key in (
        "TESTING", "DATABASE_URL", "SECRET_KEY", "PASSWORD_HASH_METHOD", "UPLOAD_DIR", "SERVER_NAME",
        "GUARD_COMMITS")}, **overrides})
    try:
        yield other
    finally:
        with other.app_context():
            db.session.remove()
            db.engine.dispose()


def login_failures(app) -> list:
    """The login_failures rows, oldest first."""
    from sqlalchemy import select

    from app.extensions import db
    from app.models import LoginFailure

    with app.app_context():
        return list(db.session.execute(select(LoginFailure).order_by(LoginFailure.failed_at)).scalars())


def backdate_login_failures(app, seconds: int) -> None:
    from datetime import timedelta

    from sqlalchemy import update

    from app.extensions import db
    from app.models import LoginFailure

    with app.app_context():
        db.session.execute(update(LoginFailure).values(failed_at=LoginFailure.failed_at - timedelta(seconds=seconds)))
        commit()


def flash_text(response) -> str:
    return " ".join(re.findall(r'role="alert"[^>]*>([^<]*)<', response.get_data(as_text=True)))


def set_cookie_headers(response) -> dict[str, str]:
    """Each cookie a response sets, by name: its whole Set-Cookie line."""
    return {line.split("=", 1)[0]: line for line in response.headers.getlist("Set-Cookie")}
