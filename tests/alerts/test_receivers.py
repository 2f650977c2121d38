"""Receivers: the secret decides (401, nothing stored), bad bodies are kept and refused (400), good ones become incidents."""
from __future__ import annotations

from sqlalchemy import select

from app.extensions import db
from app.models import Alert, AlertPayload, Ticket, TicketLog

from alert_kit import SECRET, logged_in, am_alert, am_payload, basic, bearer, post_json, rows

AM = "/alerts/alertmanager/prod"


def test_missing_or_wrong_secret_is_401_and_stores_nothing(alert_env):
    body = am_payload("{}:{alertname=\"A\"}", [am_alert("A", "f1")])
    for headers in ({}, bearer("wrong-secret-xxxxxxxx"), {"Authorization": SECRET}, basic("prod")):
        response = post_json(alert_env.client, AM, body, headers)
        assert response.status_code == 401, headers
        assert response.get_json()["message"] == "告警接收器认证失败：密钥缺失或错误"
    assert post_json(alert_env.client, "/alerts/alertmanager/nosuch", body, bearer()).status_code == 401
    assert post_json(alert_env.client, "/alerts/grafana/grafana", body, basic("other")).status_code == 401
    assert rows(alert_env.app, AlertPayload) == [] and rows(alert_env.app, Ticket) == []


def test_receivers_need_no_login_and_no_csrf_token(alert_env):
    """A monitoring system has no session: the secret alone is enough (CSRF protection is on in this app)."""
    assert alert_env.app.config.get("WTF_CSRF_ENABLED", True)
    response = post_json(alert_env.client, AM, am_payload("g1", [am_alert("A", "f1")]), bearer())
    assert response.status_code == 200, response.get_data(as_text=True)


def test_malformed_json_is_400_kept_for_the_admin_and_not_processed(alert_env):
    response = alert_env.client.post(AM, data=b'{"alerts": [', headers={**bearer(), "Content-Type": "application/json"})
    assert response.status_code == 400
    assert response.get_json()["message"].startswith("请求体不是合法的 JSON")
    not_am = post_json(alert_env.client, AM, {"hello": "world"}, bearer())
    assert not_am.status_code == 400
    assert not_am.get_json()["message"] == "缺少 alerts 列表（Alertmanager/Grafana webhook 格式）"
    kept = rows(alert_env.app, AlertPayload)
    assert [p.status for p in kept] == ["REJECTED", "REJECTED"]
    assert kept[0].body == {"raw": '{"alerts": ['} and kept[1].body == {"hello": "world"}
    assert rows(alert_env.app, Ticket) == [] and rows(alert_env.app, Alert) == []


def test_an_alertmanager_group_opens_one_incident_with_its_alerts_and_repeats_never_open_another(alert_env):
    group = '{}/{team=~"infra"}:{alertname="NodeDown"}'
    first = am_payload(group, [am_alert("NodeDown", "aaa", instance="h1")])
    assert post_json(alert_env.client, AM, first, bearer()).status_code == 200
    (ticket,) = rows(alert_env.app, Ticket)
    assert ticket.source == "ALERT" and ticket.title == "[critical] NodeDown"
    assert ticket.values["urgency"] == "high" and ticket.values["description"] == "NodeDown on h1 (1 alerts)"
    for _ in range(3):                                 # repeat_interval: the same notification again
        post_json(alert_env.client, AM, first, bearer())
    bigger = am_payload(group, [am_alert("NodeDown", "aaa", instance="h1"), am_alert("NodeDown", "bbb", instance="h2")])
    post_json(alert_env.client, AM, bigger, bearer())
    assert len(rows(alert_env.app, Ticket)) == 1
    alerts = {a.fingerprint: a for a in rows(alert_env.app, Alert)}
    assert sorted(alerts) == ["aaa", "bbb"] and alerts["aaa"].received_count == 5 and alerts["bbb"].received_count == 1
    assert alerts["aaa"].source_url == "http://prometheus.local/graph?g0.expr=NodeDown"
    assert str(alerts["aaa"].starts_at) == "2026-12-01 08:00:00.123456"
    logs = [log.message for log in rows(alert_env.app, TicketLog, ticket_id=ticket.id) if log.action == "ALERT"]
    assert logs[:2] == ["由告警创建：规则「主机告警」，来源 alertmanager/prod", f"关联告警 1 条（分组 {group}）"]
    assert logs[-1] == "告警通知：2 条（新增 1 条，触发中 2 条，已恢复 0 条）"
    assert all(p.status == "DONE" for p in rows(alert_env.app, AlertPayload))


