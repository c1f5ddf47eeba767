"""The store's schema, kept current by the Alembic revisions in ``migrations/versions/``.

A database records the revision it is at in Alembic's table ``alembic_version``. Opening the
store compares it with the newest revision the code has (the head):

- at the head: nothing to do (one small read);
- behind (no version table counts as behind: a new database, or one that an earlier release
  made with ``create_all``, which the first revision recognises): upgraded to the head, unless
  ``state.auto_migrate`` is false, when the store is refused with a message saying to run
  ``digest migrate``;
- ahead, at a revision the code does not know (a newer Digest migrated it): always refused,
  naming the revision, because this code would misread tables it does not know.

Upgrading takes a lock first and looks again, so two processes starting on one database
upgrade it once: PostgreSQL's transaction-scoped advisory lock, SQLite's write lock (``BEGIN
IMMEDIATE``). PostgreSQL runs the whole upgrade in that one transaction, so it all lands or none
does; SQLite's DDL is transactional too once its transaction is begun by hand.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util import CommandError
from sqlalchemy import Connection, create_engine, event, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import SchemaItem

from digest.errors import StateError
from digest.state.db import Database, masked

log = logging.getLogger("digest")

MIGRATIONS = Path(__file__).with_name("migrations")
#: Any number, the same in every process: the key of the PostgreSQL lock held while migrating.
ADVISORY_LOCK = 0x64696765
#: Tables in the store's database that are not the store's: APScheduler's job store (digest run).
FOREIGN_TABLES = frozenset({"scheduled_jobs"})


@dataclass(frozen=True)
class Migration:
    """What ``migrate`` did: the revision before (None: no version recorded) and after."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config() -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def head() -> str:
    """The newest revision this code has."""
    found = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if found is None:  # pragma: no cover - the package ships its revisions
        raise StateError(f"{MIGRATIONS}: no schema revisions found")
    return found


def current_revision(db: Database) -> str | None:
    """The revision the database records, or None (no version table: new, or made before revisions)."""
    return db.run(_revision)


def ensure_current(db: Database, *, migrate: bool) -> None:
    """Open-time check (see the module docstring): upgrade, or refuse, or nothing."""
    revision = current_revision(db)
    newest = head()
    if revision == newest:
        return
    _refuse_if_ahead(db, revision, newest)
    if not migrate:
        at = f"schema revision {revision}" if revision else "no schema revision"
        raise StateError(
            f"{masked(db.url)}: the state store is at {at}, behind this Digest's {newest}, and "
            "state.auto_migrate is false: run `digest migrate`"
        )
    done = upgrade(db)
    # From no revision: a new store (or a release's, completed); said only with --verbose, since
    # every first command on a new store does it. Between revisions: worth a line.
    level = logging.INFO if done.before else logging.DEBUG
    log.log(level, "%s: state store schema upgraded from %s to %s", masked(db.url), done.before, done.after)


def upgrade(db: Database) -> Migration:
    """Bring the database to the head revision (``digest migrate``); refuses a database ahead."""
    newest = head()
    try:
        with _locked(db) as conn:
            before = _revision(conn)
            if before != newest:
                _refuse_if_ahead(db, before, newest)
                config = alembic_config()
                config.attributes["connection"] = conn
                command.upgrade(config, "head")
    except (SQLAlchemyError, CommandError) as err:
        raise db.error(err) from err
    return Migration(before, newest)


def include_object(
    item: SchemaItem, name: str | None, kind: str, reflected: bool, compare_to: SchemaItem | None
) -> bool:
    """Whether Alembic compares ``item`` with the code's tables: every one but the foreign tables."""
    return not (kind == "table" and name in FOREIGN_TABLES)


def _refuse_if_ahead(db: Database, revision: str | None, newest: str) -> None:
    if revision is None:
        return
    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise StateError(
            f"{masked(db.url)}: the state store is at schema revision {revision}, which this Digest "
            f"does not know (its newest is {newest}): a newer Digest migrated it; upgrade Digest"
        )


def _revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


@contextmanager
def _locked(db: Database) -> Iterator[Connection]:
    """A connection in a transaction that no other migrating process can be in at once."""
    if db.engine.dialect.name == "sqlite":
        # pysqlite begins transactions lazily and not before DDL; begin by hand, taking the write lock.
        engine = create_engine(db.url, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _no_implicit_transactions(dbapi_connection: object, record: object) -> None:
            dbapi_connection.isolation_level = None  # type: ignore[attr-defined]

        @event.listens_for(engine, "begin")
        def _write_lock(conn: Connection) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        try:
            with engine.begin() as conn:
                yield conn
        finally:
            engine.dispose()
        return
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        yield conn
