"""``digest status`` and ``digest run``'s start-up table: what the scheduler knows, in words.

The scheduler (digest/scheduler.py) decides and runs; this module reads what it and the builds
left behind (the job store's next run times, the state store's runs, issues, sends and source
health) and words it, times in each edition's own zone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo

from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler

from digest.config import EditionConfig
from digest.schedule import local_time
from digest.scheduler import JOBS_TABLE, PlannedRun, edition_of
from digest.state import IssueRecord, RunRecord, SendRecord, SourceHealth, State
from digest.state.bounces import BounceFigures
from digest.text import counted

# --- the start-up table ------------------------------------------------------------------------------


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def format_plan(planned: list[PlannedRun]) -> str:
    """The start-up table of ``digest run``: each edition, its schedule and its next run."""
    rows = [(p.edition, p.schedule, str(p.timezone), p.catch_up, _next_run_text(p)) for p in planned]
    return _table(("edition", "schedule", "time zone", "catch-up", "next run"), rows)


def describe_plan(plan: PlannedRun) -> str:
    """One edition's line of the start-up table as a sentence (for ``--log-format json``)."""
    return (
        f"edition {plan.edition}: schedule {plan.schedule} ({plan.timezone}), catch-up {plan.catch_up}; "
        f"next run {_next_run_text(plan)}"
    )


def _next_run_text(plan: PlannedRun) -> str:
    zone = plan.timezone
    following = local_time(plan.next_run, zone) if plan.next_run else "never"
    if plan.catching_up is not None:
        return f"now: catching up {local_time(plan.catching_up, zone)}; then {following}"
    if plan.missed is not None:
        return f"{following} (missed {local_time(plan.missed, zone)}: later than catch_up allows)"
    return following


# --- the status --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EditionStatus:
    """What ``digest status`` says of one edition."""

    edition: str
    title: str
    schedule: str
    timezone: tzinfo
    #: The next run: the job store's (``digest run`` has scheduled it), else the schedule's.
    next_run: datetime | None
    #: True when the time comes from the job store.
    scheduled: bool
    last_build: IssueRecord | None
    last_run: RunRecord | None
    last_send: SendRecord | None
    failing_sources: tuple[SourceHealth, ...]
    bounces: BounceFigures


def stored_next_runs(url: str) -> dict[str, datetime | None]:
    """edition -> its job's next run time, as ``digest run`` left them in the job store."""
    store = SQLAlchemyJobStore(url=url, tablename=JOBS_TABLE)
    # A job store is started by a scheduler; an idle one is enough to read the jobs back.
    store.start(BackgroundScheduler(timezone=UTC), "default")
    try:
        return {edition_of(job.id): job.next_run_time for job in store.get_all_jobs()}
    finally:
        store.shutdown()


def edition_statuses(editions: list[EditionConfig], state: State, now: datetime) -> list[EditionStatus]:
    """What ``digest status`` reports of each of ``editions`` (see the module docstring, step 6)."""
    stored = stored_next_runs(state.url)
    statuses = []
    for edition in editions:
        if edition.name in stored:
            next_run, scheduled = stored[edition.name], True
        else:
            next_run, scheduled = (
                edition.schedule.trigger(edition.timezone).get_next_fire_time(None, now),
                False,
            )
        runs = state.runs.last_runs(edition.name, 1)
        statuses.append(
            EditionStatus(
                edition=edition.name,
                title=edition.title,
                schedule=str(edition.schedule),
                timezone=edition.timezone,
                next_run=next_run,
                scheduled=scheduled,
                last_build=state.issues.last_issue(edition.name),
                last_run=runs[0] if runs else None,
                last_send=state.ledger.last_send(edition.name),
                failing_sources=tuple(state.fetch.failing_sources(edition.name)),
                bounces=state.bounces.figures(edition.name),
            )
        )
    return statuses


def format_status(statuses: list[EditionStatus], now: datetime) -> str:
    """``digest status``'s text: a block per edition, times in the edition's zone."""
    return "\n\n".join(_status_block(status, now) for status in statuses)


def _status_block(status: EditionStatus, now: datetime) -> str:
    zone = status.timezone
    lines = [f"{status.edition}: {status.title}", f"  schedule     {status.schedule} ({status.timezone})"]
    if status.next_run is None:
        next_run = "never (the schedule does not fire again)"
    else:
        when = local_time(status.next_run, zone)
        if not status.scheduled:
            next_run = f"{when} by the schedule (digest run has not scheduled it yet)"
        elif status.next_run <= now:
            next_run = f"{when}, overdue: made when digest run starts, if catch_up allows"
        else:
            next_run = when
    lines.append(f"  next run     {next_run}")
    build = status.last_build
    lines.append(
        f"  last build   {local_time(build.built_at, zone)}: issue {build.issue_id}, "
        f"{counted(build.stories, 'story', 'stories')}"
        if build
        else "  last build   none"
    )
    run = status.last_run
    lines.append(
        f"  last run     {local_time(run.started_at, zone)}: {run.outcome}"
        f"{f' issue {run.issue_id}' if run.issue_id else ''}: {run.reason}"
        if run
        else "  last run     none"
    )
    if run is not None and run.send_error:
        lines.append(f"               sending failed: {run.send_error}")
    send = status.last_send
    lines.append(
        f"  last send    {local_time(send.at, zone)}: issue {send.issue_id} "
        f"to {counted(send.recipients, 'subscriber')}"
        if send
        else "  last send    none"
    )
    bounces = status.bounces
    lines.append(
        f"  bounces      {counted(bounces.hard, 'hard bounce')}, {counted(bounces.soft, 'soft bounce')}, "
        f"{counted(bounces.complaints, 'complaint')}; suppressed {bounces.suppressed_bounced} for bouncing, "
        f"{bounces.suppressed_complained} for complaining"
        if bounces.hard or bounces.soft or bounces.complaints
        else "  bounces      none recorded"
    )
    if not status.failing_sources:
        lines.append("  sources      every source worked in its latest fetch")
    else:
        lines.append(f"  sources      {len(status.failing_sources)} failing:")
        for source in status.failing_sources:
            times = "once" if source.failures_in_a_row == 1 else f"{source.failures_in_a_row} times in a row"
            last_ok = source.last_ok_at
            since = f", last worked {local_time(last_ok, zone)}" if last_ok else ", never worked"
            lines.append(f"    {source.name}: failed {times}{since}")
            lines.append(f"      last error: {source.last_error}")
    return "\n".join(lines)
