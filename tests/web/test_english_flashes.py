"""Messages after an action follow the user's language (issue 17.13): English users read English flashes,
including the domain's refusals, and Chinese users keep the Chinese ones."""
from __future__ import annotations

import re
from html import unescape


def visible(response) -> str:
    """The page's text without tags, scripts and styles."""
    page = re.sub(r"<script.*?</script>|<style.*?</style>", " ", response.get_data(as_text=True), flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", page)))

ACCOUNT = {"title": "申请 CRM 账号", "system": "crm", "account_type": "permanent", "reason": "工作需要",
           "approver": "leader"}


def test_logout_and_a_wrong_password_speak_english(browser, demo):
    alice = browser("alice")
    alice.post("/language", {"lang": "en"})
    assert "Logged out" in visible(alice.post("/logout", follow_redirects=True))
    client = demo.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    client.post("/language", data={"lang": "en", "csrf_token": token})
    response = client.post("/login", data={"username": "alice", "password": "wrong", "csrf_token": token},
                           follow_redirects=True)
    text = visible(response)
    assert "Wrong username or password" in text and "用户名或密码错误" not in text


def test_an_operation_and_a_refusal_speak_english(browser, itsm):
    alice, leader, bob = browser("alice"), browser("leader"), browser("bob")
    ticket = itsm.submit(alice, "account_apply", ACCOUNT)
    for user in (leader, bob):
        user.post("/language", {"lang": "en"})
    refused = bob.post(f"/tickets/{ticket}/steps/leader_approve/transition",
                       data={"leader_approve-leader_approve_result": "true"}, follow_redirects=True)
    assert refused.status_code == 403 and "You may not see this ticket" in visible(refused)
    done = leader.post(f"/tickets/{ticket}/steps/leader_approve/transition",
                       data={"leader_approve-leader_approve_result": "true"}, follow_redirects=True)
    assert "Submitted" in visible(done) and "已提交" not in visible(done)


def test_chinese_users_keep_chinese_flashes(browser):
    alice = browser("alice")
    assert "已退出登录" in visible(alice.post("/logout", follow_redirects=True))
