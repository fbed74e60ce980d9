"""The image information document (info.json, IIIF Image API 3.0 section 5).

It tells a viewer what it may ask for: the full size, the tiles and sizes that
the stored pyramid answers cheaply, and the limits past which requests fail.
"""

from __future__ import annotations

from .pyramid import TILE_SIZE, Pyramid
from .request import FORMATS, QUALITIES, Limits, largest_size

CONTEXT = "http://iiif.io/api/image/3/context.json"
PROFILE = "level2"
PROFILE_URI = "http://iiif.io/api/image/3/level2.json"

#: Features this server implements, including those level 2 already implies,
#: so that a client need not fetch the profile document to know them.
FEATURES = [
    "baseUriRedirect", "canonicalLinkHeader", "cors", "jsonldMediaType", "mirroring",
    "profileLinkHeader", "regionByPct", "regionByPx", "regionSquare", "rotationArbitrary",
    "rotationBy90s", "sizeByConfinedWh", "sizeByH", "sizeByPct", "sizeByW", "sizeByWh",
    "sizeUpscaling",
]


def image_information(service_id: str, pyramid: Pyramid, limits: Limits) -> dict:
    """The info.json of ``pyramid`` published at ``service_id`` (no trailing slash)."""
    return {
        "@context": CONTEXT,
        "id": service_id,
        "type": "ImageService3",
        "protocol": "http://iiif.io/api/image",
        "profile": PROFILE,
        "width": pyramid.width,
        "height": pyramid.height,
        "maxWidth": limits.max_width,
        "maxArea": limits.max_area,
        "sizes": [{"width": w, "height": h} for w, h in _sizes(pyramid, limits)],
        "tiles": [{
            "width": TILE_SIZE,
            "scaleFactors": [level.scale_factor for level in pyramid.levels],
        }],
        "extraQualities": [q for q in QUALITIES if q != "default"],
        "extraFormats": [f for f in FORMATS if f not in ("jpg", "png")],
        "extraFeatures": FEATURES,
    }


def _sizes(pyramid: Pyramid, limits: Limits) -> list[tuple[int, int]]:
    """The stored levels within the limits, smallest first, and the ``max`` size
    when the limits keep the full image out (the spec requires every listed
    size to be within the limits)."""
    sizes = [
        (level.width, level.height) for level in reversed(pyramid.levels)
        if max(level.width, level.height) <= limits.max_width
        and level.width * level.height <= limits.max_area
    ]
    largest = largest_size(pyramid.width, pyramid.height, limits, allow_upscale=False)
    if largest not in sizes:
        sizes.append(largest)
    return sizes
