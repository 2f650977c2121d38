"""Turning stored payloads into incidents: dedupe per alert group, resolve, re-fire, storm protection.

A payload is claimed (by the scheduler's job, or right after intake when ALERTS_PROCESS_INLINE)
and processed in one short unit of work. Each group's row (`alert_groups`, unique per rule and
groupKey) is inserted if missing and then locked (`FOR UPDATE`; SQLite serializes writers), so
concurrent processors never open two incidents for one group. Opening an incident also locks the
rule's row (`alert_rule_states`): the count of incidents this minute is exact, and past the
rule's `storm.max_new_per_minute` further groups attach to one storm incident and the admins are told.
"""
from __future__ import annotations

from datetime import timedelta
from functools import lru_cache

from flask import current_app
from sqlalchemy import func, select, update

from app.errors import ItsmError
from app.extensions import db
from app.infra.database import dialect_insert
from app.infra.workqueue import backoff_seconds, claim
from app.integrations.templating import TemplateProblem, render
from app.models import (Alert, AlertGroup, AlertPayload, AlertReceiver, AlertRuleState, Notification, Service,
                        Ticket, TicketLog, User)
from app.services.people.users import find_user
from app.services.tickets.operations import create_ticket, operate_step
from app.timeutil import fmt, utcnow

from .payloads import IncomingGroup, generic_groups, webhook_group
from .rules import AlertRule, RuleSet, load_rules

SOURCE = "ALERT"
STORM_WINDOW = timedelta(minutes=1)


class AlertProcessingFailed(ItsmError):
    """A payload that cannot become incidents (no such service, a template that does not render, ...)."""


def claim_due_payloads(worker: str, limit: int = 50) -> list[int]:
    """Claim stored payloads due for processing (the job's unit of work commits the claim)."""
    lease = timedelta(seconds=current_app.config["ALERTS_LEASE_SECONDS"])
    return claim(AlertPayload, worker, limit=limit, lease=lease)


def claim_payload(payload_id: int, worker: str) -> bool:
    """Claim one just-stored payload for inline processing (False if a scheduler took it first)."""
    now = utcnow()
    claimed = db.session.execute(
        update(AlertPayload).where(AlertPayload.id == payload_id, AlertPayload.status == "PENDING",
                                   AlertPayload.claimed_by.is_(None))
        .values(claimed_by=worker, claimed_at=now).returning(AlertPayload.id),
        execution_options={"synchronize_session": False}).first()
    return claimed is not None


def process_payload(payload_id: int, worker: str) -> str:
    """Apply one claimed payload: every group to its rule's incident. Returns a one-line summary."""
    payload = db.session.execute(select(AlertPayload).where(
        AlertPayload.id == payload_id, AlertPayload.claimed_by == worker, AlertPayload.status == "PENDING")
        .execution_options(populate_existing=True)).scalar_one_or_none()
    if payload is None:
        return "not mine"
    receiver = db.session.get(AlertReceiver, payload.receiver_id)
    rules = load_rules()
    outcomes = []
    now = utcnow()
    for rule, group in _groups_with_rules(receiver, payload.body, rules):
        outcomes.append(_process_group(receiver, rule, group, now) if rule else "no rule")
    payload.status, payload.processed_at, payload.last_error = "DONE", now, ""
    payload.attempts += 1
    payload.claimed_by = payload.claimed_at = None
    return "; ".join(outcomes) or "no alerts"


def record_payload_failure(payload_id: int, worker: str, reason: str) -> str:
    """After a failed attempt (rolled back): back off and retry, FAILED after ALERTS_MAX_ATTEMPTS (kept for the admin)."""
    payload = db.session.get(AlertPayload, payload_id)
    if payload is None or payload.claimed_by != worker:
        return "not mine"
    payload.attempts += 1
    payload.last_error = reason[:2000]
    payload.claimed_by = payload.claimed_at = None
    if payload.attempts >= current_app.config["ALERTS_MAX_ATTEMPTS"]:
        payload.status = "FAILED"
    else:
        payload.next_attempt_at = utcnow() + timedelta(seconds=backoff_seconds(payload.attempts, base=10))
    return payload.status


