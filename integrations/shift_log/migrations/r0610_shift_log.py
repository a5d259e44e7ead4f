"""Add the shift log table.

Revision ID: 0610
Revises: - (the first revision of this version folder)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0610"
down_revision = None
branch_labels = ("shift_log",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "shift_log",
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("centre", sa.String(64), nullable=False),
        sa.Column("shift", sa.String(32), nullable=False),
        sa.Column("ts", sa.Double, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("data", sa.Text, nullable=True),
        sa.Column("ref", sa.Integer, nullable=True),
        sa.PrimaryKeyConstraint("entry_id", name="pk_shift_log"),
    )
    op.create_index("ix_shift_log_centre_ts", "shift_log", ["centre", "ts"])


def downgrade() -> None:
    op.drop_index("ix_shift_log_centre_ts", table_name="shift_log")
    op.drop_table("shift_log")
