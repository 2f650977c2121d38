"""Clocks from a ticket's events: pauses, response and resolution, and two hypothesis properties."""
from __future__ import annotations

from datetime import datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from app.sla.calendar import always_open
from app.sla.clock import (RESOLUTION, RESPONSE, ClockEvent, ClockPolicy, Fact, derive, read_clock, sorted_facts)
from app.sla.definitions import CalendarDef

from sla_kit import HOUR, utc

CHINA = CalendarDef(key="cn", name="cn", holidays="china",
                    hours={d: ("09:00-12:00", "13:30-18:00") for d in ("mon", "tue", "wed", "thu", "fri")}).build()


def events_for(facts, clock=RESOLUTION, pause_nodes=("confirm",)):
    return derive([], sorted_facts(facts), ClockPolicy(clock, "alice", frozenset(pause_nodes)))


def test_suspended_over_a_holiday_weekend_the_clock_stands_still():
    """Opened Friday 13 Feb 2026 16:00 with 8h to resolve; suspended 17:00 until Tuesday 24 Feb 10:00."""
    facts = [Fact(utc("2026-02-13 16:00"), "created"),
             Fact(utc("2026-02-13 17:00"), "log", operator="ops1", action="SUSPEND"),
             Fact(utc("2026-02-24 10:00"), "log", operator="ops1", action="UNSUSPEND")]
    events = events_for(facts)
    suspended = read_clock(CHINA, events, 8 * HOUR, 0.8, utc("2026-02-20 12:00"))
    assert (suspended.state, suspended.elapsed, suspended.due_at) == ("paused", HOUR, None)
    resumed = read_clock(CHINA, events, 8 * HOUR, 0.8, utc("2026-02-24 11:00"))
    assert (resumed.state, resumed.elapsed) == ("running", 2 * HOUR)
    assert resumed.due_at == utc("2026-02-25 09:30")      # 6h left from 10:00: 10-12, 13:30-18, then 30 min
    assert [(p.start, p.end, p.reason) for p in resumed.pauses] == [
        (utc("2026-02-13 17:00"), utc("2026-02-24 10:00"), "suspended")]


def test_left_alone_the_clock_breaches_at_its_due_time():
    events = events_for([Fact(utc("2026-02-13 16:00"), "created")])
    before = read_clock(CHINA, events, 8 * HOUR, 0.8, utc("2026-02-25 15:59"))
    after = read_clock(CHINA, events, 8 * HOUR, 0.8, utc("2026-02-25 16:01"))
    # Fri 16-18 (2h), Sat 14 Feb (调休) 7.5h: due on the make-up Saturday itself
    assert before.due_at == after.due_at == utc("2026-02-14 16:30")
    assert before.warn_at == utc("2026-02-14 14:54")
    assert after.state == "breached" and after.left < 0


def test_response_stops_at_the_first_processors_action_not_the_requesters():
    facts = [Fact(utc("2026-03-09 09:00"), "created"),
             Fact(utc("2026-03-09 09:00"), "log", operator="alice", action="TRANSITION"),
             Fact(utc("2026-03-09 09:20"), "log", operator="ops1", action="CLAIM")]
    reading = read_clock(always_open(), events_for(facts, RESPONSE), 900, 0.8, utc("2026-03-09 12:00"))
    assert (reading.state, reading.elapsed, reading.stopped_at) == ("breached", 1200, utc("2026-03-09 09:20"))


def test_waiting_on_the_requesters_confirmation_pauses_and_a_suspension_inside_it_nests():
    facts = [Fact(utc("2026-03-09 09:00"), "created"),
             Fact(utc("2026-03-09 10:00"), "opened", node_key="confirm"),
             Fact(utc("2026-03-09 10:30"), "log", operator="ops1", action="SUSPEND"),
             Fact(utc("2026-03-09 11:00"), "closed", node_key="confirm"),
             Fact(utc("2026-03-09 11:30"), "log", operator="ops1", action="UNSUSPEND"),
             Fact(utc("2026-03-09 12:00"), "ended")]
    reading = read_clock(always_open(), events_for(facts), 4 * HOUR, 0.8, utc("2026-03-10 00:00"))
    assert (reading.state, reading.elapsed) == ("met", 1.5 * HOUR)
    assert [p.reason for p in reading.pauses] == ["node:confirm", "suspended"]


