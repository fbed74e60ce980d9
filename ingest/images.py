"""Page images: checks before decoding, and the pyramidal TIFFs served as tiles.

A master is kept byte for byte in the OCFL object. What the image server reads
is a derivative: an sRGB, 256-pixel-tiled, JPEG-compressed pyramidal TIFF whose
levels halve in size (the TIFF pages 0, 1, 2, ...), so that every tile a IIIF
viewer asks for exists at a stored level.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pyvips

from iiif_server.edges import append_edges
from repository.errors import IngestError, Problem

#: Leading bytes of the formats Sen accepts as masters. Checking them first
#: means a renamed PDF or a text file is refused before any decoder sees it.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "jpeg": (b"\xff\xd8\xff",),
    "png": (b"\x89PNG\r\n\x1a\n",),
    "tiff": (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"),
    "jp2": (b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xffO\xffQ"),
}
EXTENSIONS = {"jpeg": "jpg", "png": "png", "tiff": "tif", "jp2": "jp2"}


@dataclass(frozen=True)
class ImageInfo:
    width: int
    height: int
    format: str

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def sniff(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(16)
    for name, signatures in SIGNATURES.items():
        if any(head.startswith(s) for s in signatures):
            return name
    return None


def inspect(path: Path, max_pixels: int, *, label: str | None = None, row: int | None = None,
            field: str = "files") -> ImageInfo:
    """Read only the header; refuse unknown formats and images over ``max_pixels``."""
    where = dict(file=label or str(path), row=row, field=field)
    try:
        kind = sniff(path)
    except OSError as exc:
        raise IngestError(Problem(f"cannot read the file ({exc.strerror})", **where)) from None
    if kind is None:
        raise IngestError(Problem("not a TIFF, JPEG, PNG or JPEG 2000 image", **where))
    try:
        header = pyvips.Image.new_from_file(str(path), access="sequential")
    except pyvips.Error as exc:
        raise IngestError(Problem(f"unreadable {kind.upper()} image: {_first_line(exc)}",
                                  **where)) from None
    pixels = header.width * header.height
    if pixels > max_pixels:
        raise IngestError(Problem(
            f"image header says {header.width} × {header.height} pixels ({pixels:,}), over the "
            f"limit of {max_pixels:,} (setting max_image_pixels); refused before decoding",
            **where))
    return ImageInfo(width=header.width, height=header.height, format=kind)


def verify_decodes(path: Path, *, label: str | None = None, row: int | None = None,
                   field: str = "files") -> None:
    """Decode every pixel once, so a truncated or corrupt file is found before any write."""
    try:
        image = pyvips.Image.new_from_file(str(path), access="sequential", fail_on="error")
        image.avg()
    except pyvips.Error as exc:
        raise IngestError(Problem(f"corrupt or truncated image: {_first_line(exc)}",
                                  file=label or str(path), row=row, field=field)) from None


def to_srgb(image: pyvips.Image) -> pyvips.Image:
    """Orientation applied, colour managed to 8-bit sRGB, alpha flattened onto white."""
    image = image.autorot()
    if image.get_typeof("icc-profile-data") != 0:
        try:
            image = image.icc_transform("srgb", embedded=True, intent="perceptual")
        except pyvips.Error:
            pass  # a broken profile: fall back to the interpretation below
    if image.hasalpha():
        image = image.flatten(background=[255] * (image.bands - 1))
    if image.interpretation != "srgb" or image.bands != 3 or image.format != "uchar":
        image = image.colourspace("srgb")  # also makes 16-bit and CMYK 8-bit sRGB
    if image.bands > 3:
        image = image.extract_band(0, n=3)
    if image.format != "uchar":  # a 16-bit image that claimed to be 8-bit sRGB
        image = image.cast("uchar", shift=True)
    return image


def build_pyramid(source: Path, dest: Path, *, tile_size: int = 256,
                  quality: int = 85) -> ImageInfo:
    """Write the pyramidal TIFF of ``source`` to ``dest`` (atomically: temp file, then rename)."""
    image = to_srgb(pyvips.Image.new_from_file(str(source), access="sequential",
                                               fail_on="error"))
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    image.tiffsave(
        str(tmp), tile=True, tile_width=tile_size, tile_height=tile_size, pyramid=True,
        compression="jpeg", Q=quality, bigtiff=image.width * image.height > 1 << 28,
    )
    append_edges(tmp)  # the edge tiles, cut once here rather than on every request
    os.replace(tmp, dest)
    return ImageInfo(width=image.width, height=image.height, format="tiff")


def _first_line(exc: Exception) -> str:
    text = str(exc).strip().splitlines()
    detail = [t for t in text[1:] if t.strip()]
    return (detail[0] if detail else text[0] if text else "error").strip()
