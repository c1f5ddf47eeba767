"""``digest run`` and ``digest status``: each edition built (and sent) on its schedule, unattended.

(``digest/schedule.py`` turns cron into APScheduler triggers; this module runs them. They are
apart because config.py checks schedules with schedule.py, and this module needs the config,
the state store and the pipeline, which all import config.py.)

The method:

1. **Jobs.** One APScheduler 3 cron job per edition, id ``edition:<name>``, its trigger
   ``schedule.cron_trigger(schedule, timezone)`` (standard cron in the edition's time zone; the
   trigger keeps local times across daylight-saving changes). The jobs live in a
   ``SQLAlchemyJobStore`` (table ``scheduled_jobs``) in the state database, so each edition's
   next run time outlives the process. A job calls ``run_edition(config_path, edition,
   out_dir)``, a module-level function the store keeps by reference; every run reads feeds.yaml
   again, so a change of sources applies at the next run (a change of schedule at the next start).
2. **Catch-up.** At start the jobs are installed again from the config. A stored job whose trigger
   is unchanged keeps its stored next run time even when that time has passed (the scheduler was
   down at the time): APScheduler then makes that run at once if it is late by no more than the
   job's ``misfire_grace_time``, and ``coalesce=True`` makes it once however many times were
   missed. ``catch_up`` gives the grace time:

   - ``next`` (the default): None, i.e. no limit. Coalescing always makes the *latest* missed
     time, and the scheduled time after that one is still to come; so "no limit" is exactly
     "until the next scheduled time", however irregular the schedule (Friday to Monday).
   - a duration (``2h``): its seconds.
   - ``never``: 1 second, APScheduler's smallest (it takes no 0).

   A job whose schedule or time zone changed starts afresh from now; a job of an edition no
   longer in the config is removed.
3. **One run at a time.** ``max_instances=1`` per edition: a time that comes while the edition's
   previous run is still going is skipped (and logged). Editions run side by side, in threads.
4. **A run** builds with ``pipeline.build_edition`` and, when an issue was built, the edition has
   ``delivery`` and the pipeline has ``send_issue``, sends it (the delivery ledger makes the send
   exactly-once). Its outcome, ``built``, ``skipped`` (nothing new, or fewer than ``min_stories``),
   ``failed`` (with the reason) or ``stopped``, is logged in one line and kept in the ``runs``
   table; a run never raises into the scheduler, which goes on.
5. **Stopping** (``EditionScheduler.stop``): the scheduler is paused, so no run starts; runs in
   progress are asked to stop. One still fetching its sources gives up when the next source
   finishes, before anything is written; one past fetching completes (the issue folder appears
   whole, then the state records it). After at most ``grace`` seconds the scheduler shuts down.
   A run that gave up has its scheduled time put back as its job's next run time, so the next
   start catches it up, once.
6. **Status** (``edition_statuses``) reads, per edition: the last issue built (by ``digest run``
   or ``digest build``), the last run and its outcome, the last send (the delivery ledger), the
   next run time (the job store, else the schedule), and the sources whose latest fetch failed,
   with how many fetches in a row failed and the last error (``source_health``, updated by every
   build).

Log lines name the edition and issue in their text and, for ``--log-format json``, in the fields
``edition`` and ``issue``, with ``event`` saying what happened (see digest/logs.py).
"""

from __future__ import annotations

import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from digest import pipeline
from digest.config import Config, EditionConfig, load_config, parse_duration
from digest.errors import DigestError
from digest.logs import fields
from digest.schedule import cron_trigger
from digest.state import (
    IssueRecord,
    RunOutcome,
    RunRecord,
    SendRecord,
    SourceHealth,
    State,
    masked,
    state_url,
)
from digest.state.bounces import BounceFigures
from digest.text import counted
from digest.types import FeedResult

log = logging.getLogger("digest")

