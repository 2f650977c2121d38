"""Helpers for the SLA tests: local wall-clock times as stored instants, the China working calendar."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import time_machine

from app.extensions import db
from app.infra.uow import commit
from app.jobs import check_service_levels
from app.services.people.users import find_user
from app.services.tickets import create_ticket

HOUR = 3600


def utc(text: str, zone: str = "Asia/Shanghai") -> datetime:
    """A local wall-clock time (`YYYY-MM-DD HH:MM`) as the naive UTC instant the database stores."""
    local = datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=ZoneInfo(zone))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


# --- the SLA service of test_sla_tickets / test_sla_outcomes ---
ROOT = Path(__file__).resolve().parents[2]


FLOW = """
key: sla_demo
name: SLA 演示
service_type: request
nodes:
  - key: submit
    name: 提单
    kind: start
    fields:
      - {key: title, name: 标题, type: STRING, required: true}
      - {key: urgency, name: 紧急程度, type: SELECT, source: {dictionary: URGENCY}}
      - {key: impact, name: 影响范围, type: SELECT, source: {dictionary: IMPACT}}
  - {key: handle, name: 处理, kind: manual, processors: {type: PERSON, value: [ops1]}}
  - {key: end, name: 结束, kind: end}
transitions:
  - {from: submit, to: handle}
  - {from: handle, to: end}
"""


AGREEMENTS = """
priority_matrix:
  high: {high: P1, medium: P2, low: P3}
  medium: {high: P2, medium: P3, low: P3}
  low: {high: P3, medium: P4, low: P4}
default_priority: P3
agreements:
  - key: demo_workday
    name: 演示（工作日）
    services: [sla_demo]
    calendar: cn_workday
    warn_at: 0.8
    escalation: {leaders: true}
    on_breach: {raise_priority: true}
    targets:
      P2: {response: 1h, resolution: 4h}
      P3: {response: 2h, resolution: 8h}
"""


def create(app, service_id, at, **fields):
    with time_machine.travel(utc(at), tick=False), app.app_context():
        ticket = create_ticket(service_id=service_id, creator=find_user("alice"),
                               fields={"title": "打印机坏了", **fields})
        commit()
        return ticket.id


def check(app, at):
    with time_machine.travel(utc(at), tick=False), app.app_context():
        try:
            return check_service_levels()
        finally:
            db.session.remove()
