"""Bounces and complaints: per-subscriber return paths at send time, and ``digest bounces`` reading
DSNs (RFC 3464) and ARF complaints (RFC 5965) from a Maildir, an mbox, a folder of .eml files and
IMAP over TLS.

The reports under tests/data/bounces/maildir are written in the shapes Postfix (a bounce and a
delay notice), Exim (a bounce of a forwarded address, the original enclosed), Gmail, Microsoft
(an Exchange Online NDR and an Exchange delay notice), Yahoo's complaint feedback loop and
Microsoft's JMRP produce. The return-path tokens in them are those of SECRET.
"""

from __future__ import annotations

import mailbox
import os
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import needs
import pytest
from click.testing import CliRunner, Result
from imapserver import LoopbackImap
from postfixserver import LoopbackPostfix
from smtpserver import LoopbackSmtp, free_port
from tlscert import loopback_certificate

import digest.deliver.smtp
from digest import pipeline
from digest.cli import main
from digest.config import load_config
from digest.deliver.bounces import mailboxes, read_bounces
from digest.deliver.mailboxes import read_mailbox
from digest.deliver.reports import ReportError, read_report
from digest.deliver.returnpath import ReturnPathTokens
from digest.deliver.smtp import RetryPolicy
from digest.errors import ConfigError, MailboxError
from digest.state import State, state_url

SECRET = "a-bounce-test-secret"
MAILDIR = Path(__file__).parent / "data" / "bounces" / "maildir"
SUBSCRIBERS = [
    "ada@example.org",
    "bo@example.net",
    "cy@example.com",
    "dee@example.org",
    "eve@example.net",
    "fay@example.com",
    "gil@example.net",
    "hal@example.com",
    "ivy@example.org",
]
#: What the fixture mailbox says, with hard_limit 1: suppressed (how) and soft bounces counted.
BOUNCED = {"ada@example.org", "cy@example.com", "dee@example.org", "fay@example.com"}
COMPLAINED = {"gil@example.net", "hal@example.com"}
SOFT = {"bo@example.net", "eve@example.net"}
MALFORMED = {"1773500600.M1000P2010.mx.example.org", "1773500700.M1100P2011.mx.example.org"}


@dataclass
class Project:
    folder: Path

    @property
    def config_path(self) -> Path:
        return self.folder / "feeds.yaml"

    def write_config(self, bounces: str = "", smtp_port: int = 25) -> None:
        self.config_path.write_text(
            f"""\
editions:
  morning:
    title: Morning Briefing
    sources:
      - url: feed.xml
    delivery:
      from: "Morning Briefing <briefing@example.org>"
      subscribers: subscribers.csv
      unsubscribe: {{secret_env: DIGEST_TEST_SECRET}}
      smtp: {{host: 127.0.0.1, port: {smtp_port}, security: none}}
      bounces: {{return_path: "bounces+{{token}}@example.org"{bounces}}}
""",
            encoding="utf-8",
        )

    def cli(self, *args: str) -> Result:
        return CliRunner().invoke(main, [args[0], "--config", str(self.config_path), *args[1:]])

    def suppressed(self) -> set[str]:
        with State(state_url(load_config(self.config_path))) as state:
            return state.ledger.suppressed("morning")


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("DIGEST_TEST_SECRET", SECRET)
    made = Project(tmp_path)
    made.write_config()
    (tmp_path / "subscribers.csv").write_text("email\n" + "".join(a + "\n" for a in SUBSCRIBERS))
    return made


def test_the_fixture_tokens_are_those_of_the_secret() -> None:
    tokens = ReturnPathTokens(SECRET.encode())
    assert tokens.token("morning", "dee@example.org") == "d3rdqztrrttgrez7"
    assert tokens.token("morning", "ada@example.org") != tokens.token("evening", "ada@example.org")


# --- the return path at send time ----------------------------------------------------------------------


