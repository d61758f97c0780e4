"""The turn log: one row per message a person sent, with how the assistant dealt with it (the source of the analytics).

Revision ID: 0008_turns
Revises: 0007_ratings
Create Date: 2026-11-30
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_turns"
down_revision = "0007_ratings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "turns",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, index=True),
        sa.Column("channel", sa.String(8), nullable=False),
        sa.Column("conversation_id", sa.String(128), nullable=False),
        sa.Column("elder", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.String(16), nullable=False),
        sa.Column("item_code", sa.String(64), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("latency_ms", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("turns")
