"""评价: a rating and a comment on a finished ticket, once, by its creator."""
from __future__ import annotations

from sqlalchemy import select

from app.errors import PermissionDenied, TicketNotFound, ValidationFailed
from app.extensions import db
from app.models import Ticket, TicketComment, User
from app.services.tickets.reading import can_view


def comment_ticket(ticket: Ticket, user: User, stars: int, comments: str = "", *, source: str = "WEB") -> TicketComment:
    """Rate a finished ticket once, as its creator; a ticket `user` may not view answers as a missing one."""
    if not can_view(ticket, user):
        raise TicketNotFound()
    if ticket.status != "FINISHED":
        raise ValidationFailed("单据未结束，不允许评价!")
    if user.username != ticket.creator and not user.is_superuser:
        raise PermissionDenied("只有提单人可以评价单据")
    if not isinstance(stars, int) or isinstance(stars, bool) or not 1 <= stars <= 5:
        raise ValidationFailed("评分 stars 应为 1 到 5 的整数")
    if ticket.is_commented or db.session.execute(
            select(TicketComment.id).where(TicketComment.ticket_id == ticket.id)).first():
        raise ValidationFailed("单据已评价，不能重复评价")
    row = TicketComment(ticket_id=ticket.id, operator=user.username, stars=stars, comments=comments or "",
                        source=source)
    ticket.is_commented = True
    db.session.add(row)
    db.session.flush()
    return row
