"""The image request: the URL's region, size, rotation, quality and format.

Parsing is strict and cheap, so that hostile or malformed URLs are refused with
a 400 before any file is opened. The parsed parameters then resolve, against
the dimensions of the full image and the server's size limits, to exact pixel
numbers, computed as the IIIF Image API 3.0 defines them (section 4); the same
numbers give the canonical form of the request, used for the ``Link`` header
and as the cache key.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass

from repository.errors import BadRequest

QUALITIES = ("default", "color", "gray", "bitonal")
FORMATS = {
    "jpg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "gif": "image/gif",
    "tif": "image/tiff",
}
#: Most digits accepted before the decimal point of any number in a request:
#: enough for any real image, few enough that no arithmetic on them overflows.
MAX_DIGITS = 12

_INT = rf"[0-9]{{1,{MAX_DIGITS}}}"
_FLOAT = rf"(?:[0-9]{{1,{MAX_DIGITS}}}(?:\.[0-9]{{0,20}})?|\.[0-9]{{1,20}})"
_PX_REGION = re.compile(rf"({_INT}),({_INT}),({_INT}),({_INT})")
_PCT_REGION = re.compile(rf"pct:({_FLOAT}),({_FLOAT}),({_FLOAT}),({_FLOAT})")
_SIZE = re.compile(
    rf"(?P<up>\^)?(?:(?P<max>max)|pct:(?P<pct>{_FLOAT})"
    rf"|(?P<bang>!)?(?P<w>{_INT})?,(?P<h>{_INT})?)"
)
_ROTATION = re.compile(rf"(!)?({_FLOAT})")


@dataclass(frozen=True)
class Limits:
    """Largest output a request may produce; ``max_width`` also bounds the height.

    The info.json publishes ``maxWidth`` without ``maxHeight``, and the
    specification then tells clients to assume ``maxHeight = maxWidth``.
    """

    max_width: int
    max_area: int


@dataclass(frozen=True)
class Box:
    """A region of the full image, in full-image pixels."""

    x: int
    y: int
    width: int
    height: int


@dataclass(frozen=True)
class Region:
    kind: str  # "full", "square", "px" or "pct"
    values: tuple[float, float, float, float] = (0, 0, 0, 0)

    def resolve(self, width: int, height: int) -> Box:
        """The region clipped to the image; 400 if it is empty or lies outside."""
        if self.kind == "full":
            return Box(0, 0, width, height)
        if self.kind == "square":
            side = min(width, height)
            return Box((width - side) // 2, (height - side) // 2, side, side)
        x, y, w, h = self.values
        if self.kind == "pct":
            if w == 0 or h == 0:
                raise BadRequest("region has zero width or height")
            left, top = _round(x * width / 100), _round(y * height / 100)
            # A tiny but non-zero percentage still asks for something: one pixel.
            w = max(1, _round((x + w) * width / 100) - left)
            h = max(1, _round((y + h) * height / 100) - top)
            x, y = left, top
        x, y, w, h = int(x), int(y), int(w), int(h)
        if w == 0 or h == 0:
            raise BadRequest("region has zero width or height")
        if x >= width or y >= height:
            raise BadRequest(f"region starts outside the image ({width} × {height} pixels)")
        return Box(x, y, min(w, width - x), min(h, height - y))

    def canonical(self, box: Box, width: int, height: int) -> str:
        if box == Box(0, 0, width, height):
            return "full"
        return f"{box.x},{box.y},{box.width},{box.height}"


@dataclass(frozen=True)
class Size:
    kind: str  # "max", "pct", "w", "h", "wh" or "confined"
    upscale: bool = False
    width: int | None = None
    height: int | None = None
    percent: float | None = None

    def resolve(self, region_w: int, region_h: int, limits: Limits) -> tuple[int, int]:
        """Output pixel dimensions for a region, or 400 (upscaling without ``^``,
        zero pixels, over the limits)."""
        if self.kind == "max":
            return largest_size(region_w, region_h, limits, allow_upscale=self.upscale)
        if self.kind == "confined":
            # !w,h fits the region in the box. When that enlarges the region,
            # the request needs ^ like any other: the spec's rule for sizes
            # without ^, as the IIIF validator (size_noup) and Cantaloupe read it.
            w, h = _fit(region_w, region_h, self.width, self.height)
            if not self.upscale and (w > region_w or h > region_h):
                raise BadRequest(
                    f"size {self} enlarges the region ({region_w} × {region_h}); "
                    "prefix it with ^ to upscale"
                )
            # The limits shrink the box instead of failing: the spec asks for the
            # largest image within "w, h, or server-imposed limits".
            box_w, box_h = min(w, limits.max_width), min(h, limits.max_width)
            w, h = _fit(region_w, region_h, box_w, box_h)
            return _within_area(w, h, region_w, region_h, limits.max_area)
        if self.kind == "pct":
            w = _round(region_w * self.percent / 100)
            h = _round(region_h * self.percent / 100)
        elif self.kind == "w":
            w, h = self.width, _round(region_h * self.width / region_w)
        elif self.kind == "h":
            w, h = _round(region_w * self.height / region_h), self.height
        else:
            w, h = self.width, self.height
        if w < 1 or h < 1:
            raise BadRequest(f"size {self} gives an image of {w} × {h} pixels")
        if not self.upscale and (w > region_w or h > region_h):
            raise BadRequest(
                f"size {self} is larger than the region ({region_w} × {region_h}); "
                "prefix it with ^ to upscale"
            )
        if w > limits.max_width or h > limits.max_width or w * h > limits.max_area:
            raise BadRequest(
                f"size {w} × {h} is over the limits (maxWidth and maxHeight "
                f"{limits.max_width}, maxArea {limits.max_area})"
            )
        return w, h

    def canonical(self, w: int, h: int, region_w: int, region_h: int, limits: Limits) -> str:
        if (w, h) == largest_size(region_w, region_h, limits, allow_upscale=False):
            return "max"
        if w > region_w or h > region_h:
            if (w, h) == largest_size(region_w, region_h, limits, allow_upscale=True):
                return "^max"
            return f"^{w},{h}"
        return f"{w},{h}"

    def __str__(self) -> str:
        up = "^" if self.upscale else ""
        if self.kind == "max":
            return f"{up}max"
        if self.kind == "pct":
            return f"{up}pct:{_number(self.percent)}"
        bang = "!" if self.kind == "confined" else ""
        w = "" if self.width is None else self.width
        h = "" if self.height is None else self.height
        return f"{up}{bang}{w},{h}"


@dataclass(frozen=True)
class Rotation:
    mirror: bool
    degrees: float  # in [0, 360)

    def canonical(self) -> str:
        return ("!" if self.mirror else "") + _number(self.degrees)


@dataclass(frozen=True)
class ImageRequest:
    region: Region
    size: Size
    rotation: Rotation
    quality: str
    format: str

    @property
    def media_type(self) -> str:
        return FORMATS[self.format]


@dataclass(frozen=True)
class Plan:
    """An image request resolved against one image: every number the processor needs."""

    request: ImageRequest
    box: Box
    width: int
    height: int
    canonical: str  # "{region}/{size}/{rotation}/{quality}.{format}"


def plan(request: ImageRequest, width: int, height: int, limits: Limits) -> Plan:
    """Resolve ``request`` for a full image of ``width`` × ``height`` pixels."""
    box = request.region.resolve(width, height)
    w, h = request.size.resolve(box.width, box.height, limits)
    quality = "default" if request.quality == "color" else request.quality
    canonical = "/".join((
        request.region.canonical(box, width, height),
        request.size.canonical(w, h, box.width, box.height, limits),
        request.rotation.canonical(),
        f"{quality}.{request.format}",
    ))
    return Plan(request, box, w, h, canonical)


def parse_image_request(region: str, size: str, rotation: str, quality_format: str
                        ) -> ImageRequest:
    """Parse the four path segments that follow the identifier; 400 on any error."""
    quality, dot, fmt = quality_format.rpartition(".")
    if not dot:
        raise BadRequest(f"no format in {_show(quality_format)}: add .jpg, .png, ...")
    if quality not in QUALITIES:
        raise BadRequest(f"unknown quality {_show(quality)}; use one of {', '.join(QUALITIES)}")
    if fmt not in FORMATS:
        raise BadRequest(f"unsupported format {_show(fmt)}; use one of {', '.join(FORMATS)}")
    return ImageRequest(parse_region(region), parse_size(size), parse_rotation(rotation),
                        quality, fmt)


def parse_region(text: str) -> Region:
    if text in ("full", "square"):
        return Region(text)
    if match := _PX_REGION.fullmatch(text):
        return Region("px", tuple(int(v) for v in match.groups()))
    if match := _PCT_REGION.fullmatch(text):
        x, y, w, h = (float(v) for v in match.groups())
        if x > 100 or y > 100:
            raise BadRequest(f"region {_show(text)} starts outside the image")
        return Region("pct", (x, y, min(w, 100.0), min(h, 100.0)))
    raise BadRequest(f"invalid region {_show(text)}: use full, square, x,y,w,h or pct:x,y,w,h")


def parse_size(text: str) -> Size:
    match = _SIZE.fullmatch(text)
    if not match:
        raise BadRequest(
            f"invalid size {_show(text)}: use max, w,, ,h, pct:n, w,h or !w,h (^ to upscale)"
        )
    up = bool(match["up"])
    if match["max"]:
        return Size("max", up)
    if match["pct"] is not None:
        percent = float(match["pct"])
        if percent == 0:
            raise BadRequest("size pct:0 gives an empty image")
        if percent > 100 and not up:
            raise BadRequest(f"size {_show(text)} is over 100%; use ^pct: to upscale")
        return Size("pct", up, percent=percent)
    w = int(match["w"]) if match["w"] else None
    h = int(match["h"]) if match["h"] else None
    if match["bang"]:
        if w is None or h is None:
            raise BadRequest(f"invalid size {_show(text)}: !w,h needs both numbers")
        kind = "confined"
    else:
        kind = "wh" if w is not None and h is not None else "w" if w is not None else "h"
        if w is None and h is None:
            raise BadRequest("invalid size ',': give a width, a height or both")
    if w == 0 or h == 0:
        raise BadRequest(f"size {_show(text)} has a zero dimension")
    return Size(kind, up, w, h)


def parse_rotation(text: str) -> Rotation:
    match = _ROTATION.fullmatch(text)
    if not match:
        raise BadRequest(f"invalid rotation {_show(text)}: use n or !n, 0 ≤ n ≤ 360")
    degrees = float(match[2])
    if degrees > 360:
        raise BadRequest(f"rotation {_show(text)} is over 360 degrees")
    return Rotation(bool(match[1]), degrees % 360)


def _round(value: float) -> int:
    """Round half up: Python's round() goes to even, which would make 0.5 px vanish."""
    return math.floor(value + 0.5)


