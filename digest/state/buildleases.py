"""Which scheduler makes each scheduled run: the build leases.

- ``build_leases(edition PK, fire_time PK, holder, since, renewed_at, issue_id, done_at)``: one
  row per scheduled run (an edition's fire time) that a ``digest run`` took on, so that the
  schedulers sharing the store make it once (digest/buildlease.py). The holder is a random token
  renewed by a heartbeat; ``issue_id`` is set once the run's issue is built (a scheduler taking
  the run over then sends that issue rather than building another); ``done_at`` once the run
  finished, whatever its outcome. A finished run also settles every earlier fire time of its
  edition (a scheduler that comes late to an older one has nothing left to make), so the rows of
  runs older than the latest finished one are deleted as it finishes, and the table stays small.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlalchemy import (
    Column,
    ColumnElement,
    Connection,
    String,
    Table,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.engine import Row

from digest.state.db import Database, instant, metadata, stamp
from digest.state.leases import retried

build_leases = Table(
    "build_leases",
    metadata,
    Column("edition", String(200), primary_key=True),
    Column("fire_time", String(32), primary_key=True),
    Column("holder", String(400), nullable=False),
    Column("since", String(32), nullable=False),
    Column("renewed_at", String(32), nullable=False),
    Column("issue_id", String(200)),
    Column("done_at", String(32)),
)


@dataclass(frozen=True)
class BuildLease:
    """Who makes (or made) an edition's run of ``fire_time``; datetimes aware, in UTC."""

    edition: str
    fire_time: datetime
    holder: str
    since: datetime
    renewed_at: datetime
    #: The issue the run built, once built.
    issue_id: str | None = None
    #: When the run finished; None while it is being made (or its holder died making it).
    done_at: datetime | None = None


class _Race(Exception):
    """The lease changed between reading it and writing it."""


class BuildLeases:
    """The build lease of each scheduled run."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def lease(self, edition: str, fire_time: datetime) -> BuildLease | None:
        """What settles the run of ``fire_time``: a finished run at or after it, else its own lease."""
        return self._db.run(lambda conn: _settled(conn, edition, fire_time) or _row(conn, edition, fire_time))

    def take(
        self, edition: str, fire_time: datetime, holder: str, now: datetime, *, timeout: timedelta
    ) -> BuildLease:
        """The run's lease for ``holder``, unless the run (or a later one) is finished or another
        holder renewed its lease less than ``timeout`` before ``now``: the lease in force afterwards
        (compare its holder, and see ``done_at``). A lease taken over keeps its ``issue_id``.

        Two processes taking it at once cannot both succeed: the row is inserted (its primary key
        admits one) or taken over only where it still is what this process read.
        """
        when = stamp(now)

        def take(conn: Connection) -> BuildLease:
            settled = _settled(conn, edition, fire_time)
            if settled is not None:
                return settled
            current = _row(conn, edition, fire_time)
            if current is None:
                row = {"edition": edition, "fire_time": stamp(fire_time), "holder": holder}
                conn.execute(insert(build_leases), [{**row, "since": when, "renewed_at": when}])
                return BuildLease(edition, fire_time, holder, now, now)
            if current.holder != holder and now - current.renewed_at < timeout:
                return current
            taken = conn.execute(
                update(build_leases)
                .where(
                    _key(edition, fire_time),
                    build_leases.c.holder == current.holder,
                    build_leases.c.renewed_at == stamp(current.renewed_at),
                )
                .values(holder=holder, since=when, renewed_at=when)
            )
            if taken.rowcount != 1:
                raise _Race
            return replace(current, holder=holder, since=now, renewed_at=now)

        return retried(self._db, take, _Race, f"the build lease of {edition} at {stamp(fire_time)}")

    def renew(self, edition: str, fire_time: datetime, holder: str, now: datetime) -> bool:
        """The holder's heartbeat; False when the lease is no longer theirs."""
        return self._held_update(edition, fire_time, holder, renewed_at=stamp(now))

    def built(self, edition: str, fire_time: datetime, holder: str, issue_id: str) -> bool:
        """Record the issue the run built, before sending it; False when the lease is not ``holder``'s."""
        return self._held_update(edition, fire_time, holder, issue_id=issue_id)

    def finish(
        self, edition: str, fire_time: datetime, holder: str, now: datetime, timeout: timedelta
    ) -> bool:
        """Record the run as made, and forget the rows it settles: the edition's finished runs before
        it, and its unfinished ones whose holders stopped renewing them. False (nothing written) when
        the lease is no longer ``holder``'s."""
        older = build_leases.c.fire_time < stamp(fire_time)
        finished_or_dead = or_(
            build_leases.c.done_at.is_not(None), build_leases.c.renewed_at < stamp(now - timeout)
        )

        def finish(conn: Connection) -> bool:
            if not _update_held(conn, edition, fire_time, holder, done_at=stamp(now), renewed_at=stamp(now)):
                return False
            conn.execute(
                delete(build_leases).where(build_leases.c.edition == edition, older, finished_or_dead)
            )
            return True

        return self._db.run(finish)

    def release(self, edition: str, fire_time: datetime, holder: str) -> None:
        """Give an unfinished run back (its holder stopped before writing anything), if still ``holder``'s."""
        query = delete(build_leases).where(
            _key(edition, fire_time), build_leases.c.holder == holder, build_leases.c.done_at.is_(None)
        )
        self._db.run(lambda conn: conn.execute(query))

    def unfinished(self, edition: str) -> list[BuildLease]:
        """The edition's runs taken on and not finished, after its latest finished one; oldest first."""

        def read(conn: Connection) -> list[BuildLease]:
            latest = conn.execute(
                select(build_leases.c.fire_time)
                .where(build_leases.c.edition == edition, build_leases.c.done_at.is_not(None))
                .order_by(build_leases.c.fire_time.desc())
                .limit(1)
            ).scalar()
            query = select(build_leases).where(
                build_leases.c.edition == edition, build_leases.c.done_at.is_(None)
            )
            if latest is not None:
                query = query.where(build_leases.c.fire_time > latest)
            return [_lease(row) for row in conn.execute(query.order_by(build_leases.c.fire_time))]

        return self._db.run(read)

    def _held_update(self, edition: str, fire_time: datetime, holder: str, **values: str) -> bool:
        return self._db.run(lambda conn: _update_held(conn, edition, fire_time, holder, **values))


