"""STARTTLS and login against aiosmtpd on 127.0.0.1 with a certificate made in the test."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from smtpserver import LoopbackSmtp

from digest.config import SmtpConfig
from digest.deliver import Outcome, Outgoing
from digest.deliver.smtp import RetryPolicy, SmtpDeliverer
from digest.errors import DeliveryError

FAST = RetryPolicy(attempts=2, first_delay=0.01, timeout=5)
MESSAGE = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: hi\r\n\r\nbody\r\n"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    (folder / "cert.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "key.pem").write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return folder / "cert.pem", folder / "key.pem"


def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
    ok = isinstance(data, LoginPassword) and (data.login, data.password) == (b"digest", b"s3cret")
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def tls_server(certificate: tuple[Path, Path]) -> Iterator[LoopbackSmtp]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    with LoopbackSmtp(
        tls_context=context, require_starttls=True, auth_required=True, authenticator=authenticator
    ) as server:
        yield server


def deliver(server: LoopbackSmtp, certificate: Path, **settings: Any) -> list[Outcome]:
    deliverer = SmtpDeliverer(
        SmtpConfig(host="127.0.0.1", port=server.port, **settings),
        envelope_from="Digest <a@example.org>",
        retry=FAST,
        tls_context=ssl.create_default_context(cafile=str(certificate)),
    )
    outcomes: list[Outcome] = []
    deliverer.deliver([Outgoing("b@example.org", lambda: MESSAGE)], outcomes.append)
    return outcomes


def test_starttls_and_login_from_environment_variables(
    tls_server: LoopbackSmtp, certificate: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SMTP_USER", "digest")
    monkeypatch.setenv("SMTP_PASSWORD", "s3cret")
    outcomes = deliver(
        tls_server,
        certificate[0],
        security="starttls",
        username_env="SMTP_USER",
        password_env="SMTP_PASSWORD",
    )
    assert [o.status for o in outcomes] == ["sent"]
    assert tls_server.received == [("b@example.org", MESSAGE)]


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
