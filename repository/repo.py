"""The composition root of Sen's core: one object that holds the open stores.

Storage (the source of truth), its OCFL root and derivatives, the catalogue and
the search index, opened from one :class:`Settings`. The web app, the CLI and
the ingest pipeline all work through it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import socket
from collections.abc import Iterator
from functools import cached_property
from pathlib import Path

from repository import access, alto
from repository.catalogue import Catalogue
from repository.config import Settings
from repository.errors import NotFound, SenError
from repository.ocfl import Ocfl
from repository.queue import Queue, open_queue
from repository.search import SearchIndex, open_search
from repository.search.document import from_record
from repository.storage import Storage, open_storage
from repository.system import pid_alive

DERIVATIVES = "derivatives"


class Repository:
    def __init__(self, settings: Settings):
        self.settings = settings
        self._access_cache: dict[str, tuple[str, str]] = {}

    @cached_property
    def storage(self) -> Storage:
        return open_storage(self.settings.storage_location, self.settings)

    @cached_property
    def ocfl(self) -> Ocfl:
        return Ocfl(self.storage, self.scratch)

    @cached_property
    def queue(self) -> Queue:
        return open_queue(self.settings.queue_location)

    @cached_property
    def scratch(self) -> Path:
        """This process's own scratch folder under ``staging/``, for building objects.

        Several workers may share a data folder; each writes only in its own, and
        removes the folders of workers on this machine that are no longer running.
        """
        staging = self.settings.staging_dir
        staging.mkdir(parents=True, exist_ok=True)
        host = socket.gethostname()
        for folder in staging.iterdir():
            other_host, _, pid = folder.name.rpartition("-")
            if other_host == host and pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(folder, ignore_errors=True)
        mine = staging / f"{host}-{os.getpid()}"
        mine.mkdir(exist_ok=True)
        return mine

    @cached_property
    def catalogue(self) -> Catalogue:
        return Catalogue(self.settings.database_location)

    @cached_property
    def search(self) -> SearchIndex:
        return open_search(self.settings.search_location)

    def init(self) -> None:
        """Create what a new installation needs; safe to run again."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self.settings.staging_dir.mkdir(parents=True, exist_ok=True)
        self.ocfl.init()
        self.catalogue.migrate()
        self.search.count()

    def close(self) -> None:
        for name in ("catalogue", "search", "queue"):
            if name in self.__dict__:
                self.__dict__[name].close()

    @contextlib.contextmanager
    def writer_lock(self) -> Iterator[None]:
        """One exclusive writer (a rebuild, a migration) at a time on this data folder."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        with open(self.settings.data_dir / ".writer.lock", "w") as fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise SenError("another ingest or rebuild is running on this data folder; "
                               "wait for it to finish") from None
            try:
                self.storage.recover()
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    # Derivatives ----------------------------------------------------------------
    @staticmethod
    def derivative_key(item_id: str, name: str) -> str:
        return f"{DERIVATIVES}/{item_id}/{name}"

    @staticmethod
    def pyramid_name(page: int) -> str:
        return f"pages/{page:04d}.tif"

    def item_info(self, item_id: str) -> dict:
        """The derivative summary of an item (access, version, pages); NotFound if none."""
        return json.loads(self.storage.get(self.derivative_key(item_id, "item.json")))

    def manifest(self, item_id: str) -> bytes:
        return self.storage.get(self.derivative_key(item_id, "manifest.json"))

    def access_of(self, item_id: str) -> str:
        """The access level of the head version, read from the OCFL object itself.

        Routes that serve one item ask this rather than a listing, so a crash
        between the commit and the index update never shows what was hidden.
        Cached per version of the inventory (one stat per call).
        """
        key = self.ocfl.inventory_key(item_id)
        try:
            etag = self.storage.stat(key).etag
        except NotFound:
            raise NotFound(f"no item {item_id!r}") from None
        cached = self._access_cache.get(item_id)
        if cached and cached[0] == etag:
            return cached[1]
        level = self.record(item_id)["access"]
        if len(self._access_cache) > 10_000:
            self._access_cache.clear()
        self._access_cache[item_id] = (etag, level)
        return level

    def record(self, item_id: str) -> dict:
        inventory = self.ocfl.inventory(item_id)
        if inventory is None:
            raise NotFound(f"no item {item_id!r}")
        return json.loads(self.ocfl.read(item_id, "record.json", inventory))

    # Indexes: the catalogue and search, both rebuilt from storage alone ----------
    def index_item(self, item_id: str, inventory: dict | None = None) -> dict:
        """Project the head version of an OCFL object into the catalogue and the index."""
        inventory = inventory or self.ocfl.inventory(item_id)
        if inventory is None:
            raise NotFound(f"no item {item_id!r}")
        record = json.loads(self.ocfl.read(item_id, "record.json", inventory))
        fulltext = "\n".join(
            alto.text(self.ocfl.read(item_id, page["ocr"], inventory))
            for page in record["pages"] if page.get("ocr"))
        created = inventory["versions"]["v1"]["created"]
        updated = inventory["versions"][inventory["head"]]["created"]
        self.catalogue.upsert_item(record, version=inventory["head"], created=created,
                                   updated=updated)
        self.catalogue.set_changes(item_id, self.public_history(item_id, inventory))
        self.search.add([from_record(record, created=created, fulltext=fulltext)])
        return record

    def public_history(self, item_id: str, inventory: dict) -> list[tuple[str, str, str]]:
        """(version, activity, time) for each version that changed the item for the public:
        Create when it became visible, Update while visible, Delete when hidden again."""
        events, visible, access_by_digest = [], False, {}
        for n in range(1, int(inventory["head"][1:]) + 1):
            version = f"v{n}"
            digest = self.ocfl.state(inventory, version)["record.json"]
            if digest not in access_by_digest:
                access_by_digest[digest] = json.loads(self.ocfl.read(
                    item_id, "record.json", inventory, version))["access"]
            public = access.can_view(access_by_digest[digest])
            activity = ("Update" if visible else "Create") if public else (
                "Delete" if visible else None)
            if activity:
                events.append((version, activity, inventory["versions"][version]["created"]))
            visible = public
        return events

    def rebuild_indexes(self, progress=None) -> int:
        """Recreate the catalogue's item listing and the search index from the OCFL root."""
        ids = sorted(self.ocfl.ids())
        self.catalogue.clear_items()
        self.search.clear()
        for n, item_id in enumerate(ids, 1):
            self.index_item(item_id)
            if progress:
                progress(n, len(ids), item_id)
        return len(ids)