def test_resolve_marks_the_alerts_and_moves_the_ticket_on_as_the_rule_says(alert_env):
    group = "g-resolve"
    post_json(alert_env.client, AM, am_payload(group, [am_alert("A", "a1"), am_alert("A", "a2")]), bearer())
    post_json(alert_env.client, AM, am_payload(group, [am_alert("A", "a1", status="resolved"), am_alert("A", "a2")]),
              bearer())
    (ticket,) = rows(alert_env.app, Ticket)
    assert {a.fingerprint: a.status for a in rows(alert_env.app, Alert)} == {"a1": "resolved", "a2": "firing"}
    with alert_env.app.app_context():
        steps = [s.node_key for s in db.session.get(Ticket, ticket.id).steps if s.is_open]
    assert steps == ["handle"]                          # one alert still fires: nothing moves
    post_json(alert_env.client, AM, am_payload(group, [am_alert("A", "a1", status="resolved"),
                                                       am_alert("A", "a2", status="resolved")]), bearer())
    alerts = rows(alert_env.app, Alert)
    assert {a.status for a in alerts} == {"resolved"} and all(a.ends_at is not None for a in alerts)
    with alert_env.app.app_context():
        t = db.session.get(Ticket, ticket.id)
        assert [s.node_key for s in t.steps if s.is_open] == ["confirm"]
        assert t.values["solution"].startswith("告警已于 ")
    logs = [log.message for log in rows(alert_env.app, TicketLog, ticket_id=ticket.id)]
    assert "告警分组 g-resolve 已全部恢复" in logs and "告警全部恢复，已自动提交步骤 handle" in logs


def test_a_refire_within_the_window_reopens_the_same_incidents_alerts(alert_env):
    group = "g-refire"
    post_json(alert_env.client, AM, am_payload(group, [am_alert("A", "a1")]), bearer())
    post_json(alert_env.client, AM, am_payload(group, [am_alert("A", "a1", status="resolved")]), bearer())
    post_json(alert_env.client, AM, am_payload(group, [am_alert("A", "a1")]), bearer())
    (ticket,) = rows(alert_env.app, Ticket)
    (alert,) = rows(alert_env.app, Alert)
    assert alert.status == "firing" and alert.received_count == 3
    assert "告警在恢复后再次触发（30 分钟内），沿用本单" in [log.message for log in rows(alert_env.app, TicketLog)]


def test_a_refire_after_the_window_opens_a_new_incident(alert_env):
    from alert_kit import rules_text

    alert_env.write_rules(rules_text(refire=0))
    group = "g-late"
    post_json(alert_env.client, AM, am_payload(group, [am_alert("A", "a1")]), bearer())
    post_json(alert_env.client, AM, am_payload(group, [am_alert("A", "a1", status="resolved")]), bearer())
    post_json(alert_env.client, AM, am_payload(group, [am_alert("A", "a1")]), bearer())
    assert len(rows(alert_env.app, Ticket)) == 2
    assert sorted(a.ticket_id for a in rows(alert_env.app, Alert)) == [t.id for t in rows(alert_env.app, Ticket)]


def test_alerts_no_rule_matches_are_stored_and_open_nothing(alert_env):
    body = am_payload("g-other", [am_alert("A", "x1", team="frontend")])
    assert post_json(alert_env.client, AM, body, bearer()).status_code == 200
    assert rows(alert_env.app, Ticket) == [] and [p.status for p in rows(alert_env.app, AlertPayload)] == ["DONE"]


def test_storm_protection_attaches_further_groups_to_one_parent_and_tells_the_admins(alert_env):
    from app.models import AlertGroup, Notification

    from alert_kit import rules_text

    alert_env.write_rules(rules_text(storm=2))
    for i in range(5):
        post_json(alert_env.client, AM, am_payload(f"g{i}", [am_alert(f"A{i}", f"f{i}")]), bearer())
    tickets = rows(alert_env.app, Ticket)
    assert len(tickets) == 3
    storm = tickets[-1]
    assert storm.title.startswith("【告警风暴】") and storm.meta["alert_storm"] is True
    groups = rows(alert_env.app, AlertGroup)
    assert [g.storm_parent for g in groups] == [False, False, True, True, True]
    assert {g.ticket_id for g in groups[2:]} == {storm.id}
    assert sorted(a.fingerprint for a in rows(alert_env.app, Alert, ticket_id=storm.id)) == ["f2", "f3", "f4"]
    notices = rows(alert_env.app, Notification)
    assert [(n.kind, n.recipients) for n in notices if n.kind.startswith("alert")] == [
        ("alert", ["oncall"]), ("alert", ["oncall"]), ("alert_storm", ["admin"])]


def test_a_processing_failure_keeps_the_payload_queued_for_the_scheduler(alert_env):
    from app.jobs import process_alerts

    alert_env.write_rules(alert_env.rules_dir.joinpath("rules.yaml").read_text().replace(
        "service: alert_incident\n    creator: alertbot\n    fields:\n      title: \"[{{",
        "service: nosuch\n    creator: alertbot\n    fields:\n      title: \"[{{", 1))
    assert post_json(alert_env.client, AM, am_payload("g", [am_alert("A", "a1")]), bearer()).status_code == 200
    (payload,) = rows(alert_env.app, AlertPayload)
    assert payload.status == "PENDING" and payload.attempts == 1
    assert payload.last_error == "告警规则 node_down：服务 'nosuch' 不存在"
    from alert_kit import rules_text

    alert_env.write_rules(rules_text())
    with alert_env.app.app_context():
        db.session.execute(db.update(AlertPayload).values(next_attempt_at=payload.received_at))
        from app.infra.uow import commit

        commit()
        assert process_alerts("w1") == 1
    assert [p.status for p in rows(alert_env.app, AlertPayload)] == ["DONE"]
    assert len(rows(alert_env.app, Ticket)) == 1


