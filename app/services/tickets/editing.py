"""edit_field: change the values of fields a ticket already has, outside any step (upstream's 修改字段)."""
from __future__ import annotations

from typing import Any, Mapping

from app.engine.state import TICKET_OVER
from app.errors import OperationRefused, PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import Ticket, TicketLog, User
from app.services.fields.values import store_file_values, validate_field_values
from app.services.tickets.reading import flow_of, lock_ticket, open_steps
from app.timeutil import utcnow


def edit_fields(ticket_ref: int | str | Ticket, user: User, fields: Mapping[str, Any], *, source: str = "API") -> Ticket:
    """Set the given fields' values (validated like any input) on a ticket still in progress.

    Who may: a processor of one of its open steps, or a super admin. Every key must be a field of the
    ticket's flow; the log says which fields changed. Nothing is written if any value is refused.
    """
    if not fields:
        raise ValidationFailed("fields 不能为空")
    ticket = lock_ticket(ticket_ref)
    if ticket.status in TICKET_OVER:
        raise OperationRefused(f"current_status = {ticket.status} 当前状态不可修改字段！")
    if not user.is_superuser and not any(user.username in (s.users or []) for s in open_steps(ticket)):
        raise PermissionDenied(f"{user.username} 不是单据当前的处理人，不能修改字段")
    flow = flow_of(ticket)
    known = {f.key: f for f in flow.fields()}
    unknown = [k for k in fields if k not in known]
    if unknown:
        raise ValidationFailed(f"单据没有这些字段：{','.join(unknown)}")
    defs = [known[k] for k in fields]
    clean, errors, _missing = validate_field_values(flow, defs, dict(fields), ticket.values or {}, user)
    if errors:
        raise ValidationFailed(next(msgs[0] for msgs in errors.values() if msgs), errors=errors)
    clean = store_file_values(defs, dict(clean), user.username)
    ticket.values = {**(ticket.values or {}), **clean}
    if "title" in clean and clean["title"]:
        ticket.title = str(clean["title"])[:120]
    now = utcnow()
    ticket.updated_at, ticket.updated_by = now, user.username
    ticket.lock_version = (ticket.lock_version or 0) + 1
    names = "、".join(f.name for f in defs)
    db.session.add(TicketLog(ticket_id=ticket.id, node_key=None, operator=user.username, action="EDIT_FIELD",
                             message=f"{user.username} 修改字段【{names}】.", source=source, created_at=now))
    db.session.flush()
    return ticket
