"""The catalogue database: listings of items and collections, and job records.

SQLite by default, PostgreSQL at scale (by URL); the schema is created and upgraded
by the Alembic migrations in ``migrations/``.
"""

from __future__ import annotations

import datetime
from collections.abc import Collection
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import event
from sqlalchemy.dialects import postgresql, sqlite

from repository import record as rec
from repository.catalogue.models import changes, collections, items, job_items, jobs

MIGRATIONS = Path(__file__).with_name("migrations")
# INSERT ... ON CONFLICT, which both backends have: an upsert in one statement, so writers
# working at once (ingest workers on several machines) never collide on a key.
_INSERTS = {"sqlite": sqlite.insert, "postgresql": postgresql.insert}


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def parse_time(value: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


class Catalogue:
    def __init__(self, url: str):
        self.url = url
        if url.startswith("sqlite:///"):
            Path(url[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
        self.engine = sa.create_engine(url, future=True)
        if self.engine.dialect.name not in _INSERTS:
            raise ValueError(f"unsupported catalogue database {self.engine.dialect.name!r}: "
                             "use SQLite or PostgreSQL")
        self._insert = _INSERTS[self.engine.dialect.name]
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)

    def migrate(self) -> None:
        """Bring the schema to the newest migration."""
        cfg = AlembicConfig()
        cfg.set_main_option("script_location", str(MIGRATIONS))
        with self.engine.begin() as conn:
            cfg.attributes["connection"] = conn
            command.upgrade(cfg, "head")

    def close(self) -> None:
        self.engine.dispose()

    # Items --------------------------------------------------------------------
    @staticmethod
    def _item_row(record: rec.Record, version: str, created: str, updated: str) -> dict:
        date = record.get("date") or {}
        return {
            "id": record["identifier"],
            "title_vi": rec.title(record, "vi"),
            "title_en": rec.title(record, "en"),
            "collection_id": (record.get("collection") or {}).get("id"),
            "type": record["type"],
            "category": record.get("category"),
            "access": record["access"],
            "date_display": date.get("display"),
            "date_start": date.get("start"),
            "date_end": date.get("end"),
            "holding_library": record.get("holding_library"),
            "page_count": len(record["pages"]),
            "version": version,
            "created": parse_time(created),
            "updated": parse_time(updated),
            "record": record,
        }

    def upsert_item(self, record: rec.Record, *, version: str, created: str,
                    updated: str) -> None:
        row = self._item_row(record, version, created, updated)
        insert = self._insert(items).values(**row)
        with self.engine.begin() as conn:
            conn.execute(insert.on_conflict_do_update(
                index_elements=[items.c.id],
                set_={k: insert.excluded[k] for k in row if k != "id"}))
            collection = record.get("collection")
            if collection:
                self._upsert_collection(conn, collection)

    def _upsert_collection(self, conn, collection: dict) -> None:
        # Records of one collection may name it in fewer languages: a name a record gives
        # replaces that language's name, a name it lacks keeps what another record gave.
        # name_en is only ever an English name ("" if none yet: readers fall back to
        # name_vi); name_vi, shown by default, starts as any name when there is no vi one.
        names = collection["name"]
        given_en = (names.get("en") or [""])[0]
        insert = self._insert(collections).values(
            id=collection["id"], name_vi=rec.pick(names, "vi"), name_en=given_en)
        update = {column: insert.excluded[column] for column, given in
                  (("name_vi", names.get("vi")), ("name_en", given_en)) if given}
        conn.execute(insert.on_conflict_do_update(index_elements=[collections.c.id],
                                                  set_=update) if update else
                     insert.on_conflict_do_nothing(index_elements=[collections.c.id]))

    def delete_item(self, item_id: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(items.delete().where(items.c.id == item_id))

    def clear_items(self) -> None:
        with self.engine.begin() as conn:
            conn.execute(changes.delete())
            conn.execute(items.delete())
            conn.execute(collections.delete())

    def get_item(self, item_id: str) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(items).where(items.c.id == item_id)).mappings().first()
        return dict(row) if row else None

    def get_items(self, item_ids: list[str]) -> dict[str, dict]:
        """Several items in one query, by id."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(items).where(items.c.id.in_(item_ids))).mappings()
            return {r["id"]: dict(r) for r in rows}

    def collection_names(self) -> dict[str, dict]:
        """Every collection's names, without counting its items."""
        with self.engine.connect() as conn:
            return {r["id"]: dict(r) for r in conn.execute(sa.select(collections)).mappings()}

    def list_items(self, visible: Collection[str], *, collection_id: str | None = None,
                   limit: int = 20, offset: int = 0) -> tuple[int, list[dict]]:
        """Visible items, newest first, and how many there are in all."""
        where = [items.c.access.in_(list(visible))]
        if collection_id:
            where.append(items.c.collection_id == collection_id)
        with self.engine.connect() as conn:
            total = conn.execute(sa.select(sa.func.count()).select_from(items).where(
                *where)).scalar_one()
            rows = conn.execute(sa.select(items).where(*where).order_by(
                items.c.created.desc(), items.c.id).limit(limit).offset(offset)).mappings().all()
        return total, [dict(r) for r in rows]

    def item_ids(self) -> list[str]:
        with self.engine.connect() as conn:
            return list(conn.execute(sa.select(items.c.id).order_by(items.c.id)).scalars())

    def collections(self, visible: Collection[str]) -> list[dict]:
        """Collections with at least one visible item, with the count of those items."""
        count = sa.func.count(items.c.id).label("count")
        query = (sa.select(collections, count)
                 .join(items, items.c.collection_id == collections.c.id)
                 .where(items.c.access.in_(list(visible)))
                 .group_by(collections.c.id, collections.c.name_vi, collections.c.name_en)
                 .order_by(collections.c.name_vi))
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]

    def get_collection(self, collection_id: str, visible: Collection[str]) -> dict | None:
        return next((c for c in self.collections(visible) if c["id"] == collection_id), None)

    # Jobs ---------------------------------------------------------------------
    def start_job(self, kind: str, source: str, total: int = 0) -> int:
        with self.engine.begin() as conn:
            result = conn.execute(jobs.insert().values(
                kind=kind, source=source, status="running", created=_now(), total=total,
                done=0))
            return result.inserted_primary_key[0]

    def progress_job(self, job_id: int, done: int, total: int | None = None) -> None:
        values: dict[str, Any] = {"done": done}
        if total is not None:
            values["total"] = total
        with self.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(**values))

    def finish_job(self, job_id: int, status: str, summary: dict | None = None,
                   error: str | None = None) -> None:
        with self.engine.begin() as conn:
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(
                status=status, finished=_now(), summary=summary, error=error))

    def jobs(self, limit: int = 20) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(jobs).order_by(jobs.c.id.desc()).limit(limit))
            return [dict(r) for r in rows.mappings()]

    def record_job_item(self, job_id: int, item_id: str, status: str, *,
                        version: str | None = None, pages: int = 0,
                        error: str | None = None) -> None:
        """The outcome of one item of a job (the last attempt's, if it was retried).

        Workers finishing items of one job at the same moment take turns on the
        job's row (FOR UPDATE), so each recount sees the others' items.
        """
        row = {"job_id": job_id, "item_id": item_id, "status": status, "version": version,
               "pages": pages, "error": error, "finished": _now()}
        insert = self._insert(job_items).values(**row)
        done = (sa.select(sa.func.count()).select_from(job_items)
                .where(job_items.c.job_id == job_id).scalar_subquery())
        with self.engine.begin() as conn:
            conn.execute(sa.select(jobs.c.id).where(jobs.c.id == job_id).with_for_update())
            conn.execute(insert.on_conflict_do_update(
                index_elements=[job_items.c.job_id, job_items.c.item_id],
                set_={k: insert.excluded[k] for k in row if k not in ("job_id", "item_id")}))
            conn.execute(jobs.update().where(jobs.c.id == job_id).values(done=done))

    def job_items(self, job_id: int) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(job_items).where(job_items.c.job_id == job_id)
                                .order_by(job_items.c.item_id))
            return [dict(r) for r in rows.mappings()]

    def get_job(self, job_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return dict(row) if row else None

    # The public life of items ---------------------------------------------------
    def set_changes(self, item_id: str, events: list[tuple[str, str, str]]) -> None:
        """Replace an item's (version, activity, ISO time) events."""
        with self.engine.begin() as conn:
            conn.execute(changes.delete().where(changes.c.item_id == item_id))
            if events:
                conn.execute(changes.insert(), [
                    {"item_id": item_id, "version": v, "number": int(v[1:]), "activity": a,
                     "time": parse_time(t)} for v, a, t in events])

    def count_changes(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(changes)).scalar_one()

    def list_changes(self, offset: int, limit: int) -> list[dict]:
        """Every public change, oldest first (Change Discovery lists newest last)."""
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(changes).order_by(
                changes.c.time, changes.c.item_id, changes.c.version).offset(offset).limit(limit))
            return [dict(r) for r in rows.mappings()]

    def ever_public(self, *, after: tuple | None = None, since=None, until=None,
                    collection_id: str | None = None, holding_library: str | None = None,
                    limit: int = 100) -> list[dict]:
        """Items that were ever public, with their last public change: what OAI-PMH shows.

        Ordered by (time of the last change, id), and paged by ``after`` = the last
        (time, id) seen, so a harvest stays correct while items change meanwhile.
        """
        last = (sa.select(changes.c.item_id, sa.func.max(changes.c.number).label("number"))
                .group_by(changes.c.item_id).subquery())
        latest = (sa.select(changes.c.item_id, changes.c.activity, changes.c.time)
                  .join(last, sa.and_(last.c.item_id == changes.c.item_id,
                                      last.c.number == changes.c.number)).subquery())
        query = (sa.select(items, latest.c.activity, latest.c.time.label("changed"))
                 .join(latest, latest.c.item_id == items.c.id))
        if since is not None:
            query = query.where(latest.c.time >= since)
        if until is not None:
            query = query.where(latest.c.time <= until)
        if collection_id is not None:
            query = query.where(items.c.collection_id == collection_id)
        if holding_library is not None:
            query = query.where(items.c.holding_library == holding_library)
        if after is not None:
            query = query.where(sa.or_(latest.c.time > after[0], sa.and_(
                latest.c.time == after[0], items.c.id > after[1])))
        query = query.order_by(latest.c.time, items.c.id).limit(limit)
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(query).mappings()]
