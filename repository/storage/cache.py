"""A bounded local cache of objects from remote storage, for readers that need a file.

The image server opens pyramids with libvips, which wants a file on this
machine. From S3, each pyramid is fetched once and kept, named by its key and
ETag (a changed object is a new file), and the least recently used files are
removed when the cache grows past its size.
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

    def path(self, key: str, etag: str) -> Path:
        """A local file with the bytes of ``key`` as of ``etag``."""
        local = self.storage.local_path(key)
        if local is not None:
            return local
        name = hashlib.sha256(f"{key}\0{etag}".encode()).hexdigest()
        target = self.folder / name
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
