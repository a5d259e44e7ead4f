"""Add the federation tables: our sequence stream and sent envelopes, peers' streams, remote states/alarms, requests.

Revision ID: 0400
Revises: - (the first revision of this version folder)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0400"
down_revision = None  # federation's first; the core's inbox_seen, which it uses, is migrated before it
branch_labels = ("federation",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_stream",
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("epoch", sa.String(36), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("name", name="pk_federation_stream"),
    )
    op.create_table(
        "federation_sent",
        sa.Column("seq", sa.BigInteger, nullable=False, autoincrement=False),
        sa.Column("message_id", sa.String(36), nullable=False),
        sa.Column("topic", sa.Text, nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("created_ts", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("seq", name="pk_federation_sent"),
    )
    op.create_index("ix_federation_sent_created_ts", "federation_sent", ["created_ts"])
    op.create_table(
        "federation_peer",
        sa.Column("site", sa.String(255), nullable=False),
        sa.Column("epoch", sa.String(36), nullable=False),
        sa.Column("last_seq", sa.BigInteger, nullable=False),
        sa.Column("missing", sa.Text, nullable=False),
        sa.Column("last_seen_ts", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("site", name="pk_federation_peer"),
    )
    op.create_table(
        "federation_remote_state",
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("origin_site", sa.String(255), nullable=False),
        sa.Column("origin_entity_id", sa.String(255), nullable=False),
        sa.Column("state", sa.String(255), nullable=False),
        sa.Column("attributes", sa.Text, nullable=False),
        sa.Column("last_changed_ts", sa.Double, nullable=False),
        sa.Column("last_updated_ts", sa.Double, nullable=False),
        sa.Column("context", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("entity_id", name="pk_federation_remote_state"),
    )
    op.create_index("ix_federation_remote_state_origin_site", "federation_remote_state", ["origin_site"])
    op.create_table(
        "federation_remote_alarm",
        sa.Column("alarm_id", sa.String(64), nullable=False),
        sa.Column("origin_site", sa.String(255), nullable=False),
        sa.Column("state", sa.String(32), nullable=False),
        sa.Column("updated_ts", sa.Double, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("alarm_id", name="pk_federation_remote_alarm"),
    )
    op.create_index("ix_federation_remote_alarm_origin_site", "federation_remote_alarm", ["origin_site"])
    op.create_table(
        "federation_actuation",
        sa.Column("request_id", sa.String(36), nullable=False),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("peer", sa.String(255), nullable=False),
        sa.Column("entity_id", sa.String(255), nullable=False),
        sa.Column("service", sa.String(255), nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("requested_by", sa.String(255)),
        sa.Column("requested_centre", sa.String(255)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("created_ts", sa.Double, nullable=False),
        sa.Column("expires_ts", sa.Double, nullable=False),
        sa.Column("responded_ts", sa.Double),
        sa.Column("responded_by", sa.String(255)),
        sa.Column("note", sa.Text),
        sa.Column("error", sa.Text),
        sa.PrimaryKeyConstraint("request_id", name="pk_federation_actuation"),
    )
    op.create_index("ix_federation_actuation_state", "federation_actuation", ["state"])


def downgrade() -> None:
    op.drop_table("federation_actuation")
    op.drop_table("federation_remote_alarm")
    op.drop_table("federation_remote_state")
    op.drop_table("federation_peer")
    op.drop_table("federation_sent")
    op.drop_table("federation_stream")
