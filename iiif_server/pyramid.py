"""The pyramidal TIFF as the server sees it: its levels, and how to open one.

``ingest.images.build_pyramid`` writes the full image as TIFF page 0 and each
following page at half the size of the one before (libvips averages 2 × 2
blocks, so page ``n`` holds the full image scaled by exactly ``1 / 2**n``,
its size rounded down). The geometry of every level is read once per
(path, etag) and kept in a small LRU, so that repeated info.json and tile
requests do not reopen the file to learn its size.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pyvips

from repository.errors import NotFound

#: Tile size of the stored pyramids (``build_pyramid``'s default), published
#: in info.json so that viewers ask for tiles that match the stored ones.
TILE_SIZE = 256


class UnreadableImage(Exception):
    """The pyramid exists but libvips cannot read it: a server-side problem (500)."""


@dataclass(frozen=True)
class Level:
    scale_factor: int  # 2 ** page
    width: int
    height: int


@dataclass(frozen=True)
class Pyramid:
    path: Path
    levels: tuple[Level, ...]  # largest first; levels[0] is the full image

    @property
    def width(self) -> int:
        return self.levels[0].width

    @property
    def height(self) -> int:
        return self.levels[0].height


class Pyramids:
    """Describe pyramids (cached per path and etag) and open their levels."""

    def __init__(self, cache_size: int = 512):
        self.describe = lru_cache(maxsize=cache_size)(self._describe)

    @staticmethod
    def _describe(path: Path, etag: str) -> Pyramid:
        # revalidate=True makes libvips re-read the file instead of answering from
        # its operation cache, which is keyed by file name only: without it a
        # pyramid rebuilt in place would keep being served from the old file. It
        # also refreshes that cache, so open_level() below sees the new file.
        # ``etag`` is part of the lru_cache key; that is its only use here.
        try:
            first = pyvips.Image.new_from_file(str(path), page=0, revalidate=True)
            pages = first.get("n-pages") if first.get_typeof("n-pages") else 1
            levels = [Level(1, first.width, first.height)]
            for page in range(1, pages):
                image = pyvips.Image.new_from_file(str(path), page=page, revalidate=True)
                levels.append(Level(2**page, image.width, image.height))
        except pyvips.Error as exc:
            if not path.is_file():
                raise NotFound("image file missing") from None
            raise UnreadableImage(f"{path}: {str(exc).strip().splitlines()[0]}") from None
        return Pyramid(path, tuple(levels))

    @staticmethod
    def open_level(pyramid: Pyramid, index: int) -> pyvips.Image:
        try:
            return pyvips.Image.new_from_file(str(pyramid.path), page=index)
        except pyvips.Error as exc:
            raise UnreadableImage(f"{pyramid.path}: {str(exc).strip().splitlines()[0]}") from None
