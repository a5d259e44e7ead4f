"""Add audit_log (hash-chained audit entries, hub/audit/models.py).

Revision ID: 0200
Revises: 0002

Until the integrations owned their tables this revision also created `alarms` and `alarm_timeline`; they are
the alarm integration's now (integrations/alarm/migrations/r0210_alarms.py, which adopts them where this
revision made them).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0200"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("time_ts", sa.Double, nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("user_id", sa.String),
        sa.Column("centre", sa.String),
        sa.Column("context_id", sa.String),
        sa.Column("target", sa.String(255)),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_time_ts", "audit_log", ["time_ts"])
    op.create_index("ix_audit_log_action", "audit_log", ["action"])
    op.create_index("ix_audit_log_user_id", "audit_log", ["user_id"])


def downgrade() -> None:
    op.drop_table("audit_log")
