"""Business calendars: working hours per weekday in a time zone, holidays and make-up working days (调休).

Pure arithmetic over naive UTC instants (as every timestamp column stores them): how much business
time lies between two instants, and the instant when a given amount of business time has elapsed.
Each local day's windows are converted to UTC on their own, so a day of a DST change counts the
real seconds between its window edges.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from functools import lru_cache
from typing import Iterator
from zoneinfo import ZoneInfo

Window = tuple[int, int]                 # minutes after local midnight: [start, end), end <= 1440
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS = 3 * 366                       # how far a search for working time looks before giving up


class NoWorkingTime(ValueError):
    """A calendar with no working time in the searched span (e.g. every day a holiday)."""


@dataclass(frozen=True)
class BusinessCalendar:
    """`hours[i]` are the windows of weekday i (Monday 0); a make-up working day (调休) uses `makeup_hours`."""

    key: str
    name: str = ""
    zone: str = "Asia/Shanghai"
    hours: tuple[tuple[Window, ...], ...] = ((),) * 7
    holidays: frozenset[date] = field(default_factory=frozenset)
    workdays: frozenset[date] = field(default_factory=frozenset)     # make-up working days (调休)
    makeup_hours: tuple[Window, ...] = ()
    always: bool = False                                             # 24×7: every instant counts

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The local working windows of one day, holidays and make-up days applied."""
        if self.always:
            return ((0, 1440),)
        if day in self.workdays:
            return self.makeup_hours or self.hours[0]
        if day in self.holidays:
            return ()
        return self.hours[day.weekday()]


def always_open(key: str = "24x7", name: str = "7×24 小时") -> BusinessCalendar:
    """A calendar where every instant is business time."""
    return BusinessCalendar(key=key, name=name, zone="UTC", always=True)


@lru_cache(maxsize=32)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _to_utc(day: date, minute: int, zone: ZoneInfo) -> datetime:
    local = datetime(day.year, day.month, day.day, tzinfo=zone) + timedelta(minutes=minute)
    # wall-clock arithmetic: re-attach the zone so the offset is the one in force at that local time
    local = local.replace(tzinfo=None).replace(tzinfo=zone)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def _local_day(instant: datetime, zone: ZoneInfo) -> date:
    return instant.replace(tzinfo=timezone.utc).astimezone(zone).date()


def working_spans(cal: BusinessCalendar, start: datetime, end: datetime | None = None) -> Iterator[tuple[datetime, datetime]]:
    """Working spans in UTC, in order, clipped to [start, end) (no end: onwards, up to MAX_DAYS)."""
    zone = _zone(cal.zone)
    day = _local_day(start, zone) - timedelta(days=1)      # a window of the day before may reach past midnight UTC
    last = day + timedelta(days=MAX_DAYS)
    while day <= last:
        for lo, hi in cal.windows_on(day):
            a, b = _to_utc(day, lo, zone), _to_utc(day, hi, zone)
            if end is not None and a >= end:
                return
            a, b = max(a, start), b if end is None else min(b, end)
            if a < b:
                yield a, b
        day += timedelta(days=1)
        if end is not None and _to_utc(day, 0, zone) >= end:
            return


def business_seconds(cal: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Business time between two instants, in seconds (0 when end is not after start)."""
    if end <= start:
        return 0.0
    if cal.always:
        return (end - start).total_seconds()
    return sum((b - a).total_seconds() for a, b in working_spans(cal, start, end))


def add_business(cal: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """The instant at which `seconds` of business time have elapsed since `start`."""
    if seconds <= 0:
        return start
    if cal.always:
        return start + timedelta(seconds=seconds)
    left = seconds
    for a, b in working_spans(cal, start):
        span = (b - a).total_seconds()
        if span >= left:
            return a + timedelta(seconds=left)
        left -= span
    raise NoWorkingTime(f"日历 {cal.key} 在 {MAX_DAYS} 天内没有足够的工作时间")
