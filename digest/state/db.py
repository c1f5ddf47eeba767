"""What every part of the state store shares: the tables' metadata, one engine, transactions, errors.

Datetimes are stored as fixed-width ISO 8601 strings in UTC (``2026-03-14T07:00:00.000000+00:00``):
every database stores and compares them alike, and sorting the text sorts the instants. They are
always returned as aware UTC datetimes. Every database failure is raised as a StateError naming
the database URL with its password masked.
"""

from __future__ import annotations

import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import Connection, Executable, MetaData, create_engine, event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from digest.config import Config
from digest.errors import StateError
from digest.text import normalize_space

#: Rows per ``IN (...)`` query: far below every database's limit on bound parameters.
BATCH = 500
#: How long an SQLite connection waits for another process's lock before giving up.
SQLITE_BUSY_SECONDS = 30

#: Every table of the store, each defined by the module of its concern; the migrations compare
#: a database against it.
metadata = MetaData()

T = TypeVar("T")


def state_url(config: Config) -> str:
    """``config.database_url`` if set, else an SQLite file under the config's state_dir (created)."""
    if config.database_url:
        return config.database_url
    folder = (config.folder / config.state_dir).resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise StateError(f"{folder}: cannot create the state folder ({err.strerror or err})") from err
    return f"sqlite:///{folder / 'state.sqlite3'}"


def masked(url: str) -> str:
    """The database URL with its password hidden, fit for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        # Not even parseable: hide anything between "user:" and "@" by hand.
        return re.sub(r"(//[^:/@]*:)[^@]*@", r"\1***@", url)


def stamp(moment: datetime) -> str:
    """An aware datetime -> fixed-width UTC text that sorts like the instants."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} given to the state store")
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


def instant(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def now_stamp() -> str:
    return stamp(datetime.now(UTC))


def batches(items: list[T]) -> Iterator[list[T]]:
    for start in range(0, len(items), BATCH):
        yield items[start : start + BATCH]


def unique(items: Iterable[str]) -> list[str]:
    """Distinct items, first occurrence order (so repeated ids cost one row)."""
    return list(dict.fromkeys(items))


def _write_ahead_log(connection: Any, record: Any) -> None:
    """SQLite in write-ahead-log mode: a commit is one sync of the log, not three of the file and its
    journal, and as durable. The delivery ledger commits twice per message (its mark before the data,
    its outcome after), which the rollback journal made cost more than the sending itself."""
    cursor = connection.cursor()
    try:
        # The mode is kept in the file once set, so only a new store's first connections change it.
        if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            _switch_to_wal(cursor)
        cursor.execute("PRAGMA synchronous=FULL")
    finally:
        cursor.close()


def _switch_to_wal(cursor: Any) -> None:
    # Switching needs the file to itself, and SQLite answers "database is locked" at once, without
    # its busy timeout, while another process holds it: several processes opening a new store
    # together (digest run beside digest send) each wait for their turn here instead.
    deadline = time.monotonic() + SQLITE_BUSY_SECONDS
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as err:
            if "locked" not in str(err) or time.monotonic() > deadline:
                raise
        time.sleep(0.02)


class Database:
    """One engine over the store's URL, shared by the parts of the store; work runs in transactions."""

    def __init__(self, url: str) -> None:
        self.url = url
        try:
            # Another process (digest run beside digest status or send) may hold SQLite's lock a moment.
            options = {"connect_args": {"timeout": SQLITE_BUSY_SECONDS}} if url.startswith("sqlite") else {}
            self.engine: Engine = create_engine(url, **options)
            if url.startswith("sqlite"):
                event.listen(self.engine, "connect", _write_ahead_log)
        except ModuleNotFoundError as err:
            # The URL names a driver that is not installed.
            hint = (
                " (install the postgres extra: pip install 'digest[postgres]')"
                if err.name == "psycopg"
                else ""
            )
            raise StateError(f"{masked(url)}: no module named {err.name!r}{hint}") from err
        except (SQLAlchemyError, ImportError) as err:
            raise self.error(err) from err

    def run(self, work: Callable[[Connection], T]) -> T:
        """``work`` in one transaction (committed on return, rolled back on error)."""
        with self.transaction() as conn:
            return work(conn)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A transaction held open for the block: committed when it ends, rolled back if it raises."""
        try:
            with self.engine.begin() as conn:
                yield conn
        except SQLAlchemyError as err:
            raise self.error(err) from err

    def run_alone(self, statement: Executable, values: dict[str, Any]) -> list[tuple[Any, ...]]:
        """One statement committed by itself (autocommit), its rows: a statement is atomic, and a
        transaction around it would cost two more round trips to the server."""
        try:
            with self.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                result = conn.execute(statement, values)
                return [tuple(row) for row in result.all()] if result.returns_rows else []
        except SQLAlchemyError as err:
            raise self.error(err) from err

    def error(self, err: BaseException) -> StateError:
        """``err`` as a StateError of one line naming the database (its password masked)."""
        # SQLAlchemy's messages span lines (SQL, parameters, a link): keep the first, on one line.
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        return StateError(f"{masked(self.url)}: {normalize_space(first_line)}")

    def close(self) -> None:
        self.engine.dispose()
