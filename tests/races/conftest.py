"""Races: concurrent operations on one ticket have exactly one winner, through real HTTP, on both databases.

What this package proves. When several people (or systems) act on the same step or ticket at the
same moment, exactly one of them wins and the others are refused cleanly; the ticket then shows
exactly what the winner did: one log line for the operation, the next step opened once, the losers'
choices nowhere, and no ticket that is over with a step still open. It holds for the API
(`operate_node`, `operate_ticket`) and for the ticket page's forms, on SQLite and on PostgreSQL.

How. The demo app is served by werkzeug (threaded) on 127.0.0.1 for each test, on each database
parameter of the `app` fixture (PostgreSQL is not skipped here, unlike `live_server`). Each round
creates a fresh ticket through the API, brings it to the step under test, then starts 8 callers in
their own threads with their own `requests.Session`, released together by a `threading.Barrier`
(`race_kit.race`). The answers are judged as the clients see them (API envelope `result`/`code`;
the web views' redirect and success flash), and the rows are read with `app.models` afterwards.
Every scenario runs 20 rounds: a lost race shows up as two winners, two log lines, two next steps.

Fixtures here:
- `served`: the base URL of the demo app served over HTTP (SERVER_NAME cleared, then restored).
- `api_client`: an `ApiClient` for an API app registered with `flask itsm api-app create --act-for-users`.
- `door`: the entry point named by the test's `entry` parameter, "api" (`ApiDoor`) or "web" (`WebDoor`).
"""
from __future__ import annotations

import pytest
from race_kit import ApiClient, ApiDoor, WebDoor, register_api_app, serving

APP_CODE, APP_SECRET = "race-runner", "race-runner-secret-for-tests"


@pytest.fixture
def served(demo):
    with serving(demo) as base_url:
        yield base_url


@pytest.fixture
def api_client(demo, served):
    client = ApiClient(served, APP_CODE, register_api_app(demo, APP_CODE, APP_SECRET))
    yield client
    client.setup.close()


@pytest.fixture
def door(entry, demo, served, api_client, password_of):
    """`entry` comes from the test's `@pytest.mark.parametrize("entry", ["api", "web"])`."""
    if entry == "api":
        return ApiDoor(demo, api_client)
    if entry == "web":
        return WebDoor(demo, served, api_client, password_of)
    raise ValueError(f"unknown entry point {entry!r}")
