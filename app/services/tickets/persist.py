"""Writing what the engine decided: steps, processor index rows, logs, notices, participants, counters,
automatic runs and result callbacks, with a constant number of statements per operation."""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from sqlalchemy import delete, update

from app import engine
from app.engine.state import AUTOMATIC_KINDS, SYSTEM
from app.extensions import db
from app.flowdef import CompiledFlow
from app.infra.database import dialect_insert
from app.models import (
    Attachment,
    AutomaticRun,
    Notification,
    StepProcessor,
    Ticket,
    TicketCallback,
    TicketLog,
    TicketParticipant,
    TicketStep,
)
from app.services.flows.library import state_id
from app.services.sla.clocks import advanced, facts_of
from app.services.tickets.counters import handled_rows, record_handled
from app.services.tickets.results import result_payload
from app.services.tickets.rows_pg import write_rows


def persist(ticket: Ticket, flow: CompiledFlow, steps: list[TicketStep], outcome: engine.Outcome, *,
             source: str, now, operator: str | None = None, new: bool = False) -> None:
    """Write the engine's decisions with a constant number of statements."""
    state = outcome.state
    rows = {s.node_key: s for s in steps}
    logs, notices, new_steps, processors, closed_ids = [], [], [], [], []
    rearmed, closed_automatic = [], []
    handled: dict[str, list] = {}            # username -> [steps closed, seconds they were open]
    ended = False
    for ev in outcome.events:
        if isinstance(ev, engine.Log):
            logs.append({"ticket_id": ticket.id, "node_key": ev.node_key, "operator": ev.operator,
                         "action": ev.action, "message": ev.message,
                         "source": "SYS" if ev.operator == "system" else source, "created_at": now})
        elif isinstance(ev, engine.StepClosed):
            row = rows.get(ev.node_key)
            if row is None:       # the start step, submitted together with the ticket
                node = flow.node(ev.node_key)
                new_steps.append(TicketStep(ticket_id=ticket.id, node_key=node.key, state_id=state_id(flow, node.key),
                                            name=node.name, kind=node.kind, status=ev.status, is_open=False,
                                            processors_type="STARTER", processors=ticket.creator, users=[],
                                            data=dict(ev.values), opened_at=now, closed_at=now, closed_by=ev.by,
                                            pre_status=None))
                continue
            if ev.by and ev.by != SYSTEM and row.kind not in ("start", "approval", "sign"):   # one per vote
                tally = handled.setdefault(ev.by, [0, 0.0])
                tally[0] += 1
                tally[1] += max(0.0, (now - row.opened_at).total_seconds()) if row.opened_at else 0.0
            row.status, row.is_open, row.closed_at, row.closed_by = ev.status, False, now, ev.by
            row.data, row.users, row.pre_status = dict(ev.values), [], None
            closed_ids.append(row.id)
            if row.kind in AUTOMATIC_KINDS and ev.by != SYSTEM:
                closed_automatic.append(row.id)
        elif isinstance(ev, engine.StepChanged):
            row = rows[ev.step.node_key]
            if row.kind in AUTOMATIC_KINDS and row.status == "FAILED" and ev.step.status == "RUNNING":
                rearmed.append(row.id)
            for voter in _new_voters(row, ev.step):
                tally = handled.setdefault(voter, [0, 0.0])
                tally[0] += 1
                tally[1] += max(0.0, (now - row.opened_at).total_seconds()) if row.opened_at else 0.0
            _copy_step(row, ev.step, now)
            closed_ids.append(row.id)
            processors += [(row, u) for u in ev.step.users]
        elif isinstance(ev, engine.StepOpened):
            row = TicketStep(ticket_id=ticket.id, node_key=ev.step.node_key,
                             state_id=state_id(flow, ev.step.node_key), name=ev.step.name, kind=ev.step.kind,
                             is_open=True, opened_at=now, status=ev.step.status, data={}, closed_at=None,
                             closed_by=None)
            _copy_step(row, ev.step, now)
            new_steps.append(row)
            processors += [(row, u) for u in ev.step.users]
        elif isinstance(ev, engine.Notify):
            if ev.users:
                notices.append({"ticket_id": ticket.id, "kind": ev.kind, "recipients": sorted(ev.users),
                                "message": ev.message, "created_at": now, "next_attempt_at": now})
        elif isinstance(ev, engine.ApprovalDecided):
            ticket.approve_result, ticket.last_approver = ev.approved, ",".join(ev.deciders)[:255]
        elif isinstance(ev, engine.TicketEnded):
            ticket.end_at, ticket.approve_result = now, ev.approved
            ended = True
    if not new:           # a new ticket was inserted with these values already
        if joins_json(state) != ((ticket.meta or {}).get("joins") or {}):
            ticket.meta = {**(ticket.meta or {}), "joins": joins_json(state)}
        ticket.status, ticket.pre_status = state.status, state.pre_status
        ticket.values, ticket.others_acted = dict(state.values), state.others_acted
        if state.values.get("title"):          # the start step may be resubmitted with a new title
            ticket.title = str(state.values["title"])[:120]
        ticket.updated_at, ticket.updated_by = now, operator or ticket.creator
        ticket.lock_version = (ticket.lock_version or 0) + 1
        if ticket.sla:                     # the clocks move with the operation, in the same UPDATE
            moved = advanced(ticket.sla, facts_of(outcome.events, now), now)
            ticket.sla, ticket.sla_due_at, ticket.sla_check_at = moved["sla"], moved["sla_due_at"], moved["sla_check_at"]
    if new_steps:
        db.session.add_all(new_steps)
    db.session.flush()
    processors = [(row, u) for row, u in processors if row.is_open]     # a step decided in this operation has none
    created_at = ticket.created_at or now
    processor_rows = [{"step_id": row.id, "ticket_id": ticket.id, "username": u, "step_status": row.status,
                       "ticket_created_at": created_at} for row, u in processors]
    participants = _participant_rows(ticket, created_at, new,
                                     [u for _, u in processors] + [lg["operator"] for lg in logs])
    if db.engine.dialect.name == "postgresql":          # one round trip for all of them
        write_rows(replaced=closed_ids, processors=processor_rows, logs=logs, participants=participants,
                   counters=handled_rows(handled, now), notices=notices)
    else:
        _write_rows_one_table_at_a_time(closed_ids, processor_rows, logs, participants, handled, notices, now)
    if rearmed or closed_automatic or any(r.kind in AUTOMATIC_KINDS and r.is_open for r in new_steps):
        _enqueue_runs(ticket.id, [r for r in new_steps if r.kind in AUTOMATIC_KINDS and r.is_open], now)
        _rearm_runs(rearmed, now)
        skipped = any(isinstance(ev, engine.Log) and ev.action == "SKIP" for ev in outcome.events)
        _close_runs(closed_automatic, "SKIPPED" if skipped else "CANCELLED", now)
    if ended:
        _enqueue_callback(ticket)


