"""Agent-assist console: agents' feedback on suggested answers, and tickets that can be claimed and closed.

Revision ID: 0006_agent
Revises: 0005_staff
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_agent"
down_revision = "0005_staff"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "suggestion_feedback",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("staff", sa.String(64), nullable=False, index=True),
        sa.Column("query", sa.Text, nullable=False),
        sa.Column("item_code", sa.String(64), nullable=False, index=True),
        sa.Column("section", sa.String(64), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("helpful", sa.Boolean, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    # A database made before migrations existed got its tickets table from the current model (see store.migrate), which
    # has these columns already.
    existing = {column["name"] for column in sa.inspect(op.get_bind()).get_columns("tickets")}
    for column in (
        sa.Column("assignee", sa.String(64), nullable=False, server_default=""),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolution", sa.Text, nullable=False, server_default=""),
    ):
        if column.name not in existing:
            op.add_column("tickets", column)


def downgrade() -> None:
    with op.batch_alter_table("tickets") as batch:
        for column in ("resolution", "closed_at", "claimed_at", "assignee"):
            batch.drop_column(column)
    op.drop_table("suggestion_feedback")
