"""A ticket's service level: the agreement it started with, its clocks, the derived due and check times.

Everything lives on the ticket row (`tickets.priority`, `tickets.sla`, `sla_due_at`, `sla_check_at`),
written with the operation's own UPDATE, so a ticket operation costs no extra statement. The clocks'
events come from the engine's events through `app.sla.clock.derive`; `rebuild` derives them again
from the ticket's logs and steps, so what is stored can always be recomputed.
"""
from __future__ import annotations

import json
from datetime import datetime
from functools import lru_cache
from typing import Any, Iterable, Mapping

from app import engine
from app.sla.calendar import BusinessCalendar, add_business
from app.sla.clock import (CLOCKS, RESOLUTION, RESPONSE, ClockEvent, ClockPolicy, ClockReading, Fact, derive,
                           read_clock, sorted_facts)
from app.sla.definitions import AgreementDef, AgreementsDoc, CalendarDef
from app.services.sla.files import sla_config

CLOCK_NAMES = {RESPONSE: "响应", RESOLUTION: "解决"}
STATE_NAMES = {"running": "计时中", "paused": "已暂停", "met": "已达成", "breached": "已超时", "waiting": "未开始"}
DECIDED = ("met", "breached")        # a clock's final states: counted by the attainment statistics
_STAMP = "%Y-%m-%d %H:%M:%S"


# --- priority --------------------------------------------------------------------------------

def priority_of(flow, values: Mapping[str, Any], doc: AgreementsDoc) -> str:
    """紧急程度 × 影响范围 → 优先级, from the start fields bound to the URGENCY and IMPACT dictionaries."""
    by_dictionary = {f.source.dictionary: f.key for f in flow.start.fields
                     if getattr(f, "source", None) is not None and f.source.dictionary}
    urgency, impact = values.get(by_dictionary.get("URGENCY", "")), values.get(by_dictionary.get("IMPACT", ""))
    return doc.priority_matrix.get(str(urgency), {}).get(str(impact), doc.default_priority)


# --- the snapshot taken when a ticket starts -----------------------------------------------------

def start_sla(service_key: str, flow, values: Mapping[str, Any], creator: str, outcome: engine.Outcome,
              now: datetime) -> dict:
    """The SLA columns of a new ticket (empty when its service has no agreement)."""
    config = sla_config()
    agreement = config.agreement_for(service_key)
    priority = priority_of(flow, values, config.doc) if config.doc.agreements else None
    if agreement is None:
        return {"priority": priority}
    sla = snapshot(agreement, config.calendars[agreement.calendar], priority, creator)
    facts = [Fact(now, "created")] + facts_of(outcome.events, now)
    return {"priority": priority, **advanced(sla, facts, now)}


def snapshot(agreement: AgreementDef, calendar: CalendarDef, priority: str | None, creator: str,
             clocks: Mapping[str, Any] | None = None) -> dict:
    """What a ticket keeps of its agreement: later edits of the files apply to new tickets only."""
    targets = agreement.targets.get(priority or "") or next(iter(agreement.targets.values()))
    old = clocks or {}
    return {
        "agreement": agreement.key, "name": agreement.name, "priority": priority, "creator": creator,
        "calendar": calendar.model_dump(mode="json"), "warn_at": agreement.warn_at,
        "pause_nodes": list(agreement.pause_nodes), "resolution_until": agreement.resolution_until,
        "escalation": agreement.escalation.model_dump(mode="json"),
        "on_breach": agreement.on_breach.model_dump(mode="json"),
        "targets": {p: t.model_dump(mode="json") for p, t in agreement.targets.items()},
        "clocks": {name: {"target": getattr(targets, name), "events": (old.get(name) or {}).get("events", []),
                          "warned": (old.get(name) or {}).get("warned"),
                          "breached": (old.get(name) or {}).get("breached")} for name in CLOCKS},
    }


# --- facts -> events -> derived times ---------------------------------------------------------------

