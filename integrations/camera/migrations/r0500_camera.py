"""The camera integration's tables: camera_segments, camera_gaps, camera_locks (integrations/camera/models.py).

Revision ID: 0500
Revises: - (the first revision of this version folder)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0500"
down_revision = None
branch_labels = ("camera",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "camera_segments",
        sa.Column("segment_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("start_ts", sa.Double, nullable=False),
        sa.Column("end_ts", sa.Double, nullable=False),
        sa.Column("path", sa.String(512), nullable=False),
        sa.Column("bytes", sa.BigInteger, nullable=False),
        sa.Column("keyframe", sa.Boolean, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("segment_id", name="pk_camera_segments"),
        sa.UniqueConstraint("path", name="uq_camera_segments_path"),
    )
    op.create_index("ix_camera_segments_camera_start_ts", "camera_segments", ["camera", "start_ts"])
    op.create_table(
        "camera_gaps",
        sa.Column("gap_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("start_ts", sa.Double, nullable=False),
        sa.Column("end_ts", sa.Double),
        sa.Column("reason", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("gap_id", name="pk_camera_gaps"),
    )
    op.create_index("ix_camera_gaps_camera_start_ts", "camera_gaps", ["camera", "start_ts"])
    op.create_table(
        "camera_locks",
        sa.Column("lock_id", sa.Integer, nullable=False, autoincrement=True),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("start_ts", sa.Double, nullable=False),
        sa.Column("end_ts", sa.Double, nullable=False),
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("user_id", sa.String),
        sa.Column("created_ts", sa.Double, nullable=False),
        sa.Column("released_ts", sa.Double),
        sa.PrimaryKeyConstraint("lock_id", name="pk_camera_locks"),
    )
    op.create_index("ix_camera_locks_camera", "camera_locks", ["camera"])


def downgrade() -> None:
    op.drop_index("ix_camera_locks_camera", table_name="camera_locks")
    op.drop_table("camera_locks")
    op.drop_index("ix_camera_gaps_camera_start_ts", table_name="camera_gaps")
    op.drop_table("camera_gaps")
    op.drop_index("ix_camera_segments_camera_start_ts", table_name="camera_segments")
    op.drop_table("camera_segments")
