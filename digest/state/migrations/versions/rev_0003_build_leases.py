"""Build leases: which ``digest run`` makes each scheduled run, when several share the store.

A table already present is left as it is: a store that recorded no revision was made with
``create_all`` by whatever code made it, which may have had this table already.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

STAMP = sa.String(32)


def upgrade() -> None:
    if "build_leases" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "build_leases",
        sa.Column("edition", sa.String(200), primary_key=True),
        sa.Column("fire_time", STAMP, primary_key=True),
        sa.Column("holder", sa.String(400), nullable=False),
        sa.Column("since", STAMP, nullable=False),
        sa.Column("renewed_at", STAMP, nullable=False),
        sa.Column("issue_id", sa.String(200)),
        sa.Column("done_at", STAMP),
    )


def downgrade() -> None:
    op.drop_table("build_leases")
