"""Read-side ticket streams for the lists: each one an index range in the order the lists show.

A stream is a SELECT of tickets plus the pair of columns it is ordered by (newest first):
- waiting for a user (to-do, to-claim): `step_processors (username, ticket_created_at, ...)`;
- involving a user (全局视图, history, the API for ordinary callers): `ticket_participants
  (username, ticket_created_at, ticket_id)`;
- created by a user: `tickets (creator, created_at)`; everything: `tickets (created_at)`.
With `ORDER BY <key> DESC LIMIT n` the database reads n index entries and n tickets,
however many tickets the user has in all (docs/performance.md shows the plans).

The statements are built once per process with a bound parameter `me` for the user
(building a SQLAlchemy expression costs more than running it on an index range):
execute them with `{"me": username}` (`params(username)`).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from sqlalchemy import ColumnElement, Select, bindparam, exists, func, select
from sqlalchemy.orm import aliased

from app.extensions import db
from app.models import StepProcessor, Ticket, TicketParticipant

TODO_STATUSES = ("RUNNING", "DISTRIBUTING")
CLAIM_STATUSES = ("RECEIVING",)
PENDING_STATUSES = TODO_STATUSES + CLAIM_STATUSES
COUNT_CAP = 1000          # list totals stop counting here and show "1000+"
ME = bindparam("me")      # the user a stream is about


def params(username: str) -> dict:
    return {"me": username}


@dataclass
class Stream:
    stmt: Select                       # SELECT tickets ... (joined to the driving table)
    created: ColumnElement             # the ticket creation time, in the driving index
    ident: ColumnElement               # the ticket id, in the driving index
    bare: Select                       # the driving table alone, for counts without filters

    def order(self, newest_first: bool = True) -> tuple:
        """ORDER BY columns that follow the driving index (backwards for newest first)."""
        if newest_first:
            return self.created.desc(), self.ident.desc()
        return self.created.asc(), self.ident.asc()


@lru_cache(maxsize=None)
def waiting_for(statuses: tuple[str, ...]) -> Stream:
    """Tickets with an open step waiting for `me` in one of `statuses` (each ticket once)."""
    sp, earlier = StepProcessor, aliased(StepProcessor)
    mine = (sp.username == ME, sp.step_status.in_(statuses))
    # a ticket with two open steps waiting for the same user is listed once (probed per listed row);
    # the count is of waiting steps, an index-only range: the same number while a flow has one open
    # step at a time, and an anti-join over all of a busy user's rows would cost O(rows)
    first = ~exists().where(earlier.ticket_id == sp.ticket_id, earlier.username == sp.username,
                            earlier.step_status.in_(statuses), earlier.step_id < sp.step_id)
    stmt = select(Ticket).join(sp, sp.ticket_id == Ticket.id).where(*mine, first)
    return Stream(stmt, sp.ticket_created_at, sp.ticket_id, select(sp.ticket_id).where(*mine))


@lru_cache(maxsize=None)
def involving(creator: bool | None = None) -> Stream:
    """Tickets `me` created, waited for or acted on; `creator=False`: not the ones they created."""
    tp = TicketParticipant
    where = [tp.username == ME] + ([tp.is_creator.is_(creator)] if creator is not None else [])
    stmt = select(Ticket).join(tp, tp.ticket_id == Ticket.id).where(*where)
    return Stream(stmt, tp.ticket_created_at, tp.ticket_id, select(tp.ticket_id).where(*where))


@lru_cache(maxsize=None)
def ended_involving(statuses: tuple[str, ...]) -> Stream:
    """Tickets in one of the ended `statuses` that `me` created, waited for or acted on (我的历史单).

    Driven by the participants index like `involving`; each row's ticket is probed for its status.
    """
    tp = TicketParticipant
    where = (tp.username == ME, Ticket.status.in_(statuses))
    stmt = select(Ticket).join(tp, tp.ticket_id == Ticket.id).where(*where)
    return Stream(stmt, tp.ticket_created_at, tp.ticket_id,
                  select(tp.ticket_id).join(Ticket, Ticket.id == tp.ticket_id).where(*where))


@lru_cache(maxsize=None)
def created_by() -> Stream:
    return Stream(select(Ticket).where(Ticket.creator == ME), Ticket.created_at, Ticket.id,
                  select(Ticket.id).where(Ticket.creator == ME))


@lru_cache(maxsize=None)
def all_tickets() -> Stream:
    return Stream(select(Ticket), Ticket.created_at, Ticket.id, select(Ticket.id))


def tickets_involving(username: str, *, service_type: str | None = None, everything: bool = False) -> Select:
    """Tickets I created, wait for me, or I acted on (all tickets for `everything`), newest first.

    For composing into other queries: the user is bound into this statement.
    """
    stream = all_tickets() if everything else involving()
    stmt = stream.stmt.params(me=username)
    if service_type:
        stmt = stmt.where(Ticket.service_type == service_type)
    return stmt.order_by(*stream.order())


def capped_count(stmt: Select) -> ColumnElement:
    """A scalar subquery: how many rows `stmt` has, counting at most COUNT_CAP + 1 (that means "more").

    `stmt` is a stream's `bare` select (index-only where the index allows) or a filtered ticket select.
    """
    sub = stmt.order_by(None).limit(COUNT_CAP + 1).subquery()
    return select(func.count()).select_from(sub).scalar_subquery()


def pending_count(username: str) -> int:
    """Exact number of steps waiting for this user (to-do and to-claim): an index-only count.

    Steps, not distinct tickets: the same number while a ticket has one open step per user
    (flows have no parallel branches), and counting distinct ids cost a hash aggregate
    three times the scan (13 ms for a user with 50,000 waiting steps).
    """
    return db.session.execute(_PENDING_COUNT, params(username)).scalar_one()


_PENDING_COUNT = select(func.count()).select_from(StepProcessor).where(
    StepProcessor.username == ME, StepProcessor.step_status.in_(PENDING_STATUSES))


def paginate(stmt: Select, page: int, per_page: int):
    return db.paginate(stmt, page=page, per_page=per_page, error_out=False)
