"""Senders that share an issue: the claim rows of the subscribers still to be mailed.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if "send_claims" in set(sa.inspect(op.get_bind()).get_table_names()):
        return
    op.create_table(
        "send_claims",
        sa.Column("edition", sa.String(200), primary_key=True),
        sa.Column("issue_id", sa.String(200), primary_key=True),
        sa.Column("address", sa.String(320), primary_key=True),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("holder", sa.String(64)),
        sa.Column("lock_key", sa.BigInteger),
        sa.Column("heartbeat", sa.String(32)),
    )
    op.create_index("send_claims_order", "send_claims", ["edition", "issue_id", "position"])


def downgrade() -> None:
    op.drop_index("send_claims_order", table_name="send_claims")
    op.drop_table("send_claims")
