"""Schedulers sharing one state store: each scheduled run is made once (the build lease).

Real parts throughout: two ``digest run`` processes on one store (an SQLite file, then a
database on the PostgreSQL test cluster), the demo's feeds as local files (and one slow feed
over loopback HTTP, so that a build lasts long enough to be killed in), delivery to the
in-process SMTP server. A run is made to fire soon by storing the edition's job with its next run
time a little ahead (what a scheduler running before leaves in the job store); the processes are
stopped with SIGTERM, or killed, by the test.

Two schedulers reach a run together only when both read the job before either has moved its
next run time on: they wake at the same instant, and which reads first is up to the machine. So
as not to leave the contest to chance, the test holds the job's row locked for writing across the
scheduled time: both schedulers read the due job and start the run, and neither can move it on
until the test lets go, once both have started (at most a few seconds: SQLite's default wait in
APScheduler's job store is five).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpserver import LoopbackServer
from smtpserver import LoopbackSmtp
from sqlalchemy import create_engine, text
from test_scheduler import DEMO_SOURCES, REPO, delivery_yaml, slow_feed, store_job, write_config

from digest.buildlease import holder_name, scheduled_run
from digest.config import Config
from digest.scheduler import JOBS_TABLE, EditionScheduler, job_id
from digest.state import State, state_url

SUBSCRIBERS = ("ann@example.org", "bob@example.org", "cy@example.org")
#: How far ahead the run is scheduled: time for both processes to start, on a busy machine.
LEAD = timedelta(seconds=25)
#: Bounds every wait for a process to say something.
WAIT_SECONDS = 90.0
#: The longest the job's row is held locked after the scheduled time (see the module docstring).
HOLD_SECONDS = 3.5


class Scheduler:
    """A ``digest run`` process, its JSON log lines read as they come."""

    def __init__(self, config: Config) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "digest", "run", "--config", str(config.path), "--log-format", "json"],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            start_new_session=True,  # its own process group: killing it kills its workers too
        )
        self.records: list[dict[str, Any]] = []
        self.lines: list[str] = []
        self._seen = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            with self._seen:
                self.lines.append(line)
                if line.startswith("{"):
                    self.records.append(json.loads(line))
                self._seen.notify_all()

    def events(self, event: str) -> list[dict[str, Any]]:
        with self._seen:
            return [r for r in self.records if r.get("event") == event]

    def wait_for(self, event: str, timeout: float = WAIT_SECONDS) -> dict[str, Any]:
        with self._seen:
            if not self._seen.wait_for(
                lambda: bool(self.events(event)) or self.process.poll() is not None, timeout
            ):
                raise AssertionError(f"timed out waiting for {event!r}:\n{''.join(self.lines)}")
            found = self.events(event)
            assert found, f"the scheduler ended before {event!r}:\n{''.join(self.lines)}"
            return found[0]

    def stop(self) -> int:
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=60)
        self._reader.join(timeout=5)
        return code

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def end(self) -> None:
        """Whatever happened: the process (and its group) gone."""
        if self.process.poll() is None:
            self.kill()


@pytest.fixture
def schedulers() -> Iterator[list[Scheduler]]:
    """Started ``digest run`` processes, each ended after the test whatever happened."""
    started: list[Scheduler] = []
    yield started
    for scheduler in started:
        scheduler.end()


def shared_config(root: Path, store_url: str, smtp: LoopbackSmtp, sources: list[str] | None = None) -> Config:
    (root / "subscribers.csv").write_text("email\n" + "".join(f"{a}\n" for a in SUBSCRIBERS), "utf-8")
    delivery = delivery_yaml(smtp.port, "  lease_timeout: 2\n")
    now = datetime.now(UTC)
    # Daily, at an hour well away from now: the one run in the test is the stored one.
    schedule = f"0 {(now.hour + 12) % 24} * * *"
    return write_config(
        root, store_url, sources=sources, schedule=schedule, max_stories=50, more_yaml=delivery
    )


def issue_folders(config: Config) -> list[str]:
    """The issue folders in place (not the hidden ones a killed build leaves aside)."""
    edition_dir = config.folder / "out" / "paper"
    return sorted(p.name for p in edition_dir.iterdir() if p.is_dir() and not p.name.startswith("."))


def contested_run(config: Config, fire_time: datetime, contenders: list[Scheduler]) -> None:
    """Hold the job's row locked across ``fire_time`` until every contender has started the run."""
    for scheduler in contenders:
        scheduler.wait_for("started")
    assert datetime.now(UTC) < fire_time, "the schedulers took longer than LEAD to start"
    engine = create_engine(state_url(config))
    try:
        with engine.connect() as conn:
            held = conn.begin()
            locked = conn.execute(
                text(f"UPDATE {JOBS_TABLE} SET next_run_time = next_run_time WHERE id = :id"),
                {"id": job_id("paper")},
            )
            assert locked.rowcount == 1
            try:
                wait = (fire_time - datetime.now(UTC)).total_seconds() + HOLD_SECONDS
                deadline = time.monotonic() + wait
                while time.monotonic() < deadline and not all(s.events("run-started") for s in contenders):
                    time.sleep(0.05)
            finally:
                held.rollback()
    finally:
        engine.dispose()
    for scheduler in contenders:
        scheduler.wait_for("run-started")