#: The job store's table in the state database.
JOBS_TABLE = "scheduled_jobs"
JOB_PREFIX = "edition:"
#: ``catch_up: never``: APScheduler's grace time must be a positive whole number of seconds.
NEVER_GRACE_SECONDS = 1
#: Seconds ``digest run`` waits for runs in progress to finish when asked to stop.
STOP_GRACE_SECONDS = 20.0
#: How long a stop waits for APScheduler to report a stopped run's scheduled time.
SUBMISSION_WAIT = 10.0
#: A run submitted this late is a catch-up (rather than a scheduler waking a moment late).
CATCH_UP_NOTICE = timedelta(seconds=60)
#: Bounds the walk over missed fire times (a minutely schedule down for two months).
MAX_MISSED_TIMES = 100_000


class RunStopped(Exception):
    """Raised inside a run's build when the scheduler is stopping: nothing has been written yet."""


# --- catch-up ----------------------------------------------------------------------------------------


def misfire_grace_time(catch_up: str) -> int | None:
    """An edition's ``catch_up`` -> APScheduler's ``misfire_grace_time`` (seconds; None: no limit)."""
    if catch_up == "next":
        return None
    if catch_up == "never":
        return NEVER_GRACE_SECONDS
    return max(int(parse_duration(catch_up).total_seconds()), NEVER_GRACE_SECONDS)


def latest_due(trigger: CronTrigger, first_due: datetime, now: datetime) -> datetime:
    """The last fire time at or before ``now``, walking from ``first_due`` (itself at or before now)."""
    latest = first_due
    for _ in range(MAX_MISSED_TIMES):
        following: datetime | None = trigger.get_next_fire_time(latest, latest + timedelta(seconds=1))
        if following is None or following > now:
            break
        latest = following
    return latest


def job_id(edition: str) -> str:
    return f"{JOB_PREFIX}{edition}"


def _edition_of(job: str) -> str:
    return job.removeprefix(JOB_PREFIX)


# --- the runs in progress in this process ------------------------------------------------------------


class _ActiveRuns:
    """Which editions are running now, and whether they have been asked to stop.

    Module-level (``ACTIVE``) because the job function is: the job store keeps it by reference.
    """

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._running: set[str] = set()
        self._abandoned: set[str] = set()
        #: Runs started per edition in this process; a scheduler compares them with its submissions.
        self._starts: Counter[str] = Counter()
        self.stopping = threading.Event()

    @contextmanager
    def running(self, edition: str) -> Iterator[None]:
        with self._changed:
            self._running.add(edition)
            self._starts[edition] += 1
        try:
            yield
        finally:
            with self._changed:
                self._running.discard(edition)
                self._changed.notify_all()

    def abandon(self, edition: str) -> None:
        with self._changed:
            self._abandoned.add(edition)

    def reset(self) -> None:
        self.stopping.clear()
        with self._changed:
            self._abandoned.clear()

    def wait_idle(self, timeout: float) -> set[str]:
        """Wait until no run is in progress, at most ``timeout`` seconds; the editions still running."""
        with self._changed:
            self._changed.wait_for(lambda: not self._running, timeout)
            return set(self._running)

    def abandoned(self) -> set[str]:
        with self._changed:
            return set(self._abandoned)

    def starts(self, edition: str) -> int:
        with self._changed:
            return self._starts[edition]


ACTIVE = _ActiveRuns()


def _stop_point(_finished: FeedResult) -> None:
    """Called as each source finishes: the last moment a build can give up having written nothing."""
    if ACTIVE.stopping.is_set():
        raise RunStopped


# --- one run -----------------------------------------------------------------------------------------


def run_edition(config_path: str, edition_name: str, out_dir: str) -> None:
    """The job: build (and send) one edition now. Logs and records every outcome; never raises."""
    started = datetime.now(UTC)
    with ACTIVE.running(edition_name):
        log.info("edition %s: run started", edition_name, extra=fields("run-started", edition_name))
        try:
            config = load_config(Path(config_path))
            edition = config.editions.get(edition_name)
            if edition is None:
                raise DigestError(f"{config_path}: edition {edition_name!r} is gone from the config")
            with State.of(config) as state:
                record = _run(config, edition, state, Path(out_dir), started)
                state.runs.record_run(record)
        except DigestError as err:
            # Without a config or a state store the run cannot be recorded: the log line is all there is.
            _log_outcome(_failed(edition_name, started, str(err)))
        except Exception as err:
            _log_outcome(_failed(edition_name, started, _unexpected(err)))
            log.debug("edition %s: the run failed unexpectedly", edition_name, exc_info=True)


