"""Sen at scale, end to end, on real servers: S3, PostgreSQL, Solr and Redis.

The real scans of ../shared/data are ingested by queue workers into S3 +
PostgreSQL + Solr, served, read as tiles and found by search; then the servers
fail in the middle of the work, and nothing is lost or half-written.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import psycopg
import pytest

from ingest import pipeline, worker
from ingest.sample import write_sample
from repository.config import load_settings
from repository.repo import Repository
from repository.search import Query
from repository.web import create_app
from tests.conftest import ROOT, ocfl_problems, real_scans_folder

pytestmark = pytest.mark.integration
NEEDED = ("SEN_TEST_S3_ENDPOINT", "SEN_TEST_DATABASE_URL", "SEN_TEST_SOLR_URL",
          "SEN_TEST_REDIS_URL")


def env(name: str) -> str:
    if not os.environ.get(name):
        pytest.fail(f"{name} is not set: run `services/up` and `eval \"$(services/env)\"`")
    return os.environ[name]


@pytest.fixture
def database():
    """A fresh PostgreSQL database for one test."""
    url = env("SEN_TEST_DATABASE_URL")
    name = f"sen_scale_{uuid.uuid4().hex[:10]}"
    admin = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    yield url.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def scale_settings(tmp_path, database):
    for name in NEEDED:
        env(name)
    return load_settings(
        env={}, data_dir=tmp_path / "data", base_url="http://sen.test",
        storage_url=f"s3://{env('SEN_TEST_S3_BUCKET')}/scale-{uuid.uuid4().hex[:8]}",
        s3_endpoint_url=env("SEN_TEST_S3_ENDPOINT"), s3_access_key=env("SEN_TEST_S3_ACCESS_KEY"),
        s3_secret_key=env("SEN_TEST_S3_SECRET_KEY"), database_url=database,
        search_url=env("SEN_TEST_SOLR_URL"), queue_url=env("SEN_TEST_REDIS_URL"))


@pytest.fixture
def scale(scale_settings):
    repo = Repository(scale_settings)
    repo.init()
    repo.search.clear()
    repo.queue.clear()
    yield repo
    repo.queue.clear()
    for prefix in ("ocfl", "derivatives", "incoming"):
        repo.storage.delete_prefix(prefix)
    repo.close()


def settings_env(settings) -> dict[str, str]:
    names = ("data_dir", "base_url", "storage_url", "s3_endpoint_url", "s3_access_key",
             "s3_secret_key", "database_url", "search_url", "queue_url")
    return dict(os.environ, **{f"SEN_{n.upper()}": str(getattr(settings, n)) for n in names})


def test_real_scans_through_workers_into_s3_postgres_solr(scale, tmp_path):
    source = real_scans_folder(tmp_path / "real")
    planned = pipeline.plan(scale, source)
    summary = pipeline.run(scale, planned, wait=False)
    # Two workers, as on two machines: they share nothing but the servers.
    sen = Path(sys.executable).with_name("sen")
    workers = [subprocess.Popen([str(sen), "worker", "--idle-exit"],
                                env=settings_env(scale.settings), cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    outputs = [w.communicate(timeout=300) for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    outcomes = scale.catalogue.job_items(summary.job)
    assert sorted(o["item_id"] for o in outcomes) == sorted(
        i.row.record["identifier"] for i in planned.items)
    assert {o["status"] for o in outcomes} == {"created"}
    assert sum(int(out.strip().split()[-3]) for out, _err in outputs) == len(planned.items)
    assert scale.catalogue.get_job(summary.job)["status"] == "done"

    root = f"s3://{scale.settings.storage_url[5:]}/ocfl"
    assert ocfl_problems(root) == []
    assert not list(scale.storage.list("incoming"))  # the inputs for workers are gone
    client = create_app(scale.settings, repo=scale).test_client()
    hit = client.get("/api/search?q=journal").get_json()["items"][0]
    assert hit["id"] == "peraire-1905"
    assert client.get("/iiif/peraire-1905/manifest").status_code == 200
    tile = client.get("/iiif/image/peraire-1905~1/0,0,512,512/256,/0/default.jpg")
    assert tile.status_code == 200 and tile.data[:3] == b"\xff\xd8\xff"
    assert client.get("/iiif/image/gia-pha-ho-tran~1/info.json").status_code == 404
    assert "gia-pha-ho-tran" not in client.get("/api/search?q=gia+pha").get_data(as_text=True)
    # Search folds Vietnamese on Solr as it does embedded.
    assert [h.id for h in scale.search.search(Query(text="may cay")).hits] == ["tractor-photo"]
    assert [h.id for h in scale.search.search(Query(text="Máy Cày")).hits] == ["tractor-photo"]


def test_search_down_readers_still_open_items_and_ingest_catches_up(scale, tmp_path,
                                                                    monkeypatch):
    monkeypatch.setattr("repository.queue.redis.retry_delay", lambda attempts: 0.1)
    source = write_sample(tmp_path / "sample").parent
    dead = scale.settings.replace(search_url="http://127.0.0.1:9/solr/sen")
    down = Repository(dead)
    try:
        summary = pipeline.ingest(down, source)
        # Public items are stored but not indexed; the hidden ones were not even
        # committed, since Sen could not first take them out of the index (fail closed).
        assert len(summary.failed) == 7 and "SearchUnavailable" in summary.failed[0]["error"]
        assert len(list(down.ocfl.ids())) == 5
        client = create_app(dead, repo=down).test_client()
        assert client.get("/items/dt-dc-0001").status_code == 200
        assert client.get("/iiif/dt-dc-0001/manifest").status_code == 200
        assert client.get("/iiif/image/dt-dc-0001~1/full/200,/0/default.jpg").status_code == 200
        unavailable = client.get("/api/search?q=sa+dec")
        assert unavailable.status_code == 503 and "127.0.0.1:9" in unavailable.get_json()["error"]
        assert client.get("/search?q=sa+dec").status_code == 503
    finally:
        down.close()
    again = pipeline.ingest(scale, source)
    assert again.failed == [] and (again.unchanged, again.created) == (5, 2)
    assert scale.search.search(Query(text="sa dec")).total > 0


def test_s3_going_away_mid_ingest_is_retried_and_completes(scale, tmp_path, monkeypatch):
    # Retries every second, for long enough to outlast a restart on a loaded machine.
    monkeypatch.setattr("repository.queue.redis.retry_delay", lambda attempts: 1.0)
    monkeypatch.setattr("repository.queue.redis.MAX_ATTEMPTS", 60)
    source = write_sample(tmp_path / "sample").parent
    summary = pipeline.run(scale, pipeline.plan(scale, source), wait=False)
    services = ROOT / "services"
    subprocess.run([str(services / "down"), "s3"], check=True, capture_output=True)
    try:
        done, errors = threading.Event(), []

        def work():
            try:
                worker.work(scale, until_group=f"ingest-{summary.job}")
                done.set()
            except Exception as exc:  # shown below, not lost in a thread
                errors.append(exc)

        thread = threading.Thread(target=work, daemon=True)
        thread.start()
        time.sleep(3)  # workers meet a dead endpoint and schedule retries
        assert not done.is_set()
    finally:
        subprocess.run([str(services / "up"), "s3"], check=True, capture_output=True)
    thread.join(timeout=180)
    assert errors == [] and done.is_set()
    outcomes = scale.catalogue.job_items(summary.job)
    assert len(outcomes) == 7 and {o["status"] for o in outcomes} == {"created"}
    root = f"s3://{scale.settings.storage_url[5:]}/ocfl"
    assert ocfl_problems(root) == []


def test_migrate_embedded_to_servers_and_back(library, scale, tmp_path):
    from repository.migrate import migrate

    report = migrate(library, scale)
    assert report.objects == len(library.catalogue.item_ids()) and not report.problems
    assert ocfl_problems(f"s3://{scale.settings.storage_url[5:]}/ocfl") == []
    assert scale.catalogue.item_ids() == library.catalogue.item_ids()
    for text in ("sa dec", "journal", "dong thap"):
        assert {h.id for h in scale.search.search(Query(text=text)).hits} == \
            {h.id for h in library.search.search(Query(text=text)).hits}, text
    back = Repository(load_settings(env={}, data_dir=tmp_path / "back",
                                    base_url="http://sen.test"))
    try:
        migrate(scale, back)
        assert ocfl_problems(tmp_path / "back" / "storage" / "ocfl") == []
        for item_id in library.catalogue.item_ids():
            assert back.manifest(item_id) == library.manifest(item_id)
            assert back.ocfl.inventory(item_id) == library.ocfl.inventory(item_id)
    finally:
        back.close()
