"""The first catalogue: items, collections, jobs.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", sa.String(128), primary_key=True),
        sa.Column("title_vi", sa.Text, nullable=False),
        sa.Column("title_en", sa.Text, nullable=False),
        sa.Column("collection_id", sa.String(80), index=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("category", sa.String(40)),
        sa.Column("access", sa.String(20), nullable=False, index=True),
        sa.Column("date_display", sa.String(200)),
        sa.Column("date_start", sa.Integer),
        sa.Column("date_end", sa.Integer),
        sa.Column("holding_library", sa.Text),
        sa.Column("page_count", sa.Integer, nullable=False),
        sa.Column("version", sa.String(20), nullable=False),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record", sa.JSON, nullable=False),
    )
    op.create_index("ix_items_access_created", "items", ["access", "created"])
    op.create_table(
        "collections",
        sa.Column("id", sa.String(80), primary_key=True),
        sa.Column("name_vi", sa.Text, nullable=False),
        sa.Column("name_en", sa.Text, nullable=False),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("source", sa.Text),
        sa.Column("status", sa.String(20), nullable=False, index=True),
        sa.Column("created", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished", sa.DateTime(timezone=True)),
        sa.Column("total", sa.Integer, nullable=False),
        sa.Column("done", sa.Integer, nullable=False),
        sa.Column("summary", sa.JSON),
        sa.Column("error", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("jobs")
    op.drop_table("collections")
    op.drop_index("ix_items_access_created", "items")
    op.drop_table("items")
