"""The front office's ticket lists and the workbench numbers.

Every list page costs the same few queries whatever it shows: one capped count, one
page of tickets, one query for the open steps of those tickets. Each tab is a stream
driven by an index in the order the list shows (app/services/queries.py), so the first
pages cost the same at a hundred tickets and at a million. Totals stop at
`COUNT_CAP` and show as "1000+".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, func, or_, select, union

from app.engine.state import TICKET_OVER
from app.errors import PermissionDenied, ValidationFailed
from app.extensions import db
from app.models import Service, StepProcessor, Ticket, TicketLog, TicketStep, User
from app.services.integration.callbacks import mark_reported
from app.services.tickets import queries
from app.services.tickets.counters import handled_totals
from app.services.tickets.queries import CLAIM_STATUSES, TODO_STATUSES, Stream, capped_count
from app.services.tickets.reading import can_view

TABS = ("involved", "todo", "claim", "mine", "history", "all")
SORTS = ("-created", "created", "-updated", "sn", "sla")


@dataclass
class ListFilters:
    service_type: str | None = None
    status: str | None = None
    service_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    keyword: str = ""
    sort: str = "-created"
    source: str | None = None        # WEB / MOBILE / API / SYS / ALERT (tickets opened by alerts)


@dataclass
class TicketRow:
    ticket: Ticket
    steps: list[TicketStep] = field(default_factory=list)
    waits_for_me: bool = False      # an open step waits for the listing user: the row offers 处理, else 查看

    @property
    def step_names(self) -> str:
        return "、".join(s.name for s in self.steps)


def capped_text(n: int) -> str:
    """A count as shown: "1000+" once it passed the cap."""
    return f"{queries.COUNT_CAP}+" if n > queries.COUNT_CAP else str(n)


@dataclass
class TicketPage:
    items: list[TicketRow]
    page: int
    per_page: int
    total: int                  # at most queries.COUNT_CAP + 1 (then shown as "1000+")
    more: bool = False          # a next page exists (known from one row past this page)

    @property
    def capped(self) -> bool:
        return self.total > queries.COUNT_CAP

    @property
    def total_text(self) -> str:
        return capped_text(self.total)

    @property
    def pages(self) -> int:
        return max(1, -(-min(self.total, queries.COUNT_CAP) // self.per_page), self.page + (1 if self.more else 0))

    @property
    def pages_text(self) -> str:
        return f"{self.pages}+" if self.capped else str(self.pages)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.more

    @property
    def prev_num(self) -> int:
        return self.page - 1

    @property
    def next_num(self) -> int:
        return self.page + 1


def default_tab(user: User, remembered: str | None = None) -> str:
    """The 全局视图 tab to open on: the user's last choice, else 所有单据 for super admins (where the tickets
    are), else 与我相关 (everything the user created, waited for or handled)."""
    if remembered in TABS and (remembered != "all" or user.is_superuser):
        return remembered
    return "all" if user.is_superuser else "involved"


def tab_stream(user: User, tab: str) -> Stream:
    """The tickets of one tab, before filters (execute with `queries.params(user.username)`).

    `all` is for super admins only.
    """
    if tab == "todo":
        return queries.waiting_for(TODO_STATUSES)
    if tab == "claim":
        return queries.waiting_for(CLAIM_STATUSES)
    if tab == "mine":
        return queries.created_by()
    if tab == "history":       # the manual's 我的历史单: every ended ticket I submitted, handled or was asked to
        return queries.ended_involving(tuple(sorted(TICKET_OVER)))
    if tab == "all":
        if not user.is_superuser:
            raise PermissionDenied("只有超级管理员可以查看所有单据")
        return queries.all_tickets()
    return queries.involving()


def apply_filters(stmt: Select, f: ListFilters) -> Select:
    if f.service_type:
        stmt = stmt.where(Ticket.service_type == f.service_type)
    if f.status:
        stmt = stmt.where(Ticket.status == f.status)
    if f.service_id:
        stmt = stmt.where(Ticket.service_id == f.service_id)
    if f.source:
        stmt = stmt.where(Ticket.source == f.source)
    if f.created_from:
        stmt = stmt.where(Ticket.created_at >= f.created_from)
    if f.created_to:
        stmt = stmt.where(Ticket.created_at < f.created_to)
    keyword = (f.keyword or "").strip()
    if keyword:
        like = f"%{keyword.replace('%', '').replace('_', '')}%"
        stmt = stmt.where(or_(Ticket.sn.ilike(like), Ticket.title.ilike(like)))
    return stmt


def _ordered(stream: Stream, stmt: Select, sort: str) -> Select:
    """Newest/oldest first follow the stream's index; the other sorts sort the matches."""
    if sort == "created":
        return stmt.order_by(*stream.order(newest_first=False))
    if sort == "-updated":
        return stmt.order_by(Ticket.updated_at.desc(), Ticket.id.desc())
    if sort == "sn":
        return stmt.order_by(Ticket.sn.asc())
    if sort == "sla":            # time to breach: the nearest due time first, tickets with no running clock last
        return stmt.order_by(Ticket.sla_due_at.is_(None), Ticket.sla_due_at.asc(), Ticket.id.asc())
    return stmt.order_by(*stream.order())


