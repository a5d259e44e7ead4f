"""Add outbox (durable messages for agencies and peer centres) and inbox_seen (received ids, against replays).

Revision ID: 0300
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0300"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outbox",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("destination", sa.String(255), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("headers", sa.Text, nullable=False),
        sa.Column("meta", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(255)),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("created_ts", sa.Double, nullable=False),
        sa.Column("next_attempt_ts", sa.Double, nullable=False),
        sa.Column("updated_ts", sa.Double, nullable=False),
        sa.Column("delivered_ts", sa.Double),
        sa.Column("last_error", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index("ix_outbox_state_next_attempt_ts", "outbox", ["state", "next_attempt_ts"])
    op.create_index("ix_outbox_kind_destination_state", "outbox", ["kind", "destination", "state"])
    op.create_index("ix_outbox_correlation_id", "outbox", ["correlation_id"])
    op.create_table(
        "inbox_seen",
        sa.Column("scope", sa.String(255), nullable=False),
        sa.Column("message_id", sa.String(255), nullable=False),
        sa.Column("seen_ts", sa.Double, nullable=False),
        sa.Column("expires_ts", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("scope", "message_id", name="pk_inbox_seen"),
    )
    op.create_index("ix_inbox_seen_expires_ts", "inbox_seen", ["expires_ts"])


def downgrade() -> None:
    op.drop_table("inbox_seen")
    op.drop_table("outbox")
