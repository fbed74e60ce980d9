"""A bounded local cache of objects from remote storage, for readers that need a file.

The image server opens pyramids with libvips, which wants a file on this
machine, and sends stored tiles fastest from a local file. From S3, a pyramid's
first tiles are ranged reads while the whole file is fetched in the background;
it is kept, named by its key and ETag (a changed object is a new file, shared
by every worker on the machine), and the least recently used files are removed
when the cache grows past its size.
"""

from __future__ import annotations

import hashlib
import os
import threading
import uuid
from pathlib import Path

from repository.storage import Storage


class FileCache:
    def __init__(self, storage: Storage, folder: Path, max_bytes: int):
        self.storage = storage
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.max_bytes = max_bytes
        self._lock = threading.Lock()
        self._fetching: set[tuple[str, str]] = set()

    def _target(self, key: str, etag: str) -> Path:
        return self.folder / hashlib.sha256(f"{key}\0{etag}".encode()).hexdigest()

    def cached(self, key: str, etag: str) -> Path | None:
        """The local copy if there is one already (never downloads)."""
        target = self._target(key, etag)
        return target if target.exists() else None

    def prefetch(self, key: str, etag: str) -> None:
        """Start copying ``key`` here in the background (once), for the next readers."""
        with self._lock:
            if (key, etag) in self._fetching:
                return
            self._fetching.add((key, etag))

        def fetch() -> None:
            try:
                self.path(key, etag)
            except Exception:  # the next prefetch tries again
                pass
            finally:
                with self._lock:
                    self._fetching.discard((key, etag))

        threading.Thread(target=fetch, daemon=True, name=f"prefetch {key}").start()

    def path(self, key: str, etag: str) -> Path:
        """A local file with the bytes of ``key`` as of ``etag``."""
        local = self.storage.local_path(key)
        if local is not None:
            return local
        target = self._target(key, etag)
        name = target.name
        if target.exists():
            os.utime(target)  # recently used
            return target
        part = self.folder / f".{name}.{uuid.uuid4().hex}.part"
        part.write_bytes(self.storage.get(key))
        os.replace(part, target)
        self._evict()
        return target

    def _evict(self) -> None:
        with self._lock:
            files = [(p.stat().st_atime, p.stat().st_size, p) for p in self.folder.iterdir()
                     if not p.name.startswith(".")]
            total = sum(size for _t, size, _p in files)
            for _atime, size, path in sorted(files):
                if total <= self.max_bytes:
                    break
                path.unlink(missing_ok=True)
                total -= size
