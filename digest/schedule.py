"""Standard cron expressions -> APScheduler 3 triggers.

The config speaks standard five-field cron (``min hour day month weekday``,
where 0 and 7 are Sunday). APScheduler 3 counts weekdays from Monday = 0, so a
weekday field cannot be handed over as it is: ``1-5`` would mean Tuesday to
Saturday. The method:

1. Split the expression into its five fields (anything else is an error).
2. Expand the weekday field into the set of days it names, in cron's own
   numbering: each comma-separated item is ``*``, a day, or a range ``a-b``,
   optionally followed by a step ``/n``; a day is a number 0-7 or a name
   (``sun``, ``mon``, ...). 7 folds into 0.
3. Write that set back as APScheduler day names in Monday-first order,
   joining runs of consecutive days into ranges (``mon-fri``, ``sat-sun``);
   all seven days become ``*``.
4. Hand the other four fields to APScheduler unchanged; it checks their
   ranges and syntax.

Standard cron fires when *either* a restricted day of month or a restricted
weekday matches, while APScheduler requires both. Rather than fire on
different days than the operator expects, an expression restricting both is
refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

# APScheduler (and asyncio with it) is imported where a schedule is checked or a trigger made: a
# config without schedules, read by every `digest build`, needs neither.
if TYPE_CHECKING:
    from apscheduler.triggers.cron import CronTrigger

#: APScheduler's day names, Monday first (its index is APScheduler's weekday number).
DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Cron's weekday numbering: Sunday is 0 (and 7).
CRON_DAY_NUMBERS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}
CRON_FIELDS = ("minute", "hour", "day", "month", "day_of_week")
WEEKDAY_ITEM = re.compile(r"^(?:(?P<all>\*)|(?P<start>\w+)(?:-(?P<end>\w+))?)(?:/(?P<step>\d+))?$")
APSCHEDULER_PREFIX = re.compile(r"^Error validating expression '[^']*': ")


def _cron_day(token: str) -> int:
    """A weekday as cron writes it (``0``-``7`` or a name) -> 0-7 (7 kept, so ``5-7`` can reach Sunday)."""
    if token.isdigit():
        number = int(token)
        if number > 7:
            raise ValueError(f"{token} is out of range (0-7)")
        return number
    try:
        return CRON_DAY_NUMBERS[token.lower()]
    except KeyError:
        raise ValueError(f"unknown day name {token!r}") from None


def _cron_days(field: str) -> set[int]:
    """Expand a cron weekday field into the days it names (0-6, Sunday 0)."""
    days: set[int] = set()
    for item in field.split(","):
        match = WEEKDAY_ITEM.match(item)
        if not match:
            raise ValueError(f"cannot read {item!r}")
        step = int(match["step"]) if match["step"] else 1
        if step < 1:
            raise ValueError(f"the step in {item!r} must be more than 0")
        if match["all"]:
            first, last = 0, 6
        elif match["end"]:
            first, last = _cron_day(match["start"]), _cron_day(match["end"])
            if last < first:
                raise ValueError(f"the range {item!r} runs backwards")
        else:
            first = _cron_day(match["start"])
            # A single day with a step (``1/2``) runs to the end of the week, as in cron.
            last = max(first, 6) if match["step"] else first
        days.update(day % 7 for day in range(first, last + 1, step))
    return days


def translate_weekdays(field: str) -> str:
    """A standard cron weekday field -> APScheduler's, in day names (``1-5`` -> ``mon-fri``)."""
    days = _cron_days(field)
    if len(days) == 7:
        return "*"
    # APScheduler numbers Monday 0 ... Sunday 6; cron numbers Sunday 0 ... Saturday 6.
    indexes = sorted((day - 1) % 7 for day in days)
    runs: list[list[int]] = []
    for index in indexes:
        if runs and runs[-1][-1] == index - 1:
            runs[-1].append(index)
        else:
            runs.append([index])
    return ",".join(
        DAY_NAMES[run[0]] if len(run) == 1 else f"{DAY_NAMES[run[0]]}-{DAY_NAMES[run[-1]]}" for run in runs
    )


