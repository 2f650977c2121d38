"""SLA clocks from a ticket's own events: pure functions, so any past state can be recomputed.

A ticket's facts (created, log lines, steps opened and closed, ended) become clock events
(start, pause/resume with a reason, stop) through `derive`; `read_clock` folds the events over a
business calendar into the clock's state at an instant. Pauses nest by reason: a ticket suspended
while it waits on the requester runs again only when both are over.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Iterable

from .calendar import BusinessCalendar, add_business, business_seconds

START, PAUSE, RESUME, STOP = "start", "pause", "resume", "stop"
RESPONSE, RESOLUTION = "response", "resolution"
CLOCKS = (RESPONSE, RESOLUTION)
SUSPENDED = "suspended"                          # the pause reason of a suspended ticket
NOT_A_RESPONSE = frozenset({"START", "SUPERVISE", "WITHDRAW", "END"})   # log actions that are no processor's answer
_FACT_ORDER = {"created": 0, "log": 1, "closed": 2, "opened": 3, "ended": 4}


@dataclass(frozen=True)
class Fact:
    """Something that happened to a ticket: `what` is created, log, opened, closed or ended."""

    at: datetime
    what: str
    node_key: str | None = None
    operator: str = ""
    action: str = ""


@dataclass(frozen=True)
class ClockEvent:
    at: datetime
    kind: str                  # start, pause, resume, stop
    reason: str = ""           # pauses: "suspended" or "node:<key>"


@dataclass(frozen=True)
class ClockPolicy:
    """What moves one clock: the nodes whose waiting pauses it, the node that stops resolution."""

    clock: str
    creator: str
    pause_nodes: frozenset[str] = frozenset()
    stop_at_node: str | None = None


@dataclass(frozen=True)
class Pause:
    start: datetime
    end: datetime | None
    reason: str


@dataclass(frozen=True)
class ClockReading:
    state: str                 # running, paused, met, breached (overdue, stopped or not)
    running: bool
    elapsed: float             # business seconds counted up to the reading
    target: float
    due_at: datetime | None    # the instant the target is (or was) reached; None while paused short of it
    warn_at: datetime | None   # likewise for the warning threshold
    stopped_at: datetime | None
    pauses: tuple[Pause, ...]

    @property
    def left(self) -> float:
        """Business seconds left (negative: overdue)."""
        return self.target - self.elapsed


def sorted_facts(facts: Iterable[Fact]) -> list[Fact]:
    """Facts in the order they act on a clock (stable for facts of one instant)."""
    return sorted(facts, key=lambda f: (f.at, _FACT_ORDER.get(f.what, 9)))


def derive(previous: Iterable[ClockEvent], facts: Iterable[Fact], policy: ClockPolicy) -> list[ClockEvent]:
    """The clock's events after `facts` (in order), appended to the events it already had."""
    events = list(previous)
    started = any(e.kind == START for e in events)
    stopped = any(e.kind == STOP for e in events)
    active = _active_reasons(events)
    for fact in facts:
        if stopped:
            break
        for kind, reason in _moves(fact, policy):
            if kind == START and not started:
                started = True
            elif kind == PAUSE and reason not in active:
                active.add(reason)
            elif kind == RESUME and reason in active:
                active.discard(reason)
            elif kind == STOP and started:
                stopped = True
            else:
                continue
            events.append(ClockEvent(fact.at, kind, reason))
    return events


def _active_reasons(events: list[ClockEvent]) -> set[str]:
    active: set[str] = set()
    for e in events:
        if e.kind == PAUSE:
            active.add(e.reason)
        elif e.kind == RESUME:
            active.discard(e.reason)
    return active


def _moves(fact: Fact, policy: ClockPolicy) -> list[tuple[str, str]]:
    if fact.what == "created":
        return [(START, "")]
    if fact.what == "ended":
        return [(STOP, "")]
    if fact.what == "log":
        if fact.action == "SUSPEND":
            moves = [(PAUSE, SUSPENDED)]
        elif fact.action == "UNSUSPEND":
            moves = [(RESUME, SUSPENDED)]
        else:
            moves = []
        if (policy.clock == RESPONSE and fact.operator not in ("", "system", policy.creator)
                and fact.action not in NOT_A_RESPONSE):
            moves.insert(0, (STOP, ""))
        return moves
    if fact.what == "opened":
        if policy.clock == RESOLUTION and fact.node_key == policy.stop_at_node:
            return [(STOP, "")]
        if fact.node_key in policy.pause_nodes:
            return [(PAUSE, f"node:{fact.node_key}")]
    if fact.what == "closed" and fact.node_key in policy.pause_nodes:
        return [(RESUME, f"node:{fact.node_key}")]
    return []


def read_clock(cal: BusinessCalendar, events: Iterable[ClockEvent], target: float, warn_ratio: float,
               now: datetime) -> ClockReading:
    """The clock at `now`: business time counted, state, and when the warning and the target are reached."""
    thresholds = {"warn": target * warn_ratio, "due": target}
    crossed: dict[str, datetime] = {}
    elapsed, since, started, stopped_at = 0.0, None, False, None
    active: dict[str, datetime] = {}
    pauses: list[Pause] = []

    def run_until(end: datetime) -> None:
        nonlocal elapsed
        span = business_seconds(cal, since, end)
        for name, limit in thresholds.items():
            if name not in crossed and elapsed < limit <= elapsed + span:
                crossed[name] = add_business(cal, since, limit - elapsed)
        elapsed += span

    for e in events:
        if e.at > now or stopped_at is not None:
            break
        if e.kind == START and not started:
            started = True
            since = e.at if not active else None
            for name, limit in thresholds.items():
                if limit <= 0:
                    crossed.setdefault(name, e.at)
        elif e.kind == PAUSE and e.reason not in active:
            if since is not None:
                run_until(e.at)
                since = None
            active[e.reason] = e.at
        elif e.kind == RESUME and e.reason in active:
            pauses.append(Pause(active.pop(e.reason), e.at, e.reason))
            if not active and started:
                since = e.at
        elif e.kind == STOP and started:
            if since is not None:
                run_until(e.at)
                since = None
            stopped_at = e.at
    pauses += [Pause(at, stopped_at, reason) for reason, at in active.items()]
    running = since is not None
    if running:
        for name, limit in thresholds.items():
            if name not in crossed:
                crossed[name] = add_business(cal, since, limit - elapsed)
        run_until(now)      # counts the open segment (crossings already known)
    if elapsed > target:
        state = "breached"
    elif stopped_at is not None:
        state = "met"
    elif running:
        state = "running"
    else:
        state = "paused" if started else "waiting"
    return ClockReading(state, running, elapsed, target, crossed.get("due"), crossed.get("warn"), stopped_at,
                        tuple(sorted(pauses, key=lambda p: p.start)))
