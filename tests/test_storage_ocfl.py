"""The storage contract, and OCFL on top of it, for every backend.

Each test runs on LocalStorage and on S3Storage against the real S3 server that
``services/up s3`` starts (S3Proxy, signatures checked, objects on disk), in a fresh
random prefix of the test bucket. Without that server the S3 tests fail, never skip:
"works on local disk" and "works on S3" must stay the same statement.
"""

import hashlib
import json
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from repository.config import load_settings
from repository.errors import ConfigError, NotFound, StorageError
from repository.ocfl import Ocfl
from repository.storage import open_storage
from repository.storage import s3 as s3module
from repository.storage.local import LocalStorage
from repository.storage.s3 import MiB, S3Storage
from tests.conftest import ocfl_problems

S3_VARS = ("SEN_TEST_S3_ENDPOINT", "SEN_TEST_S3_BUCKET", "SEN_TEST_S3_ACCESS_KEY",
           "SEN_TEST_S3_SECRET_KEY")


def s3_storage(**options) -> S3Storage:
    """An S3Storage on a fresh random prefix of the test bucket."""
    missing = [name for name in S3_VARS if not os.environ.get(name)]
    if missing:
        pytest.fail(f"{', '.join(missing)} not set: start the test S3 server with "
                    "`services/up s3` and load its settings with `eval \"$(services/env)\"`",
                    pytrace=False)
    options = {"multipart_threshold": 5 * MiB, **options}
    return S3Storage(os.environ["SEN_TEST_S3_BUCKET"], f"test-{uuid.uuid4().hex[:12]}",
                     endpoint_url=os.environ["SEN_TEST_S3_ENDPOINT"],
                     access_key=os.environ["SEN_TEST_S3_ACCESS_KEY"],
                     secret_key=os.environ["SEN_TEST_S3_SECRET_KEY"], **options)


def wipe(storage: S3Storage) -> None:
    """Remove everything under the storage's prefix, scratch area included."""
    storage._delete_full(storage._list_full(storage._root))


@pytest.fixture(params=["local", pytest.param("s3", marks=pytest.mark.integration)])
def storage(request, tmp_path):
    if request.param == "local":
        yield LocalStorage(tmp_path / "storage")
        return
    s3 = s3_storage()
    yield s3
    wipe(s3)


@pytest.fixture
def s3():
    storage = s3_storage()
    yield storage
    wipe(storage)


def scratch(storage) -> list[str]:
    """What the backend keeps in its scratch area (.tmp), which list() never shows."""
    if isinstance(storage, LocalStorage):
        return sorted(p.name for p in storage.tmp.iterdir())
    return list(storage._list_full(f"{storage._root}.tmp/"))


def ocfl_root(storage, prefix: str = "ocfl"):
    """The storage root as ocfl-py's validator opens it."""
    if isinstance(storage, LocalStorage):
        return storage.root / prefix
    return f"s3://{storage.bucket}/{storage.prefix}/{prefix}"


def test_put_get_range_stat_list_delete(storage):
    storage.put("a/b/c.txt", b"0123456789")
    assert storage.get("a/b/c.txt") == b"0123456789"
    assert storage.get_range("a/b/c.txt", 2, 3) == b"234"
    assert storage.get_range("a/b/c.txt", 8, 10) == b"89"
    assert storage.get_range("a/b/c.txt", 10, 5) == b""
    assert storage.get_range("a/b/c.txt", 3, 0) == b""
    info = storage.stat("a/b/c.txt")
    assert info.size == 10 and info.key == "a/b/c.txt" and info.mtime > 0
    storage.put("a/b/c.txt", b"changed")
    assert storage.stat("a/b/c.txt").etag != info.etag
    storage.put("a/d.txt", b"x")
    assert list(storage.list("a")) == ["a/b/c.txt", "a/d.txt"]
    assert list(storage.list("a/")) == ["a/b/c.txt", "a/d.txt"]
    assert list(storage.list("nothing")) == []
    storage.delete("a/b/c.txt")
    storage.delete("a/b/c.txt")  # deleting a missing object is not an error
    assert not storage.exists("a/b/c.txt") and storage.exists("a/d.txt")
    assert list(storage.list("a/b")) == []
    if isinstance(storage, LocalStorage):
        assert not (storage.root / "a" / "b").exists()  # emptied folders go too
    for read in (storage.get, storage.stat, lambda k: storage.get_range(k, 0, 1)):
        with pytest.raises(NotFound):
            read("a/b/c.txt")
    storage.put("a/e/f.txt", b"f")
    storage.delete_prefix("a")
    assert list(storage.list()) == []


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", "a\x00b", ""])
def test_hostile_keys_are_refused(storage, key):
    with pytest.raises(StorageError):
        storage.put(key, b"x")


