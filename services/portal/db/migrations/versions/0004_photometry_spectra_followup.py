"""photometry upload, spectra and follow-up: an upload id per point, instrument types,
when a spectrum changed, who last changed a follow-up request

0001 already has the spectra, allocations and followup_requests tables.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-06 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("photometry", sa.Column("upload_id", sa.String(), nullable=True))
    op.create_index(op.f("ix_photometry_upload_id"), "photometry", ["upload_id"], unique=False)
    op.add_column(
        "instruments",
        sa.Column("type", sa.String(), nullable=False, server_default="imager"),
    )
    op.add_column("instruments", sa.Column("band", sa.String(), nullable=True))
    op.add_column(
        "spectra",
        sa.Column(
            "modified", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.add_column(
        "followup_requests", sa.Column("last_modified_by_id", sa.Integer(), nullable=True)
    )
    op.create_foreign_key(
        "followup_requests_last_modified_by_id_fkey",
        "followup_requests",
        "users",
        ["last_modified_by_id"],
        ["id"],
        ondelete="SET NULL",
    )
    op.create_index(
        "ix_followup_requests_allocation_id", "followup_requests", ["allocation_id"], unique=False
    )
    op.create_index("ix_allocations_group_id", "allocations", ["group_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_allocations_group_id", table_name="allocations")
    op.drop_index("ix_followup_requests_allocation_id", table_name="followup_requests")
    op.drop_constraint(
        "followup_requests_last_modified_by_id_fkey", "followup_requests", type_="foreignkey"
    )
    op.drop_column("followup_requests", "last_modified_by_id")
    op.drop_column("spectra", "modified")
    op.drop_column("instruments", "band")
    op.drop_column("instruments", "type")
    op.drop_index(op.f("ix_photometry_upload_id"), table_name="photometry")
    op.drop_column("photometry", "upload_id")
