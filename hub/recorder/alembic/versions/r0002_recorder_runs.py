"""Add recorder_runs: one row per recorder run, so a run left open reveals an unclean shutdown.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recorder_runs",
        sa.Column("run_id", sa.Integer, nullable=False),
        sa.Column("start_ts", sa.Double, nullable=False),
        sa.Column("end_ts", sa.Double),
        sa.Column("closed_incorrect", sa.Boolean, nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_recorder_runs"),
    )
    op.create_index("ix_recorder_runs_start_ts", "recorder_runs", ["start_ts"])


def downgrade() -> None:
    op.drop_table("recorder_runs")