def list_tickets(user: User, tab: str, filters: ListFilters, page: int = 1, per_page: int = 20, *,
                 count: bool = True) -> TicketPage:
    """One page of a tab with filters and sorting, with each ticket's open steps.

    `count=False` (the workbench's short lists) skips the total.
    """
    stream = tab_stream(user, tab if tab in TABS else "involved")
    stmt = apply_filters(stream.stmt, filters)
    counted = stream.bare if stmt is stream.stmt else stmt.with_only_columns(Ticket.id)
    me = queries.params(user.username)
    total = db.session.execute(select(capped_count(counted)), me).scalar_one() if count else 0
    page = max(1, page)
    ordered = _ordered(stream, stmt, filters.sort if filters.sort in SORTS else "-created")
    tickets = list(db.session.execute(ordered.limit(per_page + 1).offset((page - 1) * per_page), me).scalars())
    more = len(tickets) > per_page
    tickets = tickets[:per_page]
    if not count:
        total = len(tickets)
    steps: dict[int, list[TicketStep]] = {}
    if tickets:
        for step in db.session.execute(select(TicketStep).where(
                TicketStep.ticket_id.in_([t.id for t in tickets]), TicketStep.is_open.is_(True))
                .order_by(TicketStep.id)).scalars():
            steps.setdefault(step.ticket_id, []).append(step)
    waiting = _waiting_for(user.username, [t.id for t in tickets if t.id in steps])
    return TicketPage([TicketRow(t, steps.get(t.id, []), t.id in waiting) for t in tickets], page, per_page, total,
                      more)


def _waiting_for(username: str, ticket_ids: list[int]) -> set[int]:
    """Which of these tickets have an open step waiting for the user (one probe of step_processors)."""
    if not ticket_ids:
        return set()
    return set(db.session.execute(select(StepProcessor.ticket_id).where(
        StepProcessor.username == username, StepProcessor.ticket_id.in_(ticket_ids),
        StepProcessor.step_status.in_(queries.PENDING_STATUSES))).scalars())


def services_for_filter() -> list[tuple[int, str]]:
    return [(i, n) for i, n in db.session.execute(select(Service.id, Service.name).order_by(Service.name)).all()]


# --- workbench ------------------------------------------------------------------------

@dataclass
class MyNumbers:
    submitted: int
    handled: int                 # steps I closed (not counting submissions)
    todo: int                    # capped: COUNT_CAP + 1 means "more"
    to_claim: int
    avg_handling_seconds: float | None

    @property
    def pending(self) -> int:
        return self.todo + self.to_claim

    @property
    def todo_text(self) -> str:
        return capped_text(self.todo)

    @property
    def to_claim_text(self) -> str:
        return capped_text(self.to_claim)


def my_numbers(username: str) -> MyNumbers:
    """What the workbench counts for me: submitted, handled, waiting, average handling time (2 queries).

    Submitted is an index-only count; handled steps and their time are running totals
    kept when steps close (user_day_counters); waiting counts stop at COUNT_CAP.
    """
    submitted, todo, claim = db.session.execute(_MY_COUNTS, queries.params(username)).one()

    handled, seconds = handled_totals(username)
    return MyNumbers(submitted, handled, todo, claim, seconds / handled if handled else None)


_MY_COUNTS = select(select(func.count()).where(Ticket.creator == queries.ME).scalar_subquery(),
                    capped_count(queries.waiting_for(TODO_STATUSES).bare),
                    capped_count(queries.waiting_for(CLAIM_STATUSES).bare))