def _fit(region_w: int, region_h: int, box_w: int, box_h: int) -> tuple[int, int]:
    """The largest size with the region's aspect ratio that fits in the box (at least 1 px)."""
    if box_w * region_h <= box_h * region_w:  # the width is the binding side
        return box_w, min(box_h, max(1, _round(region_h * box_w / region_w)))
    return min(box_w, max(1, _round(region_w * box_h / region_h))), box_h


def _within_area(w: int, h: int, region_w: int, region_h: int, max_area: int
                 ) -> tuple[int, int]:
    if w * h <= max_area:
        return w, h
    scale = math.sqrt(max_area / (region_w * region_h))
    w, h = max(1, math.floor(region_w * scale)), max(1, math.floor(region_h * scale))
    while w * h > max_area and (w > 1 or h > 1):  # float error at the boundary
        w, h = (w - 1, h) if w * region_h > h * region_w else (w, h - 1)
    return w, h


@functools.lru_cache(maxsize=4096)
def largest_size(region_w: int, region_h: int, limits: Limits, *, allow_upscale: bool
                 ) -> tuple[int, int]:
    """``max`` (the region, shrunk to the limits) or ``^max`` (grown or shrunk to them)."""
    box_w = box_h = limits.max_width
    if not allow_upscale:
        box_w, box_h = min(box_w, region_w), min(box_h, region_h)
    w, h = _fit(region_w, region_h, box_w, box_h)
    return _within_area(w, h, region_w, region_h, limits.max_area)


def _number(value: float) -> str:
    """Integers without a point, other values without trailing zeros (spec 4.7)."""
    if value == int(value):
        return str(int(value))
    return f"{value:.10f}".rstrip("0").rstrip(".")


def _show(text: str) -> str:
    """Quote user input in an error message, cut short so a message stays short."""
    return repr(text if len(text) <= 40 else text[:40] + "…")