def test_list_is_sorted_like_an_object_store_and_paginated(storage):
    names = ["b/c.txt", "b.txt", "b-x", "B", "b0", "é", "z", "b/a", "Đồng Tháp.txt"]
    names += [f"many/{i:03d}" for i in range(40)]
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: storage.put(f"p/{n}", n.encode()), names))
    expected = sorted((f"p/{n}" for n in names), key=str.encode)
    requests = []
    if isinstance(storage, S3Storage):
        storage.page_size = 7
        storage.client.meta.events.register("before-call.s3.ListObjectsV2",
                                            lambda **_: requests.append(1))
    assert list(storage.list("p")) == expected
    assert list(storage.list()) == expected
    assert list(storage.list("p/b")) == ["p/b/a", "p/b/c.txt"]
    if isinstance(storage, S3Storage):
        assert len(requests) == 2 * -(-len(names) // 7) + 1  # page by page


def test_large_file_round_trip(storage, tmp_path):
    """Larger than the S3 multipart threshold of the tests (5 MiB): sent in three parts."""
    data = os.urandom(11 * MiB + 123)
    (tmp_path / "master.tif").write_bytes(data)
    storage.put_file("m/master.tif", tmp_path / "master.tif")
    assert storage.stat("m/master.tif").size == len(data)
    assert storage.get("m/master.tif") == data
    for start in (0, 5 * MiB - 2, 10 * MiB - 1, len(data) - 5):
        assert storage.get_range("m/master.tif", start, 7) == data[start:start + 7]
    storage.put("m/bytes.bin", data)
    assert storage.get("m/bytes.bin") == data


@pytest.mark.integration
def test_s3_multipart_upload(s3, tmp_path):
    calls = []
    s3.client.meta.events.register("before-call.s3", lambda event_name, **_: calls.append(
        event_name.rsplit(".", 1)[-1]))
    (tmp_path / "big").write_bytes(os.urandom(11 * MiB))
    s3.put_file("big", tmp_path / "big")
    assert calls.count("UploadPart") == 3 and "CompleteMultipartUpload" in calls
    assert s3.stat("big").etag.endswith("-3")  # S3's ETag of a three-part upload
    calls.clear()
    (tmp_path / "small").write_bytes(b"s" * 1000)
    s3.put_file("small", tmp_path / "small")
    assert calls == ["PutObject"]


def test_publish_overlays_and_swaps_atomically(storage, tmp_path):
    storage.put("obj/keep.txt", b"old")
    storage.put("obj/replace.txt", b"old")
    staged = tmp_path / "staged"
    (staged / "sub").mkdir(parents=True)
    (staged / "replace.txt").write_bytes(b"new")
    (staged / "sub" / "added.txt").write_bytes(b"added")
    storage.publish(staged, "obj")
    assert storage.get("obj/keep.txt") == b"old"
    assert storage.get("obj/replace.txt") == b"new"
    assert storage.get("obj/sub/added.txt") == b"added"
    assert list(storage.list()) == ["obj/keep.txt", "obj/replace.txt", "obj/sub/added.txt"]
    assert not staged.exists()
    assert scratch(storage) == []


@pytest.mark.integration
def test_s3_publish_writes_the_top_level_last_under_a_journal(s3, tmp_path, monkeypatch):
    staged = tmp_path / "staged"
    for name in ("0=ocfl_object_1.1", "inventory.json", "inventory.json.sha512",
                 "v1/inventory.json",
                 "v1/content/a.txt", "v1/content/deep/b.txt"):
        (staged / name).parent.mkdir(parents=True, exist_ok=True)
        (staged / name).write_text(name)
    order, upload = [], s3._upload

    def watched(path, key):
        journals = [k for k in scratch(s3) if k.endswith(".json")]
        assert len(journals) == 1  # every write happens under the journal
        if "/" not in key[len("obj/"):]:
            # A top-level file: everything it could name is there already.
            assert all(s3.exists(k) for k in ("obj/v1/content/a.txt", "obj/v1/inventory.json",
                                              "obj/v1/content/deep/b.txt"))
        order.append(key)
        upload(path, key)

    monkeypatch.setattr(s3, "_upload", watched)
    monkeypatch.setattr(s3module, "HEARTBEAT", -1)  # rewrite the journal at every chance
    journal_writes = []

    def put_object(params, **_):
        if "/.tmp/journal/" in params["Key"]:
            journal_writes.append(params["Key"])

    s3.client.meta.events.register("before-parameter-build.s3.PutObject", put_object)
    s3.publish(staged, "obj")
    assert len(journal_writes) >= 1 + 1 + 3 and len(set(journal_writes)) == 1
    assert order[-3:] == ["obj/inventory.json", "obj/inventory.json.sha512",
                          "obj/0=ocfl_object_1.1"]
    assert sorted(order[:3]) == ["obj/v1/content/a.txt", "obj/v1/content/deep/b.txt",
                                 "obj/v1/inventory.json"]
    assert scratch(s3) == []


def commit(ocfl, tmp_path, object_id, files: dict[str, bytes], message="m"):
    src = tmp_path / "src"
    src.mkdir(exist_ok=True)
    paths = {}
    for name, data in files.items():
        p = src / hashlib.md5(name.encode()).hexdigest()
        p.write_bytes(data)
        paths[name] = p
    return ocfl.commit(object_id, paths, message=message, user="Tester")


def test_ocfl_versions_dedup_and_validate(storage, tmp_path):
    ocfl = Ocfl(storage, tmp_path / "staging")
    assert ocfl.init() is True and ocfl.init() is False
    files = {"record.json": b'{"a": 1}', "masters/0001.jpg": b"\xff\xd8\xff" + b"x" * 100}
    assert commit(ocfl, tmp_path, "item-1", files) == "v1"
    assert commit(ocfl, tmp_path, "item-1", files) is None  # same input: no new version
    files["record.json"] = b'{"a": 2}'
    assert commit(ocfl, tmp_path, "item-1", files) == "v2"
    inventory = ocfl.inventory("item-1")
    assert inventory["head"] == "v2"
    # The unchanged master is stored once, in v1.
    master_digest = hashlib.sha512(files["masters/0001.jpg"]).hexdigest()
    assert inventory["manifest"][master_digest] == ["v1/content/masters/0001.jpg"]
    assert ocfl.read("item-1", "record.json") == b'{"a": 2}'
    assert ocfl.read("item-1", "record.json", version="v1") == b'{"a": 1}'
    assert commit(ocfl, tmp_path, "odd.id_x", {"record.json": b"{}"}) == "v1"
    assert sorted(ocfl.ids()) == ["item-1", "odd.id_x"]
    assert ocfl.verify("item-1") == []
    assert ocfl_problems(ocfl_root(storage)) == []
    assert scratch(storage) == []
    # Damage a stored file: fixity and the validator both notice.
    storage.put(f"{ocfl.object_root('item-1')}/v2/content/record.json", b'{"a": 3}')
    assert ocfl.verify("item-1") and "sha512" in ocfl.verify("item-1")[0]
    assert "E092" in " ".join(ocfl_problems(ocfl_root(storage)))


def test_inventory_has_ocfl_fields(storage, tmp_path):
    ocfl = Ocfl(storage, tmp_path / "staging")
    ocfl.init()
    commit(ocfl, tmp_path, "x", {"record.json": b"{}"}, message="first")
    root = ocfl.object_root("x")
    inventory = json.loads(storage.get(f"{root}/inventory.json"))
    assert inventory["type"] == "https://ocfl.io/1.1/spec/#inventory"
    assert inventory["digestAlgorithm"] == "sha512"
    assert inventory["versions"]["v1"]["message"] == "first"
    sidecar = storage.get(f"{root}/inventory.json.sha512").decode().split()[0]
    assert sidecar == hashlib.sha512(storage.get(f"{root}/inventory.json")).hexdigest()
    assert storage.get(f"{root}/v1/inventory.json") == storage.get(f"{root}/inventory.json")
    assert storage.get(f"{root}/0=ocfl_object_1.1") == b"ocfl_object_1.1\n"


class Crash(BaseException):
    """The writing process dies here: no except clause of the backend runs."""


def break_write(storage, monkeypatch, object_root: str, path: str, exc: BaseException):
    """Make the backend's write of ``path`` (inside the object) during a publish raise:
    the rename into LocalStorage's scratch tree, the S3 client's upload call."""
    if isinstance(storage, LocalStorage):
        replace = os.replace

        def broken(src, dst, *args, **kwargs):
            dst = Path(dst)
            if storage.tmp in dst.parents and "/".join(
                    dst.relative_to(storage.tmp).parts[1:]) == path:
                raise exc
            return replace(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", broken)
    else:
        upload = storage.client.upload_file

        def broken(filename, bucket, key, *args, **kwargs):
            if key == f"{storage._root}{object_root}/{path}":
                raise exc
            return upload(filename, bucket, key, *args, **kwargs)

        monkeypatch.setattr(storage.client, "upload_file", broken)


@pytest.mark.parametrize("fault, path", [
    ("error", "v2/content/masters/0002.jpg"),  # fails, is undone at once
    ("crash", "v2/content/masters/0002.jpg"),  # dies among the new version's files
    ("crash", "inventory.json.sha512"),  # dies between the root inventory and its sidecar
])
def test_interrupted_publish_is_undone_by_recover(storage, tmp_path, monkeypatch, fault, path):
    ocfl = Ocfl(storage, tmp_path / "staging")
    ocfl.init()
    files = {"record.json": b'{"v": 1}', "masters/0001.jpg": b"one"}
    assert commit(ocfl, tmp_path, "item", files) == "v1"
    before = {key: storage.get(key) for key in storage.list()}
    files.update({"record.json": b'{"v": 2}', "masters/0002.jpg": b"two",
                  "masters/0003.jpg": b"three"})
    root = ocfl.object_root("item")
    on_s3 = isinstance(storage, S3Storage)
    if fault == "crash":
        exc, expected = Crash(), Crash
    elif on_s3:
        exc = ClientError({"Error": {"Code": "InternalError", "Message": "disk"}}, "PutObject")
        expected = StorageError
    else:
        exc, expected = OSError(5, "disk error"), OSError
    with monkeypatch.context() as patch:
        break_write(storage, patch, root, path, exc)
        with pytest.raises(expected):
            commit(ocfl, tmp_path, "item", files)
    if fault == "crash":
        # A writer that is not known to be dead may still be at work: left alone.
        left = {key: storage.get(key) for key in storage.list()}, scratch(storage)
        storage.recover()
        assert ({key: storage.get(key) for key in storage.list()}, scratch(storage)) == left
        assert scratch(storage) != []
        if on_s3:
            assert set(storage.list()) != set(before)  # half-written until recover()
    storage.recover(older_than=0)  # the writer is long gone
    assert {key: storage.get(key) for key in storage.list()} == before
    assert scratch(storage) == []
    assert ocfl.inventory("item")["head"] == "v1"
    assert ocfl_problems(ocfl_root(storage)) == []
    assert commit(ocfl, tmp_path, "item", files) == "v2"  # and a retry completes
    assert ocfl.read("item", "masters/0003.jpg") == b"three"
    assert ocfl_problems(ocfl_root(storage)) == []


def test_s3_storage_from_url_and_errors(tmp_path):
    settings = load_settings(env={}, data_dir=tmp_path, s3_endpoint_url="http://127.0.0.1:9",
                             s3_access_key="k", s3_secret_key="s")
    storage = open_storage("s3://bucket/some/prefix", settings)
    assert isinstance(storage, S3Storage)
    assert (storage.bucket, storage.prefix, storage.endpoint) == (
        "bucket", "some/prefix", "http://127.0.0.1:9")
    assert storage.local_path("x") is None
    for url in ("s3://", "s3://bucket/../x", "s3://bucket/p?x=1"):
        with pytest.raises(ConfigError):
            S3Storage.from_url(url, settings)
    # Nothing listens on port 9: a clear error naming the key and the endpoint.
    storage = S3Storage.from_url("s3://bucket/p", settings, max_attempts=1, connect_timeout=1)
    with pytest.raises(StorageError, match=r"GET of 'a/b'.*s3://bucket/p/a/b.*127\.0\.0\.1:9"):
        storage.get("a/b")


@pytest.mark.integration
def test_s3_wrong_secret_or_bucket_is_a_clear_error(s3):
    wrong = S3Storage(s3.bucket, s3.prefix, endpoint_url=s3.endpoint, access_key="sen-test",
                      secret_key="wrong", max_attempts=1)
    with pytest.raises(StorageError, match="SignatureDoesNotMatch"):
        wrong.put("x", b"x")
    missing = S3Storage(f"no-such-{uuid.uuid4().hex[:8]}", "p", endpoint_url=s3.endpoint,
                        access_key=os.environ["SEN_TEST_S3_ACCESS_KEY"],
                        secret_key=os.environ["SEN_TEST_S3_SECRET_KEY"], max_attempts=1)
    with pytest.raises(StorageError, match="NoSuchBucket"):
        missing.put("x", b"x")