def recent_activity(username: str, limit: int = 10) -> list[tuple[TicketLog, Ticket]]:
    """My last actions and what others did on my tickets, newest first (one query).

    Two bounded index reads, merged: my own latest logs (ticket_logs (operator, created_at)),
    and others' logs on my most recently updated tickets (tickets (creator, updated_at)):
    any other action newer than those is on a ticket that was updated after them.
    """
    mine = (select(TicketLog.id).where(TicketLog.operator == username)
            .order_by(TicketLog.created_at.desc(), TicketLog.id.desc()).limit(limit).subquery())
    recent_tickets = (select(Ticket.id).where(Ticket.creator == username)
                      .order_by(Ticket.updated_at.desc()).limit(limit))
    others = (select(TicketLog.id).where(TicketLog.ticket_id.in_(recent_tickets), TicketLog.operator != username)
              .order_by(TicketLog.created_at.desc(), TicketLog.id.desc()).limit(limit).subquery())
    ids = union(select(mine.c.id), select(others.c.id))
    stmt = (select(TicketLog, Ticket).join(Ticket, Ticket.id == TicketLog.ticket_id)
            .where(TicketLog.id.in_(ids)).order_by(TicketLog.created_at.desc(), TicketLog.id.desc()).limit(limit))
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


# --- the API's ticket list (get_tickets) ------------------------------------------------

@dataclass
class TicketSearch:
    """get_tickets' filters, in BlueKing's terms, already parsed."""

    sns: list[str] = field(default_factory=list)
    creator: str = ""
    created_from: datetime | None = None
    created_to: datetime | None = None
    ended_from: datetime | None = None
    ended_to: datetime | None = None
    service_ids: list[int] = field(default_factory=list)
    biz_ids: list[int] = field(default_factory=list)
    statuses: list[str] = field(default_factory=list)
    service_type: str = ""
    tag: str = ""                      # create_ticket's meta.tag (bk-iam tags its tickets), as upstream filters it

    def conditions(self) -> list:
        out = []
        if self.sns:
            out.append(Ticket.sn.in_(self.sns))
        if self.creator:
            out.append(Ticket.creator == self.creator)
        for value, condition in ((self.created_from, Ticket.created_at.__ge__), (self.created_to, Ticket.created_at.__le__),
                                 (self.ended_from, Ticket.end_at.__ge__), (self.ended_to, Ticket.end_at.__le__)):
            if value:
                out.append(condition(value))
        if self.service_ids:
            out.append(Ticket.service_id.in_(self.service_ids))
        if self.biz_ids:
            out.append(Ticket.bk_biz_id.in_(self.biz_ids))
        if self.statuses:
            out.append(Ticket.status.in_(self.statuses))
        if self.service_type:
            out.append(Ticket.service_type == self.service_type)
        if self.tag:
            out.append(Ticket.meta["tag"].as_string() == self.tag)
        return out


def search_tickets(user: User | None, search: TicketSearch, *, see_all: bool, waiting_for: str = "", page: int = 1,
                   per_page: int = 10) -> tuple[int, list[Ticket]]:
    """(exact count, one page) of the tickets a caller may list, newest first.

    `waiting_for`: the tickets waiting for that user (to-do and to-claim); else everything for
    `see_all` callers (super admins, apps trusted to act for users), else the tickets involving `user`.
    Only `see_all` callers may ask what waits for someone else.
    """
    if waiting_for and not see_all and waiting_for != user.username:
        raise PermissionDenied(f"username 只能是当前用户 {user.username}（应用未被允许代替用户查询他人的待办）")
    if waiting_for:
        stream, me = queries.waiting_for(queries.PENDING_STATUSES), queries.params(waiting_for)
    elif see_all:
        stream, me = queries.all_tickets(), {}
    else:
        stream, me = queries.involving(), queries.params(user.username)
    conditions = search.conditions()
    stmt = stream.stmt.where(*conditions)
    if waiting_for and not conditions:         # the exact count from step_processors' index alone
        count = queries.pending_count(waiting_for)
    else:
        count = db.session.execute(select(func.count()).select_from(stmt.with_only_columns(Ticket.id).subquery()),
                                   me).scalar_one()
    rows = db.session.execute(stmt.order_by(*stream.order()).limit(per_page).offset((page - 1) * per_page),
                              me).scalars()
    return count, list(rows)


