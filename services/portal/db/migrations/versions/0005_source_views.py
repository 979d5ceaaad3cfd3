"""the dashboard: source views (who opened which source page, when); the newest comments and
classifications for the news feed

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-10 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "source_views",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("obj_id", sa.String(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["obj_id"], ["objs.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_source_views_obj_id"), "source_views", ["obj_id"], unique=False)
    op.create_index(
        "ix_source_views_created_at_obj_id",
        "source_views",
        ["created_at", "obj_id"],
        unique=False,
        postgresql_where=sa.text("token_id IS NULL"),
    )
    op.create_index("ix_comments_created_at", "comments", ["created_at"], unique=False)
    op.create_index(
        "ix_classifications_created_at", "classifications", ["created_at"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_classifications_created_at", table_name="classifications")
    op.drop_index("ix_comments_created_at", table_name="comments")
    op.drop_index("ix_source_views_created_at_obj_id", table_name="source_views")
    op.drop_index(op.f("ix_source_views_obj_id"), table_name="source_views")
    op.drop_table("source_views")
