"""The catalogue contract: the same behaviour on SQLite and on PostgreSQL.

Every test gets a fresh, migrated database of each backend: a SQLite file, or a uniquely
named PostgreSQL database created through the `sen` role of the test cluster (started by
``services/up postgres``) and dropped afterwards. The PostgreSQL runs are integration tests:
``pytest -m ''`` runs them, and they fail, never skip, when the cluster is not running.
"""

from __future__ import annotations

import datetime
import os
import threading
import uuid

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from repository import record as rec
from repository.catalogue import MIGRATIONS, Catalogue, parse_time
from repository.catalogue.models import metadata

UTC = datetime.UTC
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.integration)]
ALL_LEVELS = {"public", "restricted", "internal"}
DIA_CHI = {"id": "tai-lieu-dia-chi", "name": {"vi": ["Tài liệu địa chí Đồng Tháp"]}}
GIA_PHA = {"id": "gia-pha", "name": {"vi": ["Gia phả"], "en": ["Genealogies"]}}


def record(identifier: str, *, title: str = "Sa Đéc – Cao Lãnh: đất và người",
           access: str = "public", collection: dict | None = DIA_CHI, **extra) -> dict:
    """A valid record (schemas/record.schema.json) with Vietnamese text."""
    made = {"identifier": identifier, "title": {"vi": [title]}, "type": "book",
            "rights": "http://rightsstatements.org/vocab/InC/1.0/", "access": access,
            "pages": [{"file": "masters/0001.jpg", "source": "a.jpg"}],
            "date": {"display": "khoảng 1925", "start": 1920, "end": 1930}} | extra
    if collection:
        made["collection"] = collection
    assert rec.problems(made) == []
    return made


def at(hour: int, minute: int = 0) -> str:
    """An OCFL-style timestamp on 1 March 2024, in UTC."""
    return f"2024-03-01T{hour:02d}:{minute:02d}:00Z"


def put(catalogue: Catalogue, made: dict, created: str = at(8), updated: str | None = None,
        version: str = "v1") -> None:
    catalogue.upsert_item(made, version=version, created=created, updated=updated or created)


# Fixtures -------------------------------------------------------------------------------
def _postgres_database():
    """Yield the URL of a new, empty PostgreSQL database; drop it afterwards."""
    base = os.environ.get("SEN_TEST_DATABASE_URL")
    if not base:
        pytest.fail("SEN_TEST_DATABASE_URL is not set: run `services/up postgres` and "
                    "`eval \"$(services/env)\"` first", pytrace=False)
    url = sa.engine.make_url(base)
    name = f"sen_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'catalogue.sqlite'}"
    else:
        yield from _postgres_database()


@pytest.fixture
def catalogue(database_url):
    made = Catalogue(database_url)
    made.migrate()
    yield made
    made.close()


# Schema ---------------------------------------------------------------------------------
def test_migrations_apply_once_and_build_exactly_the_models(database_url):
    catalogue = Catalogue(database_url)
    catalogue.migrate()
    put(catalogue, record("dt-0001"))
    catalogue.migrate()  # a second run is a no-op and keeps the data
    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    with catalogue.engine.connect() as conn:
        context = MigrationContext.configure(conn)
        assert context.get_current_heads() == (head,)
        # Autogenerate would write an empty migration: models and migrations agree.
        assert compare_metadata(context, metadata) == []
    assert catalogue.item_ids() == ["dt-0001"]
    catalogue.close()


# Items ----------------------------------------------------------------------------------
def test_upsert_then_get_returns_the_same_record(catalogue):
    made = record(
        "dt-dc-0001", title="Đồng Tháp: lịch sử và văn hoá", collection=GIA_PHA,
        alternative={"lzh": ["同塔地志"], "vi-Hani": ["𡨸喃"], "fr": ["Histoire de Sadec"]},
        creator=["Nguyễn Văn Hưởng"], language=["vie", "lzh"], category="local_studies",
        spatial=[{"id": "sa-dec", "name": "Sa Đéc"}, {"name": "Gò Công"}],
        description={"vi": ["Bản in thạch bản, chữ Quốc ngữ và chữ Hán – “quý hiếm”."]},
        holding_library="Thư viện tỉnh Đồng Tháp")
    made["title"]["en"] = ["Đồng Tháp: history and culture"]
    put(catalogue, made, created="2024-03-01T15:30:00+07:00", updated=at(9), version="v2")
    row = catalogue.get_item("dt-dc-0001")
    assert row["record"] == made  # every character, Nôm outside the BMP (𡨸) included
    assert {k: row[k] for k in ("id", "title_vi", "title_en", "collection_id", "type",
                                "category", "access", "date_display", "date_start", "date_end",
                                "holding_library", "page_count", "version")} == {
        "id": "dt-dc-0001", "title_vi": "Đồng Tháp: lịch sử và văn hoá",
        "title_en": "Đồng Tháp: history and culture", "collection_id": "gia-pha",
        "type": "book", "category": "local_studies", "access": "public",
        "date_display": "khoảng 1925", "date_start": 1920, "date_end": 1930,
        "holding_library": "Thư viện tỉnh Đồng Tháp", "page_count": 1, "version": "v2"}
    assert catalogue.get_item("no-such-item") is None