def the_watcher(contenders: list[Scheduler]) -> tuple[Scheduler, Scheduler, str]:
    """(the scheduler that found the run taken, the one that took it, the holder it named)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not any(s.events("run-held-elsewhere") for s in contenders):
        assert time.monotonic() < deadline, "no scheduler found the run taken:\n" + "".join(
            "".join(s.lines) for s in contenders
        )
        time.sleep(0.05)
    (watcher,) = [s for s in contenders if s.events("run-held-elsewhere")]
    (holder_process,) = [s for s in contenders if s is not watcher]
    message = watcher.events("run-held-elsewhere")[0]["message"]
    return watcher, holder_process, message.split("another scheduler (")[1].split(",")[0]


def pid_of(holder: str) -> int:
    """The process id in a holder's name (``host:pid:token``)."""
    return int(holder.split(":")[-2])


@pytest.mark.slow
def test_two_schedulers_build_and_send_each_scheduled_run_once(
    tmp_path: Path, store_url: str, monkeypatch: pytest.MonkeyPatch, schedulers: list[Scheduler]
) -> None:
    monkeypatch.setenv("DIGEST_TEST_SECRET", "a secret for the unsubscribe links of this test")
    with LoopbackSmtp() as smtp:
        config = shared_config(tmp_path, store_url, smtp)
        fire_time = (datetime.now(UTC) + LEAD).replace(microsecond=0)
        store_job(config, fire_time)
        schedulers += [Scheduler(config), Scheduler(config)]

        contested_run(config, fire_time, schedulers)
        watcher, builder, holder = the_watcher(schedulers)
        builder.wait_for("sent")
        made = watcher.wait_for("run-made-elsewhere")
        codes = [s.stop() for s in schedulers]
        copies = smtp.copies()

    assert codes == [0, 0]
    assert issue_folders(config) == [made["issue"]]
    assert copies == dict.fromkeys(SUBSCRIBERS, 1)
    # The one that skipped says which run, and whose: the other process.
    (held,) = watcher.events("run-held-elsewhere")
    assert pid_of(holder) == builder.process.pid
    assert f"{fire_time:%H:%M}" in held["message"] and "edition paper" in held["message"]
    assert "made it" in made["message"] and holder in made["message"]
    assert builder.events("run-held-elsewhere") == [] and watcher.events("built") == []
    with State(state_url(config)) as state:
        (run,) = state.runs.last_runs("paper", 10)
        lease = state.build_leases.lease("paper", fire_time)
    assert (run.outcome, run.recipients, run.issue_id) == ("built", 3, made["issue"])
    assert lease is not None and lease.done_at is not None and lease.holder == holder


