"""The pyramidal TIFF as the server sees it: its levels, and how to open one.

``ingest.images.build_pyramid`` writes the full image as TIFF page 0 and each
following page at half the size of the one before (libvips averages 2 × 2
blocks, so page ``n`` holds the full image scaled by exactly ``1 / 2**n``,
its size rounded down). The geometry of every level, and where each stored
tile lies, is read once per (file, etag) from the TIFF directories alone —
with a few ranged reads, so a pyramid in S3 is never downloaded to be
described — and kept in a small LRU.
"""

from __future__ import annotations

import struct
from collections import OrderedDict
from dataclasses import dataclass
from threading import Lock

import pyvips

from .edges import read_edges
from .resolver import ImageSource
from .tiff import TiffError, TiffLevel, read_levels

#: Tile size of the stored pyramids (``build_pyramid``'s default), published
#: in info.json so that viewers ask for tiles that match the stored ones.
TILE_SIZE = 256


class UnreadableImage(Exception):
    """The pyramid exists but cannot be read: a server-side problem (500)."""


@dataclass(frozen=True)
class Level:
    scale_factor: int  # 2 ** page
    width: int
    height: int


@dataclass(frozen=True)
class Pyramid:
    levels: tuple[Level, ...]  # largest first; levels[0] is the full image
    tiff: tuple[TiffLevel, ...]  # where the stored tiles of each level are
    #: (level, col, row) -> (offset, length, width, height) of the edge tiles made
    #: when the pyramid was built (see ``edges``); None for pyramids without them.
    edges: dict | None = None

    @property
    def width(self) -> int:
        return self.levels[0].width

    @property
    def height(self) -> int:
        return self.levels[0].height


class Pyramids:
    """Describe pyramids (cached per file and etag) and open their levels."""

    def __init__(self, cache_size: int = 512):
        self.cache_size = cache_size
        self._described: OrderedDict[tuple[str, str], Pyramid] = OrderedDict()
        self._opened: set[tuple[str, str]] = set()
        self._lock = Lock()

    def describe(self, source: ImageSource) -> Pyramid:
        key = (source.name, source.etag)
        found = self._described.get(key)  # a dict read needs no lock; eviction is FIFO
        if found is not None:
            return found
        try:
            read = source.reader()
            tiff = tuple(read_levels(read))
            edges = read_edges(read, source.size)
        except (TiffError, OSError, IndexError, ValueError, struct.error) as exc:
            raise UnreadableImage(f"{source.name}: {exc}") from None
        levels = tuple(Level(2 ** n, t.width, t.height) for n, t in enumerate(tiff))
        pyramid = Pyramid(levels, tiff, edges)
        with self._lock:
            self._described[key] = pyramid
            while len(self._described) > self.cache_size:
                self._described.popitem(last=False)
        return pyramid

    def open_level(self, source: ImageSource, index: int) -> pyvips.Image:
        path = source.file()
        # libvips caches opened files by name only: the first time this process
        # opens a (file, etag), make it re-read the file, so that a pyramid rebuilt
        # in place is not served from the old one.
        key = (source.name, source.etag)
        with self._lock:
            fresh = key not in self._opened
            if fresh:
                if len(self._opened) > 10_000:
                    self._opened.clear()
                self._opened.add(key)
        try:
            return pyvips.Image.new_from_file(str(path), page=index, revalidate=fresh)
        except pyvips.Error as exc:
            raise UnreadableImage(f"{path}: {str(exc).strip().splitlines()[0]}") from None
