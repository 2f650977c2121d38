"""Business calendar arithmetic: weekends, 调休 working Saturdays, holidays over a weekend, time zones."""
from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from app.sla.calendar import BusinessCalendar, add_business, always_open, business_seconds
from app.sla.definitions import CalendarDef, parse_calendars
from sla_kit import HOUR, utc

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def china() -> BusinessCalendar:
    """The shipped China working calendar: 09:00-12:00, 13:30-18:00 on working days."""
    return parse_calendars((ROOT / "sla_yaml/calendars.yaml").read_text(encoding="utf-8"))["cn_workday"].build()


def test_two_hours_from_friday_evening_end_on_monday_morning(china):
    assert add_business(china, utc("2026-03-06 17:00"), 2 * HOUR) == utc("2026-03-09 10:00")
    assert business_seconds(china, utc("2026-03-06 17:00"), utc("2026-03-09 10:00")) == 2 * HOUR


def test_the_lunch_break_does_not_count(china):
    assert add_business(china, utc("2026-03-10 11:30"), HOUR) == utc("2026-03-10 14:00")
    assert business_seconds(china, utc("2026-03-10 08:00"), utc("2026-03-10 20:00")) == 7.5 * HOUR


def test_a_make_up_working_saturday_counts(china):
    """2026-02-14 is a Saturday worked before the Spring Festival (调休)."""
    assert add_business(china, utc("2026-02-13 17:00"), 2 * HOUR) == utc("2026-02-14 10:00")


def test_a_holiday_spanning_a_weekend_is_skipped_whole(china):
    """Spring Festival 2026: Sunday 15 to Monday 23 February are off; Tuesday 24 is a working day."""
    assert add_business(china, utc("2026-02-14 17:00"), 2 * HOUR) == utc("2026-02-24 10:00")
    assert business_seconds(china, utc("2026-02-14 18:00"), utc("2026-02-24 09:00")) == 0


def test_national_day_and_its_working_saturday(china):
    assert add_business(china, utc("2026-09-30 17:00"), 2 * HOUR) == utc("2026-10-08 10:00")
    assert business_seconds(china, utc("2026-10-10 00:00"), utc("2026-10-11 00:00")) == 7.5 * HOUR


@pytest.mark.parametrize("opened, due", [
    ("2026-03-07 22:00", "2026-03-09 10:00"),      # Saturday night
    ("2026-03-09 07:00", "2026-03-09 10:00"),      # before work
    ("2026-03-09 12:30", "2026-03-09 14:30"),      # at lunch
    ("2026-03-09 19:00", "2026-03-10 10:00"),      # after work
])
def test_a_ticket_opened_outside_working_hours_starts_counting_at_the_next_window(china, opened, due):
    assert add_business(china, utc(opened), HOUR) == utc(due)


def test_extra_holidays_and_workdays_from_the_admin_override_the_library():
    cal = CalendarDef(key="c", name="c", hours={"mon": ("09:00-17:00",), "tue": ("09:00-17:00",)},
                      holidays="china", extra_holidays=("2026-03-09",), extra_workdays=("2026-03-08",)).build()
    # Sunday 8 March worked with Monday's hours, Monday 9 March off
    assert business_seconds(cal, utc("2026-03-08 00:00"), utc("2026-03-10 00:00")) == 8 * HOUR


def test_dst_zone_counts_the_working_hours_on_both_sides_of_the_change():
    """New York moves to summer time on Sunday 8 March 2026: Friday 16:00 EST + 2h is Monday 10:00 EDT."""
    ny = CalendarDef(key="ny", name="NY", timezone="America/New_York",
                     hours={d: ("09:00-17:00",) for d in ("mon", "tue", "wed", "thu", "fri")}).build()
    start = utc("2026-03-06 16:00", "America/New_York")
    assert add_business(ny, start, 2 * HOUR) == utc("2026-03-09 10:00", "America/New_York")
    assert utc("2026-03-09 10:00", "America/New_York") - start == timedelta(days=2, hours=17)   # an hour was lost


def test_a_whole_day_window_on_the_dst_sunday_is_23_real_hours():
    ny = CalendarDef(key="ny", name="NY", timezone="America/New_York", hours={"sun": ("00:00-24:00",)}).build()
    assert business_seconds(ny, utc("2026-03-08 00:00", "America/New_York"),
                            utc("2026-03-09 00:00", "America/New_York")) == 23 * HOUR
    shanghai = CalendarDef(key="sh", name="SH", hours={"sun": ("00:00-24:00",)}).build()
    assert business_seconds(shanghai, utc("2026-03-08 00:00"), utc("2026-03-09 00:00")) == 24 * HOUR


def test_the_24x7_calendar_counts_every_second():
    cal = always_open()
    start = utc("2026-02-14 17:00")
    assert add_business(cal, start, 4 * HOUR) == start + timedelta(hours=4)
    assert business_seconds(cal, start, start + timedelta(days=3)) == 72 * HOUR


def test_reversed_or_overlapping_hours_are_refused_with_their_line():
    from app.sla.definitions import SlaLoadError

    text = "calendars:\n  - key: x\n    name: X\n    hours:\n      mon: ['18:00-09:00']\n"
    with pytest.raises(SlaLoadError) as err:
        parse_calendars(text, "calendars.yaml")
    assert str(err.value.issues[0]).startswith("calendars.yaml:5: calendars.0.hours.mon.0: ")
    assert "must start before they end" in str(err.value.issues[0])
