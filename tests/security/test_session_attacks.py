"""Attacks on sessions, login and the browser's defences (issue 13: findings 8, 9 and 12), each as
attack → answer, through HTTP, on SQLite and PostgreSQL."""
from __future__ import annotations

from tests.security.session_kit import (api_with_token, bk_token_of, opens_workbench, register_plain_app,
                                        set_password_by_cli, stolen_copy, try_login)

DEMO_PASSWORD = "demo-pass-123"


# --- finding 8: sessions end with logout and password changes -------------------------------------

def test_copied_session_cookie_stops_working_after_logout(browser, demo):
    alice = browser("alice")
    thief = stolen_copy(demo, alice.client)
    assert opens_workbench(thief)                       # the copy works while alice is logged in

    alice.post("/logout")

    assert not opens_workbench(thief)                   # → sent to the login page
    assert not opens_workbench(alice.client)


def test_copied_session_cookie_stops_working_after_password_change(browser, demo):
    alice = browser("alice")
    thief = stolen_copy(demo, alice.client)

    set_password_by_cli(demo, "alice", "a-new-password-1")

    assert not opens_workbench(thief)
    assert not opens_workbench(alice.client)
    assert try_login(demo.test_client(), "alice", "a-new-password-1").status_code == 302


def test_bk_token_stops_working_after_logout(browser, demo):
    register_plain_app(demo)
    alice = browser("alice")
    token = bk_token_of(alice.client)
    assert api_with_token(demo, token)["result"] is True

    alice.post("/logout")

    answer = api_with_token(demo, token)
    assert answer["result"] is False and answer["code"] == 3900401
    assert "bk_token 无效或已过期" in answer["message"]


def test_bk_token_stops_working_after_password_change(browser, demo):
    register_plain_app(demo)
    token = bk_token_of(browser("alice").client)

    set_password_by_cli(demo, "alice", "a-new-password-1")

    answer = api_with_token(demo, token)
    assert answer["result"] is False and answer["code"] == 3900401


def test_logging_in_again_after_logout_gives_a_working_session_and_token(browser, demo):
    register_plain_app(demo)
    alice = browser("alice")
    old_token = bk_token_of(alice.client)
    alice.post("/logout")

    alice.login("alice", DEMO_PASSWORD)

    assert opens_workbench(alice.client)
    assert api_with_token(demo, bk_token_of(alice.client))["result"] is True
    assert api_with_token(demo, old_token)["code"] == 3900401


def test_logout_of_one_user_leaves_other_users_signed_in(browser, demo):
    register_plain_app(demo)
    alice, bob = browser("alice"), browser("bob")

    alice.post("/logout")

    assert opens_workbench(bob.client)
    assert api_with_token(demo, bk_token_of(bob.client))["result"] is True
