"""`digest send` against a real SMTP server (aiosmtpd on 127.0.0.1) that misbehaves on cue.

Every test that takes ``project`` runs twice: its state store on SQLite, then on PostgreSQL.
"""

from __future__ import annotations

import base64
import contextlib
import email
import email.policy
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path

import dkim
import pytest
from click.testing import CliRunner, Result
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from factories import make_issue, pdf_renderer
from smtpserver import LoopbackSmtp, free_port
from sqlalchemy import create_engine, text

import digest.deliver.smtp
from digest import assemble
from digest.cli import main
from digest.config import Config, EditionConfig, SourceConfig, load_config
from digest.deliver import (
    Deliverer,
    FakeDeliverer,
    Outcome,
    OutcomeCallback,
    OutcomeStatus,
    Outgoing,
    WaitCallback,
)
from digest.deliver.send import SendReport, send_issue
from digest.deliver.smtp import RetryPolicy, SmtpDeliverer
from digest.errors import DeliveryError
from digest.output import write_issue
from digest.render import render_issue
from digest.render.templates import environment
from digest.state import SendLease, State, state_url
from digest.unsubscribe import TokenSigner, unsubscribe

#: Retries fast enough for tests: three tries, milliseconds apart.
FAST = RetryPolicy(
    attempts=3,
    first_delay=timedelta(milliseconds=10),
    max_delay=timedelta(milliseconds=20),
    timeout=timedelta(seconds=5),
)
SECRET = "a-test-secret"
BASE_URL = "https://news.example.org/morning/"
ISSUE_ID = "2026-03-14"
PEOPLE = ["ada@example.org", "Bo@Example.net", "cy@example.com", "dee@example.org", "eve@example.net"]


@pytest.fixture(scope="session")
def built_issue(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One rendered issue folder (the PDF included), copied into each test's project."""
    edition = EditionConfig(
        name="morning", title="Morning Briefing", base_url=BASE_URL, sources=(SourceConfig(url="feed.xml"),)
    )
    issue = make_issue()
    links = assemble.links_for(BASE_URL, issue.issue_id)
    rendered = render_issue(
        issue, edition, links, environment(None), pdf_renderer(), sender="Morning <briefing@example.org>"
    )
    return write_issue(tmp_path_factory.mktemp("built") / "morning", issue.issue_id, rendered)


@dataclass
class Project:
    folder: Path
    issue_dir: Path
    smtp: LoopbackSmtp
    #: The state store (the ``store_url`` fixture).
    database_url: str

    @property
    def config_path(self) -> Path:
        return self.folder / "feeds.yaml"

    def config(self) -> Config:
        return load_config(self.config_path)

    def write_config(self, *, connections: int = 1, extra: str = "", port: int | None = None) -> None:
        self.config_path.write_text(
            f"""\
database_url: {self.database_url}
editions:
  morning:
    title: Morning Briefing
    base_url: {BASE_URL}
    sources:
      - url: feed.xml
    delivery:
      from: "Morning Briefing <briefing@example.org>"
      subscribers: subscribers.csv
      unsubscribe: {{secret_env: DIGEST_TEST_SECRET, mailto: leave@example.org}}
      smtp: {{host: 127.0.0.1, port: {port or self.smtp.port}, security: none, connections: {connections}}}
{extra}""",
            encoding="utf-8",
        )

    def write_subscribers(self, rows: list[str]) -> None:
        (self.folder / "subscribers.csv").write_text("email,name,pdf\n" + "".join(r + "\n" for r in rows))

    def send(self, **options: object) -> SendReport:
        config = self.config()
        edition = config.editions["morning"]
        assert edition.delivery is not None
        deliverer = SmtpDeliverer(edition.delivery.smtp, envelope_from=edition.delivery.from_, retry=FAST)
        with State(state_url(config)) as state:
            return send_issue(config, edition, state, self.issue_dir, deliverer=deliverer, **options)  # type: ignore[arg-type]

    def ledger(self) -> dict[str, str]:
        with State(state_url(self.config())) as state:
            return state.ledger.deliveries("morning", ISSUE_ID)

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, [args[0], "--config", str(self.config_path), *args[1:]])


