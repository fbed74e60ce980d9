"""Ingest: CSV and bags in, preserved objects out; bad input changes nothing."""

from __future__ import annotations

import hashlib
import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest
import pyvips

from ingest import pipeline, worker
from repository.errors import IngestError, StorageError
from repository.search import Query
from tests.conftest import SHARED, ocfl_problems, write_csv

KANT_BAG = SHARED / "scans" / "kant-1784" / "bag"


def snapshot(repo) -> dict[str, str]:
    """Every file in storage (but the scratch folder) with its digest."""
    root = repo.storage.root
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and ".tmp" not in p.parts}


def image(path: Path, width=400, height=300, colour=(180, 120, 60)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    (pyvips.Image.black(width, height, bands=3) + list(colour)).cast("uchar").write_to_file(
        str(path))
    return path


def good_row(**changes) -> dict:
    row = {"identifier": "dt-0001", "title": "Địa chí Sa Đéc", "title@en": "Sa Dec gazetteer",
           "date": "khoảng 1930", "type": "sách", "language": "vie|fra",
           "spatial": "Sa Đéc|Plaine des Joncs", "subject": "Lịch sử|Địa lý",
           "rights": "https://rightsstatements.org/vocab/NoC-NC/1.0",
           "collection": "Tài liệu địa chí", "holding_library": "Thư viện tỉnh Đồng Tháp",
           "shelfmark": "ĐC.00001", "extent": "2 tr.", "files": "p1.jpg|p2.png"}
    row.update(changes)
    return row


@pytest.fixture
def folder(tmp_path):
    src = tmp_path / "src"
    image(src / "p1.jpg")
    image(src / "p2.png", 300, 500, (20, 40, 200))
    return src


def ingest_rows(repo, folder: Path, rows: list[dict]):
    write_csv(folder / "metadata.csv", rows)
    return pipeline.ingest(repo, folder)


def test_a_row_becomes_a_preserved_readable_object(repo, folder):
    summary = ingest_rows(repo, folder, [good_row()])
    assert (summary.created, summary.pages) == (1, 2)
    record = repo.record("dt-0001")
    assert record["title"] == {"vi": ["Địa chí Sa Đéc"], "en": ["Sa Dec gazetteer"]}
    assert record["rights"] == "http://rightsstatements.org/vocab/NoC-NC/1.0/"
    assert record["date"]["approximate"] and record["date"]["start"] == 1930
    assert record["language"] == ["vie", "fra"]
    assert [p.get("id") for p in record["spatial"]][0]  # Sa Đéc is in the authority
    assert record["collection"]["id"] == "tai-lieu-dia-chi"
    # Masters are kept byte for byte.
    assert repo.ocfl.read("dt-0001", "masters/0001.jpg") == (folder / "p1.jpg").read_bytes()
    info = repo.item_info("dt-0001")
    assert [(p["width"], p["height"]) for p in info["pages"]] == [(400, 300), (300, 500)]
    pyramid = pyvips.Image.new_from_file(str(repo.storage.local_path(
        info["pages"][0]["pyramid"])))
    assert pyramid.get("n-pages") >= 2 and pyramid.get("tile-width") == 256
    manifest = json.loads(repo.manifest("dt-0001"))
    assert len(manifest["items"]) == 2
    assert repo.search.search(Query(text="sa dec")).hits[0].id == "dt-0001"
    assert ocfl_problems(repo.storage.root / "ocfl") == []


def test_same_input_twice_makes_no_new_version_and_changes_make_one(repo, folder):
    ingest_rows(repo, folder, [good_row()])
    before = snapshot(repo)
    again = ingest_rows(repo, folder, [good_row()])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 1)
    assert repo.ocfl.inventory("dt-0001")["head"] == "v1"
    assert {k: v for k, v in snapshot(repo).items()} == before

    changed = ingest_rows(repo, folder, [good_row(title="Địa chí Sa Đéc (bản mới)")])
    assert changed.updated == 1
    inventory = repo.ocfl.inventory("dt-0001")
    assert inventory["head"] == "v2"
    # Only record.json is new in v2: the masters are not stored again.
    assert [p for paths in inventory["manifest"].values() for p in paths
            if p.startswith("v2/")] == ["v2/content/record.json"]
    image(folder / "p2.png", 300, 500, (200, 40, 20))
    assert ingest_rows(repo, folder, [good_row(title="Địa chí Sa Đéc (bản mới)")]).updated == 1
    assert repo.ocfl.inventory("dt-0001")["head"] == "v3"
    assert ocfl_problems(repo.storage.root / "ocfl") == []