def _run(config: Config, edition: EditionConfig, state: State, out_dir: Path, started: datetime) -> RunRecord:
    """Build and send; every outcome as a RunRecord (already logged)."""
    try:
        if ACTIVE.stopping.is_set():
            raise RunStopped
        result = pipeline.build_edition(
            config, edition, state, out_dir=out_dir, now=started, on_feed=_stop_point
        )
    except RunStopped:
        ACTIVE.abandon(edition.name)
        reason = "stopped before anything was written; the next start makes this run"
        return _log_outcome(_record(edition.name, started, "stopped", reason))
    except DigestError as err:
        return _log_outcome(_failed(edition.name, started, str(err)))
    except Exception as err:
        log.debug("edition %s: the build failed unexpectedly", edition.name, exc_info=True)
        return _log_outcome(_failed(edition.name, started, _unexpected(err)))
    if result.path is None or result.issue is None:
        return _log_outcome(_record(edition.name, started, "skipped", f"{result.reason}; no issue built"))
    issue_id, stories = result.issue.issue_id, len(result.issue.stories)
    built = _log_outcome(
        _record(
            edition.name,
            started,
            "built",
            f"{counted(stories, 'story', 'stories')} in {result.path}",
            issue_id=issue_id,
            stories=stories,
        )
    )
    recipients, send_error = _send(config, edition, state, result.path, issue_id)
    return dataclasses.replace(built, recipients=recipients, send_error=send_error)


def _send(
    config: Config, edition: EditionConfig, state: State, issue_dir: Path, issue_id: str
) -> tuple[int | None, str | None]:
    """Send the new issue where delivery is configured: (recipients, None) or (None, error)."""
    context = fields("sent", edition.name, issue_id)
    if edition.delivery is None:
        return None, None
    send = getattr(pipeline, "send_issue", None)
    if send is None:
        # Delivery is another part of Digest; until it is there, the issue waits for `digest send`.
        log.warning(
            "edition %s issue %s: delivery is configured but this Digest cannot send yet; not sent",
            edition.name,
            issue_id,
            extra={**context, "event": "not-sent"},
        )
        return None, None
    try:
        report = send(config, edition, state, issue_dir)
        if report.pending:
            raise DigestError(
                f"{counted(len(report.pending), 'delivery', 'deliveries')} still pending after retries "
                f"({report.where}); "
                f"`digest send --issue {issue_dir}` resumes"
            )
    except Exception as err:
        reason = str(err) if isinstance(err, DigestError) else _unexpected(err)
        log.error(
            "edition %s issue %s: sending failed: %s",
            edition.name,
            issue_id,
            reason,
            extra={**context, "event": "send-failed"},
        )
        return None, reason
    recipients: int = report.sent
    log.info(
        "edition %s issue %s: sent to %s",
        edition.name,
        issue_id,
        counted(recipients, "subscriber"),
        extra=context,
    )
    return recipients, None


def _record(edition: str, started: datetime, outcome: RunOutcome, reason: str, **rest: Any) -> RunRecord:
    return RunRecord(
        edition=edition,
        started_at=started,
        finished_at=datetime.now(UTC),
        outcome=outcome,
        reason=reason,
        **rest,
    )


def _failed(edition: str, started: datetime, reason: str) -> RunRecord:
    return _record(edition, started, "failed", reason)


def _unexpected(err: Exception) -> str:
    return f"unexpected error: {type(err).__name__}: {err} (--verbose shows the traceback)"


def _log_outcome(record: RunRecord) -> RunRecord:
    issue = f" issue {record.issue_id}" if record.issue_id else ""
    level = logging.ERROR if record.outcome == "failed" else logging.INFO
    log.log(
        level,
        "edition %s%s: %s: %s",
        record.edition,
        issue,
        record.outcome,
        record.reason,
        extra=fields(record.outcome, record.edition, record.issue_id),
    )
    return record


# --- the scheduler -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlannedRun:
    """What the scheduler will do for one edition, as decided at start."""

    edition: str
    schedule: str
    timezone: str
    catch_up: str
    #: The next scheduled time, in the edition's time zone; None when the schedule never fires again.
    next_run: datetime | None
    #: A run missed while the scheduler was down that is made now (its scheduled time), if any.
    catching_up: datetime | None = None
    #: A run missed while down, too late for ``catch_up`` (its scheduled time), if any.
    missed: datetime | None = None


