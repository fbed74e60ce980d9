"""An OCFL 1.1 storage root on any Sen storage backend.

Each item is one OCFL object: its masters, ``record.json`` and OCR, in numbered
versions, every file named by its sha512 digest in the inventory. A version is
committed by :meth:`Storage.publish`, with the object's root ``inventory.json``
as the commit point, so a crash leaves the previous version whole. Content is
deduplicated: a file whose digest the object already holds is not stored again.

Specification: https://ocfl.io/1.1/spec/ — the layout is the registered
extension 0003 (hash and id n-tuple), so object folders keep a readable id.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import re
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

from repository.errors import NotFound, StorageError
from repository.storage import Storage

SPEC = "1.1"
INVENTORY_TYPE = "https://ocfl.io/1.1/spec/#inventory"
ROOT_DECLARATION = "0=ocfl_1.1"
OBJECT_DECLARATION = "0=ocfl_object_1.1"
LAYOUT = "0003-hash-and-id-n-tuple-storage-layout"
LAYOUT_CONFIG = {"extensionName": LAYOUT, "digestAlgorithm": "sha256", "tupleSize": 3,
                 "numberOfTuples": 3}
CHUNK = 1 << 20


def sha512_file(path: Path) -> str:
    digest = hashlib.sha512()
    with open(path, "rb") as fh:
        while chunk := fh.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _encapsulation(object_id: str) -> str:
    """Extension 0003: the id with every character but [A-Za-z0-9_-] percent-encoded."""
    encoded = "".join(c if re.match(r"[A-Za-z0-9_-]", c) else
                      "".join(f"%{b:02x}" for b in c.encode()) for c in object_id)
    if len(encoded) > 100:
        encoded = f"{encoded[:100]}-{hashlib.sha256(object_id.encode()).hexdigest()}"
    return encoded


def _inventory_bytes(inventory: dict) -> bytes:
    return (json.dumps(inventory, ensure_ascii=False, sort_keys=True, indent=2) + "\n").encode()


def _sidecar(data: bytes) -> bytes:
    return f"{hashlib.sha512(data).hexdigest()}  inventory.json\n".encode()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).replace(microsecond=0).isoformat().replace(
        "+00:00", "Z")


class Ocfl:
    """The OCFL storage root at ``prefix`` of ``storage``."""

    def __init__(self, storage: Storage, staging_dir: Path, prefix: str = "ocfl"):
        self.storage = storage
        self.staging_dir = Path(staging_dir)
        self.prefix = prefix.strip("/")

    # The storage root ---------------------------------------------------------
    def init(self) -> bool:
        """Create the storage root if there is none; True if it was created."""
        if self.storage.exists(f"{self.prefix}/{ROOT_DECLARATION}"):
            return False
        self.storage.put(f"{self.prefix}/ocfl_layout.json", json.dumps(
            {"extension": LAYOUT, "description": "OCFL object identifiers hashed with sha256 "
             "into three 3-character folders, then the percent-encoded id"}, indent=2).encode())
        self.storage.put(f"{self.prefix}/extensions/{LAYOUT}/config.json",
                         json.dumps(LAYOUT_CONFIG, indent=2).encode())
        self.storage.put(f"{self.prefix}/{ROOT_DECLARATION}", b"ocfl_1.1\n")
        return True

    def object_root(self, object_id: str) -> str:
        digest = hashlib.sha256(object_id.encode()).hexdigest()
        tuples = "/".join(digest[i * 3:i * 3 + 3] for i in range(3))
        return f"{self.prefix}/{tuples}/{_encapsulation(object_id)}"

    def ids(self) -> Iterator[str]:
        """Every object id in the storage root."""
        for key in self.storage.list(self.prefix):
            if key.endswith("/" + OBJECT_DECLARATION):
                root = key[: -len(OBJECT_DECLARATION) - 1]
                yield json.loads(self.storage.get(f"{root}/inventory.json"))["id"]

    # Reading ------------------------------------------------------------------
    def inventory_key(self, object_id: str) -> str:
        return f"{self.object_root(object_id)}/inventory.json"

    def inventory(self, object_id: str) -> dict | None:
        try:
            data = self.storage.get(self.inventory_key(object_id))
        except NotFound:
            return None
        return json.loads(data)

    @staticmethod
    def state(inventory: dict, version: str | None = None) -> dict[str, str]:
        """Logical path -> digest of a version (the head by default)."""
        version = version or inventory["head"]
        return {path: digest for digest, paths in inventory["versions"][version]["state"].items()
                for path in paths}

    def content_key(self, object_id: str, inventory: dict, logical_path: str,
                    version: str | None = None) -> str:
        digest = self.state(inventory, version).get(logical_path)
        if digest is None:
            raise NotFound(f"{object_id}: no file {logical_path!r} in version "
                           f"{version or inventory['head']}")
        return f"{self.object_root(object_id)}/{inventory['manifest'][digest][0]}"

    def read(self, object_id: str, logical_path: str, inventory: dict | None = None,
             version: str | None = None) -> bytes:
        inventory = inventory or self.inventory(object_id)
        if inventory is None:
            raise NotFound(f"no object {object_id!r}")
        return self.storage.get(self.content_key(object_id, inventory, logical_path, version))

    # Writing ------------------------------------------------------------------
    def commit(self, object_id: str, files: dict[str, Path], *, message: str, user: str,
               digests: dict[str, str] | None = None) -> str | None:
        """Make ``files`` (logical path -> local file) the new head state of the object.

        Returns the new version name, or None when the state is unchanged (then
        nothing is written: the same input twice makes no new version).
        """
        digests = digests or {}
        new_state = {path: digests.get(path) or sha512_file(src) for path, src in files.items()}
        inventory = self.inventory(object_id)
        if inventory is not None and self.state(inventory) == new_state:
            return None
        if inventory is None:
            inventory = {"id": object_id, "type": INVENTORY_TYPE, "digestAlgorithm": "sha512",
                         "head": "v0", "manifest": {}, "versions": {}}
        version = f"v{int(inventory['head'][1:]) + 1}"
        inventory = json.loads(json.dumps(inventory))  # a copy we may change
        inventory["head"] = version
        state: dict[str, list[str]] = {}
        for path, digest in sorted(new_state.items()):
            state.setdefault(digest, []).append(path)
        inventory["versions"][version] = {
            "created": _now(), "message": message, "state": state,
            "user": {"name": user, "address": f"urn:sen:agent:{_encapsulation(user)}"}}

        staged = self.staging_dir / f"ocfl-{uuid.uuid4().hex}"
        staged.mkdir(parents=True)
        try:
            for path, digest in sorted(new_state.items()):
                if digest in inventory["manifest"]:
                    continue
                content_path = f"{version}/content/{path}"
                inventory["manifest"][digest] = [content_path]
                target = staged / content_path
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(files[path], target)
                if sha512_file(target) != digest:
                    raise StorageError(f"{object_id}: {path} changed while it was being stored")
            data = _inventory_bytes(inventory)
            for folder in (staged / version, staged):
                folder.mkdir(exist_ok=True)
                (folder / "inventory.json").write_bytes(data)
                (folder / "inventory.json.sha512").write_bytes(_sidecar(data))
            if version == "v1":
                (staged / OBJECT_DECLARATION).write_bytes(b"ocfl_object_1.1\n")
            self.storage.publish(staged, self.object_root(object_id))
        finally:
            if staged.exists():
                shutil.rmtree(staged, ignore_errors=True)
        return version

    def verify(self, object_id: str) -> list[str]:
        """Fixity: recompute every stored file's sha512. Returns the problems found."""
        inventory = self.inventory(object_id)
        if inventory is None:
            return [f"{object_id}: no such object"]
        root = self.object_root(object_id)
        found = []
        for digest, paths in inventory["manifest"].items():
            for path in paths:
                try:
                    data = self.storage.get(f"{root}/{path}")
                except NotFound:
                    found.append(f"{object_id}: {path} is missing")
                    continue
                if hashlib.sha512(data).hexdigest() != digest:
                    found.append(f"{object_id}: {path} does not match its sha512 digest")
        return found

