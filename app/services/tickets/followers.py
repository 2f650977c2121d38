"""关注: following a ticket (add_follower) and the tickets a user follows."""
from __future__ import annotations

from sqlalchemy import delete, select

from app.errors import OperationRefused, PermissionDenied
from app.extensions import db
from app.infra.database import dialect_insert
from app.models import Ticket, TicketFollower, User
from app.services.tickets.reading import can_view


def set_followers(ticket: Ticket, usernames: list[str], follow: bool, by: User | None, *, trusted: bool) -> None:
    """Add (`follow`) or remove followers. Users other than `by` only for `trusted` callers (super admins,
    apps acting for users); followers must be enabled users, and `by` must be able to view the ticket."""
    names = list(dict.fromkeys(n.strip() for n in usernames if n and n.strip()))
    if not names:
        raise OperationRefused("users 不能为空")
    if not trusted:
        if by is None or not can_view(ticket, by):
            raise PermissionDenied("你没有查看该单据的权限")
        others = [n for n in names if n != by.username]
        if others:
            raise PermissionDenied(f"只能为自己关注或取消关注单据（{','.join(others)} 不是当前用户）")
    if follow:
        known = set(db.session.execute(select(User.username).where(User.username.in_(names),
                                                                   User.is_enabled.is_(True))).scalars())
        unknown = [n for n in names if n not in known]
        if unknown:
            raise OperationRefused(f"用户不存在或已停用：{','.join(unknown)}")
        rows = [{"ticket_id": ticket.id, "username": n, "ticket_created_at": ticket.created_at,
                 "created_by": by.username if by else ""} for n in names]
        db.session.execute(dialect_insert(TicketFollower).values(rows).on_conflict_do_nothing())
    else:
        db.session.execute(delete(TicketFollower).where(TicketFollower.ticket_id == ticket.id,
                                                        TicketFollower.username.in_(names)))


def followers_of(ticket_ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    if ticket_ids:
        for tid, name in db.session.execute(select(TicketFollower.ticket_id, TicketFollower.username)
                                            .where(TicketFollower.ticket_id.in_(ticket_ids))
                                            .order_by(TicketFollower.created_at, TicketFollower.username)):
            out.setdefault(tid, []).append(name)
    return out