def test_dry_run_writes_nothing(repo, folder):
    write_csv(folder / "metadata.csv", [good_row()])
    before = snapshot(repo)
    planned = pipeline.plan(repo, folder)
    assert [i.status for i in planned.items] == ["new"]
    assert snapshot(repo) == before


def bomb_png(path: Path, width=100_000, height=100_000) -> Path:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 1000)) + chunk(b"IEND", b""))
    return path


def truncated_jpeg(path: Path, source: Path) -> Path:
    data = source.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


BAD_ROWS = [
    ({"identifier": "../../etc/passwd"}, "identifier"),
    ({"identifier": "x" * 300}, "identifier"),
    ({"identifier": "bad\x01id"}, "identifier"),
    ({"title": ""}, "title"),
    ({"date": "31/02/1925"}, "date"),
    ({"date": "sometime"}, "date"),
    ({"rights": "all rights reserved"}, "rights"),
    ({"type": "tiểu thuyết"}, "type"),
    ({"language": "xx-latin"}, "language"),
    ({"access": "secret"}, "access"),
    ({"files": "p1.jpg|missing.jpg"}, "files"),
    ({"files": "../outside.jpg"}, "files"),
    ({"files": "/etc/passwd"}, "files"),
    ({"files": ""}, "files"),
    ({"alto": "a.xml"}, "alto"),
]


@pytest.mark.parametrize("change, field", BAD_ROWS)
def test_bad_rows_are_refused_naming_row_and_field(repo, folder, change, field):
    ingest_rows(repo, folder, [good_row(identifier="already-there")])
    before = snapshot(repo)
    with pytest.raises(IngestError) as exc:
        ingest_rows(repo, folder, [good_row(identifier="dt-0002"), good_row(**change)])
    problems = exc.value.problems
    assert any(p.field == field and p.row == 3 and p.file.endswith("metadata.csv")
               for p in problems), [str(p) for p in problems]
    assert snapshot(repo) == before  # not even the good row was written


@pytest.mark.parametrize("make, message", [
    (lambda f: bomb_png(f / "p2.png"), "over the limit"),
    (lambda f: truncated_jpeg(f / "p1.jpg", SHARED / "scans" / "large" / "tractor.jpg"),
     "corrupt or truncated"),
    (lambda f: (f / "p1.jpg").write_bytes(b"%PDF-1.4 not an image"), "not a TIFF, JPEG"),
])
def test_bad_images_are_refused_before_any_write(repo, folder, make, message):
    before = snapshot(repo)
    make(folder)
    with pytest.raises(IngestError) as exc:
        ingest_rows(repo, folder, [good_row()])
    assert any(message in p.message and p.row == 2 and p.field == "files"
               for p in exc.value.problems), [str(p) for p in exc.value.problems]
    assert snapshot(repo) == before


def test_csv_level_problems(repo, folder):
    before = snapshot(repo)
    cases = {
        "missing column": "identifier,title\nx,y\n",
        "unknown column": "identifier,title,files,titel\nx,y,p1.jpg,z\n",
        "ragged row": "identifier,title,files\nx,y,p1.jpg,extra\n",
        "not utf-8": "identifier,title,files\nx,Đ,p1.jpg\n".encode("cp1258", "replace"),
        "empty": "",
    }
    for name, content in cases.items():
        path = folder / "metadata.csv"
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        with pytest.raises(IngestError) as exc:
            pipeline.ingest(repo, folder)
        assert all(p.file for p in exc.value.problems), name
    (folder / "metadata.csv").write_bytes(b"identifier,title,files\nx,\xe9,p1.jpg\n")
    with pytest.raises(IngestError) as exc:
        pipeline.ingest(repo, folder)
    assert "UTF-8" in str(exc.value) and exc.value.problems[0].row == 2
    assert snapshot(repo) == before


