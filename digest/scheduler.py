"""``digest run`` and ``digest status``: each edition built (and sent) on its schedule, unattended.

(``digest/schedule.py`` turns cron into APScheduler triggers; this module runs them. They are
apart because config.py checks schedules with schedule.py, and this module needs the config,
the state store and the pipeline, which all import config.py.)

The method:

1. **Jobs.** One APScheduler 3 cron job per edition, id ``edition:<name>``, its trigger
   the edition's parsed schedule made into a trigger in its time zone (the trigger keeps local
   times across daylight-saving changes). The jobs live in a
   ``SQLAlchemyJobStore`` (table ``scheduled_jobs``) in the state database, so each edition's
   next run time outlives the process. A job calls ``run_edition(config_path, edition,
   out_dir)``, a module-level function the store keeps by reference; the scheduler's own
   executor hands it the scheduler's ``Runs`` (what is running, and the stop event) as it
   starts it, so nothing of a scheduler lives in the module. Every run reads feeds.yaml again,
   so a change of sources applies at the next run (a change of schedule at the next start).
2. **Catch-up.** At start the jobs are installed again from the config. A stored job whose trigger
   is unchanged keeps its stored next run time even when that time has passed (the scheduler was
   down at the time), or takes the time of a run taken on and never finished (its scheduler killed
   while making it, as the run's build lease says): APScheduler then makes that run at once if it
   is late by no more than the job's ``misfire_grace_time``, and ``coalesce=True`` makes it once
   however many times were missed. ``catch_up`` gives the grace time:

   - ``next`` (the default): None, i.e. no limit. Coalescing always makes the *latest* missed
     time, and the scheduled time after that one is still to come; so "no limit" is exactly
     "until the next scheduled time", however irregular the schedule (Friday to Monday).
   - a duration (``2h``): its seconds.
   - ``never``: 1 second, APScheduler's smallest (it takes no 0).

   A job whose schedule or time zone changed starts afresh from now; a job of an edition no
   longer in the config is removed.

   Several schedulers may share one state store (and its job store): each run is made by the one
   that takes its build lease, keyed by edition and scheduled time (digest/buildlease.py); the
   others log who has it and watch, to take it over should that one die.
3. **One run at a time.** ``max_instances=1`` per edition: a time that comes while the edition's
   previous run is still going is skipped (and logged). Editions run side by side, in threads.
4. **A run** builds with ``pipeline.build_edition`` and, when an issue was built and the edition
   has ``delivery``, sends it (the delivery ledger makes the send exactly-once). Its outcome,
   ``built``, ``skipped`` (nothing new, or fewer than ``min_stories``), ``failed`` (with the
   reason) or ``stopped``, is logged in one line and kept in the ``runs`` table; a run never
   raises into the scheduler, which goes on.
5. **Stopping** (``EditionScheduler.stop``): the scheduler is paused, so no run starts, and the
   stop event is set. A build checks it after fetching and after condensing and gives up there,
   before anything is written (``BuildStopped``); one already writing completes (the issue folder
   appears whole, then the state records it). After at most ``grace`` seconds the scheduler shuts
   down. A run that gave up has its scheduled time put back as its job's next run time, so the next
   start catches it up, once.
6. **Status** (digest/status.py) reads, per edition: the last issue built (by ``digest run``
   or ``digest build``), the last run and its outcome, the last send (the delivery ledger), the
   next run time (the job store, else the schedule), and the sources whose latest fetch failed,
   with how many fetches in a row failed and the last error (``source_health``, updated by every
   build).

Log lines name the edition and issue in their text and, for ``--log-format json``, in the fields
``edition`` and ``issue``, with ``event`` saying what happened (see digest/logs.py).
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import logging
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

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
from apscheduler.job import Job
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger

from digest import buildlease, pipeline
from digest.condense import available as condenser_names
from digest.config import Config, EditionConfig, load_config
from digest.configvalues import CatchUp, format_duration
from digest.errors import BuildStopped, DigestError
from digest.logs import fields
from digest.schedule import local_time
from digest.state import (
    BuildLease,
    RunOutcome,
    RunRecord,
    State,
    masked,
    state_url,
)
from digest.text import counted
from digest.workers import PdfRenderer, Workers

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


# --- catch-up ----------------------------------------------------------------------------------------


def misfire_grace_time(catch_up: CatchUp) -> int | None:
    """An edition's ``catch_up`` -> APScheduler's ``misfire_grace_time`` (seconds; None: no limit)."""
    if catch_up == "next":
        return None
    if catch_up == "never":
        return NEVER_GRACE_SECONDS
    return max(int(catch_up.total_seconds()), NEVER_GRACE_SECONDS)


def describe_catch_up(catch_up: CatchUp) -> str:
    """``catch_up`` as the config writes it."""
    return catch_up if isinstance(catch_up, str) else format_duration(catch_up)


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


def edition_of(job: str) -> str:
    return job.removeprefix(JOB_PREFIX)


# --- the runs in progress ---------------------------------------------------------------------------


class Runs:
    """Which editions one scheduler is running now, which gave up, and the stop they all obey."""

    def __init__(self) -> None:
        #: Set when the scheduler stops: builds check it and give up before writing anything.
        self.stop = threading.Event()
        self._changed = threading.Condition()
        self._running: set[str] = set()
        self._abandoned: set[str] = set()
        #: Runs started per edition; the scheduler compares them with its submissions.
        self._starts: Counter[str] = Counter()
        #: The started scheduler's worker processes and PDF renderer, which every run builds with.
        self.workers: Workers | None = None
        self.renderer: PdfRenderer | None = None

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


class _RunsExecutor(ThreadPoolExecutor):  # type: ignore[misc]  # APScheduler 3 has no type hints
    """APScheduler's thread pool, handing each job its scheduler's ``Runs``.

    The job store keeps a job's function by reference and its arguments pickled, so a live
    object cannot be stored with it: it is added to the arguments here, as the job starts, with
    the run's scheduled time (the key of its build lease).
    """

    def __init__(self, runs: Runs, max_workers: int) -> None:
        super().__init__(max_workers=max_workers)
        self._runs = runs

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        handed = copy.copy(job)
        handed.kwargs = {**job.kwargs, "runs": self._runs, "scheduled": run_times[-1]}
        handed._jobstore_alias = job._jobstore_alias
        super()._do_submit_job(handed, run_times)


# --- one run -----------------------------------------------------------------------------------------


def run_edition(
    config_path: str,
    edition_name: str,
    out_dir: str,
    runs: Runs | None = None,
    scheduled: datetime | None = None,
) -> None:
    """The job: build (and send) one edition now. Logs and records every outcome; never raises.

    ``runs`` is the scheduler's (its executor passes it); called on its own, the run answers to no stop.
    ``scheduled``, the run's scheduled time, makes it the run of that time across the schedulers
    sharing the store (digest/buildlease.py): made here only if this scheduler takes its lease.
    """
    started = datetime.now(UTC)
    runs = runs or Runs()
    with runs.running(edition_name):
        log.info("edition %s: run started", edition_name, extra=fields("run-started", edition_name))
        try:
            config = load_config(Path(config_path), backends=condenser_names)
            edition = config.editions.get(edition_name)
            if edition is None:
                raise DigestError(f"{config_path}: edition {edition_name!r} is gone from the config")
            with State.of(config) as state:
                if scheduled is None:
                    state.runs.record_run(_run(config, edition, state, Path(out_dir), started, runs))
                    return
                with buildlease.scheduled_run(state, edition, scheduled, runs.stop) as held:
                    if held is None:
                        return  # made by another scheduler (logged)
                    record = _run(config, edition, state, Path(out_dir), started, runs, held)
                    state.runs.record_run(record)
                    if record.outcome != "stopped":
                        held.finish()
        except DigestError as err:
            # Without a config or a state store the run cannot be recorded: the log line is all there is.
            _log_outcome(_failed(edition_name, started, str(err)))
        except Exception as err:
            _log_outcome(_failed(edition_name, started, _unexpected(err)))
            log.debug("edition %s: the run failed unexpectedly", edition_name, exc_info=True)


def _run(
    config: Config,
    edition: EditionConfig,
    state: State,
    out_dir: Path,
    started: datetime,
    runs: Runs,
    held: buildlease.HeldRun | None = None,
) -> RunRecord:
    """Build and send; every outcome as a RunRecord (already logged). A run taken over from a
    scheduler that built its issue and stopped sends that issue instead."""
    if held is not None and held.built_issue is not None:
        return _resume_send(config, edition, state, out_dir, started, held.built_issue)
    try:
        pipeline.check_stop(runs.stop)
        result = _build(config, edition, state, out_dir, started, runs)
    except BuildStopped:
        runs.abandon(edition.name)
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
    if held is not None:
        held.built(issue_id)
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


def _build(
    config: Config, edition: EditionConfig, state: State, out_dir: Path, started: datetime, runs: Runs
) -> pipeline.BuildResult:
    """The build of a run, with the scheduler's workers and renderer (its own outside a scheduler),
    just as ``digest build`` builds."""
    with contextlib.ExitStack() as own:
        workers = runs.workers or own.enter_context(Workers())
        renderer = runs.renderer or own.enter_context(PdfRenderer())
        return pipeline.build_edition(
            config,
            edition,
            state,
            out_dir=out_dir,
            now=started,
            stop=runs.stop,
            map=workers.map,
            renderer=renderer,
        )


def _resume_send(
    config: Config, edition: EditionConfig, state: State, out_dir: Path, started: datetime, issue_id: str
) -> RunRecord:
    """The send of an issue another scheduler built in this run and did not finish sending."""
    reason = f"issue {issue_id}, built by another scheduler, which stopped; sending it"
    record = _log_outcome(_record(edition.name, started, "built", reason, issue_id=issue_id))
    recipients, send_error = _send(config, edition, state, out_dir / edition.name / issue_id, issue_id)
    return dataclasses.replace(record, recipients=recipients, send_error=send_error)


def _send(
    config: Config, edition: EditionConfig, state: State, issue_dir: Path, issue_id: str
) -> tuple[int | None, str | None]:
    """Send the new issue where delivery is configured: (recipients, None) or (None, error)."""
    context = fields("sent", edition.name, issue_id)
    if edition.delivery is None:
        return None, None
    try:
        report = pipeline.send_issue(config, edition, state, issue_dir)
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
    timezone: tzinfo
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
        self.runs = Runs()
        self._grace = {name: misfire_grace_time(e.catch_up) for name, e in config.editions.items()}
        #: job id -> the scheduled time of its latest run handed to the executor.
        self._submitted: dict[str, datetime] = {}
        #: job id -> how many runs this scheduler handed to the executor.
        self._submissions: Counter[str] = Counter()
        self._submission_seen = threading.Condition()
        #: edition -> its scheduled runs whose build lease was taken and never finished, read at start.
        self._unfinished: dict[str, list[BuildLease]] = {}
        self._scheduler = BackgroundScheduler(
            jobstores={"default": SQLAlchemyJobStore(url=state_url(config), tablename=JOBS_TABLE)},
            executors={"default": _RunsExecutor(self.runs, max_workers=len(config.editions))},
            timezone=UTC,
        )
        self._scheduler.add_listener(
            self._on_event, EVENT_JOB_SUBMITTED | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES | EVENT_JOB_ERROR
        )

    def start(self) -> list[PlannedRun]:
        """Install the jobs (keeping stored next run times) and start; what each edition will do."""
        # The tables made once, here: runs starting together in threads would race to create them.
        with State.of(self.config) as state:
            self._unfinished = {name: state.build_leases.unfinished(name) for name in self.config.editions}
        self.runs.workers, self.runs.renderer = Workers().__enter__(), PdfRenderer().__enter__()
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
        self.runs.stop.set()
        still_running = self.runs.wait_idle(grace)
        for edition in sorted(self.runs.abandoned()):
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
        for processes in (self.runs.workers, self.runs.renderer):
            if processes is not None:
                processes.close()
        self.runs.workers = self.runs.renderer = None
        log.info("scheduler stopped", extra=fields("stopped"))
        return not still_running

    def _scheduled_time_of_latest_run(self, edition: str) -> datetime | None:
        """The scheduled time of the edition's latest run. APScheduler tells it (the submission event)
        only after the run has started, from its own thread: on a busy machine a run may start, be
        stopped and give up before that event arrives, so wait for it (bounded)."""
        key = job_id(edition)
        started_here = self.runs.starts(edition)
        with self._submission_seen:
            self._submission_seen.wait_for(lambda: self._submissions[key] >= started_here, SUBMISSION_WAIT)
            return self._submitted.get(key)

    def _install(self, now: datetime) -> list[PlannedRun]:
        for job in self._scheduler.get_jobs():
            if job.id.startswith(JOB_PREFIX) and edition_of(job.id) not in self.config.editions:
                log.info("edition %s is no longer in the config: its job is removed", edition_of(job.id))
                self._scheduler.remove_job(job.id)
        return [self._install_edition(edition, now) for edition in self.config.editions.values()]

    def _install_edition(self, edition: EditionConfig, now: datetime) -> PlannedRun:
        trigger = edition.schedule.trigger(edition.timezone)
        stored = self._scheduler.get_job(job_id(edition.name))
        kept: datetime | None = None
        if stored is not None and stored.next_run_time is not None:
            if _same_trigger(stored.trigger, trigger):
                kept = stored.next_run_time
                # A run taken on and never finished (its scheduler killed) is made again, like a
                # run missed while down; its lease goes to whoever makes it (digest/buildlease.py).
                left = self._unfinished.get(edition.name)
                if left and left[-1].fire_time < kept:
                    kept = left[-1].fire_time
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
        zone = edition.timezone
        upcoming: datetime | None = trigger.get_next_fire_time(None, now)
        plan = PlannedRun(
            edition=edition.name,
            schedule=str(edition.schedule),
            timezone=zone,
            catch_up=describe_catch_up(edition.catch_up),
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
        edition = edition_of(event.job_id)
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
                    local_time(scheduled, self._zone(edition)),
                    extra=fields("catch-up", edition),
                )
        elif isinstance(event, JobSubmissionEvent) and event.code == EVENT_JOB_MAX_INSTANCES:
            log.warning(
                "edition %s: the run of %s is skipped: the previous run is still going",
                edition,
                local_time(event.scheduled_run_times[-1], self._zone(edition)),
                extra=fields("overlap", edition),
            )
        elif isinstance(event, JobExecutionEvent) and event.code == EVENT_JOB_MISSED:
            log.warning(
                "edition %s: the run of %s is not made: it is later than catch_up (%s) allows",
                edition,
                local_time(event.scheduled_run_time, self._zone(edition)),
                describe_catch_up(self.config.editions[edition].catch_up)
                if edition in self.config.editions
                else "?",
                extra=fields("missed", edition),
            )
        elif isinstance(event, JobExecutionEvent) and event.code == EVENT_JOB_ERROR:
            # run_edition never raises; this is a bug, reported rather than lost.
            log.error(
                "edition %s: the job raised %r", edition, event.exception, extra=fields("failed", edition)
            )

    def _zone(self, edition: str) -> tzinfo:
        config = self.config.editions.get(edition)
        return config.timezone if config else UTC


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
