"""The state store's schema under migrations, on SQLite and on a real PostgreSQL.

- a database as Digest 0.1.0 made it (its tables from ``create_all``, no version table; the DDL
  kept in tests/data/state-0.1.0/) is recognised, upgraded on opening, keeps its rows, and ends
  with exactly the schema the code defines; ``digest migrate`` does the same and says so;
- with ``state.auto_migrate: false`` a store behind is refused, naming ``digest migrate``;
- a store at a revision the code does not know is refused, naming that revision;
- several processes opening a new store at once upgrade it once, and all go on;
- the revisions form one line (two heads after a merge would fail here, not in production).
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from click.testing import CliRunner
from sqlalchemy import create_engine, text

from digest.cli import main
from digest.errors import StateError
from digest.state import State, masked, schema
from digest.state.db import metadata

RELEASE = Path(__file__).parent / "data" / "state-0.1.0"
REPO = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 3, 14, 7, 0, tzinfo=UTC)


def execute(url: str, *statements: str) -> None:
    engine = create_engine(url)
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    engine.dispose()


def make_release_store(url: str) -> None:
    """A store as 0.1.0 left it: its tables, and a few rows in them."""
    dialect = "postgresql" if url.startswith("postgresql") else "sqlite"
    ddl = (RELEASE / f"{dialect}.sql").read_text("utf-8")
    statements = [statement for statement in ddl.split(";") if statement.strip()]
    execute(
        url,
        *statements,
        "INSERT INTO issues VALUES ('morning', '2026-03-13', '2026-03-13T07:00:00.000000+00:00', "
        "'2026-03-13T05:00:00.000000+00:00', '/out/morning/2026-03-13', 4)",
        "INSERT INTO used_entries VALUES ('morning', 'e1', '2026-03-13')",
        "INSERT INTO deliveries VALUES ('morning', '2026-03-13', 'ada@example.org', 'sent', '250 ok', "
        "'2026-03-13T07:01:00.000000+00:00')",
        "INSERT INTO runs (edition, started_at, finished_at, outcome, reason) VALUES ('morning', "
        "'2026-03-13T07:00:00.000000+00:00', '2026-03-13T07:00:05.000000+00:00', 'built', 'built 4')",
    )


def schema_differences(url: str) -> list[object]:
    """What separates the database's schema from the code's tables (empty: the same)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": schema.include_object})
        found = compare_metadata(context, metadata)
    engine.dispose()
    return list(found)


def revision_of(url: str) -> str | None:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = MigrationContext.configure(conn).get_current_revision()
    engine.dispose()
    return found


def config_file(folder: Path, url: str, extra: str = "") -> Path:
    path = folder / "feeds.yaml"
    path.write_text(
        f"database_url: {url}\n{extra}editions:\n  morning:\n    title: Morning\n    sources:\n"
        "      - url: feed.xml\n",
        "utf-8",
    )
    return path


def test_the_revisions_form_one_line_ending_at_the_codes_head() -> None:
    script = ScriptDirectory.from_config(schema.alembic_config())
    assert script.get_heads() == [schema.HEAD]
    assert script.get_base() == "0001"


def test_a_new_store_gets_exactly_the_codes_schema(store_url: str) -> None:
    State(store_url).close()
    assert revision_of(store_url) == schema.HEAD
    assert schema_differences(store_url) == []


def test_a_release_store_is_upgraded_on_opening_and_keeps_its_rows(store_url: str) -> None:
    make_release_store(store_url)
    assert revision_of(store_url) is None

    with State(store_url) as state:
        last = state.issues.last_issue("morning")
        assert last is not None and (last.issue_id, last.stories) == ("2026-03-13", 4)
        assert state.entries.used_entries("morning") == {"e1"}
        assert state.ledger.deliveries("morning", "2026-03-13") == {"ada@example.org": "sent"}
        assert [r.reason for r in state.runs.last_runs("morning")] == ["built 4"]
        state.entries.first_seen(["e2"], NOW)

    assert revision_of(store_url) == schema.HEAD
    assert schema_differences(store_url) == []


def test_digest_migrate_upgrades_a_release_store_then_finds_it_current(
    store_url: str, tmp_path: Path
) -> None:
    make_release_store(store_url)
    config = config_file(tmp_path, store_url)

    first = CliRunner().invoke(main, ["migrate", "--config", str(config)])
    assert first.exit_code == 0, first.output
    assert (
        first.stdout == f"{masked(store_url)}: schema upgraded from no recorded revision to {schema.HEAD}\n"
    )
    again = CliRunner().invoke(main, ["migrate", "--config", str(config)])
    assert again.stdout == f"{masked(store_url)}: schema at {schema.HEAD}, up to date\n"
    assert revision_of(store_url) == schema.HEAD


def test_without_auto_migrate_a_store_behind_is_refused_until_digest_migrate(
    store_url: str, tmp_path: Path
) -> None:
    make_release_store(store_url)
    config = config_file(tmp_path, store_url, "state:\n  auto_migrate: false\n")

    status = CliRunner().invoke(main, ["status", "--config", str(config)])
    assert status.exit_code == 1
    assert "state.auto_migrate is false: run `digest migrate`" in status.stderr
    assert "no schema revision" in status.stderr
    assert revision_of(store_url) is None

    assert CliRunner().invoke(main, ["migrate", "--config", str(config)]).exit_code == 0
    assert CliRunner().invoke(main, ["status", "--config", str(config)]).exit_code == 0


def test_a_store_ahead_of_the_code_is_refused_naming_its_revision(store_url: str, tmp_path: Path) -> None:
    State(store_url).close()
    execute(store_url, "UPDATE alembic_version SET version_num = '0999_from_a_newer_digest'")

    with pytest.raises(StateError, match=r"at schema revision 0999_from_a_newer_digest, which this Digest"):
        State(store_url)
    migrate = CliRunner().invoke(main, ["migrate", "--config", str(config_file(tmp_path, store_url))])
    assert migrate.exit_code == 1
    assert "0999_from_a_newer_digest" in migrate.stderr and "upgrade Digest" in migrate.stderr


@pytest.mark.slow
def test_processes_opening_a_new_store_at_once_all_open_it(store_url: str) -> None:
    opener = "import sys; from digest.state import State; State(sys.argv[1]).close()"
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", opener, store_url], cwd=REPO, stderr=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in processes]
    assert [p.returncode for p in processes] == [0, 0, 0, 0], errors
    assert revision_of(store_url) == schema.HEAD
    assert schema_differences(store_url) == []


def test_opening_a_store_at_the_head_needs_no_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.sqlite3'}"
    State(url).close()
    opener = (
        "import sys; from digest.state import State; State(sys.argv[1]).close(); print(sorted(sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", opener, url], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "'digest.state'" in done.stdout and "alembic" not in done.stdout
