"""STARTTLS, implicit TLS (``security: ssl``) and login against aiosmtpd on 127.0.0.1, with a
certificate made in the test."""

from __future__ import annotations

import datetime as dt
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from smtpserver import LoopbackSmtp
from tlscert import loopback_certificate, self_signed

from digest.config import SmtpConfig
from digest.deliver import Outcome, Outgoing
from digest.deliver.smtp import RetryPolicy, SmtpDeliverer
from digest.errors import DeliveryError

#: aiosmtpd warns about AUTH without STARTTLS on every connection; here the connection is TLS.
AUTH_OVER_TLS = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")
FAST = RetryPolicy(attempts=2, first_delay=dt.timedelta(milliseconds=10), timeout=dt.timedelta(seconds=5))
MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return loopback_certificate(tmp_path_factory.mktemp("tls"))


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"digest", b"s3cret")
    return AuthResult(success=ok, handled=False)


def server_context(certificate: tuple[Path, Path]) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    return context


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[LoopbackSmtp]:
    with LoopbackSmtp(
        tls_context=server_context(certificate),
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    ) as server:
        yield server


def deliver(
    server: LoopbackSmtp, certificate: Path, retry: RetryPolicy = FAST, **settings: Any
) -> list[Outcome]:
    deliverer = SmtpDeliverer(
        SmtpConfig(host="127.0.0.1", port=server.port, **settings),
        envelope_from="Digest <a@example.org>",
        retry=retry,
        tls_context=ssl.create_default_context(cafile=str(certificate)),
    )
    outcomes: list[Outcome] = []
    deliverer.deliver([Outgoing("b@example.org", lambda: MESSAGE)], outcomes.append)
    return outcomes


@AUTH_OVER_TLS
@pytest.mark.parametrize(
    ("server_name", "security"), [("tls_server", "starttls"), ("implicit_tls_server", "ssl")]
)
def test_tls_and_login_from_environment_variables(
    server_name: str,
    security: str,
    certificate: tuple[Path, Path],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
) -> None:
    server: LoopbackSmtp = request.getfixturevalue(server_name)
    monkeypatch.setenv("SMTP_USER", "digest")
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret")
    outcomes = deliver(
        server,
        certificate[0],
        security=security,
        username_env="SMTP_USER",
        password_env="SMTP_PASSWORD",
    )
    assert [(o.status, o.detail) for o in outcomes] == [("sent", "250 accepted")]
    assert server.received == [("b@example.org", MESSAGE)]


def test_a_refused_login_stops_at_once_and_leaves_the_message_pending(
    tls_server: LoopbackSmtp, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_USER", "digest")
    monkeypatch.setenv("SMTP_PASSWORD", "wrong")
    outcomes = deliver(
        tls_server,
        certificate[0],
        security="starttls",
        username_env="SMTP_USER",
        password_env="SMTP_PASSWORD",
    )
    assert [o.status for o in outcomes] == ["pending"]
    assert outcomes[0].detail.startswith("login refused: 535")
    assert tls_server.received == []


def test_plain_connection_to_a_server_that_requires_starttls_is_not_delivered(
    tls_server: LoopbackSmtp, certificate: tuple[Path, Path]
) -> None:
    outcomes = deliver(tls_server, certificate[0], security="none")
    assert [o.status for o in outcomes] == ["pending"]
    assert outcomes[0].detail.startswith("530")
    assert tls_server.received == []


def test_a_login_variable_that_is_not_set_is_one_error_naming_it(
    tls_server: LoopbackSmtp, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SMTP_ABSENT", raising=False)
    with pytest.raises(DeliveryError, match=r"SMTP server 127.0.0.1:\d+: environment variable SMTP_ABSENT"):
        deliver(tls_server, certificate[0], username_env="SMTP_ABSENT", password_env="SMTP_ABSENT")


@pytest.fixture
def implicit_tls_server(certificate: tuple[Path, Path]) -> Iterator[LoopbackSmtp]:
    # aiosmtpd counts only STARTTLS as TLS when it decides whether to offer AUTH; the whole
    # connection is TLS here, so it may offer it regardless.
    with LoopbackSmtp(
        ssl_context=server_context(certificate),
        auth_required=True,
        auth_require_tls=False,
        authenticator=authenticator,
    ) as server:
        yield server


@AUTH_OVER_TLS
def test_implicit_tls_to_a_server_whose_certificate_is_not_trusted_sends_nothing(
    implicit_tls_server: LoopbackSmtp, certificate: tuple[Path, Path], tmp_path: Path
) -> None:
    # Trust a different authority than the one that signed the server's certificate.
    stranger = self_signed("Some other authority", ec.generate_private_key(ec.SECP256R1()))
    (tmp_path / "stranger.pem").write_bytes(stranger.public_bytes(serialization.Encoding.PEM))
    outcomes = deliver(implicit_tls_server, tmp_path / "stranger.pem", security="ssl")
    assert [o.status for o in outcomes] == ["pending"]
    assert (
        "CERTIFICATE_VERIFY_FAILED" in outcomes[0].detail or "certificate verify failed" in outcomes[0].detail
    )
    assert implicit_tls_server.received == []


@AUTH_OVER_TLS
def test_plain_smtp_to_an_implicit_tls_port_is_not_delivered(
    implicit_tls_server: LoopbackSmtp, certificate: tuple[Path, Path]
) -> None:
    # The server waits for a TLS handshake and the client for a greeting: a timeout, then pending.
    once = RetryPolicy(attempts=1, timeout=dt.timedelta(milliseconds=500))
    outcomes = deliver(implicit_tls_server, certificate[0], retry=once, security="none")
    assert [o.status for o in outcomes] == ["pending"]
    assert implicit_tls_server.received == []
