"""Standard cron -> APScheduler triggers: weekday numbering, time zones, DST, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from digest.schedule import DAILY_AT_SEVEN, CronSchedule, cron_trigger, next_fire_times, translate_weekdays


@pytest.mark.parametrize(
    ("cron", "apscheduler"),
    [
        ("1-5", "mon-fri"),
        ("0", "sun"),
        ("7", "sun"),
        ("0,6", "sat-sun"),
        ("6,7", "sat-sun"),
        ("5-7", "fri-sun"),
        ("0-7", "*"),
        ("*", "*"),
        ("*/2", "tue,thu,sat-sun"),
        ("1-5/2", "mon,wed,fri"),
        ("mon-fri", "mon-fri"),
        ("SUN", "sun"),
        ("1,3", "mon,wed"),
    ],
)
def test_weekdays_are_translated_from_sunday_zero_to_names(cron: str, apscheduler: str) -> None:
    assert translate_weekdays(cron) == apscheduler


def test_weekdays_at_seven_berlin_time() -> None:
    # 2026-03-14 is a Saturday: the next five fire times are Monday to Friday.
    after = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
    times = next_fire_times("0 7 * * 1-5", "Europe/Berlin", after, 5)
    assert [t.strftime("%a %Y-%m-%d %H:%M") for t in times] == [
        "Mon 2026-03-16 07:00",
        "Tue 2026-03-17 07:00",
        "Wed 2026-03-18 07:00",
        "Thu 2026-03-19 07:00",
        "Fri 2026-03-20 07:00",
    ]
    assert all(t.utcoffset() == timedelta(hours=1) for t in times)


def test_local_time_stays_put_across_the_spring_change() -> None:
    # Berlin moves from +01:00 to +02:00 on Sunday 2026-03-29.
    after = datetime(2026, 3, 27, 12, 0, tzinfo=UTC)
    times = next_fire_times("0 7 * * *", "Europe/Berlin", after, 3)
    assert [(t.day, t.hour, t.minute) for t in times] == [(28, 7, 0), (29, 7, 0), (30, 7, 0)]
    assert [t.utcoffset() for t in times] == [timedelta(hours=1), timedelta(hours=2), timedelta(hours=2)]
    assert [t.astimezone(UTC).hour for t in times] == [6, 5, 5]


@pytest.mark.parametrize("weekday", ["0", "7", "sun"])
def test_sunday_is_zero_or_seven(weekday: str) -> None:
    after = datetime(2026, 3, 9, tzinfo=UTC)  # a Monday
    times = next_fire_times(f"30 9 * * {weekday}", "UTC", after, 2)
    assert [t.date().isoformat() for t in times] == ["2026-03-15", "2026-03-22"]
    assert all(t.strftime("%a %H:%M") == "Sun 09:30" for t in times)


def test_fire_times_are_strictly_after() -> None:
    at_seven = datetime(2026, 3, 16, 7, 0, tzinfo=UTC)
    assert next_fire_times("0 7 * * *", "UTC", at_seven, 1) == [at_seven + timedelta(days=1)]


def test_trigger_keeps_its_time_zone() -> None:
    trigger = cron_trigger("15 6 1 * *", "America/New_York")
    assert str(trigger.timezone) == "America/New_York"
    fire = trigger.get_next_fire_time(None, datetime(2026, 1, 15, tzinfo=UTC))
    assert fire is not None
    assert (fire.month, fire.day, fire.hour, fire.minute) == (2, 1, 6, 15)


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("", "expected 5 fields (minute hour day month weekday), got 0"),
        ("0 7 * *", "expected 5 fields (minute hour day month weekday), got 4"),
        ("0 7 * * * *", "expected 5 fields (minute hour day month weekday), got 6"),
        ("61 7 * * *", "minute field '61': the last value (61) is higher than the maximum value (59)"),
        ("0 x * * *", "hour field 'x': not understood"),
        ("0 7 32 * *", "day field '32': the last value (32) is higher than the maximum value (31)"),
        ("0 7 * 13 *", "month field '13': the last value (13) is higher than the maximum value (12)"),
        ("0 7 * * 8", "weekday field '8': 8 is out of range (0-7)"),
        ("0 7 * * 5-1", "weekday field '5-1': the range '5-1' runs backwards"),
        ("0 7 * * funday", "weekday field 'funday': unknown day name 'funday'"),
        ("0 7 * * */0", "weekday field '*/0': the step in '*/0' must be more than 0"),
        (
            "0 7 1 * 1",
            "restricting both day of month and weekday is not supported (cron would match either one)",
        ),
    ],
)
def test_invalid_expressions_say_why(expression: str, reason: str) -> None:
    with pytest.raises(ValueError) as raised:
        cron_trigger(expression, "UTC")
    assert str(raised.value) == reason


def test_unknown_time_zone() -> None:
    with pytest.raises(ValueError, match=r"^unknown time zone 'Mars/Olympus'$"):
        cron_trigger("0 7 * * *", "Mars/Olympus")


def test_naive_after_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_fire_times("0 7 * * *", "UTC", datetime(2026, 3, 14), 1)


@pytest.mark.parametrize(
    ("zone", "after", "expected"),
    [
        # New York falls back from -04:00 to -05:00 at 02:00 on Sunday 2026-11-01.
        (
            "America/New_York",
            datetime(2026, 10, 30, 12, 0, tzinfo=UTC),
            ["2026-10-31T07:00:00-04:00", "2026-11-01T07:00:00-05:00", "2026-11-02T07:00:00-05:00"],
        ),
        # Sydney springs forward from +10:00 to +11:00 at 02:00 on Sunday 2026-10-04 (southern spring).
        (
            "Australia/Sydney",
            datetime(2026, 10, 1, 23, 0, tzinfo=UTC),
            ["2026-10-03T07:00:00+10:00", "2026-10-04T07:00:00+11:00", "2026-10-05T07:00:00+11:00"],
        ),
        # Kolkata has no daylight-saving time: the offset never moves.
        (
            "Asia/Kolkata",
            datetime(2026, 3, 27, 12, 0, tzinfo=UTC),
            ["2026-03-28T07:00:00+05:30", "2026-03-29T07:00:00+05:30", "2026-03-30T07:00:00+05:30"],
        ),
    ],
)
def test_seven_local_stays_seven_local_in_every_zone(zone: str, after: datetime, expected: list[str]) -> None:
    assert [t.isoformat() for t in next_fire_times("0 7 * * *", zone, after, 3)] == expected


def test_a_time_the_spring_change_skips_fires_once_that_day() -> None:
    # Berlin's clocks jump from 02:00 to 03:00 on 2026-03-29, so 02:30 does not exist that day:
    # the run is made once, an hour on (03:30 CEST, 01:30 UTC), and the next day at 02:30 again.
    times = next_fire_times("30 2 * * *", "Europe/Berlin", datetime(2026, 3, 28, 12, 0, tzinfo=UTC), 2)
    assert [t.astimezone(UTC) for t in times] == [
        datetime(2026, 3, 29, 1, 30, tzinfo=UTC),
        datetime(2026, 3, 30, 0, 30, tzinfo=UTC),
    ]


def test_the_default_schedule_is_what_parsing_its_expression_gives() -> None:
    assert CronSchedule.parse(DAILY_AT_SEVEN.expression) == DAILY_AT_SEVEN