def test_upsert_replaces_the_item(catalogue):
    put(catalogue, record("dt-0001", title="Bản cũ"), created=at(8))
    put(catalogue, record("dt-0001", title="Bản mới", access="restricted",
                          collection=GIA_PHA), created=at(8), updated=at(10), version="v2")
    row = catalogue.get_item("dt-0001")
    assert (row["title_vi"], row["access"], row["collection_id"], row["version"]) == (
        "Bản mới", "restricted", "gia-pha", "v2")
    assert row["created"] == parse_time(at(8)) and row["updated"] == parse_time(at(10))
    assert catalogue.item_ids() == ["dt-0001"]


def test_datetimes_come_back_timezone_aware_and_equal(catalogue):
    # 08:00 in Vietnam (UTC+7) is 01:00 UTC: earlier than 02:00 UTC, whatever the clock says.
    put(catalogue, record("hanoi-time"), created="2024-03-01T08:00:00+07:00")
    put(catalogue, record("utc-time"), created=at(2))
    row = catalogue.get_item("hanoi-time")
    for value in (row["created"], row["updated"]):
        assert value.tzinfo is not None and value.utcoffset() is not None
        assert value == datetime.datetime(2024, 3, 1, 1, 0, tzinfo=UTC)
    assert [r["id"] for r in catalogue.list_items({"public"})[1]] == ["utc-time", "hanoi-time"]


def test_listing_shows_only_the_levels_asked_for_newest_first_with_paging(catalogue):
    for n, access in enumerate(["public", "restricted", "public", "internal", "public",
                                "public", "restricted"]):
        put(catalogue, record(f"dt-{n}", access=access), created=at(8 + n))
    put(catalogue, record("dt-same-time-b"), created=at(20))
    put(catalogue, record("dt-same-time-a"), created=at(20))  # a tie is broken by id

    total, rows = catalogue.list_items({"public"})
    assert total == 6
    assert [r["id"] for r in rows] == ["dt-same-time-a", "dt-same-time-b", "dt-5", "dt-4",
                                       "dt-2", "dt-0"]
    total, rows = catalogue.list_items({"public"}, limit=2, offset=2)
    assert total == 6 and [r["id"] for r in rows] == ["dt-5", "dt-4"]
    total, rows = catalogue.list_items({"public"}, limit=5, offset=5)
    assert total == 6 and [r["id"] for r in rows] == ["dt-0"]
    total, rows = catalogue.list_items({"public", "restricted"}, limit=3)
    assert total == 8 and [r["id"] for r in rows] == ["dt-same-time-a", "dt-same-time-b",
                                                      "dt-6"]
    assert {r["access"] for r in catalogue.list_items(ALL_LEVELS, limit=100)[1]} == ALL_LEVELS
    assert catalogue.list_items(set()) == (0, [])  # nothing visible, nothing listed


def test_listing_by_collection(catalogue):
    put(catalogue, record("dc-1"), created=at(8))
    put(catalogue, record("gp-1", collection=GIA_PHA), created=at(9))
    put(catalogue, record("gp-2", collection=GIA_PHA, access="internal"), created=at(10))
    put(catalogue, record("loose", collection=None), created=at(11))
    total, rows = catalogue.list_items({"public"}, collection_id="gia-pha")
    assert total == 1 and [r["id"] for r in rows] == ["gp-1"]
    assert catalogue.list_items({"public"}, collection_id="no-such") == (0, [])
    assert catalogue.list_items({"public"})[0] == 3
    assert catalogue.get_item("loose")["collection_id"] is None


# Collections ----------------------------------------------------------------------------
def test_collections_count_visible_items_only(catalogue):
    secret = {"id": "noi-bo", "name": {"vi": ["Hồ sơ nội bộ"]}}
    put(catalogue, record("dc-1"))
    put(catalogue, record("dc-2", access="restricted"))
    put(catalogue, record("gp-1", collection=GIA_PHA))
    put(catalogue, record("gp-2", collection=GIA_PHA))
    put(catalogue, record("nb-1", collection=secret, access="internal"))

    assert catalogue.collections({"public"}) == [
        {"id": "gia-pha", "name_vi": "Gia phả", "name_en": "Genealogies", "count": 2},
        {"id": "tai-lieu-dia-chi", "name_vi": "Tài liệu địa chí Đồng Tháp", "name_en": "",
         "count": 1}]
    assert [(c["id"], c["count"]) for c in catalogue.collections(ALL_LEVELS)] == [
        ("gia-pha", 2), ("noi-bo", 1), ("tai-lieu-dia-chi", 2)]
    assert catalogue.get_collection("noi-bo", {"public"}) is None  # hidden: not even named
    assert catalogue.get_collection("noi-bo", {"internal"})["count"] == 1
    assert catalogue.get_collection("no-such", ALL_LEVELS) is None
    assert catalogue.collections(set()) == []


