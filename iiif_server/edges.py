"""Edge tiles made once, when the pyramid is built, and kept at the end of its file.

A TIFF stores every tile at full size, so the tiles along the right and bottom
edges of each level hold padding a viewer must not see: they have to be cut,
and often scaled by a pixel (a viewer asks ``ceil(w / s)`` where the level is
``floor(W / s)`` wide). Decoding and encoding them on every request cost most of
the image server's time on tile requests. Instead, ``append_edges`` renders
them exactly as the server would and appends them after the TIFF data, with an
index and a marker at the very end; TIFF readers (libvips included) never look
past the directories, and the server finds them with one ranged read of the
file's last bytes — the same from a local disk or from S3.

Layout at the end of the file: the JPEGs, one after another; then a JSON index
``{"start": offset of the first JPEG, "tiles": {"level,col,row": [offset, length,
width, height]}}``; then the index's length (8 bytes, little-endian) and MAGIC.
"""

from __future__ import annotations

import json
import math
import os
import struct
from pathlib import Path

import pyvips

from .tiff import JPEG, Reader, TiffLevel, read_levels

MAGIC = b"SENEDGE1"
TAIL = 16


def viewer_size(level: int, col: int, row: int, width: int, height: int, tile: int
                ) -> tuple[int, int]:
    """The size a viewer asks for this tile: its full-resolution box over the scale."""
    scale = 1 << level
    span = tile * scale
    w = min(span, width - col * span)
    h = min(span, height - row * span)
    return math.ceil(w / scale), math.ceil(h / scale)


def render_edge(level: TiffLevel, read: Reader, col: int, row: int, size: tuple[int, int]
                ) -> bytes:
    """Decode one stored tile, cut off its padding, scale it to ``size``, encode."""
    from .processor import _encode, _scale  # the same encoding as every other answer

    width = min(level.tile_width, level.width - col * level.tile_width)
    height = min(level.tile_height, level.height - row * level.tile_height)
    image = pyvips.Image.new_from_buffer(level.tile_jpeg(read, col, row), "")
    return _encode(_scale(image.crop(0, 0, width, height), *size), "jpg", bitonal=False)


def edge_tiles(levels: list[TiffLevel], read: Reader):
    """(key, bytes, size) of every tile along the right and bottom edges of every level."""
    full_w, full_h = levels[0].width, levels[0].height
    for index, level in enumerate(levels):
        if level.compression != JPEG or level.tile_width != level.tile_height:
            continue
        tile = level.tile_width
        across, down = -(-level.width // tile), -(-level.height // tile)
        edges = {(across - 1, r) for r in range(down)} | {(c, down - 1) for c in range(across)}
        for col, row in sorted(edges):
            inside = (min(tile, level.width - col * tile), min(tile, level.height - row * tile))
            size = viewer_size(index, col, row, full_w, full_h, tile)
            if inside == (tile, tile) == size:
                continue  # a whole tile: sent as stored
            if not (0 <= inside[0] - size[0] <= 1 and 0 <= inside[1] - size[1] <= 1):
                # A viewer asks one pixel more than the level holds (it rounds the
                # full-resolution box up): that tile is read from the level above,
                # as the general pipeline does, not enlarged from this one.
                continue
            yield f"{index},{col},{row}", render_edge(level, read, col, row, size), size


def append_edges(path: Path) -> int:
    """Add the edge tiles to a pyramid file (once); returns how many were added."""
    with open(path, "rb+") as fh:
        fd = fh.fileno()
        size = os.fstat(fd).st_size
        if size >= TAIL and os.pread(fd, TAIL, size - TAIL)[8:] == MAGIC:
            return 0

        def read(offset: int, length: int) -> bytes:
            return os.pread(fd, length, offset)

        tiles, blobs, offset = {}, [], size
        for key, data, (w, h) in edge_tiles(read_levels(read), read):
            tiles[key] = [offset, len(data), w, h]
            blobs.append(data)
            offset += len(data)
        index = json.dumps({"start": size, "tiles": tiles}, separators=(",", ":")).encode()
        fh.seek(size)
        fh.write(b"".join(blobs) + index + struct.pack("<Q", len(index)) + MAGIC)
        fh.flush()
        os.fsync(fd)
    return len(tiles)


def read_edges(read: Reader, size: int | None) -> dict[tuple[int, int, int], tuple] | None:
    """The edge tiles' index of a pyramid, or None if it has none (built before them)."""
    if not size or size < TAIL:
        return None
    tail = read(size - TAIL, TAIL)
    if tail[8:] != MAGIC:
        return None
    (length,) = struct.unpack("<Q", tail[:8])
    index = json.loads(read(size - TAIL - length, length))
    return {tuple(int(n) for n in key.split(",")): tuple(value)
            for key, value in index["tiles"].items()}
