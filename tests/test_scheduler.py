"""`digest run` and `digest status`: catch-up, sane runs, clean stop, status, logs.

Real parts throughout: APScheduler with its SQLAlchemy job store in a temporary SQLite state
database, the demo's feed files copied aside, the real pipeline. Time is driven, never waited
for: a "downtime" is a job stored with a next run time in the past (what a scheduler stopped
before its fire time leaves behind), and a second run is asked for with ``run_now``.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from click.testing import CliRunner
from httpserver import LoopbackServer
from smtpserver import LoopbackSmtp

from digest import resources
from digest.cli import main
from digest.config import Config, load_config
from digest.configvalues import CatchUp
from digest.schedule import cron_trigger, next_fire_times
from digest.scheduler import (
    JOBS_TABLE,
    EditionScheduler,
    PlannedRun,
    Runs,
    job_id,
    misfire_grace_time,
    run_edition,
)
from digest.state import RunRecord, State, state_url
from digest.status import format_plan

REPO = Path(__file__).resolve().parents[1]
DEMO_SOURCES = ("world.xml", "science.atom", "city.xml", "wire.rdf")
#: Bounds every wait for a run; a run of the demo takes a second or two.
WAIT_SECONDS = 60.0


# --- helpers -----------------------------------------------------------------------------------------


def write_config(
    root: Path,
    database_url: str,
    *,
    sources: list[str] | None = None,
    more_yaml: str = "",
    **settings: str | int,
) -> Config:
    """A feeds.yaml with one edition, ``paper``, over the demo's feeds copied into ``root``, its state
    (and job) store at ``database_url``; ``more_yaml`` is added to the edition as it is (indented
    under it)."""
    shutil.copytree(resources.demo(), root / "demo", dirs_exist_ok=True)
    urls = sources if sources is not None else [f"demo/{name}" for name in DEMO_SOURCES]
    lines = [
        f"database_url: {database_url}",
        "editions:",
        "  paper:",
        "    title: The Test Paper",
        "    lookback: all",
    ]
    lines += [f"    {key}: {json.dumps(value)}" for key, value in settings.items()]
    lines += ["    sources:", *(f"      - url: {json.dumps(url)}" for url in urls)]
    lines += [f"    {line}" for line in more_yaml.splitlines()]
    (root / "feeds.yaml").write_text("\n".join(lines) + "\n", "utf-8")
    config = load_config(root / "feeds.yaml")
    # Tables made before any thread polls them (creating them is not safe from two connections at once).
    State(state_url(config)).close()
    return config


def delivery_yaml(smtp_port: int, more: str = "") -> str:
    """The edition's ``delivery``, to subscribers.csv through the loopback SMTP server at ``smtp_port``."""
    return (
        "delivery:\n"
        '  from: "The Test Paper <paper@example.org>"\n'
        "  subscribers: subscribers.csv\n"
        "  unsubscribe: {secret_env: DIGEST_TEST_SECRET}\n"
        f"  smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none}}\n"
    ) + more


def hourly_in_the_past(now: datetime) -> str:
    """A daily schedule whose latest time was one to two hours ago (and next is ~22 hours away)."""
    return f"0 {(now.hour - 1) % 24} * * *"


def store_job(config: Config, next_run_time: datetime, schedule: str | None = None) -> None:
    """Leave the job store as a scheduler stopped before ``next_run_time`` would have left it."""
    edition = config.editions["paper"]
    scheduler = BackgroundScheduler(
        jobstores={"default": SQLAlchemyJobStore(url=state_url(config), tablename=JOBS_TABLE)}, timezone=UTC
    )
    scheduler.start(paused=True)
    scheduler.add_job(
        run_edition,
        cron_trigger(schedule or edition.schedule.expression, edition.timezone),
        id=job_id("paper"),
        kwargs={
            "config_path": str(config.path),
            "edition_name": "paper",
            "out_dir": str(config.folder / "out"),
        },
        next_run_time=next_run_time,
        coalesce=True,
        max_instances=1,
        misfire_grace_time=misfire_grace_time(edition.catch_up),
    )
    # Out before shutting down: APScheduler 3 processes due jobs once more as it shuts down.
    scheduler.remove_jobstore("default")
    scheduler.shutdown()


