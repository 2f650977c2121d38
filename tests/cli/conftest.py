"""Helpers for the command-line tests: run `flask itsm ...` in-process, log in over HTTP."""
from __future__ import annotations

import re

import pytest


@pytest.fixture
def itsm_cli(app):
    """`itsm_cli("flows", "validate")` → the click Result of `flask itsm flows validate`."""
    runner = app.test_cli_runner()

    def invoke(*args):
        return runner.invoke(args=["itsm", *map(str, args)])

    return invoke


def login(app, username: str, password: str):
    """(status code of the login POST, client)."""
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    return response.status_code, client


@pytest.fixture
def try_login():
    return login