def test_duplicate_identifiers_name_both_rows(repo, folder):
    with pytest.raises(IngestError) as exc:
        ingest_rows(repo, folder, [good_row(), good_row(title="Khác")])
    assert "already used in row 2" in str(exc.value)
    assert exc.value.problems[0].row == 3


def test_unknown_place_is_kept_with_a_warning(repo, folder):
    summary = ingest_rows(repo, folder, [good_row(spatial="Sa Đéc|Xóm Lung Tràm")])
    assert any(w.field == "spatial" and "Xóm Lung Tràm" in w.message for w in summary.warnings)
    assert {"name": "Xóm Lung Tràm"} in repo.record("dt-0001")["spatial"]


def kant_csv(tmp_path: Path) -> Path:
    return write_csv(tmp_path / "kant.csv", [{
        "identifier": "kant-1784", "title": "Beantwortung der Frage: Was ist Aufklärung?",
        "creator": "Kant, Immanuel", "date": "1784", "type": "sách", "language": "deu",
        "rights": "http://creativecommons.org/publicdomain/mark/1.0/",
        "files": "OCR-D-IMG/INPUT_0017.tif|OCR-D-IMG/INPUT_0020.tif",
        "alto": "OCR-D-GT-ALTO/PAGE_0017_ALTO.xml|OCR-D-GT-ALTO/PAGE_0020_ALTO.xml"}])


def test_a_real_bag_is_verified_and_ingested_with_its_ocr(repo, tmp_path):
    summary = pipeline.ingest(repo, KANT_BAG, metadata=kant_csv(tmp_path))
    assert summary.created == 1 and summary.pages == 2
    assert repo.ocfl.read("kant-1784", "ocr/0001.xml") == (
        KANT_BAG / "data" / "OCR-D-GT-ALTO" / "PAGE_0017_ALTO.xml").read_bytes()
    # Full text from the ALTO ground truth is searchable.
    assert [h.id for h in repo.search.search(Query(text="Aufklärung")).hits] == ["kant-1784"]
    assert [h.id for h in repo.search.search(Query(text='"selbst verschuldeten"')).hits] \
        == ["kant-1784"]


def test_a_bag_whose_digests_do_not_match_is_refused(repo, tmp_path):
    bag = tmp_path / "bag"
    shutil.copytree(KANT_BAG, bag)
    with open(bag / "data" / "OCR-D-IMG" / "INPUT_0020.tif", "r+b") as fh:
        fh.seek(5000)
        fh.write(b"tampered")
    before = snapshot(repo)
    with pytest.raises(IngestError) as exc:
        pipeline.ingest(repo, bag, metadata=kant_csv(tmp_path))
    assert "INPUT_0020.tif" in str(exc.value) and "bag" in str(exc.value)
    assert snapshot(repo) == before


def test_becoming_restricted_hides_the_item_everywhere(repo, folder):
    ingest_rows(repo, folder, [good_row()])
    assert repo.search.search(Query(text="sa dec")).total == 1
    ingest_rows(repo, folder, [good_row(access="restricted")])
    assert repo.search.search(Query(text="sa dec")).total == 0
    assert repo.access_of("dt-0001") == "restricted"
    # Still preserved, in a new version.
    assert repo.ocfl.inventory("dt-0001")["head"] == "v2"


def test_a_worker_starting_while_storage_is_away_survives_and_recovers_later(
        repo, folder, monkeypatch):
    write_csv(folder / "metadata.csv", [good_row()])
    summary = pipeline.run(repo, pipeline.plan(repo, folder), wait=False)
    calls = []

    def recover(older_than=3600):
        calls.append(older_than)
        if len(calls) == 1:
            raise StorageError("S3 LIST of '.tmp/journal/' failed: connection refused")

    monkeypatch.setattr(repo.storage, "recover", recover)

    class Stop(Exception):
        pass

    def progress():
        if len(calls) == 2:
            raise Stop  # recovery was tried again once the worker had nothing to do

    with pytest.raises(Stop):
        worker.work(repo, progress=progress, poll=0.01)
    assert [o["status"] for o in repo.catalogue.job_items(summary.job)] == ["created"]