def test_grafana_webhook_with_basic_auth_opens_an_incident_linking_the_panel(alert_env):
    body = {
        "receiver": "itsm", "status": "firing", "orgId": 1, "groupKey": '{}:{alertname="HighLatency"}',
        "groupLabels": {"alertname": "HighLatency"}, "commonLabels": {"alertname": "HighLatency", "grafana_folder": "api"},
        "commonAnnotations": {"summary": "p99 > 2s"}, "externalURL": "http://grafana.local/", "version": "1",
        "title": "[FIRING:1] HighLatency api", "state": "alerting", "message": "...", "truncatedAlerts": 0,
        "alerts": [{"status": "firing", "labels": {"alertname": "HighLatency", "grafana_folder": "api"},
                    "annotations": {"summary": "p99 > 2s"}, "startsAt": "2026-12-01T08:00:00Z",
                    "endsAt": "0001-01-01T00:00:00Z", "generatorURL": "",
                    "fingerprint": "3ab1c6e8a1f0d2c4", "silenceURL": "http://grafana.local/alerting/silence/new",
                    "dashboardURL": "http://grafana.local/d/abc", "panelURL": "http://grafana.local/d/abc?viewPanel=2",
                    "values": {"B": 2.4}, "valueString": "[ var='B' value=2.4 ]"}],
    }
    response = post_json(alert_env.client, "/alerts/grafana/grafana", body, basic("grafana"))
    assert response.status_code == 200
    (ticket,) = rows(alert_env.app, Ticket)
    (alert,) = rows(alert_env.app, Alert)
    assert ticket.title == "HighLatency" and alert.source_url == "http://grafana.local/d/abc?viewPanel=2"


def test_generic_receiver_reads_the_rules_mapping_and_groups_by_its_labels(alert_env):
    body = {"events": [
        {"id": "e1", "state": "alerting", "tags": {"service": "pay"}, "details": {"text": "5xx"}, "link": "https://mon/e1",
         "at": "2026-12-01T08:00:00+08:00"},
        {"id": "e2", "state": "alerting", "tags": {"service": "pay"}, "details": {"text": "5xx"}},
        {"id": "e3", "state": "alerting", "tags": {"service": "cart"}, "details": {"text": "slow"}}]}
    assert post_json(alert_env.client, "/alerts/generic/hooks", body, bearer()).status_code == 200
    tickets = rows(alert_env.app, Ticket)
    assert sorted(t.title for t in tickets) == ["cart: slow", "pay: 5xx"]
    alerts = {a.fingerprint: a for a in rows(alert_env.app, Alert)}
    assert str(alerts["e1"].starts_at) == "2026-12-01 00:00:00" and alerts["e1"].source_url == "https://mon/e1"
    resolved = {"events": [{"id": "e3", "state": "ok", "tags": {"service": "cart"}}]}
    post_json(alert_env.client, "/alerts/generic/hooks", resolved, bearer())
    assert rows(alert_env.app, Alert, fingerprint="e3")[0].status == "resolved"
    assert len(rows(alert_env.app, Ticket)) == 2


def test_the_ticket_page_lists_its_alerts_and_the_global_view_filters_by_source(alert_env):
    post_json(alert_env.client, AM, am_payload("g-page", [am_alert("DiskFull", "d1", instance="db7")]), bearer())
    (ticket,) = rows(alert_env.app, Ticket)
    admin = logged_in(alert_env.app, "alertbot")
    page = admin.get(f"/tickets/{ticket.id}").get_data(as_text=True)
    assert 'id="alerts"' in page and 'data-fingerprint="d1"' in page and "instance=db7" in page
    assert 'href="http://prometheus.local/graph?g0.expr=DiskFull"' in page
    listed = admin.get("/tickets?source=ALERT").get_data(as_text=True)
    assert ticket.sn in listed
    assert ticket.sn not in admin.get("/tickets?source=WEB").get_data(as_text=True)
    assert '<option value="ALERT" selected>' in listed


def test_the_process_alerts_job_is_declared():
    from app.jobs import JOBS

    assert "process_alerts" in [j.id for j in JOBS]


def test_alert_rows_are_what_the_page_reads(alert_env):
    from app.services.alerts import ticket_alerts

    post_json(alert_env.client, AM, am_payload("g", [am_alert("A", "a1"), am_alert("A", "a2", status="resolved")]),
              bearer())
    (ticket,) = rows(alert_env.app, Ticket)
    with alert_env.app.app_context():
        assert [a.fingerprint for a in ticket_alerts(ticket.id)] == ["a1", "a2"]
        assert db.session.execute(select(Alert.status).order_by(Alert.fingerprint)).scalars().all() == [
            "firing", "resolved"]