def retry_payloads(ids: list[int]) -> int:
    """The admin sends FAILED payloads through processing again (after fixing a rule or a service)."""
    result = db.session.execute(update(AlertPayload).where(AlertPayload.id.in_([int(i) for i in ids]),
                                                           AlertPayload.status == "FAILED")
                                .values(status="PENDING", attempts=0, next_attempt_at=utcnow(),
                                        claimed_by=None, claimed_at=None),
                                execution_options={"synchronize_session": False})
    return result.rowcount


def _groups_with_rules(receiver: AlertReceiver, body: dict, rules: RuleSet):
    if receiver.kind != "generic":
        group = webhook_group(body)
        yield rules.first_match(receiver.kind, receiver.name, group.labels), group
        return
    mapping_rule = next((r for r in rules.rules if r.source == "generic"
                         and (not r.receivers or receiver.name in r.receivers)), None)
    if mapping_rule is None:
        raise AlertProcessingFailed(f"没有告警规则读取 generic 接收器 {receiver.name} 的数据")
    try:
        groups = generic_groups(body, mapping_rule.generic)
    except ValueError as exc:
        raise AlertProcessingFailed(str(exc)) from None
    for group in groups:
        yield rules.first_match("generic", receiver.name, group.labels), group


# --- one group ---------------------------------------------------------------------------------

def _process_group(receiver: AlertReceiver, rule: AlertRule, group: IncomingGroup, now) -> str:
    row = _locked_group(rule.key, group.group_key, now)
    firing = any(a.status == "firing" for a in group.alerts)
    ticket = db.session.get(Ticket, row.ticket_id) if row.ticket_id else None
    window = timedelta(minutes=rule.refire_window_minutes)
    current = ticket is not None and not ticket.is_over and (
        row.status == "firing" or (row.resolved_at is not None and now - row.resolved_at <= window))
    if firing and not current:
        ticket = _new_incident(receiver, rule, group, row, now)
        outcome = "storm" if row.storm_parent else "opened"
    elif ticket is None:
        return "resolved, no incident"
    else:
        if firing and row.status == "resolved":
            _log(ticket.id, f"告警在恢复后再次触发（{rule.refire_window_minutes} 分钟内），沿用本单", now)
        outcome = "repeated"
    if firing:
        row.status, row.resolved_at = "firing", None
    row.updated_at = now
    _attach_alerts(ticket, row, group, now, new_incident=outcome in ("opened", "storm"))
    if not firing or any(a.status == "resolved" for a in group.alerts):
        _settle_resolved(rule, ticket, row, group, now)
    return f"{outcome} {ticket.sn}"


def _locked_group(rule_key: str, group_key: str, now) -> AlertGroup:
    db.session.execute(_insert_group(db.engine.dialect.name), {"rule_key": rule_key, "group_key": group_key,
                                                               "status": "firing", "updated_at": now,
                                                               "storm_parent": False})
    return db.session.execute(select(AlertGroup).where(AlertGroup.rule_key == rule_key,
                                                       AlertGroup.group_key == group_key)
                              .with_for_update().execution_options(populate_existing=True)).scalar_one()


@lru_cache(maxsize=2)
def _insert_group(dialect: str):
    return dialect_insert(AlertGroup, dialect).on_conflict_do_nothing(index_elements=["rule_key", "group_key"])


def _new_incident(receiver, rule: AlertRule, group: IncomingGroup, row: AlertGroup, now) -> Ticket:
    state = _locked_rule_state(rule.key, now)
    if now - state.window_start >= STORM_WINDOW:
        state.window_start, state.window_count = now, 0
    if state.window_count < rule.storm.max_new_per_minute:
        state.window_count += 1
        ticket = _open_ticket(receiver, rule, group, now)
        row.storm_parent = False
        _notify(ticket, "alert", _rule_recipients(rule), f"告警规则「{rule.name}」创建了故障单")
    else:
        ticket = _storm_ticket(receiver, rule, group, state, now)
        row.storm_parent = True
        _log(ticket.id, f"告警风暴：规则「{rule.name}」每分钟超过 {rule.storm.max_new_per_minute} 个新故障，"
                        f"分组 {group.group_key} 归入本单", now)
    row.ticket_id, row.opened_at = ticket.id, now
    return ticket