def test_resolution_may_stop_at_a_named_node():
    facts = [Fact(utc("2026-03-09 09:00"), "created"), Fact(utc("2026-03-09 09:30"), "opened", node_key="verify"),
             Fact(utc("2026-03-09 12:00"), "ended")]
    events = derive([], facts, ClockPolicy(RESOLUTION, "alice", stop_at_node="verify"))
    assert read_clock(always_open(), events, HOUR, 0.8, utc("2026-03-09 13:00")).elapsed == 1800


def test_deriving_in_two_parts_equals_deriving_at_once():
    facts = sorted_facts([Fact(utc("2026-03-09 09:00"), "created"),
                          Fact(utc("2026-03-09 10:00"), "log", operator="ops1", action="SUSPEND"),
                          Fact(utc("2026-03-09 11:00"), "log", operator="ops1", action="UNSUSPEND"),
                          Fact(utc("2026-03-09 12:00"), "ended")])
    policy = ClockPolicy(RESOLUTION, "alice")
    assert derive(derive([], facts[:2], policy), facts[2:], policy) == derive([], facts, policy)


# --- properties ----------------------------------------------------------------------

BASE = datetime(2026, 2, 9, 0, 0)
minutes = st.integers(min_value=0, max_value=60 * 24 * 30)


@st.composite
def ticket_facts(draw):
    """A creation, then suspends and resumes (alternating) at increasing times, maybe an end."""
    times = sorted(draw(st.lists(minutes, min_size=1, max_size=8)))
    facts = [Fact(BASE + timedelta(minutes=times[0]), "created")]
    for i, m in enumerate(times[1:]):
        facts.append(Fact(BASE + timedelta(minutes=m), "log", operator="ops1",
                          action="SUSPEND" if i % 2 == 0 else "UNSUSPEND"))
    if draw(st.booleans()):
        facts.append(Fact(BASE + timedelta(minutes=times[-1] + draw(minutes)), "ended"))
    return facts


@settings(max_examples=150, deadline=None)
@given(facts=ticket_facts(), pause_at=minutes, pause_for=minutes, now=minutes)
def test_pausing_never_adds_business_time(facts, pause_at, pause_for, now):
    policy = ClockPolicy(RESOLUTION, "alice", frozenset({"confirm"}))
    at = BASE + timedelta(minutes=pause_at)
    extra = [Fact(at, "opened", node_key="confirm"), Fact(at + timedelta(minutes=pause_for), "closed", node_key="confirm")]
    instant = BASE + timedelta(minutes=now + 60 * 24 * 30)
    plain = read_clock(CHINA, derive([], sorted_facts(facts), policy), 8 * HOUR, 0.8, instant)
    paused = read_clock(CHINA, derive([], sorted_facts(facts + extra), policy), 8 * HOUR, 0.8, instant)
    assert paused.elapsed <= plain.elapsed


@settings(max_examples=150, deadline=None)
@given(facts=ticket_facts(), a=st.integers(min_value=1, max_value=200 * HOUR),
       b=st.integers(min_value=1, max_value=200 * HOUR))
def test_the_due_time_is_monotone_in_the_target(facts, a, b):
    facts = [f for f in facts if f.what != "ended"]
    events = derive([], sorted_facts(facts), ClockPolicy(RESOLUTION, "alice"))
    if events[-1].kind == "pause":            # paused short of the target: no due time yet
        events = events + [ClockEvent(events[-1].at + timedelta(hours=1), "resume", events[-1].reason)]
    small, large = sorted((a, b))
    now = BASE
    due_small = read_clock(CHINA, events, small, 0.8, now + timedelta(days=400)).due_at
    due_large = read_clock(CHINA, events, large, 0.8, now + timedelta(days=400)).due_at
    assert due_small <= due_large
