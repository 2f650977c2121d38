"""Helpers for the alert tests: the incident flow, rule text, secrets, Alertmanager payload builders."""
from __future__ import annotations

import base64
import json

from app.extensions import db

FLOW = """
key: alert_incident
name: 告警故障
service_type: event
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: urgency, name: 紧急程度, type: STRING}
      - {key: description, name: 描述, type: TEXT}
  - key: handle
    name: 处理
    kind: manual
    processors: {type: PERSON, value: [oncall]}
    fields:
      - {key: solution, name: 方案, type: TEXT}
  - key: confirm
    name: 确认
    kind: manual
    processors: {type: STARTER}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: confirm}
  - {from: confirm, to: end}
"""

RULES = """
rules:
  - key: node_down
    name: 主机告警
    source: alertmanager
    match: {team: "~infra|db"}
    service: alert_incident
    creator: alertbot
    fields:
      title: "[{{ labels.severity | default('none') }}] {{ labels.alertname }}"
      description: "{{ annotations.summary | default('') }} ({{ count }} alerts)"
    severity:
      label: severity
      map: {critical: {urgency: high}, warning: {urgency: medium}}
      default: {urgency: low}
    notify: {users: [oncall]}
    resolve:
      node: handle
      operator: oncall
      fields: {solution: "告警已于 {{ now }} 自动恢复"}
    refire_window_minutes: {refire}
    storm: {max_new_per_minute: {storm}}
  - key: grafana_any
    name: Grafana 告警
    source: grafana
    service: alert_incident
    creator: alertbot
    fields: {title: "{{ labels.alertname }}"}
  - key: generic_any
    name: 通用告警
    source: generic
    service: alert_incident
    creator: alertbot
    fields: {title: "{{ labels.service }}: {{ annotations.text | default('') }}"}
    generic:
      alerts: events
      fingerprint: id
      status: state
      labels: tags
      annotations: details
      url: link
      starts_at: at
      group_by: [service]
"""

SECRET = "s3cret-token-for-tests-only"


def rules_text(*, refire: int = 30, storm: int = 1000) -> str:
    return RULES.replace("{refire}", str(refire)).replace("{storm}", str(storm))


def bearer(secret: str = SECRET) -> dict:
    return {"Authorization": f"Bearer {secret}"}


def basic(user: str, secret: str = SECRET) -> dict:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{secret}".encode()).decode()}


def am_alert(name: str, fingerprint: str, *, status: str = "firing", severity: str = "critical", team: str = "infra",
             instance: str = "host1", starts: str = "2026-12-01T08:00:00.123456789Z") -> dict:
    return {"status": status, "labels": {"alertname": name, "severity": severity, "team": team, "instance": instance},
            "annotations": {"summary": f"{name} on {instance}"}, "startsAt": starts,
            "endsAt": "2026-12-01T09:00:00Z" if status == "resolved" else "0001-01-01T00:00:00Z",
            "generatorURL": f"http://prometheus.local/graph?g0.expr={name}", "fingerprint": fingerprint}


def am_payload(group_key: str, alerts: list[dict]) -> dict:
    """Alertmanager's webhook body (version 4) for one group."""
    common = {k: v for k, v in alerts[0]["labels"].items() if all(a["labels"].get(k) == v for a in alerts)}
    status = "firing" if any(a["status"] == "firing" for a in alerts) else "resolved"
    return {"version": "4", "groupKey": group_key, "truncatedAlerts": 0, "status": status, "receiver": "itsm",
            "groupLabels": {"alertname": common.get("alertname", "")}, "commonLabels": common,
            "commonAnnotations": {}, "externalURL": "http://alertmanager.local", "alerts": alerts}


def post_json(client, url: str, body, headers: dict):
    return client.post(url, data=json.dumps(body), headers={**headers, "Content-Type": "application/json"})


def rows(app, model, **where):
    """All rows of a model (optionally filtered), read in a fresh app context."""
    from sqlalchemy import select

    with app.app_context():
        stmt = select(model).filter_by(**where).order_by(model.id) if hasattr(model, "id") else select(model)
        found = list(db.session.execute(stmt).scalars())
        db.session.expunge_all()
        return found


def logged_in(app, username: str, password: str = "demo-pass-123"):
    """A test client logged in through the login form (users made by `make_service` have the demo password)."""
    import re

    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
    assert response.status_code == 302, f"login as {username} failed"
    return client