def runs(config: Config) -> list[RunRecord]:
    with State(state_url(config)) as state:
        return list(reversed(state.runs.last_runs("paper", 100)))


def wait_for(condition: Callable[[], bool], what: str, timeout: float = WAIT_SECONDS) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def issue_folders(config: Config) -> list[str]:
    edition_dir = config.folder / "out" / "paper"
    return sorted(p.name for p in edition_dir.iterdir() if p.is_dir()) if edition_dir.is_dir() else []


def hidden_leftovers(config: Config) -> list[str]:
    edition_dir = config.folder / "out" / "paper"
    return [p.name for p in edition_dir.iterdir() if p.name.startswith(".")] if edition_dir.is_dir() else []


@pytest.fixture
def events() -> Iterator[list[logging.LogRecord]]:
    """The records the ``digest`` logger emits (it does not propagate once the CLI has set it up)."""
    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    logger = logging.getLogger("digest")
    handler, level = Keep(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield records
    logger.removeHandler(handler)
    logger.setLevel(level)


def of_event(records: list[logging.LogRecord], event: str) -> list[logging.LogRecord]:
    return [r for r in records if getattr(r, "event", None) == event]


@pytest.fixture
def started() -> Iterator[Callable[[EditionScheduler], list[PlannedRun]]]:
    """Starts schedulers, and stops every one of them after the test, whatever happened."""
    schedulers: list[EditionScheduler] = []

    def start(scheduler: EditionScheduler) -> list[PlannedRun]:
        schedulers.append(scheduler)
        return scheduler.start()

    yield start
    for scheduler in schedulers:
        scheduler.stop(grace=WAIT_SECONDS)


# --- catch-up ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("catch_up", "seconds"),
    [("next", None), ("never", 1), (timedelta(hours=2), 7200), (timedelta(minutes=90), 5400)],
)
def test_catch_up_becomes_the_grace_time(catch_up: CatchUp, seconds: int | None) -> None:
    assert misfire_grace_time(catch_up) == seconds


@pytest.mark.slow
def test_a_run_missed_while_down_is_made_once_on_restart(
    tmp_path: Path,
    store_url: str,
    events: list[logging.LogRecord],
    started: Callable[[EditionScheduler], list[PlannedRun]],
) -> None:
    now = datetime.now(UTC)
    schedule = hourly_in_the_past(now)
    config = write_config(tmp_path, store_url, schedule=schedule, max_stories=50)
    # Down for three days: three fire times passed; coalescing must make one run of them, not three.
    (last_missed,) = [t for t in next_fire_times(schedule, "UTC", now - timedelta(days=1), 1)]
    store_job(config, last_missed - timedelta(days=2), schedule)

    scheduler = EditionScheduler(config, config.folder / "out")
    (plan,) = started(scheduler)

    assert plan.catching_up == last_missed
    wait_for(lambda: len(runs(config)) >= 1, "the catch-up run")
    time.sleep(1.0)  # room for a wrong second run to show up
    assert [r.outcome for r in runs(config)] == ["built"]
    assert issue_folders(config) == [runs(config)[0].issue_id]
    next_run = scheduler.next_run_time("paper")
    assert next_run is not None and next_run > now
    assert len(of_event(events, "catch-up")) == 1


@pytest.mark.parametrize("catch_up", ["never", "30m"])
def test_a_run_missed_by_more_than_catch_up_is_not_made(
    tmp_path: Path,
    store_url: str,
    catch_up: str,
    events: list[logging.LogRecord],
    started: Callable[[EditionScheduler], list[PlannedRun]],
) -> None:
    now = datetime.now(UTC)
    schedule = hourly_in_the_past(now)
    config = write_config(tmp_path, store_url, schedule=schedule, catch_up=catch_up)
    (last_missed,) = next_fire_times(schedule, "UTC", now - timedelta(days=1), 1)
    store_job(config, last_missed)

    scheduler = EditionScheduler(config, config.folder / "out")
    (plan,) = started(scheduler)

    assert plan.missed == last_missed and plan.catching_up is None
    wait_for(lambda: bool(of_event(events, "missed")), "the missed-run notice")
    assert runs(config) == [] and issue_folders(config) == []
    next_run = scheduler.next_run_time("paper")
    assert next_run is not None and next_run > now


