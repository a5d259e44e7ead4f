"""Add federation_remote_incident: peers' shared incidents with their timelines.

Revision ID: 0920
Revises: 0400
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0920"
down_revision = "0400"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "federation_remote_incident",
        sa.Column("incident_id", sa.String(36), nullable=False),
        sa.Column("origin_site", sa.String(255), nullable=False),
        sa.Column("updated_ts", sa.Double, nullable=False),
        sa.Column("data", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("incident_id", name="pk_federation_remote_incident"),
    )
    op.create_index("ix_federation_remote_incident_origin_site", "federation_remote_incident", ["origin_site"])


def downgrade() -> None:
    op.drop_index("ix_federation_remote_incident_origin_site", table_name="federation_remote_incident")
    op.drop_table("federation_remote_incident")