def approval_results(sns: list[str], user: User, *, see_all: bool) -> list[Ticket]:
    """The tickets among `sns` the caller may see, for ticket_approval_result; their failed callbacks count as
    reported from now on (callback_failed_ticket stops listing them)."""
    found = db.session.execute(select(Ticket).where(Ticket.sn.in_(sns)).order_by(Ticket.id)).scalars()
    visible = [t for t in found if see_all or can_view(t, user)]
    mark_reported([t.id for t in visible])
    return visible


# --- get_tickets_by_user ---------------------------------------------------------------

VIEW_TYPES = ("my_todo", "my_created", "my_history", "my_approval", "my_attention", "my_dealt")


@dataclass
class UserTicketFilters:
    """get_tickets_by_user's filters, already parsed."""

    service_id: int | None = None
    catalog_id: int | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    exclude_ids: list[int] = field(default_factory=list)


def _view_stream(view_type: str) -> Stream:
    """The tickets of one of upstream's views for `me` (each an index range, newest first)."""
    from app.models import StepProcessor, TicketFollower

    if view_type == "my_todo":          # waiting for me: to process, to dispatch, to claim
        return queries.waiting_for(queries.PENDING_STATUSES)
    if view_type == "my_approval":      # waiting for my decision on an approval node
        stream = queries.waiting_for(TODO_STATUSES)
        approval = select(TicketStep.id).where(TicketStep.id == StepProcessor.step_id,
                                               TicketStep.kind.in_(("approval", "sign"))).exists()
        return Stream(stream.stmt.where(approval), stream.created, stream.ident, stream.bare)
    if view_type == "my_created":
        return queries.created_by()
    if view_type == "my_history":       # handled or otherwise involving me, not created by me
        return queries.involving(creator=False)
    if view_type == "my_dealt":         # every ticket I may view (created, waited for, acted on)
        return queries.involving()
    if view_type == "my_attention":
        tf = TicketFollower
        stmt = select(Ticket).join(tf, tf.ticket_id == Ticket.id).where(tf.username == queries.ME)
        return Stream(stmt, tf.ticket_created_at, tf.ticket_id, select(tf.ticket_id).where(tf.username == queries.ME))
    raise ValidationFailed(f"view_type 应为 {', '.join(VIEW_TYPES)} 之一，收到 {view_type!r}")


def tickets_of_user(caller: User | None, username: str, view_type: str, filters: UserTicketFilters, *,
                    see_all: bool, page: int = 1, per_page: int = 10) -> tuple[int, list[TicketRow]]:
    """(count, one page with open steps) of one of a user's views, newest first (get_tickets_by_user).

    Only `see_all` callers (super admins, apps trusted to act for users) may ask about someone else.
    """
    if not see_all and (caller is None or caller.username != username):
        raise PermissionDenied(f"user 只能是当前用户 {caller.username if caller else ''}（应用未被允许代替用户查询）")
    stream = _view_stream(view_type)
    conditions = []
    if filters.service_id:
        conditions.append(Ticket.service_id == filters.service_id)
    if filters.catalog_id:
        conditions.append(Ticket.catalog_id == filters.catalog_id)
    if filters.created_from:
        conditions.append(Ticket.created_at >= filters.created_from)
    if filters.created_to:
        conditions.append(Ticket.created_at <= filters.created_to)
    if filters.exclude_ids:
        conditions.append(Ticket.id.notin_(filters.exclude_ids))
    stmt = stream.stmt.where(*conditions)
    me = queries.params(username)
    count = db.session.execute(select(func.count()).select_from(stmt.with_only_columns(Ticket.id).subquery()),
                               me).scalar_one()
    tickets = list(db.session.execute(stmt.order_by(*stream.order()).limit(per_page)
                                      .offset((page - 1) * per_page), me).scalars())
    steps: dict[int, list[TicketStep]] = {}
    if tickets:
        for step in db.session.execute(select(TicketStep).where(
                TicketStep.ticket_id.in_([t.id for t in tickets]), TicketStep.is_open.is_(True))
                .order_by(TicketStep.id)).scalars():
            steps.setdefault(step.ticket_id, []).append(step)
    return count, [TicketRow(t, steps.get(t.id, [])) for t in tickets]


def service_names(ids) -> dict[int, str]:
    """{service id: name} for the services of a page of tickets (one query)."""
    ids = set(ids)
    if not ids:
        return {}
    return dict(db.session.execute(select(Service.id, Service.name).where(Service.id.in_(ids))).all())