@pytest.mark.slow
def test_a_run_whose_scheduler_is_killed_is_taken_over_by_the_other(
    tmp_path: Path,
    store_url: str,
    http_server: LoopbackServer,
    monkeypatch: pytest.MonkeyPatch,
    schedulers: list[Scheduler],
) -> None:
    monkeypatch.setenv("DIGEST_TEST_SECRET", "a secret for the unsubscribe links of this test")
    sources = [f"demo/{name}" for name in DEMO_SOURCES] + [slow_feed(http_server)]
    with LoopbackSmtp() as smtp:
        config = shared_config(tmp_path, store_url, smtp, sources)
        fire_time = (datetime.now(UTC) + LEAD).replace(microsecond=0)
        store_job(config, fire_time)
        schedulers += [Scheduler(config), Scheduler(config)]

        contested_run(config, fire_time, schedulers)
        watcher, holder_process, holder = the_watcher(schedulers)
        assert pid_of(holder) == holder_process.process.pid
        holder_process.kill()  # in the middle of its build: the slow feed takes three seconds

        taken = watcher.wait_for("run-taken-over")
        watcher.wait_for("sent")
        assert watcher.stop() == 0
        copies = smtp.copies()

    assert holder_process.events("built") == []
    assert holder in taken["message"] and f"{fire_time:%H:%M}" in taken["message"]
    (folder,) = issue_folders(config)
    assert copies == dict.fromkeys(SUBSCRIBERS, 1)
    with State(state_url(config)) as state:
        (run,) = state.runs.last_runs("paper", 10)
    assert (run.outcome, run.issue_id, run.recipients) == ("built", folder, 3)


@pytest.mark.slow
def test_a_run_left_by_a_killed_scheduler_is_made_by_the_next_start(
    tmp_path: Path, store_url: str, http_server: LoopbackServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DIGEST_TEST_SECRET", "a secret for the unsubscribe links of this test")
    sources = [f"demo/{name}" for name in DEMO_SOURCES] + [slow_feed(http_server)]
    with LoopbackSmtp() as smtp:
        config = shared_config(tmp_path, store_url, smtp, sources)
        fire_time = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=5)
        store_job(config, fire_time)  # due at once
        alone = Scheduler(config)
        try:
            alone.wait_for("run-started")
            with State(state_url(config)) as state:
                deadline = time.monotonic() + WAIT_SECONDS
                while state.build_leases.lease("paper", fire_time) is None and time.monotonic() < deadline:
                    time.sleep(0.05)
            alone.kill()  # holding the run's lease, in the middle of its build
        finally:
            alone.end()
        with State(state_url(config)) as state:
            left = state.build_leases.unfinished("paper")
        assert [lease.fire_time for lease in left] == [fire_time]
        assert pid_of(left[0].holder) == alone.process.pid

        scheduler = EditionScheduler(config, config.folder / "out")
        try:
            (plan,) = scheduler.start()
            assert plan.catching_up == fire_time
            deadline = time.monotonic() + WAIT_SECONDS
            while not smtp.copies() or sum(smtp.copies().values()) < len(SUBSCRIBERS):
                assert time.monotonic() < deadline, "the run was not made again"
                time.sleep(0.1)
        finally:
            scheduler.stop(grace=WAIT_SECONDS)
        copies = smtp.copies()

    assert copies == dict.fromkeys(SUBSCRIBERS, 1)
    (folder,) = issue_folders(config)
    with State(state_url(config)) as state:
        assert state.build_leases.unfinished("paper") == []
        lease = state.build_leases.lease("paper", fire_time)
        (run,) = state.runs.last_runs("paper", 10)
    assert lease is not None and lease.done_at is not None and lease.holder != left[0].holder
    assert (run.outcome, run.issue_id) == ("built", folder)


def test_holder_names_say_host_and_process_and_differ() -> None:
    first, second = holder_name(), holder_name()
    assert first != second and pid_of(first) == os.getpid() == pid_of(second)


# --- the lease in the store, and in one process ----------------------------------------------------

FIRE = datetime(2026, 3, 14, 7, 0, tzinfo=UTC)
TIMEOUT = timedelta(seconds=60)