@pytest.fixture
def smtp() -> Iterator[LoopbackSmtp]:
    with LoopbackSmtp() as server:
        yield server


@pytest.fixture
def project(
    tmp_path: Path, built_issue: Path, smtp: LoopbackSmtp, store_url: str, monkeypatch: pytest.MonkeyPatch
) -> Project:
    monkeypatch.setenv("DIGEST_TEST_SECRET", SECRET)
    monkeypatch.setattr(digest.deliver.smtp, "DEFAULT_RETRY", FAST)
    issue_dir = tmp_path / "out" / "morning" / ISSUE_ID
    shutil.copytree(built_issue, issue_dir)
    made = Project(tmp_path, issue_dir, smtp, store_url)
    made.write_config()
    made.write_subscribers([f"{address},Reader {n}," for n, address in enumerate(PEOPLE)])
    return made


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def everyone() -> set[str]:
    return {a.lower() for a in PEOPLE}


# --- the whole send ---


def test_full_send_delivers_each_subscriber_once_and_a_rerun_sends_nothing(project: Project) -> None:
    project.write_config(connections=2)
    report = project.send()
    assert (report.sent, report.failed, report.pending) == (5, (), ())
    assert project.smtp.copies() == dict.fromkeys(everyone(), 1)
    assert project.ledger() == dict.fromkeys(everyone(), "sent")

    again = project.send()
    assert (again.sent, again.done_before) == (0, 5)
    assert len(project.smtp.received) == 5


def test_cli_send_prints_a_summary_and_exits_0(project: Project) -> None:
    result = project.cli("send")
    assert result.exit_code == 0, result.output
    assert "morning 2026-03-14: 5 sent, 0 refused, 0 pending" in result.stdout
    assert project.smtp.copies() == dict.fromkeys(everyone(), 1)


def test_received_message_headers_and_structure(project: Project) -> None:
    project.write_subscribers(["ada@example.org,Ada Lovelace,yes", "bo@example.net,,no"])
    project.send()
    received = dict(project.smtp.received)
    raw = received["ada@example.org"]
    assert b"\n" not in raw.replace(b"\r\n", b""), "every line ends with CRLF"
    message = parse(raw)

    assert message["From"] == "Morning Briefing <briefing@example.org>"
    assert message["To"] == "Ada Lovelace <ada@example.org>"
    assert message["Subject"] and message["Date"]
    assert message["List-Id"] == "Morning Briefing <morning.example.org>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    https, mailto = re.findall(r"<([^>]+)>", message["List-Unsubscribe"])
    assert https.startswith(BASE_URL + "unsubscribe?t=")
    assert mailto.startswith("mailto:leave@example.org?subject=unsubscribe%20")
    token = https.partition("?t=")[2]
    assert TokenSigner(SECRET.encode()).verify(token) == ("morning", "ada@example.org")

    # multipart/mixed (the PDF asked for) around multipart/alternative: text first, then HTML.
    assert message.get_content_type() == "multipart/mixed"
    alternative, attachment = message.iter_parts()
    assert [p.get_content_type() for p in alternative.iter_parts()] == ["text/plain", "text/html"]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF")
    text = alternative.get_body(("plain",)).get_content()
    html = alternative.get_body(("html",)).get_content()
    assert f"Unsubscribe: {https}" in text
    assert f'href="{https}"' in html
    assert "Ferry operators add night crossings" in text and "Ferry operators add night crossings" in html

    # No header starts with an empty line (Python folds a value that fits one line onto the next).
    head = raw.partition(b"\r\n\r\n")[0]
    assert not re.search(rb"^[A-Za-z-]+:\r\n", head, re.MULTILINE), head.decode()
    assert re.search(rb"^Subject: \S", head, re.MULTILINE)

    other = parse(received["bo@example.net"])
    assert other["To"] == "bo@example.net"
    assert other.get_content_type() == "multipart/alternative"
    assert other["Message-ID"] != message["Message-ID"]
    assert token not in received["bo@example.net"].decode("ascii")


