"""The front office's ticket lists and the workbench numbers.

Every list page costs the same few queries whatever it shows: one count, one page
of tickets, one query for the open steps of those tickets. Filters and sorting
run in SQL on indexed columns.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, or_, select, union

from app.errors import PermissionDenied
from app.extensions import db
from app.models import Service, StepProcessor, Ticket, TicketLog, TicketStep, User

TABS = ("involved", "todo", "claim", "mine", "history", "all")
TODO_STATUSES = ("RUNNING", "DISTRIBUTING")
CLAIM_STATUSES = ("RECEIVING",)
SORTS = {
    "-created": (Ticket.created_at.desc(), Ticket.id.desc()),
    "created": (Ticket.created_at.asc(), Ticket.id.asc()),
    "-updated": (Ticket.updated_at.desc(), Ticket.id.desc()),
    "sn": (Ticket.sn.asc(),),
}


@dataclass
class ListFilters:
    service_type: str | None = None
    status: str | None = None
    service_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    keyword: str = ""
    sort: str = "-created"


@dataclass
class TicketRow:
    ticket: Ticket
    steps: list[TicketStep] = field(default_factory=list)

    @property
    def step_names(self) -> str:
        return "、".join(s.name for s in self.steps)


@dataclass
class TicketPage:
    items: list[TicketRow]
    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def _waiting(username: str, statuses: tuple[str, ...]):
    """Tickets whose open step waits for this user: driven by the step_processors index (no ticket scan)."""
    return Ticket.id.in_(select(StepProcessor.ticket_id).where(
        StepProcessor.username == username, StepProcessor.step_status.in_(statuses)))


def _involving(username: str):
    """Tickets I created, wait for me, or I acted on: a union of three index lookups."""
    return Ticket.id.in_(union(
        select(Ticket.id).where(Ticket.creator == username),
        select(StepProcessor.ticket_id).where(StepProcessor.username == username),
        select(TicketLog.ticket_id).where(TicketLog.operator == username)))


def tab_query(user: User, tab: str) -> Select:
    """The tickets of one tab, before filters. `all` is for super admins only."""
    me = user.username
    stmt = select(Ticket)
    if tab == "todo":
        return stmt.where(_waiting(me, TODO_STATUSES))
    if tab == "claim":
        return stmt.where(_waiting(me, CLAIM_STATUSES))
    if tab == "mine":
        return stmt.where(Ticket.creator == me)
    if tab == "history":       # handled by me, or otherwise involving me, excluding what I only submitted
        return stmt.where(Ticket.creator != me, _involving(me))
    if tab == "all":
        if not user.is_superuser:
            raise PermissionDenied("只有超级管理员可以查看所有单据")
        return stmt
    return stmt.where(_involving(me))


def apply_filters(stmt: Select, f: ListFilters) -> Select:
    if f.service_type:
        stmt = stmt.where(Ticket.service_type == f.service_type)
    if f.status:
        stmt = stmt.where(Ticket.status == f.status)
    if f.service_id:
        stmt = stmt.where(Ticket.service_id == f.service_id)
    if f.created_from:
        stmt = stmt.where(Ticket.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(Ticket.created_at < f.created_to)
    keyword = (f.keyword or "").strip()
    if keyword:
        like = f"%{keyword.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Ticket.sn.ilike(like), Ticket.title.ilike(like)))
    return stmt


def list_tickets(user: User, tab: str, filters: ListFilters, page: int = 1, per_page: int = 20) -> TicketPage:
    """One page of a tab with filters and sorting, with each ticket's open steps."""
    stmt = apply_filters(tab_query(user, tab if tab in TABS else "involved"), filters)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar_one()
    page = max(1, page)
    order = SORTS.get(filters.sort, SORTS["-created"])
    tickets = list(db.session.execute(stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)).scalars())
    steps: dict[int, list[TicketStep]] = {}
    if tickets:
        for step in db.session.execute(select(TicketStep).where(
                TicketStep.ticket_id.in_([t.id for t in tickets]), TicketStep.is_open.is_(True))
                .order_by(TicketStep.id)).scalars():
            steps.setdefault(step.ticket_id, []).append(step)
    return TicketPage([TicketRow(t, steps.get(t.id, [])) for t in tickets], page, per_page, total)


def services_for_filter() -> list[tuple[int, str]]:
    return [(i, n) for i, n in db.session.execute(select(Service.id, Service.name).order_by(Service.name)).all()]


# --- workbench ------------------------------------------------------------------------

def _seconds(start, end):
    """end - start in seconds, in SQL, on SQLite and PostgreSQL."""
    if db.engine.dialect.name == "postgresql":
        return func.extract("epoch", end - start)
    return (func.julianday(end) - func.julianday(start)) * 86400.0


@dataclass
class MyNumbers:
    submitted: int
    handled: int
    todo: int
    to_claim: int
    avg_handling_seconds: float | None

    @property
    def pending(self) -> int:
        return self.todo + self.to_claim


def my_numbers(username: str) -> MyNumbers:
    """What the workbench counts for me: submitted, handled, pending, average handling time (3 queries)."""
    submitted = db.session.execute(select(func.count()).where(Ticket.creator == username)).scalar_one()
    handled, avg = db.session.execute(
        select(func.count(func.distinct(TicketStep.ticket_id)), func.avg(_seconds(TicketStep.opened_at, TicketStep.closed_at)))
        .where(TicketStep.closed_by == username, TicketStep.kind != "start")).one()
    by_status = dict(db.session.execute(
        select(StepProcessor.step_status, func.count(func.distinct(StepProcessor.ticket_id)))
        .where(StepProcessor.username == username, StepProcessor.step_status.in_(TODO_STATUSES + CLAIM_STATUSES))
        .group_by(StepProcessor.step_status)).all())
    waiting = {"todo": sum(by_status.get(s, 0) for s in TODO_STATUSES),
               "claim": sum(by_status.get(s, 0) for s in CLAIM_STATUSES)}
    return MyNumbers(submitted, handled, waiting.get("todo", 0), waiting.get("claim", 0),
                     float(avg) if avg is not None else None)


def recent_activity(username: str, limit: int = 10) -> list[tuple[TicketLog, Ticket]]:
    """My last actions and what others did on my tickets, newest first (one query)."""
    stmt = (select(TicketLog, Ticket).join(Ticket, Ticket.id == TicketLog.ticket_id)
            .where(or_(TicketLog.operator == username,
                       (Ticket.creator == username) & (TicketLog.operator != username)))
            .order_by(TicketLog.id.desc()).limit(limit))
    return [(log, ticket) for log, ticket in db.session.execute(stmt).all()]


def human_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    seconds = int(seconds)
    if seconds < 3600:
        return f"{max(1, seconds // 60)} 分钟"
    if seconds < 86400:
        return f"{seconds / 3600:.1f} 小时"
    return f"{seconds / 86400:.1f} 天"
