"""Initial recorder schema: states, states_meta, state_attributes, events, event_data.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _context_columns() -> list[sa.Column]:
    return [
        sa.Column("context_id", sa.String),
        sa.Column("context_user_id", sa.String),
        sa.Column("context_parent_id", sa.String),
        sa.Column("context_centre", sa.String),
    ]


def upgrade() -> None:
    op.create_table(
        "states_meta",
        sa.Column("metadata_id", sa.Integer, nullable=False),
        sa.Column("entity_id", sa.String, nullable=False),
        sa.PrimaryKeyConstraint("metadata_id", name="pk_states_meta"),
        sa.UniqueConstraint("entity_id", name="uq_states_meta_entity_id"),
    )
    op.create_table(
        "state_attributes",
        sa.Column("attributes_id", sa.Integer, nullable=False),
        sa.Column("hash", sa.BigInteger, nullable=False),
        sa.Column("shared_attrs", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("attributes_id", name="pk_state_attributes"),
    )
    op.create_index("ix_state_attributes_hash", "state_attributes", ["hash"])
    op.create_table(
        "states",
        sa.Column("state_id", sa.Integer, nullable=False),
        sa.Column("metadata_id", sa.Integer,
                  sa.ForeignKey("states_meta.metadata_id", name="fk_states_metadata_id_states_meta")),
        sa.Column("state", sa.String(255)),
        sa.Column("attributes_id", sa.Integer,
                  sa.ForeignKey("state_attributes.attributes_id",
                                name="fk_states_attributes_id_state_attributes")),
        sa.Column("last_changed_ts", sa.Double),
        sa.Column("last_updated_ts", sa.Double, nullable=False),
        sa.Column("origin_idx", sa.SmallInteger, nullable=False),
        *_context_columns(),
        sa.PrimaryKeyConstraint("state_id", name="pk_states"),
    )
    op.create_index("ix_states_metadata_id_last_updated_ts", "states", ["metadata_id", "last_updated_ts"])
    op.create_index("ix_states_attributes_id", "states", ["attributes_id"])
    op.create_index("ix_states_context_id", "states", ["context_id"])
    op.create_table(
        "event_data",
        sa.Column("data_id", sa.Integer, nullable=False),
        sa.Column("hash", sa.BigInteger, nullable=False),
        sa.Column("shared_data", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("data_id", name="pk_event_data"),
    )
    op.create_index("ix_event_data_hash", "event_data", ["hash"])
    op.create_table(
        "events",
        sa.Column("event_id", sa.Integer, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("data_id", sa.Integer,
                  sa.ForeignKey("event_data.data_id", name="fk_events_data_id_event_data")),
        sa.Column("origin_idx", sa.SmallInteger, nullable=False),
        sa.Column("time_fired_ts", sa.Double, nullable=False),
        *_context_columns(),
        sa.PrimaryKeyConstraint("event_id", name="pk_events"),
    )
    op.create_index("ix_events_event_type_time_fired_ts", "events", ["event_type", "time_fired_ts"])
    op.create_index("ix_events_time_fired_ts", "events", ["time_fired_ts"])
    op.create_index("ix_events_data_id", "events", ["data_id"])
    op.create_index("ix_events_context_id", "events", ["context_id"])


def downgrade() -> None:
    op.drop_table("events")
    op.drop_table("event_data")
    op.drop_table("states")
    op.drop_table("state_attributes")
    op.drop_table("states_meta")