def test_a_changed_schedule_starts_afresh(
    tmp_path: Path,
    store_url: str,
    events: list[logging.LogRecord],
    started: Callable[[EditionScheduler], list[PlannedRun]],
) -> None:
    now = datetime.now(UTC)
    config = write_config(tmp_path, store_url, schedule=hourly_in_the_past(now))
    store_job(config, now - timedelta(hours=5), schedule="15 3 * * *")

    (plan,) = started(EditionScheduler(config, config.folder / "out"))

    assert plan.catching_up is None and plan.missed is None
    assert plan.next_run is not None and plan.next_run > now
    assert of_event(events, "rescheduled")


def test_jobs_of_editions_gone_from_the_config_are_removed(
    tmp_path: Path, store_url: str, started: Callable[[EditionScheduler], list[PlannedRun]]
) -> None:
    config = write_config(tmp_path, store_url)
    store_job(config, datetime.now(UTC) + timedelta(days=1))
    config.path.write_text(config.path.read_text("utf-8").replace("  paper:", "  other:"), "utf-8")
    renamed = load_config(config.path)

    started(EditionScheduler(renamed, tmp_path / "out"))

    store = SQLAlchemyJobStore(url=state_url(config), tablename=JOBS_TABLE)
    store.start(BackgroundScheduler(timezone=UTC), "default")
    try:
        assert [job.id for job in store.get_all_jobs()] == [job_id("other")]
    finally:
        store.shutdown()


def test_the_start_up_table_names_each_edition_and_its_next_run() -> None:
    zone_time = datetime(2026, 3, 30, 5, 0, tzinfo=UTC)
    planned = [
        PlannedRun(
            "morning", "0 7 * * 1-5", ZoneInfo("Europe/Berlin"), "next", zone_time, catching_up=zone_time
        ),
        PlannedRun("evening", "0 18 * * *", ZoneInfo("UTC"), "never", zone_time + timedelta(hours=13)),
    ]
    assert format_plan(planned).splitlines() == [
        "edition  schedule     time zone      catch-up  next run",
        "morning  0 7 * * 1-5  Europe/Berlin  next      now: catching up 2026-03-30 07:00 CEST; "
        "then 2026-03-30 07:00 CEST",
        "evening  0 18 * * *   UTC            never     2026-03-30 18:00 UTC",
    ]


# --- sane runs ---------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_failing_run_is_logged_and_the_scheduler_goes_on(
    tmp_path: Path,
    store_url: str,
    events: list[logging.LogRecord],
    started: Callable[[EditionScheduler], list[PlannedRun]],
) -> None:
    config = write_config(tmp_path, store_url, sources=["feeds/late.xml"], max_stories=50)
    scheduler = EditionScheduler(config, config.folder / "out")
    started(scheduler)

    scheduler.run_now("paper")
    wait_for(lambda: len(runs(config)) == 1, "the first run")
    (tmp_path / "feeds").mkdir()
    shutil.copy(resources.demo() / "world.xml", tmp_path / "feeds" / "late.xml")
    scheduler.run_now("paper")
    wait_for(lambda: len(runs(config)) == 2, "the second run")

    failed, built = runs(config)
    assert failed.outcome == "failed" and "every source failed" in failed.reason
    assert built.outcome == "built" and issue_folders(config) == [built.issue_id]
    (failure_line,) = of_event(events, "failed")
    assert failure_line.levelno == logging.ERROR and "every source failed" in failure_line.getMessage()
    assert getattr(failure_line, "edition", None) == "paper"


@pytest.mark.slow
def test_nothing_new_builds_nothing_and_says_so(
    tmp_path: Path, store_url: str, events: list[logging.LogRecord]
) -> None:
    config = write_config(tmp_path, store_url, max_stories=50)
    for _ in range(2):
        run_edition(str(config.path), "paper", str(tmp_path / "out"))

    first, second = runs(config)
    assert first.outcome == "built"
    assert second.outcome == "skipped" and second.reason.startswith("nothing new")
    assert len(issue_folders(config)) == 1
    (skipped,) = of_event(events, "skipped")
    assert "edition paper: skipped: nothing new" in skipped.getMessage()


