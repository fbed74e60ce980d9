"""Tables of the catalogue database (SQLAlchemy 2 Core).

The catalogue is working state and a projection of the items for listing; the
OCFL objects stay the source of truth and ``sen rebuild catalogue`` recreates
the ``items`` and ``collections`` tables from them. Schema changes go through
the Alembic migrations beside this file.
"""

from sqlalchemy import JSON, Column, DateTime, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

items = Table(
    "items", metadata,
    Column("id", String(128), primary_key=True),
    Column("title_vi", Text, nullable=False),
    Column("title_en", Text, nullable=False, default=""),
    Column("collection_id", String(80), index=True),
    Column("type", String(40), nullable=False),
    Column("category", String(40)),
    Column("access", String(20), nullable=False, index=True),
    Column("date_display", String(200)),
    Column("date_start", Integer),
    Column("date_end", Integer),
    Column("holding_library", Text),
    Column("page_count", Integer, nullable=False),
    Column("version", String(20), nullable=False),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("updated", DateTime(timezone=True), nullable=False),
    Column("record", JSON, nullable=False),
    Index("ix_items_access_created", "access", "created"),
)

collections = Table(
    "collections", metadata,
    Column("id", String(80), primary_key=True),
    Column("name_vi", Text, nullable=False),
    Column("name_en", Text, nullable=False, default=""),
)

jobs = Table(
    "jobs", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("kind", String(40), nullable=False),
    Column("source", Text),
    Column("status", String(20), nullable=False, index=True),
    Column("created", DateTime(timezone=True), nullable=False),
    Column("finished", DateTime(timezone=True)),
    Column("total", Integer, nullable=False, default=0),
    Column("done", Integer, nullable=False, default=0),
    Column("summary", JSON),
    Column("error", Text),
)