def _locked_rule_state(rule_key: str, now) -> AlertRuleState:
    db.session.execute(dialect_insert(AlertRuleState).values(rule_key=rule_key, window_start=now, window_count=0)
                       .on_conflict_do_nothing(index_elements=["rule_key"]))
    return db.session.execute(select(AlertRuleState).where(AlertRuleState.rule_key == rule_key)
                              .with_for_update().execution_options(populate_existing=True)).scalar_one()


def _storm_ticket(receiver, rule: AlertRule, group: IncomingGroup, state: AlertRuleState, now) -> Ticket:
    """The rule's storm incident: the open one, else a new one (and the admins are told)."""
    ticket = db.session.get(Ticket, state.storm_ticket_id) if state.storm_ticket_id else None
    if ticket is not None and not ticket.is_over:
        return ticket
    ticket = _open_ticket(receiver, rule, group, now, storm=True)
    state.storm_ticket_id, state.storm_started_at = ticket.id, now
    admins = list(db.session.execute(select(User.username).where(User.is_superuser.is_(True),
                                                                 User.is_enabled.is_(True))).scalars())
    _notify(ticket, "alert_storm", admins, f"告警规则「{rule.name}」每分钟新建故障超过 "
                                           f"{rule.storm.max_new_per_minute} 个，后续告警分组归入本单")
    return ticket


def _open_ticket(receiver, rule: AlertRule, group: IncomingGroup, now, *, storm: bool = False) -> Ticket:
    service_id = db.session.execute(select(Service.id).where(Service.key == rule.service)).scalar_one_or_none()
    if service_id is None:
        raise AlertProcessingFailed(f"告警规则 {rule.key}：服务 {rule.service!r} 不存在")
    creator = find_user(rule.creator)
    if creator is None:
        raise AlertProcessingFailed(f"告警规则 {rule.key}：提单人 {rule.creator!r} 不存在")
    values = ticket_values(rule, group, receiver, now)
    if storm and isinstance(values.get("title"), str):
        values["title"] = f"【告警风暴】{values['title']}"[:120]
    ticket = create_ticket(service_id=service_id, creator=creator, fields=values, source=SOURCE,
                           meta={"alert_rule": rule.key, "alert_group": group.group_key, "alert_storm": storm,
                                 "alert_receiver": f"{receiver.kind}/{receiver.name}"})
    _log(ticket.id, f"由告警创建：规则「{rule.name}」，来源 {receiver.kind}/{receiver.name}", now)
    return ticket


def ticket_values(rule: AlertRule, group: IncomingGroup, receiver, now) -> dict:
    """The ticket's field values: the rule's templates over the group, then its severity's values."""
    starts = [a.starts_at for a in group.alerts if a.starts_at]
    context = {
        "labels": group.labels, "annotations": group.annotations, "group_key": group.group_key,
        "status": "firing" if any(a.status == "firing" for a in group.alerts) else "resolved",
        "alerts": [{"fingerprint": a.fingerprint, "status": a.status, "labels": a.labels,
                    "annotations": a.annotations, "starts_at": fmt(a.starts_at) or "", "url": a.url}
                   for a in group.alerts],
        "count": len(group.alerts), "starts_at": fmt(min(starts) if starts else now), "now": fmt(now),
        "rule": {"key": rule.key, "name": rule.name}, "receiver": receiver.name, "source": receiver.kind,
    }
    try:
        values = dict(render(dict(rule.fields), context))
    except TemplateProblem as exc:
        raise AlertProcessingFailed(f"告警规则 {rule.key}：{exc}") from None
    severity = group.labels.get(rule.severity.label, "")
    values.update(rule.severity.map.get(severity, rule.severity.default))
    return values