def test_each_subscriber_is_sent_from_a_return_path_of_their_own(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(
        digest.deliver.smtp, "DEFAULT_RETRY", RetryPolicy(attempts=2, first_delay=timedelta(milliseconds=10))
    )
    issue_dir = built_issue_folder(tmp_path)
    with LoopbackSmtp() as server:
        project.write_config(smtp_port=server.port)
        config = load_config(project.config_path)
        with State(state_url(config)) as state:
            report = pipeline.send_issue(config, config.editions["morning"], state, issue_dir)
        envelopes = dict(server.envelopes)
    assert report.sent == len(SUBSCRIBERS)
    tokens = ReturnPathTokens(SECRET.encode())
    assert envelopes == {a: f"bounces+{tokens.token('morning', a)}@example.org" for a in SUBSCRIBERS}
    assert len(set(envelopes.values())) == len(SUBSCRIBERS)
    # A local part holds 64 characters at most (RFC 5321).
    assert all(len(sender.partition("@")[0]) <= 64 for sender in envelopes.values())


def built_issue_folder(tmp_path: Path) -> Path:
    from factories import make_issue, pdf_renderer

    from digest.config import EditionConfig, SourceConfig
    from digest.output import write_issue
    from digest.render import render_issue
    from digest.render.templates import environment

    base_url = "http://localhost:8080/morning/"
    edition = EditionConfig(
        name="morning", title="Morning Briefing", base_url=base_url, sources=(SourceConfig(url="feed.xml"),)
    )
    issue = make_issue()
    links = pipeline.assemble.links_for(base_url, issue.issue_id)
    rendered = render_issue(
        issue, edition, links, environment(None), pdf_renderer(), sender="Morning <briefing@example.org>"
    )
    return write_issue(tmp_path / "out" / "morning", issue.issue_id, rendered)


def test_without_a_return_path_the_envelope_sender_is_the_from_address(
    project: Project, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    issue_dir = built_issue_folder(tmp_path)
    with LoopbackSmtp() as server:
        project.write_config(smtp_port=server.port)
        text = project.config_path.read_text().replace('return_path: "bounces+{token}@example.org"', "")
        project.config_path.write_text(text)
        config = load_config(project.config_path)
        with State(state_url(config)) as state:
            pipeline.send_issue(config, config.editions["morning"], state, issue_dir)
        assert {sender for _, sender in server.envelopes} == {"briefing@example.org"}


@pytest.mark.parametrize(
    ("template", "complaint"),
    [
        ("bounces@example.org", "must hold {token} once"),
        ("bounces@{token}.example.org", "must hold {token} once, before the @"),
        ("Bounces <bounces+{token}@example.org>", "must be a bare address"),
        ("bounces+{token}@", "must be a bare address"),
    ],
)
def test_a_return_path_template_that_cannot_work_is_a_config_error(
    project: Project, template: str, complaint: str
) -> None:
    text = project.config_path.read_text().replace("bounces+{token}@example.org", template)
    project.config_path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(project.config_path)
    assert f"{project.config_path}:11: editions.morning.delivery.bounces.return_path: " in str(caught.value)
    assert complaint in str(caught.value)


@pytest.mark.parametrize(
    "mailbox",
    ["imap://bounces@mail.example.org/", "imaps://mail.example.org/", "imaps://b:pw@mail.example.org/"],
)
def test_a_mailbox_url_that_cannot_work_is_a_config_error(project: Project, mailbox: str) -> None:
    project.write_config(bounces=f", mailbox: {mailbox!r}")
    with pytest.raises(
        ConfigError, match=r"feeds.yaml:11: editions.morning.delivery.bounces.mailbox: must be"
    ):
        load_config(project.config_path)


# --- digest bounces on the fixture Maildir -------------------------------------------------------------


def test_bounces_suppress_complainers_and_hard_bounces_and_count_soft_ones(project: Project) -> None:
    result = project.cli("bounces", str(MAILDIR))
    assert result.exit_code == 0, result.output
    assert project.suppressed() == BOUNCED | COMPLAINED
    for address in BOUNCED:
        assert f"{address}: suppressed from morning (bounced)" in result.stdout
    for address in COMPLAINED:
        assert f"{address}: suppressed from morning (complaint)" in result.stdout
    assert "morning: 4 hard bounces, 2 soft bounces, 2 complaints" in result.stdout
    # 13 files: one is a copy of another (read before), two malformed, one an out-of-office reply.
    assert (
        "13 messages read: 9 new reports (1 naming no subscriber), 1 read before, 1 not a report, 2 malformed"
    ) in result.stdout
    for name in MALFORMED:
        assert f"{MAILDIR / 'new' / name}: skipped, a malformed report" in result.stderr
    assert "nobody@elsewhere.example" in result.stderr
    with State(state_url(load_config(project.config_path))) as state:
        figures = state.bounces.figures("morning")
    assert (figures.hard, figures.soft, figures.complaints) == (4, 2, 2)
    assert (figures.suppressed_bounced, figures.suppressed_complained) == (4, 2)


def test_a_mailbox_read_again_counts_nothing_twice(project: Project) -> None:
    project.cli("bounces", str(MAILDIR))
    again = project.cli("bounces", str(MAILDIR))
    assert again.exit_code == 0, again.output
    assert "suppressed from" not in again.stdout
    assert "0 new reports (0 naming no subscriber), 10 read before" in again.stdout
    with State(state_url(load_config(project.config_path))) as state:
        figures = state.bounces.figures("morning")
    assert (figures.hard, figures.soft, figures.complaints) == (4, 2, 2)


def test_status_shows_the_figures(project: Project) -> None:
    project.cli("bounces", str(MAILDIR))
    result = project.cli("status")
    assert result.exit_code == 0, result.output
    assert (
        "bounces      4 hard bounces, 2 soft bounces, 2 complaints; suppressed 4 for bouncing, "
        "2 for complaining"
    ) in result.stdout


def test_hard_and_soft_limits_decide_when_bounces_suppress(project: Project, tmp_path: Path) -> None:
    project.write_config(bounces=", hard_limit: 2, soft_limit: 2")
    project.cli("bounces", str(MAILDIR))
    assert project.suppressed() == COMPLAINED
    # A second hard bounce of dee and a second soft one of eve, each a new report.
    more = tmp_path / "more"
    more.mkdir()
    for name, replaced in [
        ("1773471701.M100P2001.mx.example.org", "7C2B81A0F3@mail.example.org"),
        ("1773475302.M200P2002.mx.example.org", "91D3E2B4C1@mail.example.org"),
    ]:
        raw = (MAILDIR / "new" / name).read_bytes().replace(replaced.encode(), b"second-" + replaced.encode())
        (more / f"{name}.eml").write_bytes(raw)
    result = project.cli("bounces", str(more))
    assert result.exit_code == 0, result.output
    assert project.suppressed() == COMPLAINED | {"dee@example.org", "eve@example.net"}


def test_edition_mailboxes_are_read_when_no_path_is_given(project: Project) -> None:
    project.write_config(bounces=f", mailbox: {MAILDIR}")
    result = project.cli("bounces")
    assert result.exit_code == 0, result.output
    assert project.suppressed() == BOUNCED | COMPLAINED


def test_an_imap_url_given_as_path_takes_the_password_of_the_edition_reading_that_account(
    project: Project,
) -> None:
    project.write_config(
        bounces=", mailbox: 'imaps://Bounces@Mail.example.org/INBOX', password_env: BOUNCES_PASSWORD"
    )
    config = load_config(project.config_path)
    editions = list(config.editions.values())
    assert mailboxes(config, editions, "imaps://bounces@mail.example.org:993/Archive") == [
        ("imaps://bounces@mail.example.org:993/Archive", "BOUNCES_PASSWORD")
    ]
    assert mailboxes(config, editions, "imaps://other@mail.example.org/") == [
        ("imaps://other@mail.example.org/", None)
    ]
    assert mailboxes(config, editions, None) == [
        ("imaps://Bounces@Mail.example.org/INBOX", "BOUNCES_PASSWORD")
    ]
    result = project.cli("bounces", "--edition", "morning", str(MAILDIR))
    assert result.exit_code == 2
    assert "give it or PATH, not both" in result.stderr


def test_no_mailbox_anywhere_is_a_usage_error(project: Project) -> None:
    result = project.cli("bounces")
    assert result.exit_code == 2
    assert "no delivery.bounces.mailbox is set; give the mailbox as PATH" in result.stderr


def test_a_mailbox_that_is_not_there_is_named(project: Project, tmp_path: Path) -> None:
    result = project.cli("bounces", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert f"{tmp_path / 'nowhere'}: no such mailbox" in result.stderr


# --- other mailbox forms -------------------------------------------------------------------------------


def fixture_messages() -> list[bytes]:
    return [p.read_bytes() for p in sorted((MAILDIR / "new").iterdir())]


def test_an_mbox_and_a_folder_of_eml_files_read_like_the_maildir(project: Project, tmp_path: Path) -> None:
    box = mailbox.mbox(tmp_path / "bounces.mbox")
    for raw in fixture_messages():
        box.add(raw)
    box.flush()
    box.close()
    result = project.cli("bounces", str(tmp_path / "bounces.mbox"))
    assert result.exit_code == 0, result.output
    assert project.suppressed() == BOUNCED | COMPLAINED
    assert f"{tmp_path / 'bounces.mbox'}#11: skipped, a malformed report" in result.stderr

    folder = tmp_path / "eml"
    folder.mkdir()
    for n, raw in enumerate(fixture_messages()):
        (folder / f"{n:02}.eml").write_bytes(raw)
    (folder / "notes.txt").write_text("not a message file")
    names = [m.name for m in read_mailbox(str(folder))]
    assert names == [str(folder / f"{n:02}.eml") for n in range(12)]


@pytest.fixture(scope="module")
def imap_certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return loopback_certificate(tmp_path_factory.mktemp("imap-tls"))


@pytest.fixture(scope="module")
def imap_tls(imap_certificate: tuple[Path, Path]) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a certificate made now."""
    cert, key = imap_certificate
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    client = ssl.create_default_context(cafile=str(cert))
    return server, client


@pytest.fixture
def imap(imap_tls: tuple[ssl.SSLContext, ssl.SSLContext]) -> Iterator[LoopbackImap]:
    with LoopbackImap(imap_tls[0], "bounces", "imap-pass", "Bounces", fixture_messages()) as server:
        yield server


def test_imap_over_tls_reads_the_folder_without_changing_it(
    project: Project,
    imap: LoopbackImap,
    imap_tls: tuple[ssl.SSLContext, ssl.SSLContext],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOUNCES_IMAP_PASSWORD", "imap-pass")
    url = f"imaps://bounces@127.0.0.1:{imap.port}/Bounces"
    config = load_config(project.config_path)
    with State(state_url(config)) as state:
        mails = read_mailbox(url, password_env="BOUNCES_IMAP_PASSWORD", tls_context=imap_tls[1])
        run = read_bounces(config, state, mails)
        suppressed = state.ledger.suppressed("morning")
    assert suppressed == BOUNCED | COMPLAINED
    assert run.messages == 12 and len(run.malformed) == 2
    assert [m.partition(": ")[0] for m in run.malformed] == [f"{url};UID=10", f"{url};UID=11"]
    assert imap.fetched == list(range(1, 13))
    assert "EXAMINE" in {c.split()[0] for c in imap.commands}
    assert not {"STORE", "SELECT", "EXPUNGE", "COPY"} & {c.split()[0] for c in imap.commands}
    assert not {"STORE", "EXPUNGE", "COPY"} & {c.split()[-1] for c in imap.commands}


def test_imap_downloads_only_what_no_earlier_run_recorded(
    project: Project,
    imap: LoopbackImap,
    imap_certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("BOUNCES_IMAP_PASSWORD", "imap-pass")
    # The way an operator trusts a private certificate authority: OpenSSL's own variable.
    monkeypatch.setenv("SSL_CERT_FILE", str(imap_certificate[0]))
    mailbox = f"imaps://bounces@127.0.0.1:{imap.port}/Bounces"
    project.write_config(bounces=f", mailbox: '{mailbox}', password_env: BOUNCES_IMAP_PASSWORD")
    first = project.cli("bounces")
    assert first.exit_code == 0, first.output
    assert project.suppressed() == BOUNCED | COMPLAINED
    imap.fetched.clear()
    again = project.cli("bounces")
    assert again.exit_code == 0, again.output
    assert (
        "0 new reports (0 naming no subscriber), 9 read before, 1 not a report, 2 malformed" in again.stdout
    )
    # Only the messages recorded as no report (malformed, not a report) are downloaded again.
    assert imap.fetched == [10, 11, 12]


def test_imap_refusals_are_one_line_naming_the_mailbox(
    imap: LoopbackImap, imap_tls: tuple[ssl.SSLContext, ssl.SSLContext], monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"imaps://bounces@127.0.0.1:{imap.port}/Bounces"
    monkeypatch.setenv("BOUNCES_IMAP_PASSWORD", "wrong")
    with pytest.raises(
        MailboxError, match=rf"^imaps://bounces@127.0.0.1:{imap.port}/Bounces: .*wrong password"
    ):
        list(read_mailbox(url, password_env="BOUNCES_IMAP_PASSWORD", tls_context=imap_tls[1]))
    monkeypatch.delenv("BOUNCES_IMAP_PASSWORD")
    with pytest.raises(MailboxError, match="environment variable BOUNCES_IMAP_PASSWORD is not set"):
        list(read_mailbox(url, password_env="BOUNCES_IMAP_PASSWORD", tls_context=imap_tls[1]))
    with pytest.raises(MailboxError, match="password in an environment variable"):
        list(read_mailbox(f"imaps://bounces:secret@127.0.0.1:{imap.port}/", password_env="X"))
    # The server's certificate is not trusted by default: nothing is read.
    monkeypatch.setenv("BOUNCES_IMAP_PASSWORD", "imap-pass")
    with pytest.raises(MailboxError, match="cannot connect"):
        list(read_mailbox(url, password_env="BOUNCES_IMAP_PASSWORD"))


# --- a real Postfix ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_dsn_from_a_real_postfix_suppresses_the_subscriber_it_names(
    project: Project, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """digest send -> Postfix on loopback -> a remote server refusing one address -> Postfix's DSN to
    that subscriber's return path -> a Maildir -> digest bounces."""
    postfix = needs.program("postfix", "postfix", "a DSN from a real Postfix")
    if os.geteuid() != 0:
        pytest.skip(
            "NEEDS root: Postfix's master starts as root, so a DSN from a real Postfix is not checked"
        )
    monkeypatch.setattr(
        digest.deliver.smtp, "DEFAULT_RETRY", RetryPolicy(attempts=2, first_delay=timedelta(milliseconds=10))
    )
    (tmp_path / "subscribers.csv").write_text("email\nada@example.org\ndee@example.org\n")
    issue_dir = built_issue_folder(tmp_path)
    with LoopbackSmtp() as remote, LoopbackSmtp() as bounce_box:
        remote.handler.replies["dee@example.org"] = ["550 5.1.1 <dee@example.org>: no such user"]
        routes = {"example.org": remote.port, "bounces.test": bounce_box.port}
        with LoopbackPostfix(postfix, free_port(), routes) as mta:
            project.write_config(smtp_port=mta.port)
            text = project.config_path.read_text().replace('@example.org"}', '@bounces.test"}')
            project.config_path.write_text(text)
            config = load_config(project.config_path)
            with State(state_url(config)) as state:
                report = pipeline.send_issue(config, config.editions["morning"], state, issue_dir)
            assert report.sent == 2  # Postfix took both; the refusal comes later, by mail.
            for _ in range(600):
                if bounce_box.received and remote.received:
                    break
                time.sleep(0.1)
            log = mta.log
        assert [r for r, _ in remote.received] == ["ada@example.org"], log
        assert len(bounce_box.received) == 1, log
    token = ReturnPathTokens(SECRET.encode()).token("morning", "dee@example.org")
    recipient, dsn = bounce_box.received[0]
    assert recipient == f"bounces+{token}@bounces.test"
    assert dict(bounce_box.envelopes)[recipient] == "<>"  # a bounce is sent from the null sender
    maildir = tmp_path / "bounces"
    (maildir / "new").mkdir(parents=True)
    (maildir / "new" / "1.postfix").write_bytes(dsn)
    result = project.cli("bounces", str(maildir))
    assert result.exit_code == 0, result.output
    assert "dee@example.org: suppressed from morning (bounced)" in result.stdout
    assert project.suppressed() == {"dee@example.org"}


# --- reading one report --------------------------------------------------------------------------------


def test_a_plain_text_bounce_with_x_failed_recipients_is_a_hard_bounce() -> None:
    raw = (
        b"From: Mail Delivery System <Mailer-Daemon@old.example.com>\r\n"
        b"To: briefing@example.org\r\nX-Failed-Recipients: Dee@Example.org\r\n"
        b"Subject: Mail delivery failed\r\nMessage-ID: <x1@old.example.com>\r\n\r\n"
        b"This message was not delivered to dee@example.org.\r\n"
    )
    report = read_report(raw)
    assert [(e.kind, e.address) for e in report.events] == [("hard", "dee@example.org")]
    assert report.report_id == "<x1@old.example.com>"


def test_a_report_without_the_original_names_it_by_in_reply_to() -> None:
    raw = (MAILDIR / "new" / "1773471707.M500P2005.mx.example.org").read_bytes()
    cut = raw[: raw.index(b"--1c4a7d3e-8f2b-4e6a-9d1c-5b7e2f0a3c91\nContent-Type: text/rfc822-headers")]
    report = read_report(cut)
    assert report.original_message_id == "<d41d8cd98f00b204e9800998ecf8427e.morning.2026-03-14@example.org>"


def test_feedback_that_is_no_complaint_names_nobody() -> None:
    raw = (MAILDIR / "new" / "1773500400.M800P2008.mx.example.org").read_bytes()
    assert read_report(raw).events[0].address == "hal@example.com"
    not_spam = raw.replace(b"Feedback-Type: abuse", b"Feedback-Type: not-spam")
    assert read_report(not_spam).events == ()


@pytest.mark.parametrize(
    ("raw", "malformed", "reason"),
    [
        (
            b"Content-Type: multipart/report; report-type=disposition-notification; boundary=x\r\n"
            b"\r\n--x--\r\n",
            False,
            "a report of type disposition-notification, not a bounce or complaint",
        ),
        (b"Subject: hello\r\n\r\nhi\r\n", False, "not a bounce or complaint report (text/plain)"),
        (
            b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
            b"--x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; a.example\r\n\r\n"
            b"Final-Recipient: rfc822; a@example.org\r\nAction: failed\r\nStatus: bounced\r\n\r\n--x--\r\n",
            True,
            "a@example.org: Status 'bounced' is not x.y.z",
        ),
        (
            b"Content-Type: multipart/report; report-type=feedback-report; boundary=x\r\n\r\n"
            b"--x\r\nContent-Type: text/plain\r\n\r\nspam\r\n--x--\r\n",
            True,
            "a feedback report without its message/feedback-report part",
        ),
    ],
)
def test_what_is_not_a_usable_report_says_why(raw: bytes, malformed: bool, reason: str) -> None:
    with pytest.raises(ReportError) as caught:
        read_report(raw)
    assert caught.value.malformed is malformed
    assert str(caught.value) == reason


def dsn(action: str, status: str, diagnostic: str = "") -> bytes:
    return (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n\r\n"
        b"--x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; a.example\r\n\r\n"
        b"Final-Recipient: rfc822; a@example.org\r\nAction: " + action.encode() + b"\r\n"
        b"Status: "
        + status.encode()
        + b"\r\nDiagnostic-Code: smtp; "
        + diagnostic.encode()
        + b"\r\n\r\n--x--\r\n"
    )


@pytest.mark.parametrize(
    ("action", "status", "diagnostic", "kind", "code"),
    [
        ("failed", "5.1.1", "550 5.1.1 no such user", "hard", "5.1.1"),
        ("failed", "5.1.10", "550 5.1.10 RecipientNotFound", "hard", "5.1.10"),
        ("failed", "5.2.1", "550 5.2.1 account disabled", "hard", "5.2.1"),
        ("failed", "5.0.0", "550 5.1.1 mailbox unavailable", "hard", "5.1.1"),
        ("failed", "5.0.0", "550 refused", "hard", "5.0.0"),
        # Permanent, but not about the address: counted as soft, never suppressing at hard_limit.
        ("failed", "5.0.0", "554 5.7.1 Service unavailable; client host blocked", "soft", "5.7.1"),
        ("failed", "5.7.1", "550 5.7.1 rejected by policy", "soft", "5.7.1"),
        ("failed", "5.2.2", "552 5.2.2 mailbox full", "soft", "5.2.2"),
        ("failed", "4.4.1", "connection timed out", "soft", "4.4.1"),
        ("delayed", "4.2.2", "452 4.2.2 over quota", "soft", "4.2.2"),
    ],
)
def test_a_failure_is_hard_only_when_it_is_about_the_address(
    action: str, status: str, diagnostic: str, kind: str, code: str
) -> None:
    event = read_report(dsn(action, status, diagnostic)).events[0]
    assert (event.kind, event.status) == (kind, code)


def test_a_delivered_action_is_no_bounce() -> None:
    raw = (
        b"Content-Type: multipart/report; report-type=delivery-status; boundary=x\r\n"
        b"Message-ID: <ok@mta.example>\r\n\r\n"
        b"--x\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; a.example\r\n\r\n"
        b"Final-Recipient: rfc822; a@example.org\r\nAction: delivered\r\nStatus: 2.0.0\r\n\r\n--x--\r\n"
    )
    assert read_report(raw).events == ()
