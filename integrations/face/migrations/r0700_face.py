"""Faces: authorisations, their watchlists, candidate matches and clip locks (integrations/face/models.py).

Revision ID: 0700
Revises: - (the first revision of this version folder)
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0700"
down_revision = None
branch_labels = ("face",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "face_authorisations",
        sa.Column("authorisation_id", sa.String(32), nullable=False),
        sa.Column("authority", sa.String(255), nullable=False),
        sa.Column("reference", sa.String(255), nullable=False),
        sa.Column("purpose", sa.String(32), nullable=False),
        sa.Column("use", sa.String(16), nullable=False),
        sa.Column("cameras", sa.Text, nullable=False),
        sa.Column("start_ts", sa.Double, nullable=False),
        sa.Column("end_ts", sa.Double, nullable=False),
        sa.Column("urgent", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_ts", sa.Double, nullable=False),
        sa.Column("created_by", sa.String(255), nullable=False),
        sa.Column("confirmed_by", sa.String(255)),
        sa.Column("confirmed_ts", sa.Double),
        sa.Column("authority_confirmed_ts", sa.Double),
        sa.Column("closed_ts", sa.Double),
        sa.Column("persons_sought", sa.Integer, nullable=False),
        sa.Column("candidates", sa.Integer, nullable=False),
        sa.Column("verified", sa.Integer, nullable=False),
        sa.Column("rejected", sa.Integer, nullable=False),
        sa.Column("persons_found", sa.Integer, nullable=False),
        sa.Column("purged", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("authorisation_id", name="pk_face_authorisations"),
    )
    op.create_index("ix_face_authorisations_status", "face_authorisations", ["status"])
    op.create_index("ix_face_authorisations_created_ts", "face_authorisations", ["created_ts"])
    op.create_table(
        "face_persons",
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("authorisation_id", sa.String(32), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("reference_path", sa.Text, nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.Column("found", sa.Boolean, nullable=False),
        sa.Column("created_ts", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("person_id", name="pk_face_persons"),
    )
    op.create_index("ix_face_persons_authorisation_id", "face_persons", ["authorisation_id"])
    op.create_table(
        "face_matches",
        sa.Column("match_id", sa.String(32), nullable=False),
        sa.Column("authorisation_id", sa.String(32), nullable=False),
        sa.Column("person_id", sa.String(32), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("ts", sa.Double, nullable=False),
        sa.Column("distance", sa.Double, nullable=False),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.Column("frame_path", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("first_by", sa.String(255)),
        sa.Column("first_verdict", sa.String(16)),
        sa.Column("second_by", sa.String(255)),
        sa.Column("decided_ts", sa.Double),
        sa.PrimaryKeyConstraint("match_id", name="pk_face_matches"),
    )
    op.create_index("ix_face_matches_authorisation_id", "face_matches", ["authorisation_id"])
    op.create_table(
        "face_clip_locks",
        sa.Column("lock_id", sa.Integer, nullable=False),
        sa.Column("authorisation_id", sa.String(32), nullable=False),
        sa.Column("match_id", sa.String(32), nullable=False),
        sa.Column("camera", sa.String(64), nullable=False),
        sa.Column("start_ts", sa.Double, nullable=False),
        sa.Column("end_ts", sa.Double, nullable=False),
        sa.PrimaryKeyConstraint("lock_id", name="pk_face_clip_locks"),
    )
    op.create_index("ix_face_clip_locks_authorisation_id", "face_clip_locks", ["authorisation_id"])


def downgrade() -> None:
    op.drop_table("face_clip_locks")
    op.drop_table("face_matches")
    op.drop_table("face_persons")
    op.drop_table("face_authorisations")
