"""Tables of the catalogue database (SQLAlchemy 2 Core).

The catalogue is working state and a projection of the items for listing; the
OCFL objects stay the source of truth and ``sen rebuild catalogue`` recreates
the ``items`` and ``collections`` tables from them. Schema changes go through
the Alembic migrations beside this file.
"""

import datetime

from sqlalchemy import JSON, Column, DateTime, Index, Integer, MetaData, String, Table, Text
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A point in time, stored in UTC and read back timezone-aware (UTC) on every backend.

    PostgreSQL keeps ``timestamptz`` itself; SQLite has no such type, and SQLAlchemy's
    SQLite ``DateTime`` silently drops the offset (08:00+07:00 was stored as 08:00, and read
    back naive), which made times from different zones compare and sort wrongly.
    The column is still ``DateTime(timezone=True)``: the schema does not change.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"a naive datetime cannot go into the catalogue: {value!r}")
        return value.astimezone(datetime.UTC)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite: what was written is UTC
            return value.replace(tzinfo=datetime.UTC)
        return value.astimezone(datetime.UTC)


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
    Column("created", UTCDateTime(), nullable=False),
    Column("updated", UTCDateTime(), nullable=False),
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
    Column("created", UTCDateTime(), nullable=False),
    Column("finished", UTCDateTime()),
    Column("total", Integer, nullable=False, default=0),
    Column("done", Integer, nullable=False, default=0),
    Column("summary", JSON),
    Column("error", Text),
)

job_items = Table(
    "job_items", metadata,
    Column("job_id", Integer, primary_key=True),
    Column("item_id", String(128), primary_key=True),
    Column("status", String(20), nullable=False),  # created | updated | unchanged | failed
    Column("version", String(20)),
    Column("pages", Integer, nullable=False, default=0),
    Column("error", Text),
    Column("finished", UTCDateTime(), nullable=False),
)

#: The public life of each item, one row per OCFL version that changed it for the
#: public: Create (it became visible), Update (a visible item changed), Delete (it
#: stopped being visible). Derived from the OCFL version history alone; feeds the
#: IIIF Change Discovery stream and OAI-PMH's deleted records.
changes = Table(
    "changes", metadata,
    Column("item_id", String(128), primary_key=True),
    Column("version", String(20), primary_key=True),
    Column("number", Integer, nullable=False),  # the version's number, for ordering
    Column("activity", String(10), nullable=False),
    Column("time", UTCDateTime(), nullable=False),
    Index("ix_changes_time", "time", "item_id"),
)
