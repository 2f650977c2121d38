"""Attacks on sessions, login and the browser's defences (issue 13: findings 8, 9 and 12), each as
attack → answer, through HTTP, on SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app.timeutil import local
from tests.security.session_kit import (api_with_token, backdate_login_failures, bk_token_of, flash_text,
                                        login_failures, opens_workbench, register_plain_app, second_host,
                                        set_cookie_headers, set_password_by_cli, stolen_copy, try_login)

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


# --- finding 9: login throttling and username timing ----------------------------------------------

def test_guessing_one_accounts_password_is_refused_after_five_failures_with_when_to_try_again(demo):
    client = demo.test_client()
    for _ in range(5):
        wrong = try_login(client, "alice", "guess")
        assert wrong.status_code == 400 and "用户名或密码错误" in flash_text(wrong)
    first_failure = login_failures(demo)[0].failed_at

    refused = try_login(client, "alice", DEMO_PASSWORD)       # even the right password, now

    assert refused.status_code == 429
    retry_at = local(first_failure + timedelta(minutes=15))
    assert f"登录失败次数过多，请于 {retry_at:%H:%M} 后再试" in flash_text(refused)
    assert not opens_workbench(client)
    assert len(login_failures(demo)) == 5                     # a refused attempt is not another failure


def test_failures_on_other_workers_and_hosts_count_too(demo):
    with second_host(demo) as other:
        for host in (demo, other, demo, other, other):
            assert try_login(host.test_client(), "alice", "guess").status_code == 400

        for host in (demo, other):
            assert try_login(host.test_client(), "alice", DEMO_PASSWORD).status_code == 429


def test_many_usernames_from_one_address_are_refused_after_twenty_failures(demo):
    attacker = demo.test_client()
    attacker.environ_base["REMOTE_ADDR"] = "203.0.113.7"
    for n in range(20):
        assert try_login(attacker, f"user{n}", "password1").status_code == 400

    assert try_login(attacker, "bob", DEMO_PASSWORD).status_code == 429
    # bob, from his own address, is not locked out by someone else's spraying
    assert try_login(demo.test_client(), "bob", DEMO_PASSWORD).status_code == 302


def test_failures_older_than_fifteen_minutes_no_longer_count(demo):
    client = demo.test_client()
    for _ in range(5):
        try_login(client, "alice", "guess")
    backdate_login_failures(demo, 15 * 60 + 1)

    assert try_login(client, "alice", DEMO_PASSWORD).status_code == 302


def test_a_successful_login_clears_the_accounts_failures(demo):
    for _ in range(4):
        try_login(demo.test_client(), "alice", "typo")
    assert try_login(demo.test_client(), "alice", DEMO_PASSWORD).status_code == 302
    for _ in range(4):
        try_login(demo.test_client(), "alice", "typo")

    assert try_login(demo.test_client(), "alice", DEMO_PASSWORD).status_code == 302


@pytest.mark.parametrize("username, password", [
    ("alice", "wrong-password"),             # a known user, wrong password
    ("no-such-user", "wrong-password"),      # an unknown user
    ("disabled-user", DEMO_PASSWORD),        # a disabled user, right password
    ("alice", DEMO_PASSWORD),                # a successful login
])
def test_every_login_answer_costs_the_same_password_hash_work(demo, monkeypatch, username, password):
    """Timing cannot tell which usernames exist: one hash check per attempt, whoever is named."""
    import app.models.user as user_model
    from app.extensions import db
    from app.infra.uow import commit
    from app.services.people.users import create_user

    with demo.app_context():
        create_user("disabled-user", password=DEMO_PASSWORD)[0].is_enabled = False
        db.session.flush()
        commit()
    checks = []
    real_check = user_model.check_password_hash
    monkeypatch.setattr(user_model, "check_password_hash", lambda *a: checks.append(a) or real_check(*a))

    try_login(demo.test_client(), username, password)

    assert len(checks) == 1


# --- finding 12 (part): security headers and cookie settings --------------------------------------

def _pages(demo, browser):
    """One response of each kind: front office, back office, API (served and refused), errors, files."""
    anonymous, alice, admin = demo.test_client(), browser("alice"), browser("admin")
    register_plain_app(demo)
    return {
        "login page": anonymous.get("/login"),
        "workbench": alice.get("/"),
        "redirect to login": anonymous.get("/"),
        "admin": admin.get("/admin/"),
        "admin refused": alice.get("/admin/"),
        "api answer": anonymous.get("/api/c/compapi/v2/itsm/get_services/"),
        "api openapi": anonymous.get("/api/openapi.json"),
        "not found": alice.get("/no-such-page"),
        "static file": anonymous.get("/vendor/vendor/jquery.min.js"),
        "health": anonymous.get("/healthz"),
    }


def test_no_response_can_be_framed_sniffed_or_load_remote_code(demo, browser):
    for kind, response in _pages(demo, browser).items():
        headers = response.headers
        assert headers.get("X-Frame-Options") == "DENY", kind
        assert headers.get("X-Content-Type-Options") == "nosniff", kind
        assert headers.get("Referrer-Policy") == "same-origin", kind
        policy = [d.strip() for d in headers.get("Content-Security-Policy", "").split(";")]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy, kind
        assert "object-src 'none'" in policy and "base-uri 'self'" in policy, kind
        assert not any(word.startswith(("http", "*")) for d in policy for word in d.split()[1:]), kind


def test_cookies_are_secure_httponly_and_lax_in_production(demo):
    with second_host(demo, ENV="production") as production:
        client = production.test_client()
        response = try_login(client, "alice", DEMO_PASSWORD, base_url="https://itsm.test",
                             headers={"Referer": "https://itsm.test/login"})    # Flask-WTF's HTTPS check
        assert response.status_code == 302
        cookies = set_cookie_headers(response)

    for name in ("session", "bk_token"):
        attributes = [a.strip().lower() for a in cookies[name].split(";")]
        assert "secure" in attributes and "httponly" in attributes and "samesite=lax" in attributes, cookies[name]


def test_cookies_are_httponly_and_lax_but_not_secure_in_development(demo):
    response = try_login(demo.test_client(), "alice", DEMO_PASSWORD)
    for name, line in set_cookie_headers(response).items():
        attributes = [a.strip().lower() for a in line.split(";")]
        assert "httponly" in attributes and "samesite=lax" in attributes, line
        assert "secure" not in attributes, line          # plain-HTTP development keeps working