@pytest.fixture
def state(store_url: str) -> Iterator[State]:
    with State(store_url) as opened:
        yield opened


def test_a_run_is_taken_once_and_taken_over_only_when_its_holder_stops_renewing(state: State) -> None:
    leases = state.build_leases
    first = leases.take("paper", FIRE, "first", FIRE, timeout=TIMEOUT)
    assert (first.holder, first.done_at, first.issue_id) == ("first", None, None)
    assert leases.built("paper", FIRE, "first", "2026-03-14")
    assert leases.renew("paper", FIRE, "first", FIRE + timedelta(seconds=30))

    refused = leases.take("paper", FIRE, "second", FIRE + timedelta(seconds=89), timeout=TIMEOUT)
    assert refused.holder == "first"
    taken = leases.take("paper", FIRE, "second", FIRE + timedelta(seconds=90), timeout=TIMEOUT)
    assert (taken.holder, taken.issue_id) == ("second", "2026-03-14")  # it sends what was built
    assert not leases.renew("paper", FIRE, "first", FIRE + timedelta(seconds=91))
    assert not leases.finish("paper", FIRE, "first", FIRE + timedelta(seconds=91), TIMEOUT)


def test_a_finished_run_settles_itself_and_every_earlier_run_of_its_edition(state: State) -> None:
    leases = state.build_leases
    earlier, later = FIRE - timedelta(days=1), FIRE + timedelta(days=1)
    leases.take("paper", earlier, "dead", earlier, timeout=TIMEOUT)  # its holder never came back
    leases.take("paper", FIRE, "first", FIRE, timeout=TIMEOUT)
    leases.take("other", earlier, "elsewhere", FIRE, timeout=TIMEOUT)
    assert [lease.fire_time for lease in leases.unfinished("paper")] == [earlier, FIRE]

    assert leases.finish("paper", FIRE, "first", FIRE + timedelta(minutes=5), TIMEOUT)

    assert leases.unfinished("paper") == []
    assert leases.lease("paper", earlier) == leases.lease("paper", FIRE)  # settled by the later run
    late = leases.take("paper", earlier, "late", FIRE + timedelta(hours=1), timeout=TIMEOUT)
    assert (late.holder, late.fire_time) == ("first", FIRE) and late.done_at is not None
    assert leases.take("paper", later, "next", later, timeout=TIMEOUT).holder == "next"
    assert [lease.holder for lease in leases.unfinished("other")] == ["elsewhere"]


def test_a_run_given_back_can_be_taken_at_once(state: State) -> None:
    leases = state.build_leases
    leases.take("paper", FIRE, "stopped", FIRE, timeout=TIMEOUT)
    leases.release("paper", FIRE, "stopped")
    assert leases.lease("paper", FIRE) is None
    assert leases.take("paper", FIRE, "next", FIRE + timedelta(seconds=1), timeout=TIMEOUT).holder == "next"


def test_a_scheduler_finding_the_run_taken_makes_nothing(
    tmp_path: Path, store_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    config = write_config(tmp_path, store_url)
    edition = config.editions["paper"]
    stopped = threading.Event()
    stopped.set()  # the second scheduler gives up watching at its first look
    caplog.set_level("INFO", logger="digest")
    with State(state_url(config)) as state, scheduled_run(state, edition, FIRE, threading.Event()) as held:
        assert held is not None
        with scheduled_run(state, edition, FIRE, stopped) as other:
            assert other is None
        held.built("2026-03-14")
        held.finish()
    with State(state_url(config)) as state, scheduled_run(state, edition, FIRE, threading.Event()) as late:
        assert late is None

    messages = [r.getMessage() for r in caplog.records if r.name == "digest"]
    assert any(
        m.startswith("edition paper: the run of 2026-03-14 07:00 UTC is being made by another scheduler")
        and held.holder in m
        for m in messages
    ), messages
    assert any(
        m == f"edition paper: the run of 2026-03-14 07:00 UTC is skipped: another scheduler ({held.holder}) "
        "made it, issue 2026-03-14"
        for m in messages
    ), messages
