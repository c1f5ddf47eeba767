"""What a send promises when things go wrong: crashes, a second sender, greylisting.

Against a real SMTP server (aiosmtpd on 127.0.0.1) and, for crashes and PID namespaces, real
``digest send`` processes killed with SIGKILL or started under ``unshare``.
"""

from __future__ import annotations

import contextlib
import email
import email.policy
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from factories import make_issue, pdf_renderer
from needs import program
from pgcluster import PostgresCluster
from smtpserver import LoopbackSmtp

from digest import pipeline
from digest.config import Config, load_config
from digest.deliver import FakeDeliverer, Outcome, OutcomeStatus
from digest.deliver.send import SendReport, send_issue
from digest.deliver.shared import BATCH_PER_CONNECTION
from digest.deliver.smtp import RetryPolicy, SmtpDeliverer
from digest.output import write_issue
from digest.state import State, state_url

FAST = RetryPolicy(
    attempts=3,
    first_delay=timedelta(milliseconds=10),
    max_delay=timedelta(milliseconds=20),
    timeout=timedelta(seconds=5),
)
ISSUE_ID = "2026-03-14"
EDITION = "morning"


@dataclass
class Project:
    folder: Path
    smtp: LoopbackSmtp
    #: The state store; "" for SQLite under the project's state_dir.
    database_url: str = ""

    @property
    def config_path(self) -> Path:
        return self.folder / "feeds.yaml"

    @property
    def issue_dir(self) -> Path:
        return self.folder / "out" / EDITION / ISSUE_ID

    def configure(self, subscribers: int, *, extra: str = "", rate: float | None = None) -> None:
        smtp = f"host: 127.0.0.1, port: {self.smtp.port}, security: none" + (
            f", rate: {rate}" if rate else ""
        )
        store = f"database_url: {self.database_url}\n" if self.database_url else ""
        self.config_path.write_text(
            f"""\
{store}editions:
  {EDITION}:
    title: Morning Briefing
    base_url: https://news.example.org/morning/
    sources:
      - url: feed.xml
    delivery:
      from: "Morning Briefing <briefing@example.org>"
      subscribers: subscribers.csv
      unsubscribe: {{secret_env: DIGEST_TEST_SECRET}}
      smtp: {{{smtp}}}
{extra}""",
            encoding="utf-8",
        )
        rows = "".join(f"{address(n)},Reader {n},\n" for n in range(subscribers))
        (self.folder / "subscribers.csv").write_text("email,name,pdf\n" + rows, encoding="utf-8")

    def config(self) -> Config:
        return load_config(self.config_path)

    def build(self) -> None:
        """The issue folder as a build writes it (the edition's delivery shapes its bodies)."""
        config = self.config()
        issue = make_issue()
        rendered = pipeline.render(config, config.editions[EDITION], issue, pdf_renderer())
        write_issue(self.issue_dir.parent, ISSUE_ID, rendered)

    def send(
        self, deliverer: FakeDeliverer | SmtpDeliverer | None = None, issue_dir: Path | None = None
    ) -> SendReport:
        config = self.config()
        edition = config.editions[EDITION]
        assert edition.delivery is not None
        backend = deliverer or SmtpDeliverer(
            edition.delivery.smtp,
            envelope_from=edition.delivery.from_,
            retry=FAST,
            resend_unknown=edition.delivery.unknown_outcome == "resend",
        )
        with State(state_url(config)) as state:
            return send_issue(config, edition, state, issue_dir or self.issue_dir, deliverer=backend)

    def bounce_figures(self) -> tuple[int, int]:
        """(hard bounces, addresses suppressed for bouncing) of the edition."""
        with State(state_url(self.config())) as state:
            figures = state.bounces.figures(EDITION)
        return figures.hard, figures.suppressed_bounced

    def ledger(self) -> dict[str, str]:
        with State(state_url(self.config())) as state:
            return state.ledger.deliveries(EDITION, ISSUE_ID)

    def command(self) -> list[str]:
        return [sys.executable, "-m", "digest", "send", "--config", str(self.config_path)]


