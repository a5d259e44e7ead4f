"""Add audit_log (hash-chained audit entries) and alarms + alarm_timeline (the alarm integration).

Revision ID: 0200
Revises: 0002
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

    op.create_table(
        "alarms",
        sa.Column("alarm_id", sa.String(32), nullable=False),
        sa.Column("type", sa.String(64), nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("message", sa.Text),
        sa.Column("centre", sa.String, nullable=False),
        sa.Column("shared", sa.Boolean, nullable=False),
        sa.Column("source_event", sa.String(64)),
        sa.Column("source", sa.String(255)),
        sa.Column("source_context_id", sa.String),
        sa.Column("entities", sa.Text, nullable=False),
        sa.Column("latitude", sa.Double),
        sa.Column("longitude", sa.Double),
        sa.Column("area_id", sa.String),
        sa.Column("assignee", sa.String),
        sa.Column("dedup_key", sa.String(255)),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("escalation_level", sa.SmallInteger, nullable=False),
        sa.Column("resolve_escalated", sa.Boolean, nullable=False),
        sa.Column("raised_ts", sa.Double, nullable=False),
        sa.Column("acknowledged_ts", sa.Double),
        sa.Column("started_ts", sa.Double),
        sa.Column("resolved_ts", sa.Double),
        sa.Column("closed_ts", sa.Double),
        sa.Column("cleared_ts", sa.Double),
        sa.Column("updated_ts", sa.Double, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("sop", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("alarm_id", name="pk_alarms"),
    )
    op.create_index("ix_alarms_type", "alarms", ["type"])
    op.create_index("ix_alarms_state", "alarms", ["state"])
    op.create_index("ix_alarms_centre", "alarms", ["centre"])
    op.create_index("ix_alarms_raised_ts", "alarms", ["raised_ts"])

    op.create_table(
        "alarm_timeline",
        sa.Column("timeline_id", sa.Integer, nullable=False),
        sa.Column("alarm_id", sa.String(32),
                  sa.ForeignKey("alarms.alarm_id", name="fk_alarm_timeline_alarm_id_alarms"), nullable=False),
        sa.Column("time_ts", sa.Double, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("user_id", sa.String),
        sa.Column("centre", sa.String),
        sa.Column("context_id", sa.String),
        sa.Column("text", sa.Text),
        sa.Column("data", sa.Text),
        sa.PrimaryKeyConstraint("timeline_id", name="pk_alarm_timeline"),
    )
    op.create_index("ix_alarm_timeline_alarm_id", "alarm_timeline", ["alarm_id"])


def downgrade() -> None:
    op.drop_table("alarm_timeline")
    op.drop_table("alarms")
    op.drop_table("audit_log")
