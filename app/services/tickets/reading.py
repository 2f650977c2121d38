"""Reading tickets: by id or number, their open steps, what a user may do or see, logs and links."""
from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from app import engine
from app.errors import NotFound, PermissionDenied, TicketNotFound
from app.extensions import db
from app.flowdef import CompiledFlow
from app.infra.database import is_postgres
from app.models import Attachment, Ticket, TicketLink, TicketLog, TicketParticipant, TicketStep, User
from app.services.fields.attachments import stored_path
from app.services.flows.library import compiled_version
from app.services.people.directory import DbDirectory


def actor_of(user: User) -> engine.Actor:
    return engine.Actor(user.username, bool(user.is_superuser))


# --- reading -----------------------------------------------------------------

def _where(ident: int | str):
    if isinstance(ident, str) and not ident.isdigit():
        return Ticket.sn == ident
    return Ticket.id == int(ident)


def get_ticket(ident: int | str) -> Ticket:
    """A ticket by id or number (TicketNotFound when there is none)."""
    ticket = db.session.execute(select(Ticket).where(_where(ident))).scalar_one_or_none()
    if ticket is None:
        raise TicketNotFound()
    return ticket


def ticket_number(ticket_id: int | None) -> str:
    """The number (REQ20250101000001) users know a ticket by, for pages that hold only its id; "" when gone."""
    if not ticket_id:
        return ""
    return db.session.execute(select(Ticket.sn).where(Ticket.id == ticket_id)).scalar_one_or_none() or ""


_LOCKED_KEY = "itsm_locked_tickets"   # session.info: {ticket id: the transaction that locked it}


def lock_ticket(ident: int | str | Ticket) -> Ticket:
    """The ticket row, locked for this transaction: `SELECT tickets ... FOR UPDATE`, no joins.

    Read its steps after this returns (`open_steps`): on PostgreSQL a statement that waited
    for the lock re-reads only the locked row, so anything joined to it would be stale.
    SQLite has no row locks: every transaction began with `BEGIN IMMEDIATE`, so writers
    are already serialized. A ticket locked earlier in the same transaction is not locked
    again (one statement saved on the API path, which locks by number first).
    """
    session = db.session()
    if isinstance(ident, Ticket):
        marks = session.info.get(_LOCKED_KEY) or {}
        if marks.get(ident.id) is session.get_transaction() and ident in session:
            return ident
        ident = ident.id
    stmt = select(Ticket).where(_where(ident)).execution_options(populate_existing=True)
    if is_postgres():
        stmt = stmt.with_for_update()
    ticket = db.session.execute(stmt).scalar_one_or_none()
    if ticket is None:
        raise TicketNotFound()
    session.info.setdefault(_LOCKED_KEY, {})[ticket.id] = session.get_transaction()
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
        approve_result=ticket.approve_result if not ticket.is_over else None,
        assigned={k: tuple(v) for k, v in ((ticket.meta or {}).get("node_processors") or {}).items()},
        joins={k: engine.Join.from_json(v) for k, v in ((ticket.meta or {}).get("joins") or {}).items()},
        steps=tuple(engine.Step(node_key=s.node_key, name=s.name, status=s.status,
                                processors_type=s.processors_type,
                                processors=tuple(p for p in s.processors.split(",") if p),
                                users=frozenset(s.users or ()), pre_status=s.pre_status, kind=s.kind, id=s.id,
                                approvers=tuple((s.approval or {}).get("approvers") or ()),
                                votes=votes_of(s))
                    for s in steps))


def votes_of(step: TicketStep) -> tuple[engine.Vote, ...]:
    """An approval step's decisions as the engine sees them."""
    return tuple(engine.Vote(v["username"], v["result"], v.get("remark") or "", v.get("values") or {})
                 for v in (step.approval or {}).get("votes") or ())


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


def attachment_for(user: User, attachment_id: int) -> tuple[Attachment, Path]:
    """An uploaded file, if this user may see it (the uploader, or anyone who may view its ticket)."""
    row = db.session.get(Attachment, attachment_id)
    if row is None:
        raise NotFound("附件不存在")
    if row.uploaded_by != user.username and not user.is_superuser:
        ticket = db.session.get(Ticket, row.ticket_id) if row.ticket_id else None
        if ticket is None or not can_view(ticket, user):
            raise PermissionDenied("你没有查看该附件的权限")
    return row, stored_path(row)
