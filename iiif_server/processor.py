"""Apply a plan with libvips: pick the level, crop, scale, mirror and rotate,
change the quality, encode.

The cost of a request should follow the size of its answer, not the size of
the scan: a 256-pixel thumbnail of a 20,000-pixel page is cut from a small
level of the pyramid, and only the tiles under the region are decoded (libvips
reads tiled TIFFs lazily).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pyvips

from .edges import render_edge
from .pyramid import Pyramid, Pyramids
from .request import Plan
from .resolver import ImageSource, Reader
from .tiff import JPEG

#: Part of every image ETag: raise it when a change here alters the bytes of
#: an answer, so that caches do not keep revalidating the old ones.
RENDERING_VERSION = 3
#: Lossy encoders' quality: the pyramid itself is JPEG at 85, so more would
#: only grow the files.
JPEG_QUALITY = 85
WEBP_QUALITY = 85
#: Largest answer whose JPEG Huffman tables are optimised (see ``_encode``).
OPTIMIZE_JPEG_PIXELS = 4_000_000


def choose_level(pyramid: Pyramid, plan: Plan) -> int:
    """The level with the largest scale factor whose pixels still cover the output.

    That is, the region read from that level is at least as wide and as tall as
    the image asked for, so the result is only ever reduced, never enlarged,
    except when the request itself upscales (then level 0).
    """
    box = plan.box
    for index in range(len(pyramid.levels) - 1, 0, -1):
        level = pyramid.levels[index]
        factor = level.scale_factor
        # The region as it lies in this level, which may have dropped the last
        # row or column of an odd-sized level above it.
        width = min(box.x + box.width, level.width * factor) - box.x
        height = min(box.y + box.height, level.height * factor) - box.y
        if width >= plan.width * factor and height >= plan.height * factor:
            return index
    return 0


@dataclass(frozen=True)
class TilePosition:
    """Where an aligned tile request lies in the pyramid."""

    index: int  # the level
    col: int
    row: int
    width: int  # of the tile's pixels inside the image, at that level
    height: int

    def stored_as_is(self, pyramid: Pyramid, plan: Plan) -> bool:
        """True when the answer is the stored tile itself (an inside tile at its own size)."""
        level = pyramid.tiff[self.index]
        return (plan.width, plan.height) == (self.width, self.height) == (
            level.tile_width, level.tile_height)


def tile_position(pyramid: Pyramid, plan: Plan) -> TilePosition | None:
    """The stored tile a request asks for, if it asks for exactly one, unrotated, as JPEG."""
    request = plan.request
    if (request.format != "jpg" or request.quality not in ("default", "color")
            or request.rotation.degrees or request.rotation.mirror):
        return None
    index = choose_level(pyramid, plan)
    level = pyramid.tiff[index]
    if level.compression != JPEG or level.tile_width != level.tile_height:
        return None
    span = level.tile_width * pyramid.levels[index].scale_factor
    box = plan.box
    if box.x % span or box.y % span or (box.width, box.height) != (
            min(span, pyramid.width - box.x), min(span, pyramid.height - box.y)):
        return None
    col, row = box.x // span, box.y // span
    width = min(level.tile_width, level.width - col * level.tile_width)
    height = min(level.tile_height, level.height - row * level.tile_height)
    if width <= 0 or height <= 0 or abs(plan.width - width) > 1 or abs(plan.height - height) > 1:
        return None
    return TilePosition(index, col, row, width, height)


def stored_tile(pyramid: Pyramid, read: Reader, plan: Plan) -> bytes | None:
    """A tile a viewer asked for, straight from the pyramid, or None if it is not one.

    An aligned tile inside the image is sent as stored: its JPEG bytes, with its
    level's tables spliced in front, no pixel decoded. A tile at the right or
    bottom edge (stored padded to full size) was cut when the pyramid was built
    (:mod:`edges`); in an older pyramid it is decoded alone, cut and encoded.
    Anything else goes through :func:`render`.
    """
    position = tile_position(pyramid, plan)
    if position is None:
        return None
    level = pyramid.tiff[position.index]
    if position.stored_as_is(pyramid, plan):
        return level.tile_jpeg(read, position.col, position.row)
    made = (pyramid.edges or {}).get((position.index, position.col, position.row))
    if made is not None and (plan.width, plan.height) == (made[2], made[3]):
        return read(made[0], made[1])  # made when the pyramid was built
    return render_edge(level, read, position.col, position.row, (plan.width, plan.height))


def render(pyramids: Pyramids, source: ImageSource, pyramid: Pyramid, plan: Plan) -> bytes:
    """The encoded image the plan describes, decoded from the nearest level."""
    index = choose_level(pyramid, plan)
    image = _crop(pyramids.open_level(source, index), pyramid, index, plan)
    image = _scale(image, plan.width, plan.height)
    request = plan.request
    if request.rotation.mirror:
        image = image.fliphor()
    image = _rotate(image, request.rotation.degrees)
    image = _quality(image, request.quality)
    return _encode(image, request.format, bitonal=request.quality == "bitonal")


def _crop(image: pyvips.Image, pyramid: Pyramid, index: int, plan: Plan) -> pyvips.Image:
    level = pyramid.levels[index]
    factor = level.scale_factor
    box = plan.box
    left = min(_round(box.x / factor), level.width - 1)
    top = min(_round(box.y / factor), level.height - 1)
    right = max(left + 1, min(_round((box.x + box.width) / factor), level.width))
    bottom = max(top + 1, min(_round((box.y + box.height) / factor), level.height))
    if (left, top, right, bottom) == (0, 0, image.width, image.height):
        return image
    return image.crop(left, top, right - left, bottom - top)


def _scale(image: pyvips.Image, width: int, height: int) -> pyvips.Image:
    """Resize to exactly ``width`` × ``height`` (each axis scaled on its own)."""
    if (image.width, image.height) != (width, height):
        image = image.resize(width / image.width, vscale=height / image.height)
    if (image.width, image.height) != (width, height):
        # libvips rounds its output size; the IIIF size is exact, so trim or
        # extend the last row or column if rounding ever differs by one.
        image = image.embed(0, 0, width, height, extend="copy")
    return image


def _rotate(image: pyvips.Image, degrees: float) -> pyvips.Image:
    if degrees == 0:
        return image
    if degrees in (90, 180, 270):
        return image.rot(f"d{int(degrees)}")
    # Arbitrary angles leave corners outside the picture: make them
    # transparent; formats without alpha flatten them to white when encoding.
    if not image.hasalpha():
        image = image.bandjoin(255)
    return image.rotate(degrees, background=[0] * image.bands)


def _quality(image: pyvips.Image, quality: str) -> pyvips.Image:
    if quality in ("default", "color"):
        return image
    alpha = image.extract_band(image.bands - 1) if image.hasalpha() else None
    colour = image.extract_band(0, n=image.bands - 1) if alpha is not None else image
    gray = colour.colourspace("b-w") if colour.bands >= 3 else colour.extract_band(0)
    if quality == "bitonal":
        gray = gray > 127  # 255 where lighter than mid-gray, else 0
    return gray.bandjoin(alpha) if alpha is not None else gray


def _encode(image: pyvips.Image, fmt: str, *, bitonal: bool) -> bytes:
    if image.format != "uchar":
        image = image.cast("uchar")
    if fmt == "jpg":
        if image.hasalpha():
            image = image.flatten(background=[255] * (image.bands - 1))
        # Optimised Huffman tables make small answers (tiles, thumbnails) a little
        # smaller, but libjpeg then holds every coefficient of the image in memory:
        # for a 25-megapixel answer that is ~140 MB more per worker.
        small = image.width * image.height <= OPTIMIZE_JPEG_PIXELS
        return image.jpegsave_buffer(Q=JPEG_QUALITY, keep="none", optimize_coding=small)
    if fmt == "png":
        return image.pngsave_buffer(compression=6, keep="none",
                                    bitdepth=1 if bitonal and image.bands == 1 else 8)
    if fmt == "webp":
        return image.webpsave_buffer(Q=WEBP_QUALITY, keep="none")
    if fmt == "gif":
        return image.gifsave_buffer(keep="none")
    if fmt == "tif":
        return image.tiffsave_buffer(compression="deflate", keep="none")
    raise ValueError(f"no encoder for {fmt!r}")  # parse_image_request admits no other


def _round(value: float) -> int:
    return math.floor(value + 0.5)
