"""`digest check`, run as its own process: the config file and what a build and a send will need."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

CONFIG = """\
editions:
  morning:
    title: Morning
    sources:
      - url: feeds/world.xml
      - url: feeds/missing.xml
      - url: https://news.example.org/feed.xml
    delivery:
      from: "Morning <briefing@example.org>"
      subscribers: nobody.csv
      smtp: {host: 127.0.0.1, username_env: DIGEST_CHECK_USER, password_env: DIGEST_CHECK_PASSWORD}
  evening:
    title: Evening
    sources:
      - url: feeds/world.xml
    condense: {backend: openai, api_key_env: DIGEST_CHECK_KEY}
    delivery:
      from: news@localhost
      subscribers: readers.csv
      dkim: {domain: example.org, selector: mail, key_file: dkim.pem}
"""


def check(folder: Path, **environment: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DIGEST_CHECK_")}
    return subprocess.run(
        [sys.executable, "-m", "digest", "check", "--config", "feeds.yaml"],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=folder,
        env={**clean, **environment},
    )


def project(folder: Path, config: str = CONFIG) -> Path:
    (folder / "feeds").mkdir()
    (folder / "feeds" / "world.xml").write_text("<rss version='2.0'><channel/></rss>", "utf-8")
    (folder / "feeds.yaml").write_text(config, "utf-8")
    return folder


def test_every_problem_a_build_or_send_would_meet_at_once(tmp_path: Path) -> None:
    project(tmp_path)
    readers = "email,name\nada@example.org,Ada\nada@example,Typo\nbo@@example.net,Bo\nADA@example.org,Again\n"
    (tmp_path / "readers.csv").write_text(readers, "utf-8")
    done = check(tmp_path, DIGEST_CHECK_USER="mailer")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.splitlines() == [
        f"feeds.yaml:6: editions.morning.sources[1].url: no such file: {tmp_path / 'feeds' / 'missing.xml'}",
        "feeds.yaml:10: editions.morning.delivery.subscribers: no such subscribers file",
        "feeds.yaml:11: editions.morning.delivery.smtp.password_env: "
        "the environment variable DIGEST_CHECK_PASSWORD is not set",
        "feeds.yaml:16: editions.evening.condense.api_key_env: "
        "the environment variable DIGEST_CHECK_KEY is not set",
        f"feeds.yaml:20: editions.evening.delivery.dkim.key_file: no such file: {tmp_path / 'dkim.pem'}",
        f"{tmp_path / 'readers.csv'}:4: not an e-mail address: 'bo@@example.net' "
        "(the part after the @-sign contains invalid characters: '@'); row skipped",
        f"{tmp_path / 'readers.csv'}:5: ada@example.org is listed again; it is sent once",
        "7 problems found",
    ]


def test_a_ready_project_is_ok_and_counts_in_words(tmp_path: Path) -> None:
    project(tmp_path)
    (tmp_path / "feeds" / "missing.xml").write_text("<rss version='2.0'><channel/></rss>", "utf-8")
    (tmp_path / "nobody.csv").write_text("email\nreader@localhost\n", "utf-8")
    (tmp_path / "readers.csv").write_text("email\ndesk@intranet\n", "utf-8")
    (tmp_path / "dkim.pem").write_text("not checked here\n", "utf-8")
    done = check(tmp_path, DIGEST_CHECK_USER="mailer", DIGEST_CHECK_PASSWORD="secret", DIGEST_CHECK_KEY="key")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "feeds.yaml: ok (2 editions, 4 sources)\n"

    single = "editions:\n  x:\n    title: X\n    sources: [{url: feeds/world.xml}]\n"
    (tmp_path / "feeds.yaml").write_text(single, "utf-8")
    assert check(tmp_path).stdout == "feeds.yaml: ok (1 edition, 1 source)\n"


def test_a_subscribers_file_without_a_usable_row_is_a_problem(tmp_path: Path) -> None:
    config = "editions:\n  x:\n    title: X\n    sources: [{url: feeds/world.xml}]\n"
    project(tmp_path, config + "    delivery: {from: a@example.org, subscribers: s.csv}\n")
    (tmp_path / "s.csv").write_text("email\nnot-an-address\n", "utf-8")
    done = check(tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "feeds.yaml:5: editions.x.delivery.subscribers: no row with a usable address (1 row skipped; "
        "line 2: not an e-mail address: 'not-an-address' (an email address must have an @-sign); "
        "row skipped)",
        "1 problem found",
    ]


def test_a_misspelt_key_is_reported_as_such_and_only_so(tmp_path: Path) -> None:
    project(
        tmp_path,
        "editions:\n  x:\n    title: X\n    source:\n      - url: feeds/world.xml\n"
        "  y:\n    title: Y\n    sources:\n      - ur: feeds/world.xml\n"
        "edition:\n  z: {}\n",
    )
    done = check(tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        "feeds.yaml:4: editions.x.source: unknown key; did you mean 'sources'?",
        "feeds.yaml:9: editions.y.sources[0].ur: unknown key; did you mean 'url'?",
        "feeds.yaml:10: edition: unknown key; did you mean 'editions'?",
        "3 problems found",
    ]