def test_a_run_told_to_stop_writes_nothing_and_is_recorded_as_stopped(
    tmp_path: Path, store_url: str, events: list[logging.LogRecord]
) -> None:
    config = write_config(tmp_path, store_url, max_stories=50)
    told = Runs()
    told.stop.set()
    run_edition(str(config.path), "paper", str(tmp_path / "out"), runs=told)
    (stopped,) = runs(config)
    assert stopped.outcome == "stopped" and issue_folders(config) == []
    assert told.abandoned() == {"paper"}
    # Another scheduler's runs (here: a run on its own) answer to their own stop, not to this one.
    run_edition(str(config.path), "paper", str(tmp_path / "out"))
    assert [r.outcome for r in runs(config)] == ["stopped", "built"]


def test_fewer_than_min_stories_builds_nothing_and_says_so(
    tmp_path: Path, store_url: str, events: list[logging.LogRecord]
) -> None:
    config = write_config(tmp_path, store_url, min_stories=40, max_stories=50)
    run_edition(str(config.path), "paper", str(tmp_path / "out"))

    (run,) = runs(config)
    assert run.outcome == "skipped" and "fewer than min_stories" in run.reason
    assert issue_folders(config) == []
    (skipped,) = of_event(events, "skipped")
    assert "fewer than min_stories" in skipped.getMessage()


def test_a_config_gone_bad_fails_the_run_without_raising(
    tmp_path: Path, store_url: str, events: list[logging.LogRecord]
) -> None:
    config = write_config(tmp_path, store_url)
    config.path.write_text("editions: [\n", "utf-8")

    run_edition(str(config.path), "paper", str(tmp_path / "out"))

    (failure,) = of_event(events, "failed")
    assert str(config.path) in failure.getMessage() and "not valid YAML" in failure.getMessage()


@pytest.mark.slow
def test_a_built_issue_is_sent_once_where_delivery_is_set(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, events: list[logging.LogRecord]
) -> None:
    monkeypatch.setenv("DIGEST_TEST_SECRET", "a secret for the unsubscribe links of this test")
    (tmp_path / "subscribers.csv").write_text("email,name\nann@example.org,Ann\nbob@example.org,Bob\n")
    with LoopbackSmtp() as smtp:
        config = write_config(tmp_path, store_url, max_stories=50, more_yaml=delivery_yaml(smtp.port))
        for _ in range(2):  # the second run finds nothing new: nothing is built, nothing sent again
            run_edition(str(config.path), "paper", str(tmp_path / "out"))
        copies = smtp.copies()

    assert copies == {"ann@example.org": 1, "bob@example.org": 1}
    built, skipped = runs(config)
    assert (built.outcome, built.recipients, built.send_error) == ("built", 2, None)
    assert skipped.outcome == "skipped" and skipped.recipients is None
    (sent,) = of_event(events, "sent")
    assert getattr(sent, "issue", None) == built.issue_id and "sent to 2 subscribers" in sent.getMessage()
    status = CliRunner().invoke(main, ["status", "--config", str(config.path)], catch_exceptions=False)
    assert "last send    " in status.stdout and f"issue {built.issue_id} to 2 subscribers" in status.stdout


# --- status ------------------------------------------------------------------------------------------


def test_status_shows_a_failing_source_with_its_streak_and_error(tmp_path: Path, store_url: str) -> None:
    config = write_config(tmp_path, store_url, sources=["demo/world.xml", "demo/gone.xml"], max_stories=50)
    for _ in range(3):
        run_edition(str(config.path), "paper", str(tmp_path / "out"))

    result = CliRunner().invoke(main, ["status", "--config", str(config.path)], catch_exceptions=False)

    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "paper: The Test Paper" in out
    issue_id = runs(config)[0].issue_id
    assert "last build   " in out and f"issue {issue_id}" in out
    assert "last run     " in out and "skipped: nothing new" in out
    assert "1 failing:" in out
    assert "failed 3 times in a row, never worked" in out
    assert f"last error: {tmp_path / 'demo' / 'gone.xml'}: no such file" in out
    assert "by the schedule (digest run has not scheduled it yet)" in out