# --- faults ---


def test_dropped_connection_then_second_run_gives_everyone_exactly_one_copy(project: Project) -> None:
    project.smtp.handler.drop_after = 2
    first = project.send()
    assert first.sent == 2 and len(first.pending) == 3
    assert "127.0.0.1" in (first.pending_error() or "")
    assert sorted(project.ledger().values()) == ["sent", "sent"]

    project.smtp.handler.drop_after = None
    second = project.send()
    assert (second.sent, second.done_before, second.pending) == (3, 2, ())
    assert project.smtp.copies() == dict.fromkeys(everyone(), 1)


def test_421_for_a_while_is_retried_on_a_new_connection(project: Project) -> None:
    project.smtp.handler.busy = 2  # fewer than FAST.attempts
    report = project.send()
    assert (report.sent, report.pending) == (5, ())
    assert project.smtp.copies() == dict.fromkeys(everyone(), 1)


def test_421_to_everything_fails_the_run_then_the_next_run_resumes(project: Project) -> None:
    project.smtp.handler.busy = 1000
    first = project.cli("send")
    assert first.exit_code == 1
    errors = [line for line in first.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and f"SMTP server 127.0.0.1:{project.smtp.port}" in errors[0]
    assert "421" in errors[0] and "Traceback" not in first.stderr
    assert project.smtp.received == [] and project.ledger() == {}

    project.smtp.handler.busy = 0
    second = project.cli("send")
    assert second.exit_code == 0, second.output
    assert project.smtp.copies() == dict.fromkeys(everyone(), 1)


def test_451_is_retried_and_550_is_reported_while_the_rest_is_delivered(project: Project) -> None:
    project.smtp.handler.replies = {
        "cy@example.com": ["451 4.7.1 greylisted, try again", "451 4.7.1 greylisted, try again"],
        "dee@example.org": ["550 5.1.1 no such mailbox"] * 5,
    }
    result = project.cli("send")
    assert result.exit_code == 0, result.output
    assert "dee@example.org: refused permanently: 550 5.1.1 no such mailbox" in result.stderr
    assert "4 sent, 1 refused, 0 pending" in result.stdout
    assert project.smtp.copies() == dict.fromkeys(everyone() - {"dee@example.org"}, 1)
    assert project.ledger()["dee@example.org"] == "failed"
    # A permanent refusal is not retried by a later run.
    assert project.smtp.handler.replies["dee@example.org"] == ["550 5.1.1 no such mailbox"] * 4
    # ... and counts as a hard bounce: with the default hard_limit of 1 the address is suppressed.
    again = project.send()
    assert (again.sent, again.done_before, again.suppressed) == (0, 4, 1)
    assert project.smtp.handler.replies["dee@example.org"] == ["550 5.1.1 no such mailbox"] * 4


def test_a_451_that_never_clears_leaves_that_one_pending_and_exit_1(project: Project) -> None:
    project.smtp.handler.replies = {"cy@example.com": ["451 4.7.1 greylisted"] * 10}
    result = project.cli("send")
    assert result.exit_code == 1
    assert (
        "1 message of morning 2026-03-14 still pending (451 4.7.1 greylisted after 3 tries)" in result.stderr
    )
    assert project.smtp.copies() == dict.fromkeys(everyone() - {"cy@example.com"}, 1)
    assert "cy@example.com" not in project.ledger()


def test_server_down_exits_1_naming_the_server_and_the_next_run_resumes(project: Project) -> None:
    down = free_port()
    project.write_config(port=down)
    result = project.cli("send")
    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1, result.stderr
    assert result.stderr.startswith(f"digest: error: SMTP server 127.0.0.1:{down}: 5 messages of morning")
    assert project.ledger() == {}

    project.write_config()
    assert project.cli("send").exit_code == 0
    assert project.smtp.copies() == dict.fromkeys(everyone(), 1)


# --- the subscribers file, suppression, dry run ---


def test_a_bad_address_in_the_csv_is_reported_with_its_line_and_never_sent(project: Project) -> None:
    project.write_subscribers(
        ["ada@example.org,Ada,", "ada@example..org,Typo,", "ADA@example.org,Again,", "bo@example.net,,"]
    )
    result = project.cli("send")
    assert result.exit_code == 0, result.output
    assert "subscribers.csv:3: not an e-mail address: 'ada@example..org' (" in result.stderr
    assert "subscribers.csv:4: ada@example.org is listed again" in result.stderr
    assert project.smtp.copies() == {"ada@example.org": 1, "bo@example.net": 1}


def test_dotless_and_localhost_addresses_are_sent_to(project: Project) -> None:
    project.write_subscribers(["reader@localhost,Local,", "Desk@Intranet,,", "ops@nas.local,,"])
    result = project.cli("send")
    assert result.exit_code == 0, result.output
    assert project.smtp.copies() == {"reader@localhost": 1, "desk@intranet": 1, "ops@nas.local": 1}


def send_process(project: Project) -> subprocess.CompletedProcess[str]:
    """`digest send` as its own process, as an operator runs it."""
    return subprocess.run(
        [sys.executable, "-m", "digest", "send", "--config", str(project.config_path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DIGEST_TEST_SECRET": SECRET},
    )


def test_a_list_without_a_usable_row_exits_1_with_one_line_and_sends_nothing(project: Project) -> None:
    project.write_subscribers([f"reader{n}@,Reader {n}," for n in range(120)])
    done = send_process(project)
    assert done.returncode == 1, done.stderr
    assert done.stderr.splitlines() == [
        f"digest: error: {project.folder / 'subscribers.csv'}: no row with a usable address (120 rows "
        "skipped; line 2: not an e-mail address: 'reader0@' (there must be something after the @-sign); "
        "row skipped)"
    ]
    assert project.smtp.copies() == {}
    assert project.ledger() == {}


def test_many_bad_rows_are_summarised_after_the_first_five(project: Project) -> None:
    project.write_subscribers([f"reader{n}@,Reader {n}," for n in range(120)] + ["ada@example.org,Ada,"])
    done = send_process(project)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if "subscribers.csv" in line]
    assert len(warnings) == 6, done.stderr
    assert warnings[0].startswith("digest: warning: subscribers.csv:2: not an e-mail address: 'reader0@'")
    assert warnings[-1] == (
        "digest: warning: subscribers.csv: 115 more rows skipped or merged (lines 7 to 121); "
        "digest check lists them all"
    )
    assert "1 sent" in done.stdout
    assert project.smtp.copies() == {"ada@example.org": 1}


def test_a_suppressed_address_is_skipped_even_while_in_the_csv(project: Project) -> None:
    result = project.cli("unsubscribe", "Cy@Example.com")
    assert result.exit_code == 0 and "cy@example.com: unsubscribed from morning" in result.stdout
    report = project.send()
    assert (report.sent, report.suppressed) == (4, 1)
    assert "cy@example.com" not in project.smtp.copies()
    assert "already unsubscribed" in project.cli("unsubscribe", "cy@example.com").stdout


def test_dry_run_writes_the_outbox_and_records_nothing(project: Project) -> None:
    project.write_config(port=free_port())  # nothing listens: a dry run must not connect
    result = project.cli("send", "--dry-run", "--issue", str(project.issue_dir))
    assert result.exit_code == 0, result.output
    outbox = sorted(p.name for p in (project.issue_dir / "outbox").iterdir())
    assert outbox == sorted(f"{a}.eml" for a in everyone())
    written = parse((project.issue_dir / "outbox" / "ada@example.org.eml").read_bytes())
    assert written["To"] == "Reader 0 <ada@example.org>"
    assert project.ledger() == {}
    assert project.smtp.received == []


def outbox_files(project: Project) -> set[str]:
    return {p.name for p in (project.issue_dir / "outbox").iterdir()}


def test_dry_run_sample_writes_that_many_and_says_how_many_were_left_out(project: Project) -> None:
    project.write_config(port=free_port())
    result = project.cli("send", "--dry-run", "--sample", "2", "--issue", str(project.issue_dir))
    assert result.exit_code == 0, result.output
    assert "morning 2026-03-14: 2 written" in result.stdout
    written = outbox_files(project) - {"SAMPLE.txt"}
    assert len(written) == 2 and written < {f"{a}.eml" for a in everyone()}
    note = (project.issue_dir / "outbox" / "SAMPLE.txt").read_text(encoding="utf-8")
    assert "2 messages of 5" in note and "3 left out" in note
    assert "3 left out" in result.stderr
    # --sample all writes every message, and the note of the earlier sample goes.
    result = project.cli("send", "--dry-run", "--sample", "all", "--issue", str(project.issue_dir))
    assert result.exit_code == 0, result.output
    assert outbox_files(project) == {f"{a}.eml" for a in everyone()}
    assert "left out" not in result.stderr
    assert project.ledger() == {} and project.smtp.received == []


def test_dry_run_of_a_large_list_writes_a_sample_drawn_from_all_of_it(project: Project) -> None:
    project.write_config(port=free_port())
    addresses = [f"reader{n:03}@example.org" for n in range(120)]
    project.write_subscribers([f"{a},," for a in addresses])
    samples = []
    for _ in range(2):
        result = project.cli("send", "--dry-run", "--issue", str(project.issue_dir))
        assert result.exit_code == 0, result.output
        assert "50 written" in result.stdout and "70 left out" in result.stderr
        samples.append(outbox_files(project) - {"SAMPLE.txt"})
    assert len(samples[0]) == 50 and samples[0] == samples[1]  # the same list, the same sample
    assert samples[0] <= {f"{a}.eml" for a in addresses}
    assert samples[0] != {f"{a}.eml" for a in addresses[:50]}  # not merely the head of the list
    message = parse((project.issue_dir / "outbox" / sorted(samples[0])[0]).read_bytes())
    assert message["To"] == sorted(samples[0])[0].removesuffix(".eml")


@pytest.mark.parametrize(
    "args", [["--sample", "3"], ["--dry-run", "--sample", "0"], ["--dry-run", "--sample", "x"]]
)
def test_sample_is_a_positive_count_or_all_and_only_for_a_dry_run(project: Project, args: list[str]) -> None:
    result = project.cli("send", *args, "--issue", str(project.issue_dir))
    assert result.exit_code == 2 and "--sample" in result.output
    assert project.ledger() == {} and project.smtp.received == []


def test_rate_limit_spaces_messages(project: Project) -> None:
    project.write_config(extra="")
    text = project.config_path.read_text().replace("connections: 1}", "connections: 2, rate: 40}")
    project.config_path.write_text(text)
    started = time.monotonic()
    assert project.send().sent == 5
    assert time.monotonic() - started >= 4 / 40


# --- DKIM ---


def test_dkim_signature_verifies_and_covers_the_unsubscribe_headers(project: Project) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    (project.folder / "dkim.pem").write_bytes(pem)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)
    project.write_config(extra="      dkim: {domain: example.org, selector: test, key_file: dkim.pem}\n")
    project.send()
    raw = dict(project.smtp.received)["ada@example.org"]

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"test._domainkey.example.org."
        return record

    assert dkim.verify(raw, dnsfunc=dns)
    signed = parse(raw)["DKIM-Signature"].replace(" ", "").replace("\r\n", "")
    covered = re.search(r"h=([^;]+)", signed)
    assert covered and {"list-unsubscribe", "list-unsubscribe-post"} <= set(
        covered.group(1).lower().split(":")
    )
    forged = raw.replace(b"List-Unsubscribe: <https://", b"List-Unsubscribe: <https://evil.")
    assert not dkim.verify(forged, dnsfunc=dns)


def test_a_missing_dkim_key_is_one_error_line_before_anything_is_sent(project: Project) -> None:
    project.write_config(extra="      dkim: {domain: example.org, selector: test, key_file: nowhere.pem}\n")
    result = project.cli("send")
    assert result.exit_code == 1
    assert "nowhere.pem: cannot read the DKIM key" in result.stderr
    assert project.smtp.received == []


def test_unsubscribe_secret_from_the_state_store_when_the_variable_is_unset(
    project: Project, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("DIGEST_TEST_SECRET")
    result = project.cli("send")
    assert result.exit_code == 0, result.output
    assert "DIGEST_TEST_SECRET is not set" in result.stderr
    raw = dict(project.smtp.received)["ada@example.org"]
    token = re.search(rb"unsubscribe\?t=([A-Za-z0-9_.-]+)>", raw)
    assert token is not None
    with State(state_url(project.config())) as state:
        stored, made = state.secrets.secret("unsubscribe", lambda: "not used")
    assert not made
    assert TokenSigner(stored.encode()).verify(token.group(1).decode()) == ("morning", "ada@example.org")
    assert TokenSigner(SECRET.encode()).verify(token.group(1).decode()) is None


def test_unsubscribe_helper_is_idempotent(project: Project) -> None:
    with State(state_url(project.config())) as state:
        assert unsubscribe(state, "morning", " Eve@Example.net ", "test")
        assert not unsubscribe(state, "morning", "eve@example.net", "test")
        assert state.ledger.suppressed("morning") == {"eve@example.net"}


# --- one send of an edition at a time ---


def take_lease(project: Project, holder: str, renewed: datetime) -> None:
    with State(state_url(project.config())) as state:
        lease = state.leases.take_send_lease("morning", holder, renewed, timeout=timedelta(days=1))
    assert lease.holder == holder


def current_lease(project: Project) -> SendLease | None:
    with State(state_url(project.config())) as state:
        return state.leases.send_lease("morning")


class Waiting:
    """A deliverer that waits for ``go`` before it delivers (``started`` says it has the lease)."""

    name = "smtp"

    def __init__(self, inner: Deliverer) -> None:
        self.inner = inner
        self.started = threading.Event()
        self.go = threading.Event()

    def deliver(
        self, messages: Iterable[Outgoing], on_outcome: OutcomeCallback, on_wait: WaitCallback | None = None
    ) -> None:
        self.started.set()
        assert self.go.wait(10)
        self.inner.deliver(messages, on_outcome, on_wait)


def smtp_deliverer(project: Project) -> SmtpDeliverer:
    delivery = project.config().editions["morning"].delivery
    assert delivery is not None
    return SmtpDeliverer(delivery.smtp, envelope_from=delivery.from_, retry=FAST)


def send_with(project: Project, deliverer: Deliverer) -> SendReport:
    config = project.config()
    with State(state_url(config)) as state:
        return send_issue(config, config.editions["morning"], state, project.issue_dir, deliverer=deliverer)


def test_two_sends_at_once_give_each_subscriber_one_copy(project: Project) -> None:
    shared = project.database_url.startswith("postgresql")
    first = Waiting(smtp_deliverer(project))
    reports: list[SendReport] = []
    sending = threading.Thread(target=lambda: reports.append(send_with(project, first)))
    sending.start()
    try:
        assert first.started.wait(10)
        result = project.cli("send")
        if shared:
            # On PostgreSQL the second send (an editor's, beside the scheduled one) joins in, and
            # claims everyone: the first has claimed nobody yet.
            assert result.exit_code == 0, result.output
            assert project.smtp.copies() == dict.fromkeys(everyone(), 1)
        else:
            # On SQLite it stops before it reads the ledger, and says why.
            assert result.exit_code == 1
            assert "edition morning: another send is in progress (since" in result.stderr
            assert "nothing was sent" in result.stderr
            assert "An SQLite state store allows one sender at a time" in result.stderr
            assert project.smtp.received == []
    finally:
        first.go.set()
        sending.join(20)
    assert reports and (reports[0].sent, reports[0].by_others) == ((0, 5) if shared else (5, 0))
    assert project.smtp.copies() == dict.fromkeys(everyone(), 1)
    assert current_lease(project) is None, "the lease is given up when the send ends"
    again = project.send()
    assert (again.sent, again.done_before) == (0, 5)


@pytest.mark.parametrize(("seconds_ago", "taken_over"), [(31, True), (5, False)])
def test_a_lease_holds_until_it_goes_unrenewed_for_lease_timeout(
    project: Project, seconds_ago: int, taken_over: bool
) -> None:
    # Only the heartbeat counts: the holder is a token, and nothing is judged by host or process.
    # (On PostgreSQL a live sender also holds an advisory lock, which a bare row lacks: there the
    # row of a sender without one, as here, is taken over at once.)
    project.write_config(extra="      lease_timeout: 30\n")
    take_lease(project, "a-crashed-or-live-sender", datetime.now(UTC) - timedelta(seconds=seconds_ago))
    if project.database_url.startswith("postgresql"):
        # Senders on PostgreSQL share the issue by claims, and leave the edition's lease alone.
        assert project.send().sent == 5
        lease = current_lease(project)
        assert lease is not None and lease.holder == "a-crashed-or-live-sender"
    elif taken_over:
        assert project.send().sent == 5
        assert current_lease(project) is None
    else:
        with pytest.raises(DeliveryError, match=r"another send is in progress \(since .*nothing was sent"):
            project.send()
        assert project.smtp.received == [] and project.ledger() == {}
        lease = current_lease(project)
        assert lease is not None and lease.holder == "a-crashed-or-live-sender"


class Overtaken:
    """A deliverer during whose send another sender takes the lease over (this one stalled)."""

    name = "smtp"

    def __init__(self, inner: Deliverer, project: Project) -> None:
        self.inner = inner
        self.project = project

    def deliver(
        self, messages: Iterable[Outgoing], on_outcome: OutcomeCallback, on_wait: WaitCallback | None = None
    ) -> None:
        def outcome_then_takeover(outcome: Outcome) -> None:
            on_outcome(outcome)
            with State(state_url(self.project.config())) as state:
                state.leases.take_send_lease("morning", "other:1:x", datetime.now(UTC), timeout=timedelta(0))
            if self.project.database_url.startswith("postgresql"):
                # A live sender (its advisory lock held) takes the rows over, as after a stall.
                execute(
                    self.project.database_url,
                    "UPDATE send_claims SET holder = 'other', lock_key = :key, heartbeat = :now",
                    key=OTHER_SENDER_KEY,
                    now=datetime.now(UTC).isoformat(timespec="microseconds"),
                )

        self.inner.deliver(messages, outcome_then_takeover)


#: The advisory lock key of the sender that takes the rows over in the test below.
OTHER_SENDER_KEY = 4242


def execute(url: str, statement: str, **values: object) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text(statement), values)
    engine.dispose()


def test_a_send_whose_lease_was_taken_over_hands_out_no_more(project: Project) -> None:
    with contextlib.ExitStack() as held:
        if project.database_url.startswith("postgresql"):
            other = held.enter_context(create_engine(project.database_url).connect())
            other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": OTHER_SENDER_KEY})
        report = send_with(project, Overtaken(smtp_deliverer(project), project))
    assert report.sent == 1
    assert len(report.pending) == 4
    assert {o.detail for o in report.pending} == {"left to the send that took the lease over"}
    assert len(project.smtp.received) == 1
    if project.database_url.startswith("postgresql"):
        return
    lease = current_lease(project)
    assert lease is not None and lease.holder == "other:1:x", "the other send's lease is left alone"


def broken(address: str, message: bytes) -> OutcomeStatus:
    raise RuntimeError("the deliverer broke")


def test_the_lease_is_given_up_when_a_send_fails(project: Project) -> None:
    with pytest.raises(RuntimeError, match="the deliverer broke"):
        send_with(project, FakeDeliverer(broken))
    assert current_lease(project) is None


def test_a_dry_run_needs_no_lease(project: Project) -> None:
    take_lease(project, "builder-2.example.org:4242:abc", datetime.now(UTC))
    report = project.send(dry_run=True)
    assert report.dry_run and report.sent == 5
    lease = current_lease(project)
    assert lease is not None and lease.holder == "builder-2.example.org:4242:abc"