class EditionScheduler:
    """APScheduler 3 in a background thread, one job per edition (see the module docstring)."""

    def __init__(self, config: Config, out_dir: Path) -> None:
        self.config = config
        self.out_dir = out_dir.absolute()
        self._grace = {name: misfire_grace_time(e.catch_up) for name, e in config.editions.items()}
        #: job id -> the scheduled time of its latest run handed to the executor.
        self._submitted: dict[str, datetime] = {}
        #: job id -> how many runs this scheduler handed to the executor, and the runs started before it.
        self._submissions: Counter[str] = Counter()
        self._starts_before: dict[str, int] = {}
        self._submission_seen = threading.Condition()
        self._scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=state_url(config), tablename=JOBS_TABLE)},
            executors={"default": ThreadPoolExecutor(max_workers=len(config.editions))},
            timezone=UTC,
        )
        self._scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR
        )

    def start(self) -> list[PlannedRun]:
        """Install the jobs (keeping stored next run times) and start; what each edition will do."""
        ACTIVE.reset()
        self._starts_before = {name: ACTIVE.starts(name) for name in self.config.editions}
        # The tables made once, here: runs starting together in threads would race to create them.
        State.of(self.config).close()
        # Paused while the jobs are installed, so none runs before its stored time has been kept.
        self._scheduler.start(paused=True)
        planned = self._install(datetime.now(UTC))
        self._scheduler.resume()
        log.info(
            "scheduler started with %d edition%s; jobs kept in %s (table %s)",
            len(planned),
            "" if len(planned) == 1 else "s",
            masked(state_url(self.config)),
            JOBS_TABLE,
            extra=fields("started"),
        )
        return planned

    def run_now(self, edition: str) -> None:
        """Make the edition's next run now (as if its time had come), then keep to its schedule."""
        self._scheduler.modify_job(job_id(edition), next_run_time=datetime.now(UTC))

    def next_run_time(self, edition: str) -> datetime | None:
        job = self._scheduler.get_job(job_id(edition))
        return job.next_run_time if job is not None else None

    def stop(self, grace: float = STOP_GRACE_SECONDS) -> bool:
        """Stop within ``grace`` seconds (see the module docstring); False if a run was still going."""
        self._scheduler.pause()
        ACTIVE.stopping.set()
        still_running = ACTIVE.wait_idle(grace)
        for edition in sorted(ACTIVE.abandoned()):
            scheduled = self._scheduled_time_of_latest_run(edition)
            if scheduled is not None and self._scheduler.get_job(job_id(edition)) is not None:
                self._scheduler.modify_job(job_id(edition), next_run_time=scheduled)
        for edition in sorted(still_running):
            log.warning(
                "edition %s: still running after %g s; left behind (an unfinished issue stays hidden "
                "in a .building-* folder)",
                edition,
                grace,
                extra=fields("abandoned", edition),
            )
        # APScheduler 3 looks for due jobs once more as it shuts down (no longer paused, executors
        # closed): a due job would fail to start yet have its next run time moved on, losing the run
        # just put back. Taking the job store out first leaves it nothing to look at; the jobs stay stored.
        self._scheduler.remove_jobstore("default")
        self._scheduler.shutdown(wait=False)
        log.info("scheduler stopped", extra=fields("stopped"))
        if still_running:
            return False
        # Nothing is left to obey the stop: a later run in this process (another scheduler, a test) may go.
        ACTIVE.reset()
        return True

    def _scheduled_time_of_latest_run(self, edition: str) -> datetime | None:
        """The scheduled time of the edition's latest run. APScheduler tells it (the submission event)
        only after the run has started, from its own thread: on a busy machine a run may start, be
        stopped and give up before that event arrives, so wait for it (bounded)."""
        key = job_id(edition)
        started_here = ACTIVE.starts(edition) - self._starts_before.get(edition, 0)
        with self._submission_seen:
            self._submission_seen.wait_for(lambda: self._submissions[key] >= started_here, SUBMISSION_WAIT)
            return self._submitted.get(key)

    def _install(self, now: datetime) -> list[PlannedRun]:
        for job in self._scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and _edition_of(job.id) not in self.config.editions:
                log.info("edition %s is no longer in the config: its job is removed", _edition_of(job.id))
                self._scheduler.remove_job(job.id)
        return [self._install_edition(edition, now) for edition in self.config.editions.values()]

    def _install_edition(self, edition: EditionConfig, now: datetime) -> PlannedRun:
        trigger = cron_trigger(edition.schedule, edition.timezone)
        stored = self._scheduler.get_job(job_id(edition.name))
        kept: datetime | None = None
        if stored is not None and stored.next_run_time is not None:
            if _same_trigger(stored.trigger, trigger):
                kept = stored.next_run_time
            else:
                log.info(
                    "edition %s: schedule changed; runs missed under the old one are not made",
                    edition.name,
                    extra=fields("rescheduled", edition.name),
                )
        # next_run_time, when given, overrides the trigger's first time: that is how a missed run survives.
        timing = {"next_run_time": kept} if kept is not None else {}
        self._scheduler.add_job(
            run_edition,
            trigger,
            id=job_id(edition.name),
            name=f"edition {edition.name}",
            kwargs={
                "config_path": str(self.config.path),
                "edition_name": edition.name,
                "out_dir": str(self.out_dir),
            },
            replace_existing=True,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=self._grace[edition.name],
            **timing,
        )
        zone = ZoneInfo(edition.timezone)
        upcoming: datetime | None = trigger.get_next_fire_time(None, now)
        plan = PlannedRun(
            edition=edition.name,
            schedule=edition.schedule,
            timezone=edition.timezone,
            catch_up=edition.catch_up,
            next_run=upcoming.astimezone(zone) if upcoming else None,
        )
        if kept is None or kept > now:
            return plan
        due = latest_due(trigger, kept, now).astimezone(zone)
        grace = self._grace[edition.name]
        if grace is None or now - due <= timedelta(seconds=grace):
            return dataclasses.replace(plan, catching_up=due)
        return dataclasses.replace(plan, missed=due)

    def _on_event(self, event: JobEvent) -> None:
        """Runs in APScheduler's thread: logs what the scheduler decided, in the edition's words."""
        edition = _edition_of(event.job_id)
        now = datetime.now(UTC)
        if isinstance(event, JobSubmissionEvent) and event.code == EVENT_JOB_SUBMITTED:
            scheduled = event.scheduled_run_times[-1]
            with self._submission_seen:
                self._submitted[event.job_id] = scheduled
                self._submissions[event.job_id] += 1
                self._submission_seen.notify_all()
            grace = self._grace.get(edition)
            late = now - scheduled
            if late > CATCH_UP_NOTICE and (grace is None or late <= timedelta(seconds=grace)):
                log.info(
                    "edition %s: catching up the run of %s, missed while the scheduler was stopped",
                    edition,
                    _when(scheduled, self._zone(edition)),
                    extra=fields("catch-up", edition),
                )
        elif isinstance(event, JobSubmissionEvent) and event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning(
                "edition %s: the run of %s is skipped: the previous run is still going",
                edition,
                _when(event.scheduled_run_times[-1], self._zone(edition)),
                extra=fields("overlap", edition),
            )
        elif isinstance(event, JobExecutionEvent) and event.code == EVENT_JOB_MISSED:
            log.warning(
                "edition %s: the run of %s is not made: it is later than catch_up (%s) allows",
                edition,
                _when(event.scheduled_run_time, self._zone(edition)),
                self.config.editions[edition].catch_up if edition in self.config.editions else "?",
                extra=fields("missed", edition),
            )
        elif isinstance(event, JobExecutionEvent) and event.code == EVENT_JOB_ERROR:
            # run_edition never raises; this is a bug, reported rather than lost.
            log.error(
                "edition %s: the job raised %r", edition, event.exception, extra=fields("failed", edition)
            )

    def _zone(self, edition: str) -> ZoneInfo:
        config = self.config.editions.get(edition)
        return ZoneInfo(config.timezone if config else "UTC")