def _attach_alerts(ticket: Ticket, row: AlertGroup, group: IncomingGroup, now, *, new_incident: bool) -> None:
    alerts = {a.fingerprint: a for a in group.alerts}           # one row per fingerprint (last one wins)
    known = set(db.session.execute(select(Alert.fingerprint).where(
        Alert.ticket_id == ticket.id, Alert.fingerprint.in_(list(alerts)))).scalars()) if alerts else set()
    if alerts:
        db.session.execute(_upsert_alerts(db.engine.dialect.name), [
            {"ticket_id": ticket.id, "group_id": row.id, "fingerprint": fp, "status": a.status, "labels": a.labels,
             "annotations": a.annotations, "starts_at": a.starts_at, "ends_at": a.ends_at, "source_url": a.url,
             "received_count": 1, "first_received_at": now, "last_received_at": now}
            for fp, a in alerts.items()])
    added = len(alerts) - len(known)
    firing = sum(1 for a in alerts.values() if a.status == "firing")
    if new_incident:
        _log(ticket.id, f"关联告警 {len(alerts)} 条（分组 {group.group_key}）", now)
    else:
        _log(ticket.id, f"告警通知：{len(alerts)} 条（新增 {added} 条，触发中 {firing} 条，"
                        f"已恢复 {len(alerts) - firing} 条）", now)


@lru_cache(maxsize=2)
def _upsert_alerts(dialect: str):
    stmt = dialect_insert(Alert, dialect)
    return stmt.on_conflict_do_update(index_elements=["ticket_id", "fingerprint"], set_={
        "status": stmt.excluded.status, "labels": stmt.excluded.labels, "annotations": stmt.excluded.annotations,
        "ends_at": stmt.excluded.ends_at, "source_url": stmt.excluded.source_url,
        "last_received_at": stmt.excluded.last_received_at, "received_count": Alert.received_count + 1})


def _settle_resolved(rule: AlertRule, ticket: Ticket, row: AlertGroup, group: IncomingGroup, now) -> None:
    """Mark the group resolved once none of its alerts fires; move the ticket on when none of the ticket's does."""
    firing_in_group = db.session.execute(select(func.count()).select_from(Alert).where(
        Alert.ticket_id == ticket.id, Alert.group_id == row.id, Alert.status == "firing")).scalar_one()
    if firing_in_group or row.status == "resolved":
        return
    row.status, row.resolved_at = "resolved", now
    _log(ticket.id, f"告警分组 {group.group_key} 已全部恢复", now)
    firing_on_ticket = db.session.execute(select(func.count()).select_from(Alert).where(
        Alert.ticket_id == ticket.id, Alert.status == "firing")).scalar_one()
    if firing_on_ticket or rule.resolve is None or ticket.is_over:
        return
    _resolve_action(rule, ticket, group, now)


def _resolve_action(rule: AlertRule, ticket: Ticket, group: IncomingGroup, now) -> None:
    action = rule.resolve
    operator = find_user(action.operator)
    try:
        fields = render(dict(action.fields), {"labels": group.labels, "annotations": group.annotations,
                                              "now": fmt(now), "rule": {"key": rule.key, "name": rule.name}})
        if operator is None:
            raise ItsmError(f"用户 {action.operator} 不存在")
        with db.session.begin_nested():
            operate_step(ticket.id, operator, "TRANSITION", action.node, fields=fields, source=SOURCE)
        _log(ticket.id, f"告警全部恢复，已自动提交步骤 {action.node}", now)
    except (ItsmError, TemplateProblem) as exc:
        _log(ticket.id, f"告警全部恢复，但未能自动提交步骤 {action.node}：{getattr(exc, 'message', exc)}", now)


# --- log lines and notices ---------------------------------------------------------------------

def _log(ticket_id: int, message: str, now) -> None:
    db.session.add(TicketLog(ticket_id=ticket_id, node_key=None, operator="system", action="ALERT",
                             message=message, source=SOURCE, created_at=now))


def _rule_recipients(rule: AlertRule) -> list[str]:
    from app.services.people.directory import DbDirectory

    members = DbDirectory().role_members("GENERAL", tuple(rule.notify.roles)) if rule.notify.roles else frozenset()
    return sorted(set(rule.notify.users) | set(members))


def _notify(ticket: Ticket, kind: str, recipients: list[str], message: str) -> None:
    if recipients:
        db.session.add(Notification(ticket_id=ticket.id, kind=kind, recipients=recipients, message=message))
