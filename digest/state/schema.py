"""The store's schema, kept current by the Alembic revisions in ``migrations/versions/``.

A database records the revision it is at in Alembic's table ``alembic_version``. Opening the
store compares it with the newest revision the code has (``HEAD``):

- at the head: nothing to do (one small read, and Alembic is not even imported: it costs a
  warm build a tenth of a second);
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
from typing import TYPE_CHECKING

from sqlalchemy import Connection, create_engine, event, inspect, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.schema import SchemaItem

from digest.errors import StateError
from digest.state.db import Database, masked

if TYPE_CHECKING:
    from alembic.config import Config as AlembicConfig

log = logging.getLogger("digest")

#: The newest revision in migrations/versions/. A new revision changes it (tests/test_migrations.py
#: checks that it is Alembic's head), so opening a store at the head needs no Alembic.
HEAD = "0004"
MIGRATIONS = Path(__file__).with_name("migrations")
#: Alembic's table of the database's revision.
VERSION_TABLE = "alembic_version"
#: Any number, the same in every process: the key of the PostgreSQL lock held while migrating.
ADVISORY_LOCK = 0x64696765
#: Tables in the store's database that are not the store's: APScheduler's job store (digest run).
FOREIGN_TABLES = frozenset({"scheduled_jobs"})


@dataclass(frozen=True)
class Migration:
    """What ``upgrade`` did: the revision before (None: no version recorded) and after."""

    before: str | None
    after: str

    @property
    def changed(self) -> bool:
        return self.before != self.after


def alembic_config() -> AlembicConfig:
    from alembic.config import Config as AlembicConfig

    config = AlembicConfig()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def current_revision(db: Database) -> str | None:
    """The revision the database records, or None (no version table: new, or made before revisions)."""
    return db.run(_revision)


def ensure_current(db: Database, *, migrate: bool) -> None:
    """Open-time check (see the module docstring): upgrade, or refuse, or nothing."""
    revision = current_revision(db)
    if revision == HEAD:
        return
    _refuse_if_ahead(db, revision)
    if not migrate:
        at = f"schema revision {revision}" if revision else "no schema revision"
        raise StateError(
            f"{masked(db.url)}: the state store is at {at}, behind this Digest's {HEAD}, and "
            "state.auto_migrate is false: run `digest migrate`"
        )
    done = upgrade(db)
    if not done.changed:
        return  # another process upgraded it while this one waited for the lock
    # From no revision: a new store (or a release's, completed); said only with --verbose, since
    # every first command on a new store does it. Between revisions: worth a line.
    level = logging.INFO if done.before else logging.DEBUG
    log.log(level, "%s: state store schema upgraded from %s to %s", masked(db.url), done.before, done.after)


def upgrade(db: Database) -> Migration:
    """Bring the database to the head revision (``digest migrate``); refuses a database ahead."""
    from alembic import command
    from alembic.util import CommandError

    try:
        with _locked(db) as conn:
            before = _revision(conn)
            if before != HEAD:
                _refuse_if_ahead(db, before)
                config = alembic_config()
                config.attributes["connection"] = conn
                command.upgrade(config, HEAD)
    except (SQLAlchemyError, CommandError) as err:
        raise db.error(err) from err
    return Migration(before, HEAD)


def include_object(
    item: SchemaItem, name: str | None, kind: str, reflected: bool, compare_to: SchemaItem | None
) -> bool:
    """Whether Alembic compares ``item`` with the code's tables: every one but the foreign tables."""
    return not (kind == "table" and name in FOREIGN_TABLES)


def _refuse_if_ahead(db: Database, revision: str | None) -> None:
    if revision is None:
        return
    from alembic.script import ScriptDirectory
    from alembic.util import CommandError

    try:
        known = ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except CommandError:
        known = None
    if known is None:
        raise StateError(
            f"{masked(db.url)}: the state store is at schema revision {revision}, which this Digest "
            f"does not know (its newest is {HEAD}): a newer Digest migrated it; upgrade Digest"
        )


def _revision(conn: Connection) -> str | None:
    if not inspect(conn).has_table(VERSION_TABLE):
        return None
    found = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalars().all()
    # Alembic keeps one row per head; the revisions form one line, so there is one.
    return str(found[0]) if found else None


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