def _same_trigger(stored: Any, new: CronTrigger) -> bool:
    return isinstance(stored, CronTrigger) and (str(stored), str(stored.timezone)) == (
        str(new),
        str(new.timezone),
    )


def adopt_library_logs(handlers: list[logging.Handler], verbose: bool) -> None:
    """APScheduler's own log lines go where Digest's go; its routine chatter only with --verbose."""
    library = logging.getLogger("apscheduler")
    library.handlers[:] = handlers
    library.propagate = False
    library.setLevel(logging.DEBUG if verbose else logging.WARNING)
    # The executor's "missed by" warning says what the EVENT_JOB_MISSED line above says, less clearly.
    logging.getLogger("apscheduler.executors").setLevel(logging.DEBUG if verbose else logging.ERROR)


# --- the start-up table and the status ---------------------------------------------------------------


def _when(moment: datetime, zone: ZoneInfo) -> str:
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname()}"


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> str:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True))
        for row in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def format_plan(planned: list[PlannedRun]) -> str:
    """The start-up table of ``digest run``: each edition, its schedule and its next run."""
    rows = [(p.edition, p.schedule, p.timezone, p.catch_up, _next_run_text(p)) for p in planned]
    return _table(("edition", "schedule", "time zone", "catch-up", "next run"), rows)


