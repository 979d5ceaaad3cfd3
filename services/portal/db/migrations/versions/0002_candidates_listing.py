"""the candidates list: covering index of passes by filter and time, active saves by group,
classifications by name

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-05 12:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # GET /api/candidates aggregates each object's latest pass over the chosen filters and
    # window: with obj_id included, that is an index-only scan of this index.
    op.drop_index("ix_candidates_filter_passed_at", table_name="candidates")
    op.create_index(
        "ix_candidates_filter_passed_at",
        "candidates",
        ["filter_id", "passed_at"],
        unique=False,
        postgresql_include=["obj_id"],
    )
    # savedStatus: the objects actively saved to some groups.
    op.create_index(
        "ix_sources_active_group_id_obj_id",
        "sources",
        ["group_id", "obj_id"],
        unique=False,
        postgresql_where=sa.text("active"),
    )
    # classifications / classificationsReject: the objects of a class.
    op.create_index(
        "ix_classifications_classification_obj_id",
        "classifications",
        ["classification", "obj_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_classifications_classification_obj_id", table_name="classifications")
    op.drop_index("ix_sources_active_group_id_obj_id", table_name="sources")
    op.drop_index("ix_candidates_filter_passed_at", table_name="candidates")
    op.create_index(
        "ix_candidates_filter_passed_at", "candidates", ["filter_id", "passed_at"], unique=False
    )