def _zone(timezone: str | tzinfo) -> tzinfo:
    if not isinstance(timezone, str):
        return timezone
    try:
        return ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {timezone!r}") from None


@dataclass(frozen=True)
class CronSchedule:
    """A standard cron expression, checked, with its fields already in APScheduler's terms.

    The time zone is not part of it: an edition's schedule and time zone are separate keys,
    and a trigger is made for a zone when it is needed (``trigger``).
    """

    #: As the operator wrote it (shown in ``digest run``'s table and ``digest status``).
    expression: str
    #: APScheduler's field name -> its value, the weekday already translated.
    fields: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, expression: str) -> CronSchedule:
        """Standard 5-field cron (min hour day month weekday; 0 and 7 are Sunday; names like
        ``mon-fri`` allowed).

        Raises:
            ValueError: with a short reason, naming the field at fault.
        """
        fields = expression.split()
        if len(fields) != len(CRON_FIELDS):
            raise ValueError(f"expected 5 fields (minute hour day month weekday), got {len(fields)}")
        minute, hour, day, month, weekday = fields
        if day != "*" and weekday != "*":
            raise ValueError(
                "restricting both day of month and weekday is not supported (cron would match either one)"
            )
        try:
            day_of_week = translate_weekdays(weekday)
        except ValueError as err:
            raise ValueError(f"weekday field {weekday!r}: {err}") from None
        values = dict(zip(CRON_FIELDS, (minute, hour, day, month, day_of_week), strict=True))
        from apscheduler.triggers.cron import CronTrigger

        # APScheduler names no field in its messages: check the fields one by one to say which.
        for field, value in values.items():
            try:
                CronTrigger(timezone=ZoneInfo("UTC"), **{field: value})
            except ValueError as err:
                reason = APSCHEDULER_PREFIX.sub("", str(err))
                if reason.startswith("Unrecognized expression"):
                    reason = "not understood"
                raise ValueError(f"{field.replace('_', ' ')} field {value!r}: {reason}") from None
        return cls(expression, tuple(values.items()))

    def trigger(self, zone: tzinfo) -> CronTrigger:
        """An APScheduler 3 CronTrigger firing in ``zone`` (it keeps local times across DST changes)."""
        from apscheduler.triggers.cron import CronTrigger

        return CronTrigger(timezone=zone, **dict(self.fields))

    def __str__(self) -> str:
        return self.expression


#: An edition's schedule when it names none: 07:00 every day. Written out, as ``parse`` gives it,
#: so that defining the config's models checks nothing with APScheduler.
DAILY_AT_SEVEN = CronSchedule(
    "0 7 * * *", (("minute", "0"), ("hour", "7"), ("day", "*"), ("month", "*"), ("day_of_week", "*"))
)


def cron_trigger(expression: str, timezone: str | tzinfo) -> CronTrigger:
    """Standard 5-field cron -> an APScheduler 3 CronTrigger in ``timezone`` (see CronSchedule.parse).

    Raises:
        ValueError: with a short reason, when the expression or the time zone is not valid.
    """
    return CronSchedule.parse(expression).trigger(_zone(timezone))


def next_fire_times(expression: str, timezone: str | tzinfo, after: datetime, count: int) -> list[datetime]:
    """The next ``count`` times the expression fires strictly after ``after`` (aware), in its time zone.

    Raises:
        ValueError: as ``cron_trigger``, or when ``after`` is naive.
    """
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("after must be an aware datetime")
    trigger = cron_trigger(expression, timezone)
    times: list[datetime] = []
    previous = after
    for _ in range(count):
        # APScheduler returns a time at or after ``now`` (rounded up to the second); nudge past the last one.
        fire_time: datetime | None = trigger.get_next_fire_time(None, previous + timedelta(microseconds=1))
        if fire_time is None:
            break
        times.append(fire_time)
        previous = fire_time
    return times


def local_time(moment: datetime, zone: tzinfo) -> str:
    """A moment as a person reads it in ``zone``: ``2026-03-14 07:00 CET``."""
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"
