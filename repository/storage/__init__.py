"""Object storage: the single source of truth.

One small interface, implemented by every backend (a local directory now, S3
later). Keys are ``/``-separated relative paths; a key never starts with ``/``
and never contains ``.`` or ``..`` segments.
"""

from __future__ import annotations

import abc
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from repository.errors import ConfigError, NotFound, StorageError


@dataclass(frozen=True)
class ObjectInfo:
    key: str
    size: int
    mtime: float
    #: Changes whenever the bytes change; used for HTTP ETags and caches.
    etag: str


_BAD_KEY = re.compile(r"^/|//|(^|/)\.\.?(/|$)|/$|[\x00-\x1f\\]")


def check_key(key: str) -> str:
    if not key or _BAD_KEY.search(key):
        raise StorageError(f"invalid storage key {key!r}")
    return key


class Storage(abc.ABC):
    """What Sen needs from an object store."""

    #: True when objects are files on this machine (lookups cost a system call,
    #: not a network round trip).
    is_local: bool = False

    @abc.abstractmethod
    def put(self, key: str, data: bytes) -> None:
        """Store ``data`` under ``key``; readers see the old bytes or the new, never part."""

    @abc.abstractmethod
    def put_file(self, key: str, path: Path) -> None:
        """Store the content of the local file ``path`` under ``key``, atomically."""

    @abc.abstractmethod
    def get(self, key: str) -> bytes:
        """The whole object; raises NotFound."""

    @abc.abstractmethod
    def get_range(self, key: str, start: int, length: int) -> bytes:
        """``length`` bytes from offset ``start`` (fewer at the end of the object)."""

    @abc.abstractmethod
    def stat(self, key: str) -> ObjectInfo:
        """Size, modification time and etag; raises NotFound."""

    @abc.abstractmethod
    def list(self, prefix: str = "") -> Iterator[str]:
        """Every key under ``prefix`` (a folder-like prefix), in sorted order."""

    @abc.abstractmethod
    def delete(self, key: str) -> None:
        """Remove one object; removing a missing object is not an error."""

    @abc.abstractmethod
    def publish(self, staged: Path, prefix: str) -> None:
        """Add the files of the local folder ``staged`` under ``prefix``, atomically.

        Files of ``staged`` replace those at the same place; other files under
        ``prefix`` stay. After a crash at any point, readers see either the old
        tree or the new one. Files at the top level of ``staged`` are the commit
        point: a backend that cannot swap a whole tree at once writes them last
        (this is how OCFL's root ``inventory.json`` works). ``staged`` is consumed.
        """

    def exists(self, key: str) -> bool:
        try:
            self.stat(key)
        except NotFound:
            return False
        return True

    def delete_prefix(self, prefix: str) -> None:
        for key in list(self.list(prefix)):
            self.delete(key)

    @abc.abstractmethod
    def recover(self, older_than: float = 3600) -> None:
        """Remove what writes interrupted more than ``older_than`` seconds ago left behind.

        Safe while other writers run, as long as no write takes that long.
        """

    def local_path(self, key: str) -> Path | None:
        """A path on this machine with the object's bytes, if the backend has one."""
        return None


def open_storage(location: str, settings=None) -> Storage:
    """The backend named by a storage URL (``s3://bucket/prefix``, ``file:///path``, a path)."""
    from repository.storage.local import LocalStorage

    if location.startswith("s3://"):
        from repository.storage.s3 import S3Storage

        return S3Storage.from_url(location, settings)
    if location.startswith("file://"):
        return LocalStorage(Path(location[len("file://"):]))
    if "://" in location:
        raise ConfigError(f"unsupported storage URL {location!r}")
    return LocalStorage(Path(location))
