"""No published output carries a password from a URL (``https://user:secret@host/``).

A real ``digest build`` over a loopback feed server, then a real ``digest send`` to aiosmtpd:
the password appears in entry links, in links and images inside the content, in URLs written
in the text, in a source URL (a feed behind basic authentication) and in the error of a source
that fails. Every file the build writes and every message the subscribers receive is searched
for it, decoded (the e-mail's parts, the PDF's text and link annotations).
"""

from __future__ import annotations

import email
import email.policy
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from html import escape
from pathlib import Path

import pytest
from httpserver import LoopbackServer
from pypdf import PdfReader
from smtpserver import LoopbackSmtp

sys.path.insert(0, str(Path(__file__).resolve().parent / "hostile"))
from good import RECENT, story_paragraphs

from digest.errors import ConfigError
from digest.urls import has_credentials, without_credentials

REPO = Path(__file__).resolve().parents[1]
NOW = "2026-11-23T07:00:00+00:00"
SECRET = "secretpw"
#: Each a place a password hides in; each story is long enough to be a briefing.
STORIES = (
    ("Tram line to the airport wins approval", "tram", f"http://user:{SECRET}@news.example.org/tram"),
    ("Library extends its opening hours", "library", "https://news.example.org/library"),
    ("Harbour wall rebuilt after winter storms", "harbour", f"https://ed:{SECRET}@intranet.example.org/h"),
)


def _feed() -> bytes:
    items = []
    for hour, (headline, topic, link) in enumerate(STORIES, 2):
        paragraphs = story_paragraphs(topic)
        paragraphs[1] += f" The plan is at https://clerk:{SECRET}@council.example.org/plans/{topic}.pdf ."
        body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
        body += f'<p>See <a href="https://a:{SECRET}@maps.example.org/{topic}">the map</a>.</p>'
        body += f'<p><img src="https://b:{SECRET}@img.example.org/{topic}.png" width="300" height="200"></p>'
        items.append(
            f"<item><title>{escape(headline)}</title><link>{escape(link)}</link>"
            f"<guid>{topic}</guid><pubDate>{RECENT.format(hour=hour)}</pubDate>"
            f"<description>{escape(body)}</description></item>"
        )
    short = (
        f"<item><title>Short note on the ferry</title><link>https://x:{SECRET}@news.example.org/ferry</link>"
        f"<guid>ferry</guid><pubDate>{RECENT.format(hour=1)}</pubDate>"
        "<description>Ferries run late today.</description></item>"
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Desk</title>'
        f"<link>https://news.example.org/</link>{''.join(items)}{short}</channel></rss>"
    ).encode()


def _with_password(url: str) -> str:
    return url.replace("http://", f"http://reader:{SECRET}@", 1)


def _run(*args: str, folder: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "digest", *args, "--config", str(folder / "feeds.yaml"), "--now", NOW]
    if args[0] == "send":
        command.remove("--now")
        command.remove(NOW)
    env = {**os.environ, "DIGEST_TEST_SECRET": "a-test-secret"}
    return subprocess.run(command, capture_output=True, text=True, cwd=REPO, env=env, timeout=300)


@pytest.fixture(scope="module")
def published(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, list[bytes], str]]:
    folder = tmp_path_factory.mktemp("credentials")
    with LoopbackServer() as server, LoopbackSmtp() as smtp:
        feed = _with_password(server.route("/feed.xml", _feed(), content_type="application/rss+xml"))
        missing = _with_password(server.url("/missing.xml"))
        (folder / "feeds.yaml").write_text(
            textwrap.dedent(
                f"""\
                state_dir: .digest
                editions:
                  desk:
                    title: Desk Briefing
                    timezone: UTC
                    lookback: 7d
                    base_url: https://news.example.org/desk/
                    sources:
                      - url: "{feed}"
                      - url: "{missing}"
                    delivery:
                      from: "Desk Briefing <briefing@example.org>"
                      subscribers: subscribers.csv
                      attach_pdf: true
                      unsubscribe: {{secret_env: DIGEST_TEST_SECRET}}
                      smtp: {{host: 127.0.0.1, port: {smtp.port}, security: none}}
                """
            ),
            encoding="utf-8",
        )
        (folder / "subscribers.csv").write_text("email,name\nada@example.org,Ada\nbo@example.net,Bo\n")
        built = _run("build", folder=folder)
        assert built.returncode == 0, built.stderr[-3000:]
        sent = _run("send", folder=folder)
        assert sent.returncode == 0, sent.stderr[-3000:]
        yield folder / "out", [raw for _, raw in smtp.received], built.stdout