def address(n: int) -> str:
    return f"reader{n:03d}@example.org"


def message_id(raw: bytes) -> str:
    return str(email.message_from_bytes(raw, policy=email.policy.default)["Message-ID"])


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Project]:
    monkeypatch.setenv("DIGEST_TEST_SECRET", "a-test-secret")
    with LoopbackSmtp() as server:
        made = Project(tmp_path, server)
        made.configure(5)
        made.build()
        yield made


# --- the messages come from the build ---


def test_messages_are_made_from_the_bodies_the_build_wrote(project: Project) -> None:
    # Marked after the build: a message rendered again at send time would not carry the marks.
    for name in ("email.html", "issue.txt"):
        path = project.issue_dir / name
        path.write_text(
            path.read_text("utf-8").replace("Morning Briefing", "Morning Briefing MARK", 1), "utf-8"
        )
    fake = FakeDeliverer()
    report = project.send(fake)
    assert report.sent == 5 and fake.sent_to() == [address(n) for n in range(5)]
    message = email.message_from_bytes(fake.messages[0][1], policy=email.policy.default)
    parts = {
        part.get_content_type(): part.get_content() for part in message.walk() if not part.is_multipart()
    }
    assert "Morning Briefing MARK" in parts["text/plain"] and "Morning Briefing MARK" in parts["text/html"]
    # ... and each subscriber's own link stands where the build put the bare endpoint.
    assert "https://news.example.org/morning/unsubscribe?t=" in parts["text/plain"]


def test_the_subject_is_issue_json_s_and_an_older_issue_json_falls_back_to_the_title(
    project: Project,
) -> None:
    path = project.issue_dir / "issue.json"
    data = json.loads(path.read_text("utf-8"))
    assert data["subject"].startswith("Morning Briefing - 2026-03-14: "), "the build stores the Subject"
    data["subject"] = "An edited subject"
    path.write_text(json.dumps(data), "utf-8")
    fake = FakeDeliverer()
    project.send(fake)
    assert (
        email.message_from_bytes(fake.messages[0][1], policy=email.policy.default)["Subject"]
        == "An edited subject"
    )

    del data["subject"]
    path.write_text(json.dumps(data), "utf-8")
    project.configure(6)  # a new subscriber, so there is someone left to send to
    fake = FakeDeliverer()
    project.send(fake)
    assert fake.sent_to() == [address(5)]
    assert (
        email.message_from_bytes(fake.messages[0][1], policy=email.policy.default)["Subject"]
        == "Morning Briefing"
    )


def test_a_fake_deliverer_s_refusals_are_recorded_and_reported(project: Project) -> None:
    def refuse_one(to: str, message: bytes) -> Outcome | OutcomeStatus:
        return Outcome(to, "failed", "550 no such user") if to == address(2) else "sent"

    report = project.send(FakeDeliverer(refuse_one))
    assert (report.sent, [o.address for o in report.failed]) == (4, [address(2)])
    assert project.ledger()[address(2)] == "failed"


# --- messages of unknown fate ---


def leave_sending_marks(project: Project, addresses: list[str]) -> None:
    """What a send killed between a message's mark and its outcome leaves in the ledger."""
    from datetime import UTC, datetime, timedelta

    with State(state_url(project.config())) as state:
        now = datetime.now(UTC)
        state.leases.take_send_lease(EDITION, "killed", now, timeout=timedelta(days=1))
        for each in addresses:
            assert state.mark_sending(EDITION, ISSUE_ID, each, "killed", now)
        state.leases.release_send_lease(EDITION, "killed")