def joins_json(state: engine.TicketState) -> dict:
    """The parallel branches a ticket's converge gateways wait for, as kept in `tickets.meta["joins"]`."""
    return {key: join.as_json() for key, join in state.joins.items()}


def _write_rows_one_table_at_a_time(closed_ids, processor_rows, logs, participants, handled, notices, now) -> None:
    """What `write_rows` does on PostgreSQL, one statement per table (SQLite)."""
    if closed_ids:
        db.session.execute(delete(StepProcessor).where(StepProcessor.step_id.in_(closed_ids)))
    if processor_rows:
        db.session.execute(StepProcessor.__table__.insert(), processor_rows)
    if logs:
        db.session.execute(TicketLog.__table__.insert(), logs)
    if participants:
        db.session.execute(_participants_upsert(db.engine.dialect.name), participants)
    if handled:
        record_handled(handled, now)
    if notices:
        db.session.execute(Notification.__table__.insert(), notices)


@lru_cache(maxsize=None)
def _participants_upsert(dialect: str):
    """INSERT ... ON CONFLICT DO NOTHING into ticket_participants, built once per database kind."""
    return dialect_insert(TicketParticipant.__table__, dialect).on_conflict_do_nothing()


def _participant_rows(ticket: Ticket, created_at, new: bool, usernames: list[str]) -> list[dict]:
    """Everyone this operation involved, as rows for the ticket's participants (existing rows are kept)."""
    people = {ticket.creator: True} if new else {}
    for name in usernames:
        if name and name != SYSTEM:
            people.setdefault(name, False)
    return [{"username": u, "ticket_id": ticket.id, "ticket_created_at": created_at, "is_creator": is_creator}
            for u, is_creator in sorted(people.items())]


