"""Ticket use cases: create, operate a step, operate the ticket.

The only writer of tickets and the only caller of the engine. Each public
function is one unit of work (the caller commits): lock the ticket row, check
the right, run the engine, persist what it decided, enqueue notifications.
Web, API, jobs and CLI all come through here.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Mapping

from sqlalchemy import bindparam, delete, select, update

from app import engine
from app.engine import operations as ops
from app.engine.state import AUTOMATIC_KINDS, STEP_OPEN, SYSTEM
from app.errors import CreateFailed, NotFound, OperationRefused, TicketNotFound, ValidationFailed
from app.extensions import db
from app.flowdef import CompiledFlow
from app.models import (Notification, Service, StepProcessor, Ticket, TicketLink, TicketLog, TicketParticipant,
                        TicketStep, User)
from app.timeutil import utcnow

from .database import dialect_insert, is_postgres
from .directory import DbDirectory
from .fields import field_context, store_file_values, validate_field_values
from .flows import compiled_version, state_id

SOURCES = ("WEB", "MOBILE", "API", "SYS")


def actor_of(user: User) -> engine.Actor:
    return engine.Actor(user.username, bool(user.is_superuser))


# --- reading -----------------------------------------------------------------

def get_ticket(ident: int | str, *, lock: bool = False) -> Ticket:
    """A ticket by id or number; `lock` takes the row lock for an update (FOR UPDATE on PostgreSQL)."""
    column = Ticket.sn if isinstance(ident, str) and not ident.isdigit() else Ticket.id
    return _select_ticket(column == (ident if column is Ticket.sn else int(ident)), lock)


# the ticket by number and its open steps, one query (built once; FOR UPDATE OF tickets on PostgreSQL)
_LOCK_BY_SN = (select(Ticket, TicketStep)
               .outerjoin(TicketStep, (TicketStep.ticket_id == Ticket.id) & TicketStep.is_open.is_(True))
               .where(Ticket.sn == bindparam("sn")).order_by(TicketStep.id)
               .execution_options(populate_existing=True))
_LOCK_BY_SN_PG = _LOCK_BY_SN.with_for_update(of=Ticket)


def lock_ticket_by_sn(sn: str) -> Ticket:
    """The ticket with this number, locked, for a caller that hands it to one operation next.

    Its open steps are read in the same query, and that operation (operate_step, operate_ticket)
    uses both as read here instead of reading them again, provided it runs in the same transaction.
    """
    rows = db.session.execute(_LOCK_BY_SN_PG if is_postgres() else _LOCK_BY_SN, {"sn": sn}).all()
    if not rows:
        raise TicketNotFound()
    ticket = rows[0][0]
    session = db.session()
    session.info.setdefault(_LOCKED_KEY, {})[ticket.id] = (session.get_transaction(),
                                                           [step for _, step in rows if step is not None])
    return ticket


def _select_ticket(where, lock: bool) -> Ticket:
    stmt = select(Ticket).where(where)
    if lock and is_postgres():
        # populate_existing: a row read earlier in this session must not hide the locked, current one
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    ticket = db.session.execute(stmt).scalar_one_or_none()
    if ticket is None:
        raise TicketNotFound()
    return ticket


def open_steps(ticket: Ticket) -> list[TicketStep]:
    return list(db.session.execute(
        select(TicketStep).where(TicketStep.ticket_id == ticket.id, TicketStep.is_open.is_(True))
        .order_by(TicketStep.id).execution_options(populate_existing=True)).scalars())


def flow_of(ticket: Ticket) -> CompiledFlow:
    return compiled_version(ticket.flow_version_id)


def state_of(ticket: Ticket, steps: list[TicketStep]) -> engine.TicketState:
    return engine.TicketState(
        status=ticket.status, creator=ticket.creator, values=ticket.values or {},
        others_acted=ticket.others_acted, pre_status=ticket.pre_status,
        steps=tuple(engine.Step(node_key=s.node_key, name=s.name, status=s.status,
                                processors_type=s.processors_type,
                                processors=tuple(p for p in s.processors.split(",") if p),
                                users=frozenset(s.users or ()), pre_status=s.pre_status, kind=s.kind, id=s.id)
                    for s in steps))


def allowed(ticket: Ticket, user: User, steps: list[TicketStep] | None = None) -> tuple[list[str], dict[str, list[str]]]:
    """(ticket operations, {node_key: step operations}) this user may do now."""
    steps = open_steps(ticket) if steps is None else steps
    return engine.allowed_operations(flow_of(ticket), state_of(ticket, steps), actor_of(user), DbDirectory())


def can_view(ticket: Ticket, user: User) -> bool:
    """Super admins, the creator, and anyone who is or was a processor or acted on it (its participants)."""
    if user.is_superuser or ticket.creator == user.username:
        return True
    return db.session.execute(select(TicketParticipant.ticket_id).where(
        TicketParticipant.ticket_id == ticket.id, TicketParticipant.username == user.username)).first() is not None


# --- creating ------------------------------------------------------------------

def create_ticket(*, service_id: int, creator: User, fields: Mapping[str, Any] | None = None,
                  values: Mapping[str, Any] | None = None, source: str = "WEB", catalog_id: int | None = None,
                  meta: Mapping[str, Any] | None = None, related_to: int | None = None) -> Ticket:
    """Open a ticket on a service's flow version.

    `fields` are raw client values (validated here); `values` are values an HTML
    form already validated through the same field registry (files still to store).
    """
    service = db.session.get(Service, service_id) if service_id else None
    if service is None or not service.is_valid or service.flow_version_id is None:
        raise CreateFailed("服务不存在，请联系管理员！")
    flow = compiled_version(service.flow_version_id)
    start_fields = flow.start.fields
    if values is None:
        raw = dict(fields or {})
        clean, errors, missing = validate_field_values(flow, start_fields, raw, {})
        if missing:
            raise CreateFailed(f"单据创建失败，缺少参数：{missing}", errors=errors)
        if errors:
            raise CreateFailed(_first_error(errors), errors=errors)
        values = clean
    values = store_file_values(start_fields, dict(values), creator.username)
    outcome = engine.start_ticket(flow, creator.username, values, DbDirectory())
    from .sn import next_sn

    now = utcnow()
    ticket = Ticket(sn=next_sn(service.service_type), title=_title(values, service), service_id=service.id,
                    catalog_id=catalog_id, service_type=service.service_type, flow_version_id=service.flow_version_id,
                    creator=creator.username, status=outcome.state.status, values=dict(outcome.state.values),
                    source=source if source in SOURCES else "WEB", meta=dict(meta or {}), created_at=now,
                    updated_at=now, updated_by=creator.username)
    db.session.add(ticket)
    db.session.flush()
    _persist(ticket, flow, [], outcome, source=ticket.source, now=now, new=True)
    _attach_files(ticket, start_fields, values)
    if related_to:
        link_tickets(related_to, ticket.id, creator)
    return ticket


def _title(values: Mapping[str, Any], service: Service) -> str:
    title = values.get("title")
    return str(title)[:120] if title else service.name


def _first_error(errors: Mapping[str, list[str]]) -> str:
    return next((msgs[0] for msgs in errors.values() if msgs), "参数验证失败")


# --- operating -----------------------------------------------------------------

def operate_step(ticket_ref: int | str | Ticket, user: User, action: str, node_key: str, *,
                 fields: Mapping[str, Any] | None = None, values: Mapping[str, Any] | None = None,
                 processors_type: str = "", processors: str | list[str] = "", message: str = "",
                 source: str = "WEB") -> Ticket:
    """One step operation: TRANSITION, CLAIM, DISTRIBUTE, DELIVER or TERMINATE."""
    ticket, steps = _locked_with_steps(ticket_ref)
    flow = flow_of(ticket)
    state = state_of(ticket, steps)
    actor, directory = actor_of(user), DbDirectory()
    people = tuple(p.strip() for p in (processors.split(",") if isinstance(processors, str) else processors) if p.strip())
    action = (action or "").upper()
    builders = {
        "TRANSITION": lambda: ops.Transition(node_key, {}),
        "CLAIM": lambda: ops.Claim(node_key),
        "DISTRIBUTE": lambda: ops.Distribute(node_key, processors_type, people, message),
        "DELIVER": lambda: ops.Deliver(node_key, processors_type, people, message),
        "TERMINATE": lambda: ops.TerminateStep(node_key, message),
        "RETRY": lambda: ops.RetryStep(node_key),
        "SKIP": lambda: ops.SkipStep(node_key, message),
    }
    if action not in builders:
        raise OperationRefused(f"不支持的操作类型: {action}")
    op = builders[action]()
    refusal = engine.refusal(flow, state, op, actor, directory)
    if refusal is not None:
        raise refusal
    if action in ("DISTRIBUTE", "DELIVER"):
        _check_targets(processors_type, people)
    if action == "TRANSITION":
        node_fields = flow.node(node_key).fields
        if values is None:
            clean, errors, missing = validate_field_values(flow, node_fields, dict(fields or {}), state.values)
            if missing:
                raise ValidationFailed(f"单据处理失败，缺少参数：{missing}", errors=errors)
            if errors:
                raise ValidationFailed(_first_error(errors), errors=errors)
            values = clean
        values = store_file_values(node_fields, dict(values), user.username)
        op = ops.Transition(node_key, values)
        _attach_files(ticket, node_fields, values)
    outcome = engine.apply(flow, state, op, actor, directory)
    _persist(ticket, flow, steps, outcome, source=source, now=utcnow(), operator=user.username)
    return ticket


def operate_ticket(ticket_ref: int | str | Ticket, user: User, action: str, *, message: str = "",
                   source: str = "WEB") -> Ticket:
    """One ticket operation: SUSPEND, UNSUSPEND, WITHDRAW, SUPERVISE or TERMINATE."""
    builders = {"SUSPEND": ops.Suspend, "UNSUSPEND": ops.Unsuspend, "WITHDRAW": ops.Withdraw,
                "SUPERVISE": ops.Supervise, "TERMINATE": ops.TerminateTicket}
    action = (action or "").upper()
    if action not in builders:
        raise OperationRefused(f"不支持的操作类型: {action}")
    ticket, steps = _locked_with_steps(ticket_ref)
    flow = flow_of(ticket)
    outcome = engine.apply(flow, state_of(ticket, steps), builders[action](message or ""), actor_of(user),
                           DbDirectory())
    _persist(ticket, flow, steps, outcome, source=source, now=utcnow(), operator=user.username)
    return ticket


def _check_targets(processors_type: str, people: tuple[str, ...]) -> None:
    """Dispatch/transfer targets must exist: enabled users for PERSON, known roles for GENERAL."""
    from app.models import Role

    if processors_type == "PERSON":
        known = set(db.session.execute(select(User.username).where(
            User.username.in_(people), User.is_enabled.is_(True))).scalars())
        unknown = [p for p in people if p not in known]
        if unknown:
            raise OperationRefused(f"处理人不存在或已停用：{','.join(unknown)}")
    elif processors_type == "GENERAL":
        known = set(db.session.execute(select(Role.key).where(Role.key.in_(people), Role.type == "GENERAL")).scalars())
        unknown = [p for p in people if p not in known]
        if unknown:
            raise OperationRefused(f"角色不存在：{','.join(unknown)}")


def apply_system_operation(ticket_id: int, op) -> Ticket:
    """The scheduler reports an automatic step's outcome (locked like any operation, logged as SYS)."""
    ticket = _locked(ticket_id)
    flow = flow_of(ticket)
    steps = open_steps(ticket)
    outcome = engine.apply(flow, state_of(ticket, steps), op, engine.Actor(SYSTEM), DbDirectory())
    _persist(ticket, flow, steps, outcome, source="SYS", now=utcnow(), operator=SYSTEM)
    return ticket


