"""The public life of items: Create, Update and Delete per OCFL version.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "changes",
        sa.Column("item_id", sa.String(128), primary_key=True),
        sa.Column("version", sa.String(20), primary_key=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("activity", sa.String(10), nullable=False),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_changes_time", "changes", ["time", "item_id"])


def downgrade() -> None:
    op.drop_index("ix_changes_time", "changes")
    op.drop_table("changes")
