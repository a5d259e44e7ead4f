"""ANPR: hotlist entries, reads (keyed plate hashes) and hotlist hits (integrations/anpr/models.py).

Revision ID: 0100
Revises: - (the first revision of this version folder)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0100"
down_revision = None  # the first of the ANPR integration's own revisions
branch_labels = ("anpr",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "anpr_hotlist_entries",
        sa.Column("entry_id", sa.Integer, nullable=False),
        sa.Column("list_id", sa.String(64), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("priority", sa.SmallInteger, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("source", sa.String(128)),
        sa.Column("expires_ts", sa.Double),
        sa.Column("created_ts", sa.Double, nullable=False),
        sa.Column("updated_ts", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("entry_id", name="pk_anpr_hotlist_entries"),
        sa.UniqueConstraint("list_id", "plate", name="uq_anpr_hotlist_entries_list_id_plate"),
    )
    op.create_table(
        "anpr_reads",
        sa.Column("read_id", sa.Integer, nullable=False),
        sa.Column("ts", sa.Double, nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("plate_hash", sa.String(64), nullable=False),
        sa.Column("plate", sa.String(16)),
        sa.Column("hit", sa.Boolean, nullable=False),
        sa.Column("direction", sa.String(16)),
        sa.Column("lane", sa.SmallInteger),
        sa.Column("confidence", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("read_id", name="pk_anpr_reads"),
    )
    op.create_index("ix_anpr_reads_ts", "anpr_reads", ["ts"])
    op.create_index("ix_anpr_reads_plate_hash_ts", "anpr_reads", ["plate_hash", "ts"])
    op.create_table(
        "anpr_hits",
        sa.Column("hit_id", sa.String(32), nullable=False),
        sa.Column("ts", sa.Double, nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("list_id", sa.String(64), nullable=False),
        sa.Column("entry_plate", sa.String(16), nullable=False),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("confidence", sa.Double, nullable=False),
        sa.Column("distance", sa.Double, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("review_reason", sa.Text),
        sa.Column("reviewed_by", sa.String(255)),
        sa.Column("reviewed_ts", sa.Double),
        sa.Column("crop_path", sa.Text),
        sa.Column("frame_path", sa.Text),
        sa.PrimaryKeyConstraint("hit_id", name="pk_anpr_hits"),
    )
    op.create_index("ix_anpr_hits_ts", "anpr_hits", ["ts"])


def downgrade() -> None:
    op.drop_table("anpr_hits")
    op.drop_table("anpr_reads")
    op.drop_table("anpr_hotlist_entries")
