"""The schema of Digest 0.1.0, which made its tables with ``create_all`` and recorded no revision.

Upgrading from no revision creates each of these tables that is absent and leaves those present
as they are: a new database gets them all, and a database an earlier release made is recognised
(some early ones lack the later tables, such as ``kept_entries``) and completed.

Revision ID: 0001
Revises:
Create Date: 2026-12-08
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

#: Datetimes are fixed-width ISO 8601 text in UTC; the keys' lengths are those of 0.1.0.
STAMP = sa.String(32)
EDITION = sa.String(200)
ENTRY_ID = sa.String(64)
URL = sa.String(2048)
ADDRESS = sa.String(320)


def tables() -> dict[str, list[sa.Column[object]]]:
    """Each table's columns, made anew at each call (a column belongs to one table)."""
    return {
        "http_validators": [
            sa.Column("url", URL, primary_key=True),
            sa.Column("etag", sa.Text),
            sa.Column("last_modified", sa.Text),
            sa.Column("updated_at", STAMP, nullable=False),
        ],
        "entries_seen": [
            sa.Column("entry_id", ENTRY_ID, primary_key=True),
            sa.Column("first_seen", STAMP, nullable=False),
        ],
        "used_entries": [
            sa.Column("edition", EDITION, primary_key=True),
            sa.Column("entry_id", ENTRY_ID, primary_key=True),
            sa.Column("issue_id", sa.String(200), nullable=False),
        ],
        "issues": [
            sa.Column("edition", EDITION, primary_key=True),
            sa.Column("issue_id", sa.String(200), primary_key=True),
            sa.Column("built_at", STAMP, nullable=False),
            sa.Column("resume_from", STAMP, nullable=False),
            sa.Column("path", sa.Text, nullable=False),
            sa.Column("stories", sa.Integer, nullable=False),
        ],
        "kept_entries": [
            sa.Column("edition", EDITION, primary_key=True),
            sa.Column("entry_id", ENTRY_ID, primary_key=True),
            sa.Column("published", STAMP, nullable=False),
            sa.Column("kept_at", STAMP, nullable=False),
            sa.Column("entry", sa.Text, nullable=False),
        ],
        "deliveries": [
            sa.Column("edition", EDITION, primary_key=True),
            sa.Column("issue_id", sa.String(200), primary_key=True),
            sa.Column("address", ADDRESS, primary_key=True),
            sa.Column("status", sa.String(16), nullable=False),
            sa.Column("detail", sa.Text, nullable=False),
            sa.Column("at", STAMP, nullable=False),
        ],
        "send_leases": [
            sa.Column("edition", EDITION, primary_key=True),
            sa.Column("holder", sa.String(400), nullable=False),
            sa.Column("since", STAMP, nullable=False),
            sa.Column("renewed_at", STAMP, nullable=False),
        ],
        "suppressions": [
            sa.Column("edition", EDITION, primary_key=True),
            sa.Column("address", ADDRESS, primary_key=True),
            sa.Column("how", sa.String(32), nullable=False),
            sa.Column("at", STAMP, nullable=False),
        ],
        "secrets": [
            sa.Column("name", sa.String(200), primary_key=True),
            sa.Column("value", sa.Text, nullable=False),
            sa.Column("created_at", STAMP, nullable=False),
        ],
        "runs": [
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("edition", EDITION, nullable=False),
            sa.Column("started_at", STAMP, nullable=False),
            sa.Column("finished_at", STAMP, nullable=False),
            sa.Column("outcome", sa.String(16), nullable=False),
            sa.Column("issue_id", sa.String(200)),
            sa.Column("stories", sa.Integer),
            sa.Column("reason", sa.Text, nullable=False),
            sa.Column("recipients", sa.Integer),
            sa.Column("send_error", sa.Text),
        ],
        "source_health": [
            sa.Column("edition", EDITION, primary_key=True),
            sa.Column("url", URL, primary_key=True),
            sa.Column("name", sa.Text, nullable=False),
            sa.Column("failures_in_a_row", sa.Integer, nullable=False),
            sa.Column("last_error", sa.Text),
            sa.Column("last_failed_at", STAMP),
            sa.Column("last_ok_at", STAMP),
        ],
    }


def upgrade() -> None:
    present = set(sa.inspect(op.get_bind()).get_table_names())
    for name, columns in tables().items():
        if name in present:
            continue
        op.create_table(name, *columns)
        if name == "runs":
            op.create_index("ix_runs_edition", "runs", ["edition"])


def downgrade() -> None:
    for name in reversed(tables()):
        op.drop_table(name)