def facts_of(events: Iterable, now: datetime) -> list[Fact]:
    """The engine's events of one operation as clock facts (all at `now`)."""
    facts = []
    for ev in events:
        if isinstance(ev, engine.Log):
            facts.append(Fact(now, "log", ev.node_key, ev.operator, ev.action))
        elif isinstance(ev, engine.StepOpened):
            facts.append(Fact(now, "opened", ev.step.node_key))
        elif isinstance(ev, engine.StepClosed):
            facts.append(Fact(now, "closed", ev.node_key))
        elif isinstance(ev, engine.TicketEnded):
            facts.append(Fact(now, "ended"))
    return sorted_facts(facts)


def advanced(sla: dict, facts: list[Fact], now: datetime) -> dict:
    """The SLA columns after `facts`: the clocks' events extended, due and check times derived."""
    sla = json.loads(json.dumps(sla))          # a new object: the JSON column sees the change
    for name, clock in sla["clocks"].items():
        events = derive(_events(clock["events"]), facts, _policy(sla, name))
        clock["events"] = [[e.at.strftime(_STAMP), e.kind, e.reason] for e in events]
    return {"sla": sla, **derived_times(sla, now)}


def derived_times(sla: dict, now: datetime) -> dict:
    """sla_due_at: the first running clock's due time; sla_check_at: the next unrecorded threshold.

    Also marks each decided clock in `sla` (`decided`: met / breached), which `outcomes` turns into rows.
    """
    due, check = [], []
    for name, reading in readings(sla, now).items():
        clock = sla["clocks"][name]
        if reading.state in DECIDED:
            clock["decided"] = reading.state
        else:
            clock.pop("decided", None)
        if reading.running and reading.due_at:
            due.append(reading.due_at)
        if reading.warn_at and not clock.get("warned"):
            check.append(reading.warn_at)
        if reading.due_at and not clock.get("breached"):
            check.append(reading.due_at)
        elif reading.running and reading.state not in DECIDED and reading.due_at and reading.due_at <= now:
            # at its target to the second (or outside working time just after it): breached from the next
            # business second, so look again then, to mark it decided
            check.append(add_business(calendar_of(sla), now, 1))
    return {"sla_due_at": min(due, default=None), "sla_check_at": min(check, default=None)}


def readings(sla: dict, now: datetime) -> dict[str, ClockReading]:
    """Each clock of a ticket's SLA at `now`."""
    cal = calendar_of(sla)
    return {name: read_clock(cal, _events(clock["events"]), clock["target"], sla["warn_at"], now)
            for name, clock in sla["clocks"].items()}


def _events(raw: list) -> list[ClockEvent]:
    return [ClockEvent(datetime.strptime(at, _STAMP), kind, reason) for at, kind, reason in raw]


def _policy(sla: dict, clock: str) -> ClockPolicy:
    return ClockPolicy(clock, sla.get("creator") or "", frozenset(sla.get("pause_nodes") or ()),
                       sla.get("resolution_until"))


def calendar_of(sla: dict) -> BusinessCalendar:
    return _calendar(json.dumps(sla["calendar"], sort_keys=True))


@lru_cache(maxsize=64)
def _calendar(text: str) -> BusinessCalendar:
    return CalendarDef.model_validate(json.loads(text)).build()


def ticket_facts(ticket, steps: Iterable, logs: Iterable) -> list[Fact]:
    """A ticket's whole history as clock facts, from its rows (the rebuild)."""
    facts = [Fact(ticket.created_at, "created")]
    facts += [Fact(lg.created_at, "log", lg.node_key, lg.operator, lg.action) for lg in logs]
    for s in steps:
        facts.append(Fact(s.opened_at, "opened", s.node_key))
        if s.closed_at is not None:
            facts.append(Fact(s.closed_at, "closed", s.node_key))
    if ticket.end_at is not None:
        facts.append(Fact(ticket.end_at, "ended"))
    return sorted_facts(facts)

