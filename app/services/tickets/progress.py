"""The ticket's progress view: the flow graph with done / current / pending steps and the path taken."""
from __future__ import annotations

from dataclasses import dataclass

from app.models import Ticket, TicketStep
from app.services.flows.graph import GraphLayout, layout_definition
from app.services.flows.library import compiled_version

_layouts: dict[int, GraphLayout] = {}


@dataclass(frozen=True)
class Progress:
    layout: GraphLayout
    done: frozenset[str]          # nodes with a finished step
    current: frozenset[str]       # nodes with an open step
    taken: frozenset[tuple[str, str]]   # transitions the ticket went through
    ended_at: str | None          # the end node reached, when finished

    def state_of(self, node_key: str) -> str:
        if node_key in self.current:
            return "current"
        if node_key in self.done or node_key == self.ended_at:
            return "done"
        return "pending"


def layout_of_version(version_id: int) -> GraphLayout:
    """Versions never change, so their layout is computed once per process."""
    layout = _layouts.get(version_id)
    if layout is None:
        layout = _layouts[version_id] = layout_definition(compiled_version(version_id).definition)
    return layout


def progress_of(ticket: Ticket, steps: list[TicketStep]) -> Progress:
    """Which nodes are done and current, and which transitions were taken (from the steps, in order)."""
    flow = compiled_version(ticket.flow_version_id)
    order = [s.node_key for s in sorted(steps, key=lambda s: s.id)]
    ended_at = None
    if ticket.status == "FINISHED" and order:
        values = ticket.values or {}
        transition = flow.next_transition(order[-1], values)
        ended_at = transition.to if transition and flow.node(transition.to).kind == "end" else None
        if ended_at:
            order.append(ended_at)
    taken = frozenset(zip(order, order[1:]))
    return Progress(layout_of_version(ticket.flow_version_id),
                    frozenset(s.node_key for s in steps if not s.is_open),
                    frozenset(s.node_key for s in steps if s.is_open), taken, ended_at)
