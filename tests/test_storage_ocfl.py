import hashlib
import json

import pytest

from repository.errors import NotFound, StorageError
from repository.ocfl import Ocfl
from repository.storage.local import LocalStorage
from tests.conftest import ocfl_problems


@pytest.fixture
def storage(tmp_path):
    return LocalStorage(tmp_path / "storage")


def test_put_get_range_stat_list_delete(storage):
    storage.put("a/b/c.txt", b"0123456789")
    assert storage.get("a/b/c.txt") == b"0123456789"
    assert storage.get_range("a/b/c.txt", 2, 3) == b"234"
    assert storage.get_range("a/b/c.txt", 8, 10) == b"89"
    info = storage.stat("a/b/c.txt")
    assert info.size == 10
    storage.put("a/b/c.txt", b"changed")
    assert storage.stat("a/b/c.txt").etag != info.etag
    storage.put("a/d.txt", b"x")
    assert list(storage.list("a")) == ["a/b/c.txt", "a/d.txt"]
    storage.delete("a/b/c.txt")
    assert not storage.exists("a/b/c.txt")
    assert not (storage.root / "a" / "b").exists()  # emptied folders go too
    with pytest.raises(NotFound):
        storage.get("a/b/c.txt")


@pytest.mark.parametrize("key", ["../etc/passwd", "/abs", "a//b", "a/./b", "a\\b", "a\x00b", ""])
def test_hostile_keys_are_refused(storage, key):
    with pytest.raises(StorageError):
        storage.put(key, b"x")


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
    assert not staged.exists()
    assert list((storage.root / ".tmp").iterdir()) == []


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
    assert ocfl_problems(storage.root / "ocfl") == []
    # Damage a stored file: fixity and the validator both notice.
    content = storage.root / ocfl.object_root("item-1") / "v2" / "content" / "record.json"
    content.write_bytes(b'{"a": 3}')
    assert ocfl.verify("item-1") and "sha512" in ocfl.verify("item-1")[0]
    assert "E092" in " ".join(ocfl_problems(storage.root / "ocfl"))


def test_inventory_has_ocfl_fields(storage, tmp_path):
    ocfl = Ocfl(storage, tmp_path / "staging")
    ocfl.init()
    commit(ocfl, tmp_path, "x", {"record.json": b"{}"}, message="first")
    root = storage.root / ocfl.object_root("x")
    inventory = json.loads((root / "inventory.json").read_text())
    assert inventory["type"] == "https://ocfl.io/1.1/spec/#inventory"
    assert inventory["digestAlgorithm"] == "sha512"
    assert inventory["versions"]["v1"]["message"] == "first"
    sidecar = (root / "inventory.json.sha512").read_text().split()[0]
    assert sidecar == hashlib.sha512((root / "inventory.json").read_bytes()).hexdigest()
    assert (root / "v1" / "inventory.json").read_bytes() == (root / "inventory.json").read_bytes()
    assert (root / "0=ocfl_object_1.1").read_text() == "ocfl_object_1.1\n"
