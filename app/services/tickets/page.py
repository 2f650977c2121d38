"""What the ticket page shows, as plain data: finished steps with display values, open steps, logs."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.engine.state import AUTOMATIC_KINDS
from app.flowdef import CompiledFlow
from app.models import Ticket, TicketLog, TicketStep, User
from app.services.automation.runs import last_errors
from app.services.fields.values import display
from app.services.tickets.progress import progress_of
from app.services.tickets.reading import allowed, flow_of, logs_of, related_tickets, steps_of


@dataclass
class FieldShown:
    key: str
    name: str
    type: str
    value: Any
    display: str
    layout: str


@dataclass
class StepShown:
    step: TicketStep
    fields: list[FieldShown] = field(default_factory=list)
    operations: list[str] = field(default_factory=list)


@dataclass
class TicketPage:
    ticket: Ticket
    flow: CompiledFlow
    done: list[StepShown]
    current: list[StepShown]
    ticket_operations: list[str]
    logs: list[TicketLog]
    related: list[Ticket]
    progress: object = None
    step_errors: dict = field(default_factory=dict)     # {step id: last error of its automatic run}

    @property
    def header_operations(self) -> list[str]:
        """Ticket operations for the page header; terminating is offered on the step when the step allows it."""
        on_steps = any("TERMINATE" in s.operations for s in self.current)
        return [op for op in self.ticket_operations if not (op == "TERMINATE" and on_steps)]


def shown_fields(flow: CompiledFlow, node_key: str, values: dict) -> list[FieldShown]:
    out = []
    for f in flow.node(node_key).fields:
        if values.get(f.key) not in (None, "", [], {}) and not flow.is_hidden(f.key, values):
            out.append(FieldShown(f.key, f.name, f.type, values[f.key], display(f, values[f.key]), f.layout))
    return out


def ticket_page(ticket: Ticket, user: User) -> TicketPage:
    """Everything the page needs, in a fixed number of queries."""
    flow = flow_of(ticket)
    steps = steps_of(ticket)
    open_rows = [s for s in steps if s.is_open]
    ticket_ops, step_ops = allowed(ticket, user, open_rows)
    done = [StepShown(s, shown_fields(flow, s.node_key, s.data or {})) for s in steps if not s.is_open]
    current = [StepShown(s, operations=step_ops.get(s.node_key, [])) for s in open_rows]

    errors = {}
    if any(s.kind in AUTOMATIC_KINDS for s in open_rows):
        # the technical detail is for whoever can act on it (retry/skip) and for admins, not for the requester
        may_act = {s.id for s in open_rows if user.is_superuser or {"RETRY", "SKIP"} & set(step_ops.get(s.node_key, []))}
        errors = {sid: error for sid, error in last_errors(ticket.id).items() if sid in may_act}
    return TicketPage(ticket, flow, done, current, ticket_ops, logs_of(ticket), related_tickets(ticket),
                      progress_of(ticket, steps), errors)
