"""Read-side queries for the front office lists (index-driven, one query per list)."""
from __future__ import annotations

from sqlalchemy import Select, select

from app.extensions import db
from app.models import StepProcessor, Ticket, TicketStep

TODO_STATUSES = ("RUNNING", "DISTRIBUTING")
CLAIM_STATUSES = ("RECEIVING",)


def steps_waiting_for(username: str, statuses: tuple[str, ...]) -> Select:
    """(Ticket, TicketStep) rows whose open step waits for this user, newest ticket first."""
    return (select(Ticket, TicketStep)
            .join(StepProcessor, StepProcessor.ticket_id == Ticket.id)
            .join(TicketStep, TicketStep.id == StepProcessor.step_id)
            .where(StepProcessor.username == username, StepProcessor.step_status.in_(statuses))
            .order_by(Ticket.created_at.desc(), Ticket.id.desc()))


def tickets_created_by(username: str) -> Select:
    return select(Ticket).where(Ticket.creator == username).order_by(Ticket.created_at.desc(), Ticket.id.desc())


def tickets_involving(username: str, *, service_type: str | None = None, everything: bool = False) -> Select:
    """Tickets I created, wait for me, or I acted on (all tickets for `everything`)."""
    from .ticket_lists import _involving

    stmt = select(Ticket)
    if not everything:
        stmt = stmt.where(_involving(username))
    if service_type:
        stmt = stmt.where(Ticket.service_type == service_type)
    return stmt.order_by(Ticket.created_at.desc(), Ticket.id.desc())


def paginate(stmt: Select, page: int, per_page: int, *, scalars: bool = True):
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False) if scalars else \
        _paginate_rows(stmt, page, per_page)


class _RowPage:
    def __init__(self, items, page, per_page, total):
        self.items, self.page, self.per_page, self.total = items, page, per_page, total
        self.pages = max(1, -(-total // per_page))
        self.has_prev, self.has_next = page > 1, page < self.pages
        self.prev_num, self.next_num = page - 1, page + 1


def _paginate_rows(stmt: Select, page: int, per_page: int) -> _RowPage:
    from sqlalchemy import func

    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    rows = db.session.execute(stmt.limit(per_page).offset((max(page, 1) - 1) * per_page)).all()
    return _RowPage(rows, max(page, 1), per_page, total)
