"""Just enough TIFF to find the stored JPEG tiles of a pyramid and send them as they are.

A viewer asks for 256-pixel tiles at power-of-two scales; the pyramid stores
exactly those tiles, JPEG-compressed, with the quantisation and Huffman tables
of each level kept once in the level's ``JPEGTables`` tag. Splicing those tables
in front of a tile's own bytes gives a complete JPEG file that decodes to the
same pixels libvips decodes from the TIFF (a test proves it) — without
decoding or encoding anything. Only the directory of each level is parsed: its
size, tile size, compression and the offset and length of every tile (TIFF 6
and BigTIFF, either byte order).
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass

Reader = Callable[[int, int], bytes]  # (offset, length) -> bytes

JPEG = 7
_TYPES = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4), 7: ("B", 1), 16: ("Q", 8), 13: ("I", 4),
          18: ("Q", 8)}
_WANTED = {256: "width", 257: "height", 259: "compression", 322: "tile_width",
           323: "tile_height", 324: "offsets", 325: "counts", 347: "jpeg_tables"}


class TiffError(ValueError):
    pass


@dataclass(frozen=True)
class TiffLevel:
    width: int
    height: int
    tile_width: int
    tile_height: int
    compression: int
    offsets: tuple[int, ...]
    counts: tuple[int, ...]
    jpeg_tables: bytes

    def tile_jpeg(self, read: Reader, col: int, row: int) -> bytes:
        """The tile at (col, row) as a complete JPEG file."""
        index = row * -(-self.width // self.tile_width) + col
        if not self.jpeg_tables:
            return read(self.offsets[index], self.counts[index])
        # Tables: SOI DQT DHT EOI; tile: SOI SOF SOS … EOI. Drop the EOI of one and
        # the SOI of the other (by reading the tile from its third byte: one copy less).
        return self.jpeg_tables[:-2] + read(self.offsets[index] + 2, self.counts[index] - 2)


def read_levels(read: Reader) -> list[TiffLevel]:
    """Every directory (page) of the file, in order."""
    head = read(0, 16)
    order = {b"II": "<", b"MM": ">"}.get(head[:2])
    if order is None:
        raise TiffError("not a TIFF file")
    (magic,) = struct.unpack(order + "H", head[2:4])
    big = magic == 43
    if magic not in (42, 43):
        raise TiffError("not a TIFF file")
    offset = struct.unpack(order + "Q", head[8:16])[0] if big else \
        struct.unpack(order + "I", head[4:8])[0]
    levels = []
    seen = set()
    while offset and offset not in seen and len(levels) < 64:
        seen.add(offset)
        fields, offset = _directory(read, order, big, offset)
        if fields.get("compression") is None or "offsets" not in fields:
            raise TiffError("a page is not tiled")
        levels.append(TiffLevel(
            width=fields["width"][0], height=fields["height"][0],
            tile_width=fields["tile_width"][0], tile_height=fields["tile_height"][0],
            compression=fields["compression"][0], offsets=tuple(fields["offsets"]),
            counts=tuple(fields["counts"]), jpeg_tables=bytes(fields.get("jpeg_tables", b""))))
    return levels


def _directory(read: Reader, order: str, big: bool, offset: int
               ) -> tuple[dict[str, tuple | bytes], int]:
    count_size, entry_size, next_size = (8, 20, 8) if big else (2, 12, 4)
    (count,) = struct.unpack(order + ("Q" if big else "H"), read(offset, count_size))
    if count > 4096:
        raise TiffError("implausible TIFF directory")
    block = read(offset + count_size, count * entry_size + next_size)
    fields: dict[str, tuple | bytes] = {}
    for i in range(count):
        entry = block[i * entry_size:(i + 1) * entry_size]
        tag, kind = struct.unpack(order + "HH", entry[:4])
        name = _WANTED.get(tag)
        if name is None or kind not in _TYPES:
            continue
        code, size = _TYPES[kind]
        (n,) = struct.unpack(order + ("Q" if big else "I"), entry[4:12 if big else 8])
        inline = entry[12:] if big else entry[8:]
        raw = inline[:n * size] if n * size <= len(inline) else read(
            struct.unpack(order + ("Q" if big else "I"), inline)[0], n * size)
        fields[name] = raw if kind == 7 else struct.unpack(f"{order}{n}{code}", raw)
    (next_offset,) = struct.unpack(order + ("Q" if big else "I"),
                                   block[count * entry_size:count * entry_size + next_size])
    return fields, next_offset
