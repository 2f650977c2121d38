"""Warnings and breaches: found through `tickets.sla_check_at` (an index range), recorded once, notified.

The scheduler's job takes the tickets whose next threshold has passed (`due_tickets`), then for
each one, in a unit of work of its own, locks the ticket and records every threshold crossed and
not yet recorded (`check_ticket`). A record is an `INSERT ... ON CONFLICT DO NOTHING` into
`sla_notices` (unique ticket, clock, kind): with several schedulers the first insert wins, and only
the winner queues the notice and runs the breach action.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select

from app.extensions import db
from app.infra.database import dialect_insert
from app.models import (Notification, Role, RoleMember, SlaNotice, StepProcessor, Ticket, TicketLog,
                        TicketParticipant, TicketStep, User)
from app.services.sla.clocks import CLOCK_NAMES, derived_times, readings
from app.services.tickets.reading import lock_ticket, open_steps
from app.timeutil import fmt, utcnow


def due_tickets(now: datetime | None = None, limit: int = 200) -> list[int]:
    """Tickets with a warning or breach to record (`sla_check_at <= now`), oldest threshold first."""
    now = now or utcnow()
    return list(db.session.execute(select(Ticket.id).where(Ticket.sla_check_at <= now)
                                   .order_by(Ticket.sla_check_at, Ticket.id).limit(limit)).scalars())


def check_ticket(ticket_id: int, now: datetime | None = None) -> list[str]:
    """Record this ticket's crossed thresholds once each; returns what was recorded ("resolution:breach")."""
    now = now or utcnow()
    ticket = lock_ticket(ticket_id)
    if not ticket.sla or ticket.sla_check_at is None or ticket.sla_check_at > now:
        return []
    sla = {**ticket.sla, "clocks": {k: dict(v) for k, v in ticket.sla["clocks"].items()}}
    steps = open_steps(ticket)
    crossed = []            # (clock, kind, at, reading) in clock order, warning before breach
    for name, reading in readings(sla, now).items():
        clock = sla["clocks"][name]
        for kind, flag, at in (("warning", "warned", reading.warn_at), ("breach", "breached", reading.due_at)):
            if at is None or at > now or clock.get(flag):
                continue
            clock[flag] = fmt(at)
            crossed.append((name, kind, at, reading))
    won = _record_once(ticket.id, [(name, kind, at) for name, kind, at, _ in crossed])
    done, targets = [], {}
    for name, kind, at, reading in crossed:
        if (name, kind) in won:
            _notify(ticket, sla, steps, name, kind, reading, targets)
            if kind == "breach":
                _breach_action(ticket, sla, steps, now)
            done.append(f"{name}:{kind}")
    ticket.sla = sla
    times = derived_times(sla, now)
    ticket.sla_due_at, ticket.sla_check_at = times["sla_due_at"], times["sla_check_at"]
    return done


def _record_once(ticket_id: int, crossed: list[tuple[str, str, datetime]]) -> set[tuple[str, str]]:
    """Insert every crossed threshold in one statement; returns the (clock, kind) this call was first to record."""
    if not crossed:
        return set()
    created = utcnow()
    stmt = (dialect_insert(SlaNotice.__table__, db.engine.dialect.name)
            .values([{"ticket_id": ticket_id, "clock": clock, "kind": kind, "crossed_at": at, "created_at": created}
                     for clock, kind, at in crossed])
            .on_conflict_do_nothing().returning(SlaNotice.clock, SlaNotice.kind))
    return {(clock, kind) for clock, kind in db.session.execute(stmt)}


def _processors(steps: list[TicketStep]) -> set[str]:
    return {u for s in steps for u in (s.users or [])}


def escalation_targets(sla: dict, processors: set[str]) -> set[str]:
    """Who hears of a breach besides the processors: the agreement's role, or the processors' leaders."""
    esc = sla.get("escalation") or {}
    people: set[str] = set()
    if esc.get("role"):
        people |= set(db.session.execute(select(RoleMember.username).join(Role, Role.id == RoleMember.role_id)
                                         .where(Role.key == esc["role"])).scalars())
    if esc.get("leaders") and processors:
        people |= {u for u in db.session.execute(select(User.leader).where(User.username.in_(processors))).scalars()
                   if u}
    return people


def _notify(ticket: Ticket, sla: dict, steps: list[TicketStep], clock: str, kind: str, reading,
            targets: dict) -> None:
    """Log the crossing and queue its notice; `targets` keeps the escalation people per set of processors."""
    processors = _processors(steps)
    key = frozenset(processors)
    if kind == "breach" and key not in targets:
        with db.session.no_autoflush:           # the notices queued so far go out together, at the flush
            targets[key] = escalation_targets(sla, processors)
    recipients = processors | (targets[key] if kind == "breach" else set())
    if not recipients:
        recipients = {ticket.creator} if kind == "breach" else set()
    what = "预警" if kind == "warning" else "超时"
    message = (f"{CLOCK_NAMES[clock]}时限{what}：协议【{sla['name']}】，优先级 {sla.get('priority') or '-'}，"
               f"{'到期' if kind == 'warning' else '已于'} {fmt(reading.due_at)}{'' if kind == 'warning' else ' 超时'}")
    db.session.add(TicketLog(ticket_id=ticket.id, node_key=None, operator="system", action=f"SLA_{kind.upper()}",
                             message=message, source="SYS", created_at=utcnow()))
    if recipients:
        db.session.add(Notification(ticket_id=ticket.id, kind=f"sla_{kind}", recipients=sorted(recipients),
                                    message=message))


def _breach_action(ticket: Ticket, sla: dict, steps: list[TicketStep], now: datetime) -> None:
    """The agreement's optional action at breach: raise the priority one level, add processors to open steps."""
    action = sla.get("on_breach") or {}
    if action.get("raise_priority") and ticket.priority:
        from app.services.sla.files import sla_config

        order = list(sla_config().doc.priority_order)
        if ticket.priority in order and order.index(ticket.priority) > 0:
            old, ticket.priority = ticket.priority, order[order.index(ticket.priority) - 1]
            db.session.add(TicketLog(ticket_id=ticket.id, operator="system", action="PRIORITY", source="SYS",
                                     message=f"超时升级：优先级由 {old} 调整为 {ticket.priority}", created_at=now))
    extra = [u for u in action.get("add_processors") or []]
    if extra:
        known = set(db.session.execute(select(User.username).where(User.username.in_(extra),
                                                                   User.is_enabled.is_(True))).scalars())
        for step in steps:
            if step.kind in ("manual", "approval", "sign") and step.status in ("RUNNING", "RECEIVING", "DISTRIBUTING"):
                added = sorted(known - set(step.users or []))
                if not added:
                    continue
                step.users = sorted(set(step.users or []) | set(added))
                db.session.execute(dialect_insert(TicketParticipant.__table__, db.engine.dialect.name)
                                   .on_conflict_do_nothing(),
                                   [{"username": u, "ticket_id": ticket.id, "ticket_created_at": ticket.created_at,
                                     "is_creator": False} for u in added])
                db.session.add_all([StepProcessor(step_id=step.id, ticket_id=ticket.id, username=u,
                                                  step_status=step.status, ticket_created_at=ticket.created_at)
                                    for u in added])
                db.session.add(TicketLog(ticket_id=ticket.id, node_key=step.node_key, operator="system",
                                         action="SLA_ESCALATE", source="SYS", created_at=now,
                                         message=f"超时升级：节点【{step.name}】增加处理人 {','.join(added)}"))
