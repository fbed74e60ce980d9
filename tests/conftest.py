"""Shared fixtures: a fresh repository per test, and one ingested library per session."""

from __future__ import annotations

import csv
import os
import socket
from pathlib import Path

import pytest

from repository.config import load_settings
from repository.repo import Repository

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BASE_URL = "http://sen.test"
RESTRICTED_IDS = ("gia-pha-ho-tran", "ho-so-noi-bo", "dt-qh-0005", "dt-nb-0007")


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_settings(data_dir: Path, **overrides):
    return load_settings(env={}, data_dir=data_dir, **{"base_url": BASE_URL, **overrides})


@pytest.fixture
def settings(tmp_path):
    return make_settings(tmp_path / "data")


@pytest.fixture
def repo(settings):
    r = Repository(settings)
    r.init()
    yield r
    r.close()


def write_csv(path: Path, rows: list[dict]) -> Path:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def real_scans_folder(dest: Path) -> Path:
    """A folder with a metadata.csv describing the real scans of ../shared/data.

    The scans are linked in, not copied.
    """
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("peraire-diary", "ndl-woodblock", "large"):
        link = dest / name
        if not link.exists():
            os.symlink(SHARED / "scans" / name, link)
    peraire = sorted((SHARED / "scans" / "peraire-diary").glob("*.jpg"))
    woodblock = sorted((SHARED / "scans" / "ndl-woodblock").glob("*/*.jpg"))
    rows = [
        {"identifier": "peraire-1905", "title": "Nhật ký du hành Đông Dương của Peraire",
         "title@fr": "Journal de voyage en Indochine", "creator": "Peraire",
         "date": "khoảng 1905", "type": "bản thảo", "language": "fra",
         "subject": "Du ký|Đông Dương", "spatial": "Cochinchine|Nam Kỳ",
         "rights": "http://creativecommons.org/licenses/by/4.0/", "access": "public",
         "category": "rare", "collection": "Tài liệu nước ngoài về Nam Bộ",
         "collection@en": "Foreign documents about the South",
         "holding_library": "Bibliothèque Sébert, Espéranto-France",
         "files": "|".join(f"peraire-diary/{p.name}" for p in peraire),
         "alto": "|".join(f"peraire-diary/{p.stem}.xml" for p in peraire)},
        {"identifier": "karakuri-1796", "title": "Sách khắc gỗ Nhật Bản Karakuri zui",
         "alternative@lzh": "機巧図彙", "date": "1796", "type": "sách",
         "language": "jpn", "rights": "http://creativecommons.org/publicdomain/mark/1.0/",
         "category": "rare", "collection": "Tài liệu nước ngoài về Nam Bộ",
         "files": "|".join(f"ndl-woodblock/{p.parent.name}/{p.name}" for p in woodblock)},
        {"identifier": "tractor-photo", "title": "Ảnh máy cày", "title@en": "Tractor",
         "date": "2010-2015", "type": "ảnh", "rights":
         "http://rightsstatements.org/vocab/InC-EDU/1.0/", "category": "special",
         "files": "large/tractor.jpg"},
        # Preserved like any other item, but never shown to anyone (RESTRICTED_IDS).
        {"identifier": "gia-pha-ho-tran", "title": "Gia phả họ Trần ở Sa Đéc",
         "description": "Bản chép tay, gia đình yêu cầu hạn chế", "type": "gia phả",
         "date": "1890", "spatial": "Sa Đéc", "access": "restricted",
         "collection": "Gia phả", "rights": "http://rightsstatements.org/vocab/InC/1.0/",
         "files": "large/titlepage1_verso.jpg"},
        {"identifier": "ho-so-noi-bo", "title": "Hồ sơ nội bộ Sa Đéc",
         "type": "tài liệu hành chính", "access": "internal",
         "collection": "Tài liệu nước ngoài về Nam Bộ",
         "rights": "http://rightsstatements.org/vocab/InC/1.0/",
         "files": f"peraire-diary/{peraire[0].name}"},
    ]
    return write_csv(dest / "metadata.csv", rows).parent


@pytest.fixture(scope="session")
def library(tmp_path_factory):
    """A repository with the sample collection and the real scans ingested, once."""
    from ingest import pipeline
    from ingest.sample import write_sample

    top = tmp_path_factory.mktemp("library")
    r = Repository(make_settings(top / "data"))
    r.init()
    pipeline.ingest(r, write_sample(top / "sample"))
    pipeline.ingest(r, real_scans_folder(top / "real"))
    yield r
    r.close()


def ocfl_problems(root: Path | str) -> list:
    """Errors ocfl-py's validator finds in a storage root and every object in it.

    ``StorageRoot.validate`` of ocfl-py 2.1 returns True even when objects are
    invalid, so the object counts are checked too. Warnings are not errors. An
    ``s3://bucket/prefix`` root is read as ocfl-py reads one, through s3fs, from the
    server that ``services/up s3`` started (the SEN_TEST_S3_* variables).
    """
    import fsspec.config
    import ocfl

    saved = fsspec.config.conf.get("s3")
    if str(root).startswith("s3://"):
        # fsspec applies this to every S3FileSystem ocfl-py creates; a fresh instance
        # each time, so no listing cached by an earlier validation is reused.
        fsspec.config.conf["s3"] = {
            "endpoint_url": os.environ["SEN_TEST_S3_ENDPOINT"],
            "key": os.environ["SEN_TEST_S3_ACCESS_KEY"],
            "secret": os.environ["SEN_TEST_S3_SECRET_KEY"], "skip_instance_cache": True}
    try:
        store = ocfl.StorageRoot(root=str(root))
        ok = store.validate(log_warnings=False, log_errors=False)
    finally:
        if saved is None:
            fsspec.config.conf.pop("s3", None)
        else:
            fsspec.config.conf["s3"] = saved
    problems = [] if ok else ["storage root is invalid"]
    if store.good_objects != store.num_objects:
        problems += [message for _path, message in store.errors]
    return problems