def test_collection_names_are_merged_across_records(catalogue):
    both = {"id": "ban-do", "name": {"vi": ["Bản đồ"], "en": ["Maps"]}}
    put(catalogue, record("bd-1", collection=both))
    # A later record names it in Vietnamese only, another in English only: nothing is lost.
    put(catalogue, record("bd-2", collection={"id": "ban-do", "name": {"vi": ["Bản đồ cổ"]}}))
    assert catalogue.get_collection("ban-do", {"public"})["name_en"] == "Maps"
    put(catalogue, record("bd-3", collection={"id": "ban-do", "name": {"en": ["Old maps"]}}))
    found = catalogue.get_collection("ban-do", {"public"})
    assert (found["name_vi"], found["name_en"], found["count"]) == ("Bản đồ cổ", "Old maps", 3)
    # A collection named in English only still gets a name to show in Vietnamese.
    put(catalogue, record("x-1", collection={"id": "foreign", "name": {"fr": ["Cartes"]}}))
    found = catalogue.get_collection("foreign", {"public"})
    assert (found["name_vi"], found["name_en"]) == ("Cartes", "")


def test_concurrent_writers_share_a_new_collection(catalogue):
    # Ingest workers on several machines upsert items of one new collection at once, and
    # sometimes the same item twice: no writer may fail, and no name may be lost.
    start = threading.Barrier(6)
    errors: list[BaseException] = []

    def worker(n: int) -> None:
        try:
            start.wait()
            for k in range(5):
                name = {"vi": ["Sắc phong"]} if n % 2 else {"vi": ["Sắc phong"],
                                                             "en": ["Royal decrees"]}
                put(catalogue, record(f"sp-{n}-{k}", collection={"id": "sac-phong",
                                                                   "name": name}))
                put(catalogue, record("sp-shared", collection={"id": "sac-phong",
                                                                "name": name}))
        except BaseException as exc:  # reported below, with the others
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert catalogue.get_collection("sac-phong", {"public"}) == {
        "id": "sac-phong", "name_vi": "Sắc phong", "name_en": "Royal decrees", "count": 31}


# Deleting -------------------------------------------------------------------------------
def test_delete_item(catalogue):
    put(catalogue, record("dc-1"))
    put(catalogue, record("gp-1", collection=GIA_PHA))
    catalogue.delete_item("gp-1")
    catalogue.delete_item("no-such-item")  # deleting what is not there is no error
    assert catalogue.get_item("gp-1") is None
    assert catalogue.item_ids() == ["dc-1"]
    assert [c["id"] for c in catalogue.collections(ALL_LEVELS)] == ["tai-lieu-dia-chi"]


def test_clear_items_keeps_the_jobs(catalogue):
    put(catalogue, record("dc-1"))
    put(catalogue, record("gp-1", collection=GIA_PHA))
    job = catalogue.start_job("rebuild", "catalogue")
    catalogue.clear_items()
    assert catalogue.item_ids() == [] and catalogue.list_items(ALL_LEVELS) == (0, [])
    assert catalogue.collections(ALL_LEVELS) == []
    assert [j["id"] for j in catalogue.jobs()] == [job]
    put(catalogue, record("gp-1", collection={"id": "gia-pha", "name": {"vi": ["Gia phả"]}}))
    assert catalogue.get_collection("gia-pha", ALL_LEVELS)["name_en"] == ""  # names cleared too


# Jobs -----------------------------------------------------------------------------------
def test_job_lifecycle(catalogue):
    before = datetime.datetime.now(UTC).replace(microsecond=0)
    first = catalogue.start_job("ingest", "/scans/Đồng Tháp/metadata.csv", total=3)
    assert isinstance(first, int)
    [job] = catalogue.jobs()
    assert {k: job[k] for k in ("id", "kind", "source", "status", "total", "done", "finished",
                                "summary", "error")} == {
        "id": first, "kind": "ingest", "source": "/scans/Đồng Tháp/metadata.csv",
        "status": "running", "total": 3, "done": 0, "finished": None, "summary": None,
        "error": None}
    assert job["created"].tzinfo is not None and job["created"] >= before

    catalogue.progress_job(first, 2)
    assert (catalogue.jobs()[0]["done"], catalogue.jobs()[0]["total"]) == (2, 3)
    catalogue.progress_job(first, 2, total=5)  # the plan grew
    assert (catalogue.jobs()[0]["done"], catalogue.jobs()[0]["total"]) == (2, 5)
    summary = {"created": 5, "updated": 0, "warnings": ["dòng 3: thiếu ngày"]}
    catalogue.finish_job(first, "done", summary)
    job = catalogue.jobs()[0]
    assert (job["status"], job["summary"], job["error"]) == ("done", summary, None)
    assert job["created"] <= job["finished"] <= datetime.datetime.now(UTC)

    second = catalogue.start_job("ingest", "bag")
    catalogue.finish_job(second, "failed", error="tệp hỏng: p001.tif")
    third = catalogue.start_job("rebuild", "search")
    assert [j["id"] for j in catalogue.jobs()] == [third, second, first]  # newest first
    assert [j["id"] for j in catalogue.jobs(limit=2)] == [third, second]
    assert catalogue.jobs()[1]["error"] == "tệp hỏng: p001.tif"
