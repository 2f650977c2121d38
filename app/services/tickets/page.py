"""What the ticket page shows, as plain data: finished steps with display values, open steps, logs."""
from __future__ import annotations

import json
import re
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


@dataclass(frozen=True)
class ExtraShown:
    """One of create_ticket's `dynamic_fields` (fields a calling system adds to this ticket alone), read-only."""

    key: str
    name: str
    name_en: str           # the caller's English label (bk-iam sends meta.language.en), else ""
    type: str
    display: str
    url: str = ""          # a LINK's address, only when it is http(s)


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
    extra_fields: list[ExtraShown] = field(default_factory=list)    # create_ticket's dynamic_fields

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


SAFE_URL = re.compile(r"^https?://[^\s<>\"']+$")


def extra_fields(ticket: Ticket) -> list[ExtraShown]:
    """The ticket's dynamic_fields as text (upstream stores every value as a string), LINKs with a safe address."""
    out = []
    for f in (ticket.meta or {}).get("dynamic_fields") or []:
        value = f.get("value")
        text = value if isinstance(value, str) else "" if value is None else \
            json.dumps(value, ensure_ascii=False) if isinstance(value, (dict, list, bool)) else str(value)
        language = (f.get("meta") or {}).get("language")
        name_en = language.get("en") if isinstance(language, dict) and isinstance(language.get("en"), str) else ""
        url = text if f.get("type") == "LINK" and SAFE_URL.match(text) else ""
        out.append(ExtraShown(str(f.get("key", "")), str(f.get("name", "")), name_en[:128], str(f.get("type", "")),
                              text, url))
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
                      progress_of(ticket, steps), errors, extra_fields(ticket))