def describe_plan(plan: PlannedRun) -> str:
    """One edition's line of the start-up table as a sentence (for ``--log-format json``)."""
    return (
        f"edition {plan.edition}: schedule {plan.schedule} ({plan.timezone}), catch-up {plan.catch_up}; "
        f"next run {_next_run_text(plan)}"
    )


def _next_run_text(plan: PlannedRun) -> str:
    zone = ZoneInfo(plan.timezone)
    following = _when(plan.next_run, zone) if plan.next_run else "never"
    if plan.catching_up is not None:
        return f"now: catching up {_when(plan.catching_up, zone)}; then {following}"
    if plan.missed is not None:
        return f"{following} (missed {_when(plan.missed, zone)}: later than catch_up allows)"
    return following


@dataclass(frozen=True)
class EditionStatus:
    """What ``digest status`` says of one edition."""

    edition: str
    title: str
    schedule: str
    timezone: str
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
        return {_edition_of(job.id): job.next_run_time for job in store.get_all_jobs()}
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
                cron_trigger(edition.schedule, edition.timezone).get_next_fire_time(None, now),
                False,
            )
        runs = state.runs.last_runs(edition.name, 1)
        statuses.append(
            EditionStatus(
                edition=edition.name,
                title=edition.title,
                schedule=edition.schedule,
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
    zone = ZoneInfo(status.timezone)
    lines = [f"{status.edition}: {status.title}", f"  schedule     {status.schedule} ({status.timezone})"]
    if status.next_run is None:
        next_run = "never (the schedule does not fire again)"
    elif not status.scheduled:
        next_run = f"{_when(status.next_run, zone)} by the schedule (digest run has not scheduled it yet)"
    elif status.next_run <= now:
        next_run = f"{_when(status.next_run, zone)}, overdue: made when digest run starts, if catch_up allows"
    else:
        next_run = _when(status.next_run, zone)
    lines.append(f"  next run     {next_run}")
    build = status.last_build
    lines.append(
        f"  last build   {_when(build.built_at, zone)}: issue {build.issue_id}, "
        f"{counted(build.stories, 'story', 'stories')}"
        if build
        else "  last build   none"
    )
    run = status.last_run
    lines.append(
        f"  last run     {_when(run.started_at, zone)}: {run.outcome}"
        f"{f' issue {run.issue_id}' if run.issue_id else ''}: {run.reason}"
        if run
        else "  last run     none"
    )
    if run is not None and run.send_error:
        lines.append(f"               sending failed: {run.send_error}")
    send = status.last_send
    lines.append(
        f"  last send    {_when(send.at, zone)}: issue {send.issue_id} "
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
            since = (
                f", last worked {_when(source.last_ok_at, zone)}" if source.last_ok_at else ", never worked"
            )
            lines.append(f"    {source.name}: failed {times}{since}")
            lines.append(f"      last error: {source.last_error}")
    return "\n".join(lines)