def test_resend_sends_a_message_of_unknown_fate_again_and_reports_it(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    first = FakeDeliverer()
    project.send(first)
    # Address 1 was accepted, then the sender died before writing "sent": its mark is all that is left.
    before = FakeDeliverer()
    leave_sending_marks(project, [address(1)])
    report = project.send(before)
    assert before.sent_to() == [address(1)]
    assert report.interrupted == (address(1),) and report.unknown_outcome == "resend"
    assert "1 of unknown fate after an interrupted send (sent again)" in report.summary()
    assert (
        f"sent again with the same Message-ID, so a subscriber may see a copy twice: {address(1)}"
        in caplog.text
    )
    again = FakeDeliverer()
    leave_sending_marks(project, [address(1)])
    project.send(again)
    ids = {message_id(fake.messages[1 if fake is first else 0][1]) for fake in (first, before, again)}
    assert len(ids) == 1, "every copy has the same Message-ID"
    assert project.ledger()[address(1)] == "sent"


def test_skip_never_sends_a_message_of_unknown_fate_again_and_reports_it(
    project: Project, caplog: pytest.LogCaptureFixture
) -> None:
    project.configure(5, extra="      unknown_outcome: skip\n")
    leave_sending_marks(project, [address(3)])
    fake = FakeDeliverer()
    report = project.send(fake)
    assert address(3) not in fake.sent_to() and len(fake.sent_to()) == 4
    assert report.interrupted == (address(3),)
    assert "1 of unknown fate after an interrupted send (not sent again)" in report.summary()
    assert f"not sent again: {address(3)}" in caplog.text
    assert project.ledger()[address(3)] == "unknown"
    assert project.send(FakeDeliverer()).sent == 0, "a later send leaves it too"


@pytest.mark.parametrize(("mode", "copies"), [("resend", 2), ("skip", 1)])
def test_a_reply_lost_after_the_data_is_retried_or_not_as_configured(
    project: Project, mode: str, copies: int
) -> None:
    project.configure(5, extra=f"      unknown_outcome: {mode}\n")
    project.smtp.handler.vanish_after_data = {address(2)}
    report = project.send()
    got = [raw for to, raw in project.smtp.received if to == address(2)]
    assert len(got) == copies and len({message_id(raw) for raw in got}) == 1
    if mode == "skip":
        assert [o.address for o in report.unknown] == [address(2)]
        assert project.ledger()[address(2)] == "unknown"
    else:
        assert report.sent == 5 and project.ledger()[address(2)] == "sent"


# --- permanent refusals are hard bounces ---


@pytest.mark.parametrize("store", ["sqlite", "postgresql"])
def test_smtp_refusals_count_as_hard_bounces_and_suppress_at_the_hard_limit(
    project: Project, store: str, request: pytest.FixtureRequest
) -> None:
    if store == "postgresql":
        project = request.getfixturevalue("shared")
    project.configure(5, extra="      bounces: {hard_limit: 2}\n")
    refused = address(3)
    project.smtp.handler.replies = {refused: ["550 5.1.1 no such mailbox"] * 5}
    reports = [project.send()]
    assert project.bounce_figures()[:2] == (1, 0), "one refusal is below the limit"
    assert project.send().failed == (), "a send resumed tries the refused address no more"
    for issue_id in ("2026-03-15", "2026-03-16"):
        folder = project.issue_dir.parent / issue_id
        shutil.copytree(project.issue_dir, folder)
        path = folder / "issue.json"
        path.write_text(path.read_text("utf-8").replace(f'"{ISSUE_ID}"', f'"{issue_id}"'), "utf-8")
        reports.append(project.send(issue_dir=folder))
    assert [[o.address for o in r.failed] for r in reports] == [[refused], [refused], []]
    assert reports[2].suppressed == 1, "the second refusal reached the limit: not mailed again"
    assert project.bounce_figures() == (2, 1)
    status = subprocess.run(
        [sys.executable, "-m", "digest", "status", "--config", str(project.config_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "2 hard bounces" in status.stdout and "suppressed 1 for bouncing" in status.stdout, status


# --- the lease ---


def test_a_send_stalled_on_one_message_keeps_its_lease_by_its_heartbeat(project: Project) -> None:
    from datetime import UTC, datetime, timedelta

    project.configure(3, extra="      lease_timeout: 1\n")
    holders: list[str] = []

    def stall_then_try_a_takeover(to: str, message: bytes) -> OutcomeStatus:
        if not holders:
            time.sleep(2.5)  # far past the timeout, inside one message: only the heartbeat renews
            with State(state_url(project.config())) as state:
                lease = state.leases.take_send_lease(
                    EDITION, "intruder", datetime.now(UTC), timeout=timedelta(seconds=1)
                )
            holders.append(lease.holder)
        return "sent"

    report = project.send(FakeDeliverer(stall_then_try_a_takeover))
    assert holders and holders[0] != "intruder"
    assert report.sent == 3


# --- greylisting ---


def test_451_for_some_recipients_does_not_stall_the_others(project: Project) -> None:
    project.configure(12)
    greylisted = {address(1), address(4), address(7)}
    for each in greylisted:
        project.smtp.handler.replies[each] = ["451 4.7.1 greylisted, try again later"]
    waits: list[tuple[str, str]] = []
    config = project.config()
    edition = config.editions[EDITION]
    assert edition.delivery is not None
    deliverer = SmtpDeliverer(edition.delivery.smtp, envelope_from=edition.delivery.from_, retry=FAST)
    with State(state_url(config)) as state:
        report = send_issue(
            config,
            edition,
            state,
            project.issue_dir,
            deliverer=deliverer,
            on_wait=lambda to, why, seconds: waits.append((to, why)),
        )
    order = [to for to, _ in project.smtp.received]
    assert report.sent == 12 and sorted(order) == [address(n) for n in range(12)]
    # Everyone else first, in list order; the greylisted at the end, when their wait is over.
    assert order[:9] == [address(n) for n in range(12) if address(n) not in greylisted]
    assert set(order[9:]) == greylisted
    assert {to for to, _ in waits} == greylisted and all("451" in why for _, why in waits)


# --- real processes ---


def wait_until_free(project: Project, lease_timeout: float) -> None:
    """A killed send leaves its lease; it is free once not renewed for the timeout."""
    time.sleep(lease_timeout * 1.2)


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["resend", "skip"])
def test_sigkill_at_random_points_then_resume(project: Project, mode: str) -> None:
    subscribers, kills, lease_timeout = 40, 5, 1.0
    project.configure(
        subscribers, extra=f"      unknown_outcome: {mode}\n      lease_timeout: {lease_timeout}\n", rate=60
    )
    chance = random.Random(f"kill-{mode}")
    stderr: list[str] = []
    for _ in range(kills):
        started = len(project.smtp.received)
        with subprocess.Popen(project.command(), stderr=subprocess.PIPE, text=True) as send:
            # Kill once it is mailing (or has given up): a random moment among its messages.
            deadline = time.monotonic() + 60
            while (
                len(project.smtp.received) == started and send.poll() is None and time.monotonic() < deadline
            ):
                time.sleep(0.01)
            time.sleep(chance.uniform(0, 0.3))
            send.send_signal(signal.SIGKILL)
            _, err = send.communicate(timeout=30)
            stderr.append(err)
        wait_until_free(project, lease_timeout)
    final = subprocess.run(project.command(), capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    stderr.append(final.stderr)
    assert_every_copy_accounted_for(project, subscribers, mode, "".join(stderr), kills)


def assert_every_copy_accounted_for(
    project: Project, subscribers: int, mode: str, reported: str, kills: int
) -> None:
    """After kills and a send to the end: a subscriber with two copies (same Message-ID) was named
    as of unknown fate; with ``skip`` nobody got two, and anyone without one is recorded unknown."""
    copies: dict[str, list[bytes]] = defaultdict(list)
    for to, raw in project.smtp.received:
        copies[to].append(raw)
    ledger = project.ledger()
    repeated = {to for to, raws in copies.items() if len(raws) > 1}
    for to in repeated:
        assert len({message_id(raw) for raw in copies[to]}) == 1, f"{to}: copies differ in Message-ID"
        assert to in reported, f"{to} got {len(copies[to])} copies and no send said so"
    if mode == "skip":
        assert not repeated, f"at most once, yet {sorted(repeated)} got copies"
        for n in range(subscribers):
            if address(n) not in copies:
                assert ledger[address(n)] == "unknown" and address(n) in reported
    else:
        assert set(copies) == {address(n) for n in range(subscribers)}, "at least once: everyone"
    assert set(ledger) == {address(n) for n in range(subscribers)}
    assert all(status in {"sent", "unknown"} for status in ledger.values())
    duplicates = sum(len(raws) - 1 for raws in copies.values())
    print(f"{mode}: {kills} kills, {duplicates} duplicate copies, {duplicates / kills:.2f} per kill")


@pytest.mark.slow
def test_two_sends_in_two_pid_namespaces_never_both_send(project: Project) -> None:
    unshare = program("unshare", "util-linux", "sends from two PID namespaces")
    wrapper = [unshare, "--user", "--map-root-user", "--pid", "--fork"]
    probe = subprocess.run([*wrapper, "true"], capture_output=True, text=True, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"NEEDS user namespaces: unshare is not permitted here ({probe.stderr.strip()})")
    subscribers = 30
    project.configure(subscribers)
    # The first send stops in the middle, at the server, until the second has had its go.
    project.smtp.handler.hold = address(10)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    with subprocess.Popen(
        [*wrapper, *project.command()], stderr=subprocess.PIPE, text=True, env=env
    ) as first:
        deadline = time.monotonic() + 60
        while len(project.smtp.received) < 10 and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.01)
        try:
            # Both are process 1 or 2 of their namespace, on one host name: only the lease tells them apart.
            second = subprocess.run(
                [*wrapper, *project.command()], capture_output=True, text=True, timeout=120, env=env
            )
        finally:
            project.smtp.handler.release.set()
        _, first_err = first.communicate(timeout=120)
    assert first.returncode == 0, first_err
    assert second.returncode == 1, second.stderr
    assert "another send is in progress" in second.stderr and "nothing was sent" in second.stderr
    assert "An SQLite state store allows one sender at a time" in second.stderr
    assert project.smtp.copies() == {address(n): 1 for n in range(subscribers)}


# --- senders sharing an issue (PostgreSQL) ---


@pytest.fixture
def shared(project: Project, postgres_cluster: PostgresCluster) -> Iterator[Project]:
    """The project with its state store in a fresh PostgreSQL database."""
    project.database_url = postgres_cluster.database()
    try:
        yield project
    finally:
        postgres_cluster.drop(project.database_url)


def wait_until(condition: Callable[[], bool], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def sent_count(stdout: str) -> int:
    found = re.search(rf"{EDITION} {ISSUE_ID}: (\d+) sent", stdout)
    assert found, stdout
    return int(found.group(1))


@pytest.mark.slow
def test_senders_on_postgresql_share_an_issue_and_mail_each_subscriber_once(shared: Project) -> None:
    subscribers = 120
    shared.configure(subscribers)
    # The first sender stalls on its first subscriber, so the others certainly mail the rest.
    shared.smtp.handler.hold = address(0)
    with contextlib.ExitStack() as running:
        first = running.enter_context(
            subprocess.Popen(shared.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        )
        wait_until(lambda: shared.smtp.handler.mail_commands > 0 or first.poll() is not None)
        senders = [first] + [
            running.enter_context(
                subprocess.Popen(shared.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            )
            for _ in range(2)
        ]
        wait_until(lambda: len(shared.smtp.received) >= subscribers - BATCH_PER_CONNECTION)
        shared.smtp.handler.release.set()
        outputs = [sender.communicate(timeout=120) for sender in senders]
    assert [sender.returncode for sender in senders] == [0, 0, 0], [err for _, err in outputs]
    assert shared.smtp.copies() == {address(n): 1 for n in range(subscribers)}
    sent = [sent_count(out) for out, _ in outputs]
    assert sum(sent) == subscribers and sent[0] == BATCH_PER_CONNECTION, sent
    assert f"{subscribers - BATCH_PER_CONNECTION} by other senders of the issue" in outputs[0][0]
    assert set(shared.ledger().values()) == {"sent"}
    with State(state_url(shared.config())) as state:
        assert state.claims.held_by_others(EDITION, ISSUE_ID, "nobody") == 0, "no claim row is left"


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["resend", "skip"])
def test_shared_senders_killed_at_random_points_then_resumed(shared: Project, mode: str) -> None:
    subscribers, rounds = 80, 3
    # Ten minutes: only a killed sender's advisory lock, gone with its connection, frees its rows sooner.
    shared.configure(subscribers, extra=f"      unknown_outcome: {mode}\n      lease_timeout: 600\n", rate=40)
    chance = random.Random(f"shared-kill-{mode}")
    stderr: list[str] = []
    for _ in range(rounds):
        started = len(shared.smtp.received)
        pair = [subprocess.Popen(shared.command(), stderr=subprocess.PIPE, text=True) for _ in range(2)]
        # Each killed at a random moment among its messages: the first while the other runs on.
        wait_until(
            lambda started=started, pair=pair: (
                len(shared.smtp.received) > started or all(p.poll() is not None for p in pair)
            )
        )
        for sender in chance.sample(pair, 2):
            time.sleep(chance.uniform(0, 0.4))
            sender.send_signal(signal.SIGKILL)
        stderr += [sender.communicate(timeout=30)[1] for sender in pair]
    final = subprocess.run(shared.command(), capture_output=True, text=True, timeout=120)
    assert final.returncode == 0, final.stderr
    stderr.append(final.stderr)
    assert_every_copy_accounted_for(shared, subscribers, mode, "".join(stderr), 2 * rounds)


@pytest.mark.slow
@pytest.mark.parametrize(("stall", "mode"), [("rcpt", "resend"), ("data", "resend"), ("data", "skip")])
def test_a_sender_killed_mid_send_leaves_its_subscribers_to_the_other(
    shared: Project, stall: str, mode: str
) -> None:
    subscribers = 60
    # Ten minutes: only the killed sender's advisory lock, gone with its connection, frees its rows sooner.
    shared.configure(subscribers, extra=f"      unknown_outcome: {mode}\n      lease_timeout: 600\n")
    stalled = address(0)
    if stall == "rcpt":
        shared.smtp.handler.hold = stalled  # killed before its mark: nothing of unknown fate
    else:
        shared.smtp.handler.hold_data = stalled  # killed after its mark, its data at the server
    with subprocess.Popen(shared.command(), stderr=subprocess.PIPE, text=True) as victim:
        wait_until(lambda: shared.smtp.handler.mail_commands > 0 or victim.poll() is not None)
        other = subprocess.Popen(shared.command(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wait_until(lambda: len(shared.smtp.received) >= subscribers - BATCH_PER_CONNECTION)
        victim.send_signal(signal.SIGKILL)
        victim.communicate(timeout=30)
    shared.smtp.handler.release.set()
    out, err = other.communicate(timeout=120)
    assert other.returncode == 0, err
    copies = shared.smtp.copies()
    ledger = shared.ledger()
    assert {to: n for to, n in copies.items() if to != stalled} == {
        address(n): 1 for n in range(1, subscribers)
    }
    assert sent_count(out) == subscribers - (mode == "skip")
    if stall == "rcpt":
        assert copies[stalled] == 1 and ledger[stalled] == "sent"
        assert "unknown fate" not in err
        return
    # The one message of unknown fate: sent again (at least once) or recorded unknown (at most once).
    assert stalled in err and "unknown fate" in err
    got = [raw for to, raw in shared.smtp.received if to == stalled]
    if mode == "resend":
        assert 1 <= len(got) <= 2 and len({message_id(raw) for raw in got}) == 1
        assert ledger[stalled] == "sent"
    else:
        assert len(got) <= 1 and ledger[stalled] == "unknown"
