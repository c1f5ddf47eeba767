"""load_config: every problem at once, each with file, line and key; the defaults CONTRACT.md promises."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import timedelta
from pathlib import Path
from textwrap import dedent, indent
from zoneinfo import ZoneInfo

import pytest

from digest.condense import available as backend_names
from digest.condense import get_condenser
from digest.config import Config, format_problems, load_config, resolve_path
from digest.configvalues import format_duration
from digest.errors import CondenseError, ConfigError, Problem

MINIMAL = """\
editions:
  morning:
    title: Morning Briefing
    sources:
      - url: https://example.org/world.rss
"""


@pytest.fixture
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run in tmp_path, so the config is named plainly ``feeds.yaml`` in messages."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def write(folder: Path, text: str, name: str = "feeds.yaml") -> Path:
    (folder / name).write_text(dedent(text), encoding="utf-8")
    return Path(name)


def with_edition_keys(keys: str) -> str:
    """MINIMAL with more keys in its edition (given unindented)."""
    return MINIMAL + indent(dedent(keys), "    ")


def problems(path: Path) -> list[str]:
    """The lines load_config complains with."""
    with pytest.raises(ConfigError) as raised:
        load_config(path, backends=backend_names)
    return str(raised.value).splitlines()


def test_minimal_config_takes_every_default(in_tmp: Path) -> None:
    config = load_config(write(in_tmp, MINIMAL))
    assert config.path == in_tmp / "feeds.yaml"
    assert config.path.is_absolute()
    assert config.state_dir == ".digest"
    assert config.database_url is None
    assert (config.fetch.timeout, config.fetch.max_bytes, config.fetch.max_redirects) == (20, 10_000_000, 5)
    assert config.fetch.allow_private_addresses is False
    edition = config.editions["morning"]
    assert edition.name == "morning"
    assert edition.title == "Morning Briefing"
    assert str(edition.schedule) == "0 7 * * *"
    assert edition.timezone == ZoneInfo("UTC")
    assert edition.lookback == timedelta(hours=24)
    assert (edition.max_stories, edition.min_stories) == (12, 1)
    assert edition.catch_up == "next"
    assert edition.base_url == "http://localhost:8080/"
    assert edition.theme is None
    assert edition.images is False
    assert edition.delivery is None
    source = edition.sources[0]
    assert (source.url, source.name, source.full_text) == ("https://example.org/world.rss", None, False)
    condense = edition.condense
    assert condense.backend == "extractive"
    assert condense.base_url == "http://localhost:11434/v1"
    assert condense.model is None
    assert condense.api_key_env == "OPENAI_API_KEY"
    assert condense.timeout == 60


def test_delivery_defaults(in_tmp: Path) -> None:
    keys = """\
        delivery:
          from: "Morning Briefing <briefing@example.org>"
          subscribers: subscribers.csv
    """
    path = write(in_tmp, with_edition_keys(keys))
    delivery = load_config(path).editions["morning"].delivery
    assert delivery is not None
    assert delivery.from_ == "Morning Briefing <briefing@example.org>"
    assert delivery.subscribers == "subscribers.csv"
    assert (delivery.reply_to, delivery.attach_pdf, delivery.dkim) == (None, False, None)
    assert (delivery.unsubscribe.secret_env, delivery.unsubscribe.mailto) == ("DIGEST_SECRET", None)
    smtp = delivery.smtp
    assert (smtp.host, smtp.port, smtp.security) == ("localhost", 587, "starttls")
    assert (smtp.username_env, smtp.password_env, smtp.connections, smtp.rate) == (None, None, 1, None)


def test_full_config_loads(in_tmp: Path) -> None:
    (in_tmp / "theme").mkdir()
    path = write(
        in_tmp,
        """\
        state_dir: state
        database_url: postgresql://digest@db.internal/digest
        fetch:
          timeout: 7.5
          max_bytes: 2_000_000
          max_redirects: 0
          allow_private_addresses: true
        editions:
          evening-news:
            title: Evening News
            schedule: "30 18 * * 0,6"
            timezone: Africa/Lagos
            lookback: all
            max_stories: 3
            min_stories: 3
            catch_up: 90m
            base_url: https://news.example.net/evening
            theme: theme
            images: true
            sources:
              - url: feeds/local.xml
                name: Local Wire
                full_text: true
              - url: /srv/feeds/other.xml
              - url: HTTPS://example.com/feed
            condense:
              backend: extractive
              base_url: https://llm.example.net/v1
              model: small
              api_key_env: LLM_KEY
              timeout: 30
            delivery:
              from: evening@example.net
              reply_to: "Desk <desk@example.net>"
              subscribers: people.csv
              attach_pdf: true
              unsubscribe:
                secret_env: EVENING_SECRET
                mailto: leave@example.net
              smtp:
                host: smtp.example.net
                port: 465
                security: ssl
                username_env: SMTP_USER
                password_env: SMTP_PASSWORD
                connections: 2
                rate: 0.5
              dkim:
                domain: example.net
                selector: s1
                key_env: DKIM_KEY
        """,
    )
    config = load_config(path)
    assert config.fetch.timeout == 7.5
    assert config.fetch.max_bytes == 2_000_000
    edition = config.editions["evening-news"]
    assert edition.name == "evening-news"
    # Values arrive parsed: nothing after load_config reads config text again.
    assert edition.timezone == ZoneInfo("Africa/Lagos")
    assert edition.lookback is None  # "all"
    assert edition.catch_up == timedelta(minutes=90)
    assert edition.schedule.expression == "30 18 * * 0,6"
    assert str(edition.schedule.trigger(edition.timezone).fields[4]) == "sat-sun"
    assert edition.base_url == "https://news.example.net/evening/"
    assert [s.url for s in edition.sources] == [
        str(in_tmp / "feeds" / "local.xml"),
        "/srv/feeds/other.xml",
        "HTTPS://example.com/feed",
    ]
    assert resolve_path(config, edition.theme or "") == in_tmp / "theme"
    assert resolve_path(config, config.state_dir) == in_tmp / "state"
    assert edition.delivery is not None
    assert edition.delivery.smtp.security == "ssl"
    assert edition.delivery.dkim is not None
    assert edition.delivery.dkim.key_env == "DKIM_KEY"


def test_relative_source_path_is_made_absolute_against_the_config_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "site"
    folder.mkdir()
    (folder / "feeds.yaml").write_text(MINIMAL.replace("https://example.org/world.rss", "../data/a.xml"))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    config = load_config(Path("../site/feeds.yaml"))
    url = config.editions["morning"].sources[0].url
    assert Path(url).is_absolute()
    assert Path(url).resolve() == tmp_path / "data" / "a.xml"
    assert config.path.resolve() == folder / "feeds.yaml"


def test_unknown_key_with_suggestion(in_tmp: Path) -> None:
    path = write(in_tmp, "fetch:\n  max_bytes: 100\n  timout: 5\n" + MINIMAL)
    assert problems(path) == ["feeds.yaml:3: fetch.timout: unknown key; did you mean 'timeout'?"]


def test_unknown_key_without_suggestion_and_aliased_key(in_tmp: Path) -> None:
    path = write(
        in_tmp,
        MINIMAL
        + "    colour: blue\n"
        + "    delivery:\n      frm: a@example.org\n      from: a@example.org\n      subscribers: s.csv\n",
    )
    assert problems(path) == [
        "feeds.yaml:6: editions.morning.colour: unknown key",
        "feeds.yaml:8: editions.morning.delivery.frm: unknown key; did you mean 'from'?",
    ]


def test_missing_required_title_points_at_its_edition(in_tmp: Path) -> None:
    path = write(
        in_tmp,
        """\
        # my briefings
        editions:
          morning:
            sources:
              - url: https://example.org/world.rss
        """,
    )
    assert problems(path) == ["feeds.yaml:3: editions.morning.title: required"]


def test_bad_cron(in_tmp: Path) -> None:
    path = write(in_tmp, MINIMAL + '    schedule: "0 7 * * 8"\n')
    assert problems(path) == [
        "feeds.yaml:6: editions.morning.schedule: not a valid cron expression: "
        "weekday field '8': 8 is out of range (0-7)"
    ]


def test_bad_time_zone_with_suggestion(in_tmp: Path) -> None:
    path = write(in_tmp, MINIMAL + "    timezone: Europe/Berln\n")
    assert problems(path) == [
        "feeds.yaml:6: editions.morning.timezone: "
        "unknown time zone 'Europe/Berln'; did you mean 'Europe/Berlin'?"
    ]


def test_yaml_syntax_error_gives_its_line(in_tmp: Path) -> None:
    path = write(in_tmp, MINIMAL + "    schedule: [0 7\n    timezone: UTC\n")
    assert problems(path) == ["feeds.yaml:7: not valid YAML: expected ',' or ']', but got ':'"]


def test_duplicate_yaml_key(in_tmp: Path) -> None:
    path = write(in_tmp, MINIMAL + "    title: Again\n")
    assert problems(path) == [
        'feeds.yaml:6: not valid YAML: found duplicate key "title" with value "Again" '
        '(original value: "Morning Briefing")'
    ]


def test_missing_file(in_tmp: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        load_config(Path("feeds.yaml"))
    assert raised.value.problems == (Problem("feeds.yaml", 0, "", "no such file (create one; see README)"),)
    assert str(raised.value) == "feeds.yaml: no such file (create one; see README)"
    assert raised.value.exit_code == 2


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("", "feeds.yaml: the file is empty; it needs at least 'editions' (see README)"),
        ("# only a comment\n", "feeds.yaml: the file is empty; it needs at least 'editions' (see README)"),
        ("- a\n- b\n", "feeds.yaml:1: the top level must be a mapping of keys such as editions and fetch"),
        ("editions:\n", "feeds.yaml:1: editions: must not be empty"),
        ("editions: {}\n", "feeds.yaml:1: editions: at least one edition is required"),
        ("fetch: {}\n", "feeds.yaml:1: editions: required"),
    ],
)
def test_empty_or_shapeless_files(in_tmp: Path, text: str, problem: str) -> None:
    assert problems(write(in_tmp, text)) == [problem]


def test_every_problem_at_once_in_line_order(in_tmp: Path) -> None:
    path = write(
        in_tmp,
        """\
        fetch:
          timeout: 0
          max_redirects: many
          allow_private_addresses: perhaps
        editions:
          Morning:
            title: Morning
            lookback: 3w
            catch_up: sometimes
            max_stories: 2
            min_stories: 5
            base_url: ftp://example.org/
            sources:
              - url: ftp://example.org/a.rss
              - url: feeds/a.xml
              - url: ./feeds/a.xml
              - name: no url
            condense:
              backend: nonsense
            delivery:
              from: nobody
              subscribers: s.csv
              smtp:
                security: tls
                port: 0
                password_env: 2FAST
        """,
    )
    assert problems(path) == [
        "feeds.yaml:2: fetch.timeout: must be more than 0",
        "feeds.yaml:3: fetch.max_redirects: must be a whole number",
        "feeds.yaml:4: fetch.allow_private_addresses: must be true or false",
        "feeds.yaml:6: editions.Morning: edition names must be lower-case letters, digits, - and _ "
        "(they are folder names)",
        "feeds.yaml:8: editions.Morning.lookback: must be a duration such as 90m, 24h or 7d, or all",
        "feeds.yaml:9: editions.Morning.catch_up: must be next, never or a duration such as 90m, 24h or 7d",
        "feeds.yaml:11: editions.Morning.min_stories: must not be more than max_stories (2)",
        "feeds.yaml:12: editions.Morning.base_url: must be an http(s) URL such as https://example.org/, "
        "not 'ftp://example.org/'",
        "feeds.yaml:14: editions.Morning.sources[0].url: must be an http(s) URL or a file path, not ftp://",
        "feeds.yaml:16: editions.Morning.sources[2].url: duplicate of sources[1]",
        "feeds.yaml:17: editions.Morning.sources[3].url: required",
        "feeds.yaml:19: editions.Morning.condense.backend: must be one of " + ", ".join(backend_names()),
        "feeds.yaml:21: editions.Morning.delivery.from: not an e-mail address: 'nobody' "
        "(an email address must have an @-sign)",
        "feeds.yaml:24: editions.Morning.delivery.smtp.security: must be one of starttls, ssl, none",
        "feeds.yaml:25: editions.Morning.delivery.smtp.port: must be at least 1",
        "feeds.yaml:26: editions.Morning.delivery.smtp.password_env: must be the name of an environment "
        "variable (letters, digits and _)",
    ]


def test_secrets_in_the_file_are_refused(in_tmp: Path) -> None:
    path = write(
        in_tmp,
        with_edition_keys(
            """\
            condense:
              api_key: sk-not-a-real-key
            delivery:
              from: a@example.org
              subscribers: s.csv
              smtp:
                username: mailer
                password: hunter2
                token: abc
            """
        ),
    )
    assert problems(path) == [
        "feeds.yaml:7: editions.morning.condense.api_key: secrets go in the environment: "
        "set api_key_env to the name of a variable",
        "feeds.yaml:12: editions.morning.delivery.smtp.username: secrets go in the environment: "
        "set username_env to the name of a variable",
        "feeds.yaml:13: editions.morning.delivery.smtp.password: secrets go in the environment: "
        "set password_env to the name of a variable",
        "feeds.yaml:14: editions.morning.delivery.smtp.token: secrets go in the environment: "
        "name a variable in an *_env key instead",
    ]


def test_an_edition_may_be_named_like_a_secret(in_tmp: Path) -> None:
    config = load_config(write(in_tmp, MINIMAL.replace("morning:", "token:")))
    assert config.editions["token"].name == "token"


def test_name_is_filled_in_not_configured(in_tmp: Path) -> None:
    path = write(in_tmp, MINIMAL + "    name: other\n")
    assert problems(path) == ["feeds.yaml:6: editions.morning.name: unknown key (load_config fills it in)"]


def test_theme_must_exist_relative_to_the_config(in_tmp: Path) -> None:
    path = write(in_tmp, MINIMAL + "    theme: mine\n")
    assert problems(path) == [f"feeds.yaml:6: editions.morning.theme: no such folder: {in_tmp / 'mine'}"]
    (in_tmp / "mine").mkdir()
    assert load_config(path).editions["morning"].theme == "mine"


def test_state_dir_and_database_url_together_are_fine(in_tmp: Path) -> None:
    config = load_config(write(in_tmp, "state_dir: s\ndatabase_url: sqlite:///x.db\n" + MINIMAL))
    assert (config.state_dir, config.database_url) == ("s", "sqlite:///x.db")


def test_duplicate_sources_in_different_editions_are_fine(in_tmp: Path) -> None:
    other = MINIMAL.replace("editions:\n", "").replace("morning:", "evening:")
    config = load_config(write(in_tmp, MINIMAL + other))
    assert sorted(config.editions) == ["evening", "morning"]


def test_format_problems_counts(in_tmp: Path) -> None:
    path = write(in_tmp, MINIMAL + "    timezone: Nowhere/Land\n    lookback: soon\n")
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert format_problems(raised.value).splitlines() == [
        "feeds.yaml:6: editions.morning.timezone: unknown time zone 'Nowhere/Land'",
        "feeds.yaml:7: editions.morning.lookback: must be a duration such as 90m, 24h or 7d, or all",
        "2 problems found",
    ]


def test_file_name_is_reported_as_given(tmp_path: Path) -> None:
    path = tmp_path / "feeds.yaml"
    path.write_text(MINIMAL + "    images: often\n")
    assert problems(path) == [f"{path}:6: editions.morning.images: must be true or false"]


def test_result_is_frozen(in_tmp: Path) -> None:
    config = load_config(write(in_tmp, MINIMAL))
    assert isinstance(config, Config)
    with pytest.raises(ValueError, match="frozen"):
        config.state_dir = "elsewhere"


def test_the_built_in_backends_are_known() -> None:
    assert "extractive" in backend_names()


def test_reading_the_config_does_not_load_the_condensers() -> None:
    # The condensers import the config; the config asks for their names only through load_config's caller.
    code = "import sys, digest.config; print('digest.condense' in sys.modules)"
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "False"


def test_an_unknown_backend_unchecked_by_the_caller_is_refused_where_the_condenser_is_made(
    in_tmp: Path,
) -> None:
    path = write(in_tmp, with_edition_keys("condense: {backend: nonsense}\n"))
    config = load_config(path)  # no ``backends``: the name is left to the condensers' registry
    with pytest.raises(
        CondenseError, match=re.escape("condense.backend: unknown backend 'nonsense'; known: extractive")
    ):
        get_condenser(config.editions["morning"].condense)


@pytest.mark.parametrize(
    ("text", "span"),
    [("90m", timedelta(minutes=90)), ("2h", timedelta(hours=2)), ("7d", timedelta(days=7))],
)
def test_durations_are_parsed_once_and_written_back_the_same_way(
    in_tmp: Path, text: str, span: timedelta
) -> None:
    path = write(in_tmp, with_edition_keys(f"lookback: {text}\ncatch_up: {text}\n"))
    edition = load_config(path).editions["morning"]
    assert edition.lookback == edition.catch_up == span
    assert format_duration(span) == text


def test_addresses_follow_one_rule_with_dotless_and_local_domains(in_tmp: Path) -> None:
    path = write(
        in_tmp,
        """\
        editions:
          morning:
            title: Morning
            sources: [{url: a.xml}]
            delivery:
              from: "Intranet News <news@localhost>"
              reply_to: desk@intranet
              subscribers: subscribers.csv
              unsubscribe: {mailto: "Leave <leave@example.org>"}
          evening:
            title: Evening
            sources: [{url: b.xml}]
            delivery:
              from: news@example..org
              reply_to: desk@nowhere.invalid
              subscribers: subscribers.csv
        """,
    )
    assert problems(path) == [
        "feeds.yaml:9: editions.morning.delivery.unsubscribe.mailto: not an e-mail address: "
        "'Leave <leave@example.org>' (a display name and angle brackets around the email address are "
        "not permitted here)",
        "feeds.yaml:14: editions.evening.delivery.from: not an e-mail address: 'news@example..org' "
        "(an email address cannot have two periods in a row)",
        "feeds.yaml:15: editions.evening.delivery.reply_to: not an e-mail address: 'desk@nowhere.invalid' "
        "(the part after the @-sign is a special-use or reserved name that cannot be used with email)",
    ]