def _pdf_texts(path: Path) -> list[str]:
    reader = PdfReader(path)
    texts = [page.extract_text() for page in reader.pages]
    for page in reader.pages:
        for annotation in page.get("/Annots") or ():
            action = annotation.get_object().get("/A")
            if action is not None and "/URI" in action:
                texts.append(str(action["/URI"]))
    return texts


def _message_texts(raw: bytes) -> list[str]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    texts = [raw.decode("utf-8", "replace")]
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True) or b""
        if part.get_content_type() == "application/pdf":
            pdf = Path(f"/dev/shm/digest-credentials-{id(part)}.pdf")
            pdf.write_bytes(payload)
            try:
                texts += _pdf_texts(pdf)
            finally:
                pdf.unlink()
        else:
            texts.append(payload.decode("utf-8", "replace"))
    return texts


def test_the_issue_used_the_links_that_carried_a_password(published: tuple[Path, list[bytes], str]) -> None:
    _, messages, stdout = published
    issue_dir = Path(stdout.split()[0])
    html = (issue_dir / "email.html").read_text("utf-8")
    # The links are there, without the password: the test looks where the password would be.
    assert "http://news.example.org/tram" in html and "https://intranet.example.org/h" in html
    assert "https://news.example.org/ferry" in html
    assert "council.example.org/plans/" in (issue_dir / "issue.txt").read_text("utf-8")
    assert len(messages) == 2


def test_no_file_written_and_no_message_sent_holds_the_password(
    published: tuple[Path, list[bytes], str],
) -> None:
    out, messages, _ = published
    files = [p for p in out.rglob("*") if p.is_file()]
    names = {p.name for p in files}
    assert {"email.html", "issue.txt", "issue.json", "briefing.html", "briefing.pdf", "feed.xml"} <= names
    for path in files:
        texts = _pdf_texts(path) if path.suffix == ".pdf" else []
        texts += _message_texts(path.read_bytes()) if path.suffix == ".eml" else []
        texts.append(path.read_bytes().decode("utf-8", "replace"))
        for text in texts:
            assert SECRET not in text, path
    for raw in messages:
        for text in _message_texts(raw):
            assert SECRET not in text


def test_without_credentials_keeps_everything_but_the_userinfo() -> None:
    assert without_credentials("http://user:pw@host/a?b=c@d#e") == "http://host/a?b=c@d#e"
    assert without_credentials("HTTPS://U@H.org") == "HTTPS://H.org"
    assert (
        without_credentials("ftp://a@b@c/x and mailto:bob@example.org")
        == "ftp://c/x and mailto:bob@example.org"
    )
    assert (
        without_credentials("https://host/path/@user, bob@example.org")
        == "https://host/path/@user, bob@example.org"
    )
    assert (
        without_credentials('<a href="https://u:p@h.org/">u:p@h</a>') == '<a href="https://h.org/">u:p@h</a>'
    )
    assert has_credentials("https://u:p@h.org/") and not has_credentials("https://h.org/@u")


def test_a_base_url_with_a_password_is_a_config_error_naming_its_line(tmp_path: Path) -> None:
    from digest.config import load_config

    (tmp_path / "feed.xml").write_text("<rss/>")
    (tmp_path / "feeds.yaml").write_text(
        "editions:\n  desk:\n    title: Desk\n    base_url: https://web:secret@news.example.org/desk/\n"
        "    sources:\n      - url: feed.xml\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path / "feeds.yaml")
    assert str(caught.value).startswith(f"{tmp_path / 'feeds.yaml'}:4: editions.desk.base_url: ")
    assert "user name or password" in str(caught.value)
