"""The subscribers CSV and unsubscribe tokens, as pure functions."""

from __future__ import annotations

from pathlib import Path

import pytest

from digest.errors import SubscribersError
from digest.subscribers import Subscriber, read_subscribers
from digest.unsubscribe import TokenSigner, link, mailto


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "subscribers.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_are_read_with_known_columns_any_case_and_extra_columns(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        " Email ,Name,PDF,team\nAda@Example.org,Ada,yes,red\nbo@example.net,,,blue\ncy@example.com,Cy,no,\n",
    )
    found = read_subscribers(path)
    assert found.subscribers == (
        Subscriber("ada@example.org", "Ada", True),
        Subscriber("bo@example.net", "", None),
        Subscriber("cy@example.com", "Cy", False),
    )
    assert found.problems == ()


def test_malformed_rows_are_reported_by_line_and_skipped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        'email,name,pdf\n"ada@example.org","Ada,\nLovelace",yes\nnot an address,X,\n\n'
        "bo@example.net,Bo,maybe\nADA@EXAMPLE.ORG,again,\n<cy@example.com>,,\ndee@example.org\n",
    )
    found = read_subscribers(path)
    assert [s.address for s in found.subscribers] == ["ada@example.org", "dee@example.org"]
    assert found.subscribers[0].name == "Ada,\nLovelace"
    assert found.problems == (
        "subscribers.csv:4: not an e-mail address: 'not an address'; row skipped",
        "subscribers.csv:6: pdf must be yes or no, not 'maybe'; row skipped",
        "subscribers.csv:7: ada@example.org is listed again; it is sent once",
        "subscribers.csv:8: not an e-mail address: '<cy@example.com>'; row skipped",
    )


def test_a_file_without_email_column_or_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SubscribersError, match=r"subscribers.csv:1: the header row has no 'email' column"):
        read_subscribers(write(tmp_path, "address,name\na@example.org,A\n"))
    with pytest.raises(SubscribersError, match="no such subscribers file"):
        read_subscribers(tmp_path / "absent.csv")


def test_tokens_round_trip_and_are_url_safe() -> None:
    signer = TokenSigner(b"k")
    token = signer.token("morning", "o'neil+news@example.org")
    assert signer.verify(token) == ("morning", "o'neil+news@example.org")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert link("https://x.example/m/", token) == f"https://x.example/m/unsubscribe?t={token}"
    assert mailto("leave@x.example", token) == f"mailto:leave@x.example?subject=unsubscribe%20{token}"
    assert TokenSigner(b"other").verify(token) is None
    assert signer.verify(token.replace(".", "")) is None
