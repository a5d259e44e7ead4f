"""Add automation_traces and automation_durable (the automation engine's traces and waiting runs).

Revision ID: 0350
Revises: - (the first revision of this version folder)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0350"
down_revision = None  # the first of the engine's own revisions
branch_labels = ("automations",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "automation_traces",
        sa.Column("trace_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("is_error", sa.Boolean, nullable=False),
        sa.Column("start_ts", sa.Double, nullable=False),
        sa.Column("blob", sa.LargeBinary, nullable=False),
        sa.PrimaryKeyConstraint("trace_id", name="pk_automation_traces"),
    )
    op.create_index("ix_automation_traces_key", "automation_traces", ["key"])
    op.create_table(
        "automation_durable",
        sa.Column("record_id", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("fingerprint", sa.String(64)),
        sa.Column("deadline", sa.Double),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("updated_ts", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("record_id", name="pk_automation_durable"),
    )
    op.create_index("ix_automation_durable_owner", "automation_durable", ["owner"])


def downgrade() -> None:
    op.drop_table("automation_durable")
    op.drop_table("automation_traces")
