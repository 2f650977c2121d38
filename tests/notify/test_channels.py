"""Webhook (signed JSON), WeCom robot (markdown), log channel; policy channels ∩ the user's choices."""
from __future__ import annotations

import hashlib
import hmac
import logging

from app.extensions import db
from app.infra.uow import commit
from app.models import ApiCallLog, NotifyPreference

SECRET = "whsec-0123456789"
ROBOT_KEY = "robot-key-abcdef123456"


def test_webhook_posts_json_signed_with_hmac_sha256_of_the_body(app, receiver, configure, notify_flow, submit, send,
                                                                notices):
    configure(webhook=(receiver.url + "/hook", SECRET))
    ticket_id = submit(notify_flow("{channels: [webhook]}"), "数据库扩容")

    send()

    (hit,) = receiver.hits
    expected = "sha256=" + hmac.new(SECRET.encode(), hit.body, hashlib.sha256).hexdigest()
    assert hit.path == "/hook"
    assert hit.headers["X-ITSM-Signature"] == expected
    assert hit.headers["X-ITSM-Event"] == "todo"
    data = hit.json
    assert data["event"] == "todo" and data["ticket"]["id"] == ticket_id
    assert data["ticket"]["sn"].startswith("REQ") and data["ticket"]["url"].endswith(f"/tickets/{ticket_id}")
    assert [r["username"] for r in data["recipients"]] == ["bob", "carol"]
    assert "数据库扩容" in data["subject"] and "领导审批" in data["text"]
    assert notices() == [("todo", "SENT", 1, ["bob", "carol"])]


def test_every_webhook_call_is_in_the_api_call_log_with_the_secret_masked(app, receiver, configure, notify_flow,
                                                                          submit, send):
    configure(webhook=(receiver.url + "/hook?token=" + SECRET, SECRET))
    submit(notify_flow("{channels: [webhook]}"))

    send()

    with app.app_context():
        (call,) = db.session.query(ApiCallLog).all()
        assert (call.method, call.status_code, call.ok, call.called_by) == ("POST", 200, True, "notify:webhook")
        assert call.ticket_id is not None and '"event":"todo"' in call.request_body
        text = " ".join([call.url, call.request_body, call.response_body, str(call.request_headers), call.error])
        assert SECRET not in text and "******" in call.url


def test_wecom_robot_gets_a_markdown_message_mentioning_the_recipients(app, receiver, configure, notify_flow, submit,
                                                                       send, notices):
    configure(wecom=f"{receiver.url}/cgi-bin/webhook/send?key={ROBOT_KEY}")
    ticket_id = submit(notify_flow("{channels: [wecom]}"), "打印机故障")

    send()

    (hit,) = receiver.hits
    assert hit.path == f"/cgi-bin/webhook/send?key={ROBOT_KEY}"
    body = hit.json
    assert body["msgtype"] == "markdown" and set(body) == {"msgtype", "markdown"}
    content = body["markdown"]["content"]
    assert content.startswith("**【ITSM】待办：REQ") and "打印机故障" in content
    assert f"/tickets/{ticket_id})" in content and "<@bob>" in content and "<@carol>" in content
    assert notices() == [("todo", "SENT", 1, ["bob", "carol"])]
    with app.app_context():
        (call,) = db.session.query(ApiCallLog).all()
        assert ROBOT_KEY not in call.url and call.called_by == "notify:wecom"


def test_wecom_refusal_in_the_answer_body_counts_as_a_failure(app, receiver, configure, notify_flow, submit, send,
                                                              notices):
    configure(wecom=f"{receiver.url}/send?key={ROBOT_KEY}")
    receiver.reply = {"errcode": 93000, "errmsg": "invalid webhook url"}
    submit(notify_flow("{channels: [wecom]}"))

    send()

    ((kind, status, attempts, _),) = notices()
    assert (status, attempts) == ("PENDING", 1)


def test_log_channel_writes_one_line(caplog, notify_flow, submit, send, notices):
    submit(notify_flow("{channels: [log]}"))

    with caplog.at_level(logging.INFO, logger="itsm.notify"):
        send()

    lines = [r.getMessage() for r in caplog.records if r.name == "itsm.notify"]
    assert len(lines) == 1 and "todo REQ" in lines[0] and "to bob,carol" in lines[0]
    assert notices()[0][1] == "SENT"


def test_each_user_gets_only_the_policy_channels_they_chose(app, smtp, receiver, configure, notify_flow, submit,
                                                            send):
    configure(smtp=smtp, wecom=f"{receiver.url}/send?key={ROBOT_KEY}")
    with app.app_context():
        db.session.add(NotifyPreference(username="bob", channels=["wecom"]))       # bob: WeCom only
        db.session.add(NotifyPreference(username="carol", channels=["email", "log"]))
        commit()
    submit(notify_flow("{channels: [email, wecom]}"))

    send()

    assert [m.rcpt_tos for m in smtp.mails] == [["carol@example.com"]]
    content = receiver.hits[0].json["markdown"]["content"]
    assert "<@bob>" in content and "<@carol>" not in content


def test_a_channel_the_policy_does_not_list_is_never_used(app, smtp, receiver, configure, notify_flow, submit, send):
    configure(smtp=smtp, webhook=(receiver.url, SECRET), wecom=f"{receiver.url}/send?key={ROBOT_KEY}")
    submit(notify_flow("{channels: [log]}"))

    send()

    assert smtp.mails == [] and receiver.hits == []


def test_policy_disabled_sends_nothing_and_marks_the_notices_skipped(smtp, receiver, configure, notify_flow, submit,
                                                                     send, notices):
    configure(smtp=smtp, webhook=(receiver.url, SECRET))
    submit(notify_flow("{enabled: false, channels: [email, webhook, log]}"))

    send()

    assert smtp.mails == [] and receiver.hits == []
    assert notices() == [("todo", "SKIPPED", 1, ["bob", "carol"])]


def test_unconfigured_channel_is_skipped_not_retried(notify_flow, submit, send, notices, app):
    submit(notify_flow("{channels: [email, webhook]}"))        # no SMTP, no webhook configured

    send()

    assert notices() == [("todo", "SKIPPED", 1, ["bob", "carol"])]
