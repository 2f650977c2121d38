"""The ticket's progress view: the flow graph with done / current / pending steps and the path taken.

Parallel branches sit side by side (the layout puts them on the same rows), each with its own
state; a branch its gateway did not start is shown as skipped, a converge still waiting as current.
"""
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
    skipped: frozenset[str] = frozenset()   # nodes of parallel branches that were not started

    def state_of(self, node_key: str) -> str:
        if node_key in self.current:
            return "current"
        if node_key in self.done or node_key == self.ended_at:
            return "done"
        if node_key in self.skipped:
            return "skipped"
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
    done = {s.node_key for s in steps if not s.is_open}
    current = {s.node_key for s in steps if s.is_open}
    if not flow.regions:
        return Progress(layout_of_version(ticket.flow_version_id), frozenset(done), frozenset(current),
                        frozenset(zip(order, order[1:])), ended_at)
    lane = _lanes(flow)
    by_lane: dict = {}
    for key in order:
        by_lane.setdefault(lane.get(key), []).append(key)
    taken = {pair for keys in by_lane.values() for pair in zip(keys, keys[1:])}
    skipped: set[str] = set()
    joins = (ticket.meta or {}).get("joins") or {}
    for converge, join in joins.items():
        if not flow.closes(converge):
            continue
        region = flow.region_of_converge(converge)
        started, arrived = set(join.get("started") or ()), set(join.get("arrived") or ())
        done.add(region.parallel)
        (done if arrived >= started else current).add(converge)
        skipped |= {n for b in region.branches if b not in started for n in region.nodes[b]}
        taken |= {(region.parallel, b) for b in started}
        for t in flow.definition.transitions:
            if t.to == region.parallel and t.from_ in done:
                taken.add((t.from_, t.to))
            if t.to == converge and (t.from_ in done or (t.from_ == region.parallel and converge in started)):
                taken.add((t.from_, t.to))
            if t.from_ == converge and arrived >= started and (t.to in done | current or t.to == ended_at):
                taken.add((t.from_, t.to))
    return Progress(layout_of_version(ticket.flow_version_id), frozenset(done), frozenset(current),
                    frozenset(taken), ended_at, frozenset(skipped - done - current))


def _lanes(flow) -> dict[str, tuple[str, str]]:
    """Each node inside a parallel region -> its innermost branch (steps on one lane follow each other)."""
    lanes: dict[str, tuple[str, str]] = {}
    for region in sorted(flow.regions.values(), key=lambda r: -len(r.inside)):     # outer first, inner overwrite
        for b in region.branches:
            for n in region.nodes[b]:
                lanes[n] = (region.parallel, b)
    return lanes
