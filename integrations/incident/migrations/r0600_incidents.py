"""Add the incident tables: incidents and their timeline items.

Revision ID: 0600
Revises: - (the first revision of this version folder)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0600"
down_revision = None
branch_labels = ("incident",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "incidents",
        sa.Column("incident_id", sa.String(36), nullable=False),
        sa.Column("title", sa.String(255), nullable=False),
        sa.Column("centre", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("owner", sa.String(255), nullable=True),
        sa.Column("shared", sa.Boolean, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=True),
        sa.Column("created_ts", sa.Double, nullable=False),
        sa.Column("updated_ts", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name="pk_incidents"),
    )
    op.create_index("ix_incidents_centre", "incidents", ["centre"])
    op.create_index("ix_incidents_created_ts", "incidents", ["created_ts"])
    op.create_table(
        "incident_items",
        sa.Column("item_id", sa.Integer, nullable=False),
        sa.Column("incident_id", sa.String(36), nullable=False),
        sa.Column("ts", sa.Double, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("ref", sa.String(255), nullable=True),
        sa.Column("text", sa.Text, nullable=True),
        sa.Column("file_path", sa.Text, nullable=True),
        sa.Column("user_id", sa.String(255), nullable=True),
        sa.PrimaryKeyConstraint("item_id", name="pk_incident_items"),
    )
    op.create_index("ix_incident_items_incident_id_ts", "incident_items", ["incident_id", "ts"])


def downgrade() -> None:
    op.drop_index("ix_incident_items_incident_id_ts", table_name="incident_items")
    op.drop_table("incident_items")
    op.drop_index("ix_incidents_created_ts", table_name="incidents")
    op.drop_index("ix_incidents_centre", table_name="incidents")
    op.drop_table("incidents")
