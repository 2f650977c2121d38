"""What a ticket's result looks like to the outside: its link and the result callback's body."""
from __future__ import annotations

from app.infra.public_url import public_base_url
from app.models import Ticket
from app.services.integration.api_apps import callback_token
from app.timeutil import fmt


def ticket_url(ticket: Ticket) -> str:
    """The ticket page's address under the public base URL (ITSM_BASE_URL, else the request's host)."""
    return f"{public_base_url()}/tickets/{ticket.id}"


def result_payload(ticket: Ticket) -> dict:
    """What the creating system receives when the ticket ends (upstream's callback body)."""
    return {"title": ticket.title, "current_status": ticket.status, "sn": ticket.sn,
            "ticket_url": ticket_url(ticket), "update_at": fmt(ticket.updated_at), "updated_by": ticket.updated_by,
            "approve_result": bool(ticket.approve_result), "token": callback_token(ticket.sn),
            "last_approver": ticket.last_approver or ticket.updated_by}   # the last approval node's deciders