def test_status_forgets_a_streak_once_the_source_works(tmp_path: Path, store_url: str) -> None:
    config = write_config(
        tmp_path, store_url, sources=["demo/world.xml", "demo/late.xml"], min_stories=40, max_stories=50
    )
    run_edition(str(config.path), "paper", str(tmp_path / "out"))
    shutil.copy(tmp_path / "demo" / "city.xml", tmp_path / "demo" / "late.xml")
    run_edition(str(config.path), "paper", str(tmp_path / "out"))

    with State(state_url(config)) as state:
        assert state.fetch.failing_sources("paper") == []
    result = CliRunner().invoke(main, ["status", "--config", str(config.path)], catch_exceptions=False)
    assert "every source worked in its latest fetch" in result.stdout


# --- a clean stop, in a real process -----------------------------------------------------------------


def slow_feed(server: LoopbackServer) -> str:
    """An RSS feed that takes about three seconds to arrive."""
    body = (
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>Slow Desk</title>'
        b"<link>http://127.0.0.1/</link><description>d</description><item><title>A slow item</title>"
        b"<link>http://127.0.0.1/slow-item</link><guid>slow-item</guid>"
        b"<pubDate>Mon, 23 Nov 2026 08:00:00 GMT</pubDate>"
        b"<description>The slow desk reports that the ferry timetable changes next week.</description>"
        b"</item></channel></rss>"
    )
    return server.slow("/slow.xml", body, chunk_size=len(body) // 30 + 1, interval=0.1)


@pytest.mark.slow
def test_sigterm_during_a_run_stops_cleanly_and_the_next_start_makes_the_run(
    tmp_path: Path,
    store_url: str,
    http_server: LoopbackServer,
    started: Callable[[EditionScheduler], list[PlannedRun]],
) -> None:
    now = datetime.now(UTC)
    schedule = hourly_in_the_past(now)
    sources = [f"demo/{name}" for name in DEMO_SOURCES] + [slow_feed(http_server)]
    config = write_config(tmp_path, store_url, sources=sources, schedule=schedule, max_stories=50)
    (last_missed,) = next_fire_times(schedule, "UTC", now - timedelta(days=1), 1)
    store_job(config, last_missed)  # so the run starts as soon as the scheduler does

    process = subprocess.Popen(
        [sys.executable, "-m", "digest", "run", "--config", str(config.path), "--log-format", "json"],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    lines: list[str] = []
    run_started = threading.Event()

    def read_stderr() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            lines.append(line)
            if '"event": "run-started"' in line:
                run_started.set()

    reader = threading.Thread(target=read_stderr, daemon=True)
    reader.start()
    try:
        assert run_started.wait(WAIT_SECONDS), "".join(lines)
        signalled = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0, "".join(lines)
        assert time.monotonic() - signalled < 10
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    reader.join(timeout=5)

    records = [json.loads(line) for line in lines]  # every line of --log-format json is one object
    assert {"planned", "started", "run-started", "stopping", "stopped"} <= {r.get("event") for r in records}
    assert all({"time", "level", "message"} <= r.keys() for r in records)
    assert hidden_leftovers(config) == []
    (stopped,) = runs(config)
    assert stopped.outcome == "stopped" and issue_folders(config) == []
    with State(state_url(config)) as state:
        assert state.issues.last_issue("paper") is None

    # The next start makes the run the signal interrupted, once.
    scheduler = EditionScheduler(config, config.folder / "out")
    (plan,) = started(scheduler)
    assert plan.catching_up == last_missed
    wait_for(lambda: len(runs(config)) == 2, "the resumed run")
    assert [r.outcome for r in runs(config)] == ["stopped", "built"]
    with State(state_url(config)) as state:
        last = state.issues.last_issue("paper")
    assert last is not None and issue_folders(config) == [last.issue_id]
    assert hidden_leftovers(config) == []
