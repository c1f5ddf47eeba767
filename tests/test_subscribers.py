"""The subscribers CSV and unsubscribe tokens, as pure functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
from pathlib import Path

import pytest

from digest.addresses import AddressError, check_address
from digest.errors import SubscribersError
from digest.subscribers import Subscriber, read_subscribers, summarised
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
    assert [str(problem) for problem in found.problems] == [
        "subscribers.csv:4: not an e-mail address: 'not an address' (an email address must have an @-sign); "
        "row skipped",
        "subscribers.csv:6: pdf must be yes or no, not 'maybe'; row skipped",
        "subscribers.csv:7: ada@example.org is listed again; it is sent once",
        "subscribers.csv:8: not an e-mail address: '<cy@example.com>' (a display name and angle brackets "
        "around the email address are not permitted here); row skipped",
    ]


def test_a_file_without_email_column_or_missing_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SubscribersError, match=r"subscribers.csv:1: the header row has no 'email' column"):
        read_subscribers(write(tmp_path, "address,name\na@example.org,A\n"))
    with pytest.raises(SubscribersError, match="no such subscribers file"):
        read_subscribers(tmp_path / "absent.csv")


@pytest.mark.parametrize(
    ("given", "key"),
    [
        ("reader@localhost", "reader@localhost"),
        ("Desk@Intranet", "desk@intranet"),
        ("ops@nas.local", "ops@nas.local"),
        ("o'neil+news@Example.ORG", "o'neil+news@example.org"),
        ("a@bücher.example", "a@xn--bcher-kva.example"),
        ("  ada@example.org ", "ada@example.org"),
    ],
)
def test_one_rule_accepts_dotless_local_and_international_domains(given: str, key: str) -> None:
    assert check_address(given) == key


@pytest.mark.parametrize(
    "given",
    [
        "",
        "plain",
        "a@",
        "@example.org",
        "a@b@example.org",
        "a..b@example.org",
        "ü@example.org",
        '"a b"@example.org',
        "a@[127.0.0.1]",
        "a@nowhere.invalid",
        "a@-x.example",
        "Ada <a@example.org>",
    ],
)
def test_one_rule_refuses_what_a_relay_would(given: str) -> None:
    with pytest.raises(AddressError):
        check_address(given)


def test_a_file_without_a_usable_row_is_an_error_naming_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "email\n" + "".join(f"reader{n}@\n" for n in range(120)))
    with pytest.raises(SubscribersError) as raised:
        read_subscribers(path)
    assert str(raised.value) == (
        f"{path}: no row with a usable address (120 rows skipped; line 2: not an e-mail address: "
        "'reader0@' (there must be something after the @-sign); row skipped)"
    )
    with pytest.raises(SubscribersError, match="the file lists nobody"):
        read_subscribers(write(tmp_path, "email,name\n"))


def test_many_problems_are_summarised_after_the_first_few(tmp_path: Path) -> None:
    rows = "".join(f"reader{n}@\n" for n in range(120))
    found = read_subscribers(write(tmp_path, f"email\n{rows}ada@example.org\n"))
    assert len(found.problems) == 120
    lines = summarised(found.problems)
    assert lines[:5] == [str(problem) for problem in found.problems[:5]]
    assert lines[5:] == [
        "subscribers.csv: 115 more rows skipped or merged (lines 7 to 121); digest check lists them all"
    ]
    assert summarised(found.problems[:5]) == [str(problem) for problem in found.problems[:5]]
    assert summarised(found.problems[:6])[-1].startswith("subscribers.csv: 1 more row skipped")


def test_tokens_round_trip_and_are_url_safe() -> None:
    signer = TokenSigner(b"k")
    token = signer.token("morning", "o'neil+news@example.org")
    assert signer.verify(token) == ("morning", "o'neil+news@example.org")
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")
    assert link("https://x.example/m/", token) == f"https://x.example/m/unsubscribe?t={token}"
    assert mailto("leave@x.example", token) == f"mailto:leave@x.example?subject=unsubscribe%20{token}"
    assert TokenSigner(b"other").verify(token) is None
    assert signer.token("morning", "o'neil+news@example.org") == token, "the same address, the same token"
    for altered in (token[:-2], token[1:], token[:10] + ("A" if token[10] != "A" else "B") + token[11:], "x"):
        assert signer.verify(altered) is None, altered


def test_a_token_does_not_show_the_address() -> None:
    address = "ada.lovelace@example.org"
    token = TokenSigner(b"k").token("morning", address)
    raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
    assert b"ada" not in raw and b"morning" not in raw and b"example" not in raw
    # Nor at any of the three alignments base64 can give a substring.
    for start in range(3):
        assert base64.urlsafe_b64encode(f"{'x' * start}ada.lovelace".encode())[4:12].decode() not in token
    assert "." not in token


def test_a_token_of_the_earlier_signed_form_still_unsubscribes() -> None:
    payload = b"morning/ada@example.org"
    mac = hmac.new(b"k", payload, hashlib.sha256).digest()[:16]
    earlier = f"{b64(payload)}.{b64(mac)}"
    assert TokenSigner(b"k").verify(earlier) == ("morning", "ada@example.org")
    assert TokenSigner(b"other").verify(earlier) is None
    forged = f"{b64(b'morning/bo@example.org')}.{b64(mac)}"
    assert TokenSigner(b"k").verify(forged) is None


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