def _key(edition: str, fire_time: datetime) -> ColumnElement[bool]:
    return and_(build_leases.c.edition == edition, build_leases.c.fire_time == stamp(fire_time))


def _update_held(conn: Connection, edition: str, fire_time: datetime, holder: str, **values: str) -> bool:
    """Update the run's unfinished lease while ``holder`` holds it; False when it does not."""
    updated = conn.execute(
        update(build_leases)
        .where(_key(edition, fire_time), build_leases.c.holder == holder, build_leases.c.done_at.is_(None))
        .values(**values)
    )
    return bool(updated.rowcount == 1)


def _row(conn: Connection, edition: str, fire_time: datetime) -> BuildLease | None:
    row = conn.execute(select(build_leases).where(_key(edition, fire_time))).first()
    return _lease(row) if row is not None else None


def _settled(conn: Connection, edition: str, fire_time: datetime) -> BuildLease | None:
    """The edition's latest finished run at or after ``fire_time``, if any."""
    row = conn.execute(
        select(build_leases)
        .where(
            build_leases.c.edition == edition,
            build_leases.c.fire_time >= stamp(fire_time),
            build_leases.c.done_at.is_not(None),
        )
        .order_by(build_leases.c.fire_time.desc())
        .limit(1)
    ).first()
    return _lease(row) if row is not None else None


def _lease(row: Row[tuple[object, ...]]) -> BuildLease:
    mapping = row._mapping
    done_at = mapping["done_at"]
    return BuildLease(
        edition=str(mapping["edition"]),
        fire_time=instant(str(mapping["fire_time"])),
        holder=str(mapping["holder"]),
        since=instant(str(mapping["since"])),
        renewed_at=instant(str(mapping["renewed_at"])),
        issue_id=None if mapping["issue_id"] is None else str(mapping["issue_id"]),
        done_at=None if done_at is None else instant(str(done_at)),
    )
