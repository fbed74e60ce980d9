"""From an identifier in a URL to the pyramid to read.

The resolver is where the image server meets the rest of Sen: the web app
passes one that looks the identifier up in storage and asks the access policy,
raising ``NotFound`` or ``Forbidden``. ``DirectoryResolver`` is the stand-alone
one: a folder of ``<identifier>.tif`` pyramids; ``StorageResolver`` reads
``<identifier>.tif`` objects from any Sen storage (S3) with ranged reads.
"""

from __future__ import annotations

import os
import re
import stat
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from threading import Lock

from repository.errors import NotFound

MAX_IDENTIFIER_LENGTH = 200

#: Reads ``length`` bytes at ``offset`` of the pyramid.
Reader = Callable[[int, int], bytes]


@dataclass(frozen=True)
class ImageSource:
    """One pyramid: how to read ranges of it, and how to get it as a local file.

    Stored tiles are sent from ranged reads alone; a request that must decode
    pixels (an unaligned region, a rotation) needs a local file, which ``fetch``
    makes on demand for remote storage (a bounded cache).
    """

    name: str  # the file or the storage key: with the etag, what caches are keyed by
    etag: str  # changes whenever the pyramid changes (e.g. the storage etag)
    path: str | Path | None = None  # the pyramidal TIFF on this machine, if it is here
    read: Reader | None = None  # ranged reads, when it is elsewhere
    fetch: Callable[[], Path] | None = None  # a local copy, made on demand
    size: int | None = None  # of the file, to find the edge tiles at its end
    #: Per-image limits (restricted sizes); None means the server's default.
    #: They can only lower the server's limits, never raise them.
    max_width: int | None = None
    max_area: int | None = None

    def reader(self) -> Reader:
        if self.read is not None:
            return self.read
        return _open_files.reader(self.path, self.etag)

    def file(self) -> Path:
        if self.path is not None:
            return Path(self.path)
        if self.fetch is None:
            raise NotFound("no local copy of the image can be made")
        return self.fetch()


class _OpenFile:
    """A file open for positioned reads (no seek, no lock), closed when the last
    reader of it is gone: a handle evicted from the cache below stays open for the
    requests still reading it, so its descriptor number cannot be reused under them."""

    __slots__ = ("fd",)

    def __init__(self, path: str | Path):
        self.fd = os.open(path, os.O_RDONLY)

    def read(self, offset: int, length: int) -> bytes:
        return os.pread(self.fd, length, offset)

    def __del__(self):
        if hasattr(self, "fd"):  # not when the open failed
            os.close(self.fd)


class _OpenFiles:
    """Open files kept per worker, the most recently opened ``size`` of them."""

    def __init__(self, size: int = 64):
        self.size = size
        self.open: OrderedDict[tuple[str, str], _OpenFile] = OrderedDict()
        self.lock = Lock()

    def reader(self, path: str | Path, etag: str) -> Reader:
        key = (os.fspath(path), etag)
        found = self.open.get(key)  # on every tile: a lock-free read (eviction is FIFO)
        if found is not None:
            return found.read
        with self.lock:
            found = self.open.get(key)
            if found is None:
                try:
                    found = _OpenFile(path)
                except OSError:
                    raise NotFound("image file missing") from None
                self.open[key] = found
                while len(self.open) > self.size:
                    self.open.popitem(last=False)
            return found.read


_open_files = _OpenFiles()


#: Maps an identifier to its source; raises NotFound or Forbidden.
Resolver = Callable[[str], ImageSource]


class DirectoryResolver:
    """Identifier ``X`` is the file ``root/X.tif``; nothing outside ``root`` is reachable."""

    def __init__(self, root: Path):
        self.root = str(Path(root)) + os.sep

    def __call__(self, identifier: str) -> ImageSource:
        # Called for every tile: plain strings and one stat, no pathlib.
        if not _safe(identifier):
            raise NotFound("no such image")
        name = f"{self.root}{identifier}.tif"
        try:
            info = os.stat(name)
        except (OSError, ValueError):
            raise NotFound("no such image") from None
        if not stat.S_ISREG(info.st_mode):
            raise NotFound("no such image")
        return ImageSource(name=name, path=name, size=info.st_size,
                           etag=f"{info.st_mtime_ns:x}-{info.st_size:x}")


class StorageResolver:
    """Identifier ``X`` is the object ``X.tif`` of a Sen storage (e.g. an S3 prefix)."""

    def __init__(self, storage, cache):
        self.storage = storage
        self.cache = cache  # repository.storage.cache.FileCache

    def __call__(self, identifier: str) -> ImageSource:
        if not _safe(identifier):
            raise NotFound("no such image")
        return storage_source(self.storage, self.cache, f"{identifier}.tif")


def remembered(resolver: Resolver, seconds: float) -> Resolver:
    """``resolver``, its answers kept for ``seconds``: for storage where a lookup is a
    network round trip (S3), which would otherwise cost more than sending the tile.

    A change (a new pyramid, an item made restricted) reaches this node within
    ``seconds``; errors are never kept.
    """
    if seconds <= 0:
        return resolver
    known: dict[str, tuple[float, ImageSource]] = {}

    def resolve(identifier: str) -> ImageSource:
        now = time.monotonic()
        found = known.get(identifier)
        if found is not None and now - found[0] < seconds:
            return found[1]
        source = resolver(identifier)
        if len(known) > 50_000:
            known.clear()
        known[identifier] = (now, source)
        return source

    return resolve


def storage_source(storage, cache, key: str) -> ImageSource:
    """A pyramid in storage: read in place when local, from the local copy once there is
    one, and until then by ranged reads while the copy is fetched in the background."""
    info = storage.stat(key)  # NotFound if missing
    etag = info.etag
    local = storage.local_path(key) or cache.cached(key, etag)
    if local is not None:
        return ImageSource(name=key, path=local, etag=etag, size=info.size)
    cache.prefetch(key, etag)
    return ImageSource(name=key, etag=etag, size=info.size, read=lambda offset, length:
                       storage.get_range(key, offset, length), fetch=lambda: cache.path(key, etag))


_UNSAFE = re.compile(r"[\x00-\x1f\x7f/\\]|\.\.|^\.")


def _safe(identifier: str) -> bool:
    """A single, plain file name: no separators, no dot-dot, no control characters."""
    return 0 < len(identifier) <= MAX_IDENTIFIER_LENGTH and not _UNSAFE.search(identifier)
