"""Bounces and complaints: the reports ``digest bounces`` read, and what each said of whom.

A table already present is left as it is: a store that recorded no revision was made with
``create_all`` by whatever code made it, which may have had these tables already.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STAMP = sa.String(32)
#: A report's Message-ID (or its hash); longer ones are kept as their hash.
REPORT_ID = sa.String(1000)


def tables() -> dict[str, list[sa.Column[object]]]:
    """Each table's columns, made anew at each call (a column belongs to one table)."""
    return {
        "bounce_reports": [
            sa.Column("report_id", REPORT_ID, primary_key=True),
            sa.Column("read_at", STAMP, nullable=False),
            sa.Column("outcome", sa.String(16), nullable=False),
        ],
        "bounce_events": [
            sa.Column("edition", sa.String(200), primary_key=True),
            sa.Column("address", sa.String(320), primary_key=True),
            sa.Column("report_id", REPORT_ID, primary_key=True),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("status", sa.String(32), nullable=False),
            sa.Column("detail", sa.Text, nullable=False),
            sa.Column("at", STAMP, nullable=False),
        ],
    }


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns in tables().items():
        if name not in present:
            op.create_table(name, *columns)


def downgrade() -> None:
    op.drop_table("bounce_events")
    op.drop_table("bounce_reports")