_LOCKED_KEY = "itsm_locked_tickets"   # session.info: {ticket id: (transaction that locked it, its open steps)}


def _locked(ticket_ref: int | str | Ticket) -> Ticket:
    ident = ticket_ref.id if isinstance(ticket_ref, Ticket) else ticket_ref
    # PostgreSQL: SELECT ... FOR UPDATE. SQLite: every transaction began with BEGIN IMMEDIATE,
    # so writers are already serialized and what this transaction reads is current.
    return get_ticket(ident, lock=True)


def _locked_with_steps(ticket_ref: int | str | Ticket) -> tuple[Ticket, list[TicketStep]]:
    """The ticket, locked, and its open steps; as lock_ticket_by_sn read them in this transaction, if it did."""
    if isinstance(ticket_ref, Ticket):
        session = db.session()
        marks = session.info.get(_LOCKED_KEY)
        mark = marks.pop(ticket_ref.id, None) if marks else None
        if mark is not None and mark[0] is session.get_transaction() and ticket_ref in session:
            return ticket_ref, mark[1]
    ticket = _locked(ticket_ref)
    return ticket, open_steps(ticket)


# --- persisting an outcome -------------------------------------------------------

def _persist(ticket: Ticket, flow: CompiledFlow, steps: list[TicketStep], outcome: engine.Outcome, *,
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
            if ev.by and ev.by != SYSTEM and row.kind != "start":
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
            _copy_step(row, ev.step)
            closed_ids.append(row.id)
            processors += [(row, u) for u in ev.step.users]
        elif isinstance(ev, engine.StepOpened):
            row = TicketStep(ticket_id=ticket.id, node_key=ev.step.node_key,
                             state_id=state_id(flow, ev.step.node_key), name=ev.step.name, kind=ev.step.kind,
                             is_open=True, opened_at=now, status=ev.step.status, data={}, closed_at=None,
                             closed_by=None)
            _copy_step(row, ev.step)
            new_steps.append(row)
            processors += [(row, u) for u in ev.step.users]
        elif isinstance(ev, engine.Notify):
            if ev.users:
                notices.append({"ticket_id": ticket.id, "kind": ev.kind, "recipients": sorted(ev.users),
                                "message": ev.message, "created_at": now, "next_attempt_at": now})
        elif isinstance(ev, engine.TicketEnded):
            ticket.end_at, ticket.approve_result = now, ev.approved
            ended = True
    if not new:           # a new ticket was inserted with these values already
        ticket.status, ticket.pre_status = state.status, state.pre_status
        ticket.values, ticket.others_acted = dict(state.values), state.others_acted
        if state.values.get("title"):          # the start step may be resubmitted with a new title
            ticket.title = str(state.values["title"])[:120]
        ticket.updated_at, ticket.updated_by = now, operator or ticket.creator
        ticket.lock_version = (ticket.lock_version or 0) + 1
    if new_steps:
        db.session.add_all(new_steps)
    db.session.flush()
    if closed_ids:
        db.session.execute(delete(StepProcessor).where(StepProcessor.step_id.in_(closed_ids)))
    created_at = ticket.created_at or now
    if processors:
        db.session.execute(StepProcessor.__table__.insert(), [
            {"step_id": row.id, "ticket_id": ticket.id, "username": u, "step_status": row.status,
             "ticket_created_at": created_at} for row, u in processors])
    if logs:
        db.session.execute(TicketLog.__table__.insert(), logs)
    _record_participants(ticket, created_at, new, [u for _, u in processors] + [lg["operator"] for lg in logs])
    if handled:
        from .counters import record_handled

        record_handled(handled, now)
    if notices:
        db.session.execute(Notification.__table__.insert(), notices)
    if rearmed or closed_automatic or any(r.kind in AUTOMATIC_KINDS and r.is_open for r in new_steps):
        from . import automation

        automation.enqueue(ticket.id, [r for r in new_steps if r.kind in AUTOMATIC_KINDS and r.is_open], now)
        automation.rearm(rearmed, now)
        skipped = any(isinstance(ev, engine.Log) and ev.action == "SKIP" for ev in outcome.events)
        automation.close_runs(closed_automatic, "SKIPPED" if skipped else "CANCELLED", now)
    if ended:
        from .callbacks import enqueue_callback

        enqueue_callback(ticket)


@lru_cache(maxsize=None)
def _participants_upsert(dialect: str):
    """INSERT ... ON CONFLICT DO NOTHING into ticket_participants, built once per database kind."""
    return dialect_insert(TicketParticipant.__table__, dialect).on_conflict_do_nothing()


def _record_participants(ticket: Ticket, created_at, new: bool, usernames: list[str]) -> None:
    """Everyone this operation involved, added to the ticket's participants (one upsert, existing rows kept)."""
    people = {ticket.creator: True} if new else {}
    for name in usernames:
        if name and name != SYSTEM:
            people.setdefault(name, False)
    if people:
        db.session.execute(_participants_upsert(db.engine.dialect.name), [
            {"username": u, "ticket_id": ticket.id, "ticket_created_at": created_at, "is_creator": is_creator}
            for u, is_creator in sorted(people.items())])


def _copy_step(row: TicketStep, step: engine.Step) -> None:
    row.status, row.pre_status = step.status, step.pre_status
    row.processors_type, row.processors = step.processors_type, ",".join(step.processors)
    row.users = sorted(step.users)


def _attach_files(ticket: Ticket, field_defs, values: Mapping[str, Any]) -> None:
    from app.models import Attachment

    ids = [item["id"] for f in field_defs if f.type == "FILE" for item in (values.get(f.key) or [])]
    if ids:
        db.session.execute(update(Attachment).where(Attachment.id.in_(ids), Attachment.ticket_id.is_(None))
                           .values(ticket_id=ticket.id))


# --- related tickets -------------------------------------------------------------

def link_tickets(from_id: int, to_id: int, user: User) -> TicketLink:
    """关联单: link two tickets (shown on both); refuses self-links and unknown tickets."""
    if from_id == to_id:
        raise OperationRefused("不能关联单据自身")
    for tid in (from_id, to_id):
        if db.session.get(Ticket, tid) is None:
            raise TicketNotFound()
    existing = db.session.execute(select(TicketLink).where(
        ((TicketLink.from_ticket_id == from_id) & (TicketLink.to_ticket_id == to_id))
        | ((TicketLink.from_ticket_id == to_id) & (TicketLink.to_ticket_id == from_id)))).scalar_one_or_none()
    if existing:
        return existing
    link = TicketLink(from_ticket_id=from_id, to_ticket_id=to_id, created_by=user.username)
    db.session.add(link)
    db.session.flush()
    return link


def related_tickets(ticket: Ticket) -> list[Ticket]:
    a = select(TicketLink.to_ticket_id).where(TicketLink.from_ticket_id == ticket.id)
    b = select(TicketLink.from_ticket_id).where(TicketLink.to_ticket_id == ticket.id)
    return list(db.session.execute(select(Ticket).where(Ticket.id.in_(a.union(b))).order_by(Ticket.id)).scalars())


def logs_of(ticket: Ticket) -> list[TicketLog]:
    return list(db.session.execute(select(TicketLog).where(TicketLog.ticket_id == ticket.id)
                                   .order_by(TicketLog.id)).scalars())


def steps_of(ticket: Ticket) -> list[TicketStep]:
    return list(db.session.execute(select(TicketStep).where(TicketStep.ticket_id == ticket.id)
                                   .order_by(TicketStep.id)).scalars())


def step_is_open(status: str) -> bool:
    return status in STEP_OPEN


__all__ = ["create_ticket", "operate_step", "operate_ticket", "get_ticket", "lock_ticket_by_sn", "allowed",
           "can_view", "link_tickets", "related_tickets", "logs_of", "steps_of", "open_steps", "flow_of", "NotFound",
           "field_context"]
