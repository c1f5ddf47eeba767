"""Alembic's environment for the state store's revisions.

Digest runs the revisions itself (digest/state/schema.py) on a connection it has opened, locked
and begun, passed in ``config.attributes["connection"]``. A developer writing a new revision runs
Alembic's command line instead, naming a database whose schema is at the head:

    alembic -c digest/state/migrations/alembic.ini -x url=sqlite:///dev.sqlite3 \\
        revision --autogenerate -m "what changes"
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, create_engine

import digest.state  # noqa: F401  (defines every table on the shared metadata)
from digest.state.db import metadata
from digest.state.schema import include_object


def run_on(connection: Connection) -> None:
    # Batch mode: SQLite alters a table by copying it, which Alembic does when told.
    context.configure(
        connection=connection,
        target_metadata=metadata,
        include_object=include_object,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        run_on(connection)
        return
    engine = create_engine(context.get_x_argument(as_dictionary=True)["url"])
    with engine.begin() as conn:
        run_on(conn)
    engine.dispose()


run()
