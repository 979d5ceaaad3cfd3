"""sources list and candidate expiry: indexes for a group's saves by time and for cones

Revision ID: 0003
Revises: 0001
Create Date: 2026-12-05 10:00:00.000000
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_sources_group_id_saved_at", "sources", ["group_id", "saved_at"], unique=False
    )
    op.create_index("ix_objs_dec", "objs", ["dec"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_objs_dec", table_name="objs")
    op.drop_index("ix_sources_group_id_saved_at", table_name="sources")
