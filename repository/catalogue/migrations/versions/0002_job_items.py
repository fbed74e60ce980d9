"""Per-item outcomes of a job, written by whichever worker did the item.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "job_items",
        sa.Column("job_id", sa.Integer, primary_key=True),
        sa.Column("item_id", sa.String(128), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("version", sa.String(20)),
        sa.Column("pages", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.Column("finished", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("job_items")
