"""The alarm integration's tables: alarms and alarm_timeline (integrations/alarm/models.py).

Revision ID: 0210
Revises: - (the first revision of this version folder)

Databases made before the integrations owned their tables already hold both (core revision 0200 created
them with audit_log): there this revision only records itself, and every row stays.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0210"
down_revision = None
branch_labels = ("alarm",)
depends_on = None

TABLES = ("alarms", "alarm_timeline")


def upgrade() -> None:
    existing = set(sa.inspect(op.get_bind()).get_table_names())
    if set(TABLES) <= existing:
        return  # made by revision 0200 of the single chain: adopt them as they are
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