def _copy_step(row: TicketStep, step: engine.Step, now) -> None:
    row.status, row.pre_status = step.status, step.pre_status
    row.processors_type, row.processors = step.processors_type, ",".join(step.processors)
    row.users = sorted(step.users)
    if step.kind in ("approval", "sign"):
        row.approval = _approval_json(row.approval, step, now)


def _approval_json(before: dict | None, step: engine.Step, now) -> dict:
    """The approval column: approvers and votes; votes already stored keep their time, new ones get `now`."""
    old = (before or {}).get("votes") or []
    votes = [old[i] if i < len(old) and old[i].get("username") == v.username else
             {"username": v.username, "result": v.result, "remark": v.remark, "values": dict(v.values),
              "at": now.strftime("%Y-%m-%d %H:%M:%S")}
             for i, v in enumerate(step.votes)]
    return {"approvers": list(step.approvers), "votes": votes}


def _new_voters(row: TicketStep, step: engine.Step) -> list[str]:
    """Approvers whose vote this change adds (each one handled the step once)."""
    known = len((row.approval or {}).get("votes") or [])
    return [v.username for v in step.votes[known:]] if row.kind in ("approval", "sign") else []


def attach_files(ticket: Ticket, field_defs, values: Mapping[str, Any]) -> None:
    """Uploaded files named in FILE fields now belong to the ticket."""
    ids = [item["id"] for f in field_defs if f.type == "FILE" for item in (values.get(f.key) or [])]
    if ids:
        db.session.execute(update(Attachment).where(Attachment.id.in_(ids), Attachment.ticket_id.is_(None))
                           .values(ticket_id=ticket.id))




# --- automatic runs and result callbacks: work rows for the scheduler, written with the ticket ---------

def _enqueue_runs(ticket_id: int, steps: list[TicketStep], now) -> None:
    """A run for each automatic step that just opened (due now)."""
    db.session.add_all([AutomaticRun(ticket_id=ticket_id, step_id=s.id, node_key=s.node_key, next_attempt_at=now,
                                     created_at=now, updated_at=now) for s in steps])


def _rearm_runs(step_ids: list[int], now) -> None:
    """A FAILED step retried by a person: its run becomes due again with a fresh attempt count."""
    if step_ids:
        db.session.execute(update(AutomaticRun).where(AutomaticRun.step_id.in_(step_ids))
                           .values(status="PENDING", attempts=0, next_attempt_at=now, claimed_by=None,
                                   claimed_at=None, last_error="", updated_at=now),
                           execution_options={"synchronize_session": False})


def _close_runs(step_ids: list[int], status: str, now) -> None:
    """Runs of steps closed by someone else (skipped, terminated, withdrawn) stop."""
    if step_ids:
        db.session.execute(update(AutomaticRun).where(AutomaticRun.step_id.in_(step_ids),
                                                      AutomaticRun.status.in_(("PENDING", "FAILED")))
                           .values(status=status, claimed_by=None, claimed_at=None, updated_at=now),
                           execution_options={"synchronize_session": False})


def _enqueue_callback(ticket: Ticket) -> None:
    """The ticket ended: queue the result POST if its creator asked for one (meta.callback_url)."""
    url = (ticket.meta or {}).get("callback_url")
    if url:
        db.session.add(TicketCallback(ticket_id=ticket.id, url=url, payload=result_payload(ticket)))
