"""The IIIF Image API 3.0 server: URL grammar, pixels out, HTTP around them.

Pyramids are built with ``ingest.images.build_pyramid`` from a real scan
(``shared/data/scans/large/tractor.jpg``, 4031 × 3023) and from a small
synthetic picture whose known colours make mirroring, rotation and the
qualities checkable pixel by pixel. The integration test runs the IIIF
community's validator against a live server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from urllib.parse import quote

import pytest
import pyvips
from hypothesis import given, settings
from hypothesis import strategies as st
from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.serving import make_server
from werkzeug.test import Client
from werkzeug.wrappers import Response

from iiif_server import DirectoryResolver, ImageSource, create_app
from iiif_server.processor import choose_level
from iiif_server.request import Limits, parse_image_request, parse_rotation, parse_size, plan
from ingest.images import build_pyramid
from repository.errors import BadRequest, Forbidden, NotFound
from tests.conftest import free_port

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
TRACTOR = DATA / "scans" / "large" / "tractor.jpg"  # 4031 × 3023
VALIDATOR_ID = "67352ccc-d1b0-11e1-89ae-279075081939"
LIMITS = Limits(10_000, 25_000_000)

RED, BLUE, WHITE, BLACK = (255, 0, 0), (0, 0, 255), (255, 255, 255), (0, 0, 0)


@pytest.fixture(scope="module")
def root(tmp_path_factory) -> Path:
    """A folder of pyramids: the tractor scan, and "quads", a 512 × 384 picture
    whose quarters are red (top left), blue (top right), white (bottom left)
    and black (bottom right)."""
    root = tmp_path_factory.mktemp("pyramids")
    build_pyramid(TRACTOR, root / "tractor.tif")
    top = pyvips.Image.black(256, 192).new_from_image(RED).join(
        pyvips.Image.black(256, 192).new_from_image(BLUE), "horizontal")
    bottom = pyvips.Image.black(256, 192).new_from_image(WHITE).join(
        pyvips.Image.black(256, 192).new_from_image(BLACK), "horizontal")
    source = root / "quads.png"
    top.join(bottom, "vertical").copy(interpretation="srgb").cast("uchar").pngsave(str(source))
    build_pyramid(source, root / "quads.tif")
    return root


@pytest.fixture(scope="module")
def app(root):
    return create_app(DirectoryResolver(root))


@pytest.fixture
def client(app) -> Client:
    return Client(app)


def decode(response) -> pyvips.Image:
    assert response.status_code == 200, response.get_data(as_text=True)
    return pyvips.Image.new_from_buffer(response.get_data(), "")


def near(pixel, colour, tolerance=24) -> bool:
    """The pyramid is JPEG-compressed, so colours come back close, not exact."""
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour, strict=True))


# --- the URL grammar ----------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("max", ("max", False, None, None, None)),
    ("^max", ("max", True, None, None, None)),
    ("150,", ("w", False, 150, None, None)),
    ("^,150", ("h", True, None, 150, None)),
    ("pct:41.6", ("pct", False, None, None, 41.6)),
    ("^pct:120", ("pct", True, None, None, 120.0)),
    ("225,100", ("wh", False, 225, 100, None)),
    ("!225,100", ("confined", False, 225, 100, None)),
    ("^!360,360", ("confined", True, 360, 360, None)),
])
def test_size_syntax(text, expected):
    size = parse_size(text)
    assert (size.kind, size.upscale, size.width, size.height, size.percent) == expected
    assert str(size) == text


@pytest.mark.parametrize("text", [
    "full", ",", "!,100", "!100,", "pct:101", "pct:0", "0,", ",0", "-5,", "1e3,", "+5,",
    "5,5,5", "^", "max ", "pct:", "pct:-1", "pct:nan", "1" * 13 + ",", "^^max", "!^5,5",
])
def test_invalid_sizes_are_bad_requests(text):
    with pytest.raises(BadRequest):
        parse_size(text)


@pytest.mark.parametrize("text, mirror, degrees, canonical", [
    ("0", False, 0, "0"), ("!0", True, 0, "!0"), ("90", False, 90, "90"),
    ("22.50", False, 22.5, "22.5"), ("360", False, 0, "0"), ("!.5", True, 0.5, "!0.5"),
])
def test_rotation_syntax(text, mirror, degrees, canonical):
    rotation = parse_rotation(text)
    assert (rotation.mirror, rotation.degrees, rotation.canonical()) == (mirror, degrees, canonical)


@pytest.mark.parametrize("text", ["-90", "361", "360.1", "nan", "inf", "1e2", "!!0", "9x", ""])
def test_invalid_rotations_are_bad_requests(text):
    with pytest.raises(BadRequest):
        parse_rotation(text)


@pytest.mark.parametrize("region, size, expected", [
    ("full", "max", (4031, 3023)),
    ("full", "256,", (256, 192)),
    ("full", ",100", (133, 100)),
    ("full", "pct:10", (403, 302)),
    ("full", "!300,300", (300, 225)),
    ("full", "200,100", (200, 100)),
    ("full", "^5000,", (5000, 3750)),
    ("full", "^!5000,5000", (5000, 3750)),
    ("square", "max", (3023, 3023)),
    ("100,200,300,400", "max", (300, 400)),
    ("pct:50,50,50,50", "max", (2015, 1511)),
    ("4000,3000,100,100", "max", (31, 23)),  # clipped at the image's edge
    ("0,0,1,1", "^max", (5000, 5000)),  # up to maxArea
])
def test_output_size_is_what_the_spec_computes(region, size, expected):
    request = parse_image_request(region, size, "0", "default.jpg")
    resolved = plan(request, 4031, 3023, LIMITS)
    assert (resolved.width, resolved.height) == expected


@pytest.mark.parametrize("region, size", [
    ("0,0,0,10", "max"), ("4031,0,10,10", "max"), ("0,3023,10,10", "max"),
    ("pct:100,0,10,10", "max"), ("pct:0,0,0,5", "max"),
    ("full", "4032,"), ("full", ",3024"), ("full", "4032,3000"),  # upscaling without ^
    ("full", "!5000,5000"), ("10,10,10,10", "!20,20"),
    ("full", "^10001,"), ("full", "^6000,6000"),  # over maxWidth, over maxArea
    ("0,0,1000,1", "10,"),  # the height would round to zero
])
def test_sizes_the_spec_refuses(region, size):
    request = parse_image_request(region, size, "0", "default.jpg")
    with pytest.raises(BadRequest):
        plan(request, 4031, 3023, LIMITS)


def test_max_and_confined_sizes_shrink_to_the_limits():
    small = Limits(max_width=1000, max_area=500_000)
    for size in ("max", "!3000,3000"):
        resolved = plan(parse_image_request("full", size, "0", "default.jpg"), 4031, 3023, small)
        assert resolved.width <= 1000 and resolved.width * resolved.height <= 500_000
        assert abs(resolved.width / resolved.height - 4031 / 3023) < 0.01


@pytest.mark.parametrize("path, canonical", [
    ("full/max/0/default.jpg", "full/max/0/default.jpg"),
    ("full/4031,3023/0/color.jpg", "full/max/0/default.jpg"),
    ("0,0,4031,3023/pct:100/360/default.png", "full/max/0/default.png"),
    ("full/256,/!90.0/gray.webp", "full/256,192/!90/gray.webp"),
    ("pct:0,0,50,50/^3000,/22.5/bitonal.tif", "0,0,2016,1512/^3000,2250/22.5/bitonal.tif"),
    ("0,0,1,1/^max/0/default.gif", "0,0,1,1/^max/0/default.gif"),
])
def test_canonical_form(path, canonical):
    resolved = plan(parse_image_request(*path.split("/")), 4031, 3023, LIMITS)
    assert resolved.canonical == canonical


# --- pixels --------------------------------------------------------------------------------


@pytest.mark.parametrize("path, size", [
    ("full/max/0/default.jpg", (4031, 3023)),
    ("full/256,/0/default.jpg", (256, 192)),
    ("full/,100/0/default.png", (133, 100)),
    ("full/!300,300/0/default.webp", (300, 225)),
    ("square/!500,500/0/default.jpg", (500, 500)),
    ("pct:50,50,50,50/max/0/default.jpg", (2015, 1511)),
    ("4000,3000,100,100/max/0/default.png", (31, 23)),
    ("0,0,1024,1024/256,/0/default.jpg", (256, 256)),  # a tile at scale factor 4
    ("3840,2816,191,207/48,52/0/default.jpg", (48, 52)),  # the corner tile at factor 4
    ("full/200,100/90/default.jpg", (100, 200)),
    ("0,0,10,10/^333,222/0/default.gif", (333, 222)),
    ("full/64,/0/default.tif", (64, 48)),
])
def test_output_dimensions(client, path, size):
    image = decode(client.get(f"/tractor/{path}"))
    assert (image.width, image.height) == size


def test_small_requests_are_cut_from_a_small_level(app, root):
    opened = []
    original = app.pyramids.open_level

    def recording(source, index):
        opened.append(index)
        return original(source, index)

    app.pyramids.open_level = recording
    app.rendered.items.clear()  # answers rendered by earlier tests would not be re-read
    try:
        client = Client(app)
        assert decode(client.get("/tractor/full/256,/0/default.jpg")).width == 256
        assert decode(client.get("/tractor/0,0,1024,1024/256,/0/default.jpg")).width == 256
        assert decode(client.get("/tractor/0,0,512,512/512,/0/default.jpg")).width == 512
    finally:
        del app.pyramids.open_level
    # 4031 px wide: levels 4031, 2015, 1007, 503, 251. A 256-px thumbnail needs
    # level 3 (503 px); a tile at scale factor 4 is the stored tile of level 2,
    # sent without opening the level at all; 512 px at full resolution is level 0.
    assert opened == [3, 0]


def test_level_choice_never_reads_fewer_pixels_than_it_returns(app):
    source = app.resolver("tractor")
    pyramid = app.pyramids.describe(source)
    assert [level.scale_factor for level in pyramid.levels] == [1, 2, 4, 8, 16]
    for path, level in [("full/252,/0/default.jpg", 3),  # 251 px at level 4 is one short
                        ("full/251,/0/default.jpg", 4), ("full/max/0/default.jpg", 0),
                        ("full/^5000,/0/default.jpg", 0)]:
        resolved = plan(parse_image_request(*path.split("/")), 4031, 3023, LIMITS)
        assert choose_level(pyramid, resolved) == level, path


def test_colour_mirroring_and_rotation(client):
    image = decode(client.get("/quads/full/max/0/default.png"))
    assert near(image(64, 64), RED) and near(image(448, 64), BLUE)
    mirrored = decode(client.get("/quads/full/max/!0/default.png"))
    assert near(mirrored(64, 64), BLUE) and near(mirrored(448, 64), RED)
    turned = decode(client.get("/quads/full/max/90/default.png"))  # clockwise
    assert (turned.width, turned.height) == (384, 512)
    assert near(turned(64, 64), WHITE) and near(turned(320, 64), RED)
    both = decode(client.get("/quads/full/max/!90/default.png"))  # mirror, then rotate
    assert near(both(64, 64), BLACK) and near(both(320, 64), BLUE)


def test_arbitrary_rotation_has_transparent_or_white_corners(client):
    png = decode(client.get("/quads/full/max/45/default.png"))
    assert png.bands == 4 and png(0, 0)[3] == 0 and png(png.width // 2, png.height // 2)[3] == 255
    # The bounding box of a 512 × 384 picture turned by 45°: (512 + 384) / √2.
    assert abs(png.width - 634) <= 1 and abs(png.height - 634) <= 1
    jpg = decode(client.get("/quads/full/max/45/default.jpg"))
    assert jpg.bands == 3 and near(jpg(2, 2), WHITE, tolerance=8)


def test_gray_and_bitonal(client):
    gray = decode(client.get("/quads/full/max/0/gray.png"))
    assert gray.bands == 1
    red, blue, white, black = gray(64, 64)[0], gray(448, 64)[0], gray(64, 320)[0], gray(448, 320)[0]
    assert white > red > blue > black  # luminance order of the four colours
    for fmt in ("png", "tif"):  # (the PNG is 1-bit; the TIFF keeps 8 bits per pixel)
        bitonal = decode(client.get(f"/quads/full/max/0/bitonal.{fmt}"))
        assert bitonal.bands == 1
        histogram = bitonal.hist_find().tolist()[0]
        assert sum(histogram[1:255]) == 0  # nothing between black and white
        assert bitonal(64, 320)[0] == 255 and bitonal(448, 320)[0] == 0
        assert bitonal(448, 64)[0] == 0  # blue is darker than mid-gray
    jpg = decode(client.get("/quads/full/max/0/gray.jpg"))
    assert jpg.bands == 1


@pytest.mark.parametrize("fmt, media_type, loader", [
    ("jpg", "image/jpeg", "jpegload"), ("png", "image/png", "pngload"),
    ("webp", "image/webp", "webpload"), ("gif", "image/gif", "gifload"),
    ("tif", "image/tiff", "tiffload"),
])
def test_formats(client, fmt, media_type, loader):
    response = client.get(f"/quads/full/64,/0/default.{fmt}")
    assert response.headers["Content-Type"] == media_type
    assert decode(response).get("vips-loader").startswith(loader)


# --- information, routing and HTTP ------------------------------------------------------------


def test_image_information(client):
    response = client.get("/tractor/info.json")
    assert response.status_code == 200
    info = response.get_json(force=True)
    assert list(info)[0] == "@context"
    assert info["@context"] == "http://iiif.io/api/image/3/context.json"
    assert (info["id"], info["type"], info["profile"]) == (
        "http://localhost/tractor", "ImageService3", "level2")
    assert info["protocol"] == "http://iiif.io/api/image"
    assert (info["width"], info["height"]) == (4031, 3023)
    assert info["tiles"] == [{"width": 256, "scaleFactors": [1, 2, 4, 8, 16]}]
    assert [(s["width"], s["height"]) for s in info["sizes"]] == [
        (251, 188), (503, 377), (1007, 755), (2015, 1511), (4031, 3023)]
    assert (info["maxWidth"], info["maxArea"]) == (10_000, 25_000_000)
    assert info["extraQualities"] == ["color", "gray", "bitonal"]
    assert set(info["extraFormats"]) == {"webp", "gif", "tif"}
    assert {"mirroring", "rotationArbitrary", "sizeUpscaling", "canonicalLinkHeader",
            "profileLinkHeader"} <= set(info["extraFeatures"])
    # Every listed size is served at exactly that size.
    for size in info["sizes"][:3]:
        image = decode(client.get(f"/tractor/full/{size['width']},{size['height']}/0/default.jpg"))
        assert (image.width, image.height) == (size["width"], size["height"])


@pytest.mark.parametrize("accept, media_type", [
    (None, 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'),
    ("application/ld+json", 'application/ld+json;profile="http://iiif.io/api/image/3/context.json"'),
    ("application/json", "application/json"),
    ("*/*", "application/json"),
])
def test_info_content_negotiation(client, accept, media_type):
    response = client.get("/quads/info.json", headers={"Accept": accept} if accept else {})
    assert response.headers["Content-Type"] == media_type
    assert response.headers["Vary"] == "Accept"


def test_id_is_right_behind_a_mount_prefix_and_percent_encoded(app, root):
    shutil.copy(root / "quads.tif", root / "a b[1]?.tif")
    mounted = DispatcherMiddleware(Response("not here", 404), {"/iiif/image": app})
    client = Client(mounted)
    info = client.get("/iiif/image/a%20b%5B1%5D%3F/info.json",
                      base_url="https://sen.example.org").get_json(force=True)
    assert info["id"] == "https://sen.example.org/iiif/image/a%20b%5B1%5D%3F"
    response = client.get("/iiif/image/quads")
    assert response.status_code == 303
    assert response.headers["Location"] == "http://localhost/iiif/image/quads/info.json"
    link = client.get("/iiif/image/quads/full/64,/0/color.jpg").headers["Link"]
    assert '<http://localhost/iiif/image/quads/full/64,48/0/default.jpg>;rel="canonical"' in link
    assert '<http://iiif.io/api/image/3/level2.json>;rel="profile"' in link


def test_cors_everywhere(client):
    for path in ("/quads/info.json", "/quads/full/64,/0/default.jpg", "/nope/info.json",
                 "/quads/full/full/0/default.jpg", "/quads"):
        assert client.get(path).headers["Access-Control-Allow-Origin"] == "*", path
    preflight = client.options("/quads/full/64,/0/default.jpg",
                               headers={"Origin": "https://viewer.example",
                                        "Access-Control-Request-Method": "GET"})
    assert preflight.status_code == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]


def test_etag_revalidation_and_cache_control(client):
    first = client.get("/quads/full/64,/0/default.jpg")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=86400"
    again = client.get("/quads/full/64,/0/default.jpg", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.get_data() == b""
    assert again.headers["ETag"] == etag and again.headers["Access-Control-Allow-Origin"] == "*"
    # Same canonical request, same ETag; another request, another ETag.
    assert client.get("/quads/full/64,48/0/color.jpg").headers["ETag"] == etag
    assert client.get("/quads/full/65,/0/default.jpg").headers["ETag"] != etag
    info = client.get("/quads/info.json")
    assert client.get("/quads/info.json",
                      headers={"If-None-Match": info.headers["ETag"]}).status_code == 304


def test_a_rebuilt_pyramid_is_served_anew(root, tmp_path):
    """libvips caches opened files by name; the etag must make the server see the new file."""
    shutil.copy(root / "quads.tif", tmp_path / "page.tif")
    client = Client(create_app(DirectoryResolver(tmp_path), cache_seconds=60))
    before = client.get("/page/info.json")
    assert before.get_json(force=True)["width"] == 512
    assert before.headers["Cache-Control"] == "public, max-age=60"
    assert decode(client.get("/page/full/max/0/default.jpg")).width == 512
    shutil.copy(root / "tractor.tif", tmp_path / "page.tif.part")
    os.replace(tmp_path / "page.tif.part", tmp_path / "page.tif")
    after = client.get("/page/info.json", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and after.get_json(force=True)["width"] == 4031
    assert decode(client.get("/page/full/max/0/default.jpg")).width == 4031


def test_per_image_limits_and_resolver_errors(root):
    def resolver(identifier: str) -> ImageSource:
        if identifier == "secret":
            raise Forbidden("this page is not public")
        if identifier != "small":
            raise NotFound("no such page")
        return ImageSource(name="tractor", path=root / "tractor.tif", etag="v1", max_width=1000,
                           max_area=2_000_000)

    client = Client(create_app(resolver))
    info = client.get("/small/info.json").get_json(force=True)
    assert (info["maxWidth"], info["maxArea"]) == (1000, 2_000_000)
    assert info["sizes"][-1] == {"width": 1000, "height": 750}
    assert all(s["width"] <= 1000 for s in info["sizes"])
    assert decode(client.get("/small/full/max/0/default.jpg")).width == 1000
    assert client.get("/small/full/1001,/0/default.jpg").status_code == 400
    secret = client.get("/secret/full/max/0/default.jpg")
    assert secret.status_code == 403 and b"not public" in secret.get_data()
    assert client.get("/other/info.json").status_code == 404


@pytest.mark.parametrize("path, status", [
    ("/nope/full/max/0/default.jpg", 404),
    ("/quads/0,0,0,10/max/0/default.jpg", 400),
    ("/quads/600,0,10,10/max/0/default.jpg", 400),
    ("/quads/-1,0,10,10/max/0/default.jpg", 400),
    ("/quads/99999999999999999999,0,1,1/max/0/default.jpg", 400),
    ("/quads/pct:1e5,0,1,1/max/0/default.jpg", 400),
    ("/quads/pct:" + "9" * 400 + ",0,1,1/max/0/default.jpg", 400),
    ("/quads/full/513,/0/default.jpg", 400),
    ("/quads/full/^99999999,99999999/0/default.jpg", 400),
    ("/quads/full/^!100000,100/0/default.jpg", 200),
    ("/quads/full/0,/0/default.jpg", 400),
    ("/quads/full/max/-90/default.jpg", 400),
    ("/quads/full/max/1e400/default.jpg", 400),
    ("/quads/full/max/0/sepia.jpg", 400),
    ("/quads/full/max/0/default.jp2", 400),
    ("/quads/full/max/0/default", 400),
    ("/quads/full/max/0/default.", 400),
    ("/..%2F..%2Fetc%2Fpasswd/full/max/0/default.jpg", 404),
    ("/..%2Fquads/info.json", 404),
    ("/%2Fquads/info.json", 404),
    ("/quads%00/info.json", 404),
    ("/quads%0A/info.json", 404),
    ("/" + "q" * 300 + "/info.json", 404),
    ("/" + "q/" * 2000 + "info.json", 414),
    ("/%FF%FE/info.json", 404),
    ("/info.json", 404),
    ("/", 404),
    ("//full/max/0/default.jpg", 404),
    ("/quads/full/max/0/default.jpg/", 400),
])
def test_hostile_and_malformed_requests(client, path, status):
    response = client.get(path)
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.headers["Content-Type"].startswith("text/plain")
        assert 0 < len(response.get_data()) < 300


def test_methods(client):
    response = client.post("/quads/info.json")
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    head = client.head("/quads/full/64,/0/default.png")
    assert head.status_code == 200 and head.get_data() == b""
    assert int(head.headers["Content-Length"]) > 0


# --- any URL: never a server error ------------------------------------------------------------

_odd = st.sampled_from(["", "-1", "00", ".5", "5.", "1e3", "-0", "nan", "9" * 30])
_int = st.one_of(*[st.integers(0, 1200).map(str), st.integers(0, 80).map(str)] * 4, _odd)
_decimal = st.one_of(*[st.integers(0, 400).map(str),
                       st.floats(0, 120).map(lambda f: f"{f:.4f}".rstrip("0"))] * 4, _odd)
_region = st.one_of(
    st.sampled_from(["full", "square", "Full", "pct:"]),
    st.tuples(_int, _int, _int, _int).map(",".join),
    st.tuples(_decimal, _decimal, _decimal, _decimal).map(lambda t: "pct:" + ",".join(t)),
)
_size = st.one_of(
    st.tuples(st.sampled_from(["", "", "^", "!", "^!", "!^"]), _int,
              st.sampled_from([",", ",", ""]), _int).map("".join),
    st.tuples(st.sampled_from(["pct:", "^pct:"]), _decimal).map("".join),
    st.sampled_from(["max", "^max", "full", ","]),
)
_rotation = st.tuples(st.sampled_from(["", "", "!", "!!"]), _decimal).map("".join)
_quality = st.sampled_from(["default", "color", "gray", "bitonal"])
_format = st.sampled_from(["jpg", "png", "webp", "gif", "tif", "jp2"])
_junk = st.text(max_size=12)  # anything, "/" and "%" included: it is percent-encoded


@st.composite
def image_paths(draw) -> str:
    """Mostly well-formed requests (so that many reach the image), one part at
    times replaced by arbitrary text."""
    parts = [draw(_region), draw(_size), draw(_rotation), draw(_quality), draw(_format)]
    spoiled = draw(st.sampled_from([None, None, None, 0, 1, 2, 3, 4]))
    if spoiled is not None:
        parts[spoiled] = draw(_junk)
    *params, quality, fmt = (quote(part, safe="!^,:") for part in parts)
    return "/".join(params) + f"/{quality}.{fmt}"


@pytest.fixture(scope="module")
def small_app(root):
    """Small limits keep the images that valid random requests produce cheap to make."""
    return create_app(DirectoryResolver(root), max_width=1500, max_area=1_000_000)


@settings(max_examples=200, deadline=None)
@given(path=image_paths())
def test_no_url_makes_a_server_error(small_app, path):
    response = Client(small_app).get(f"/quads/{path}")
    assert response.status_code in (200, 400, 404), response.get_data(as_text=True)


# --- the IIIF validator against a live server --------------------------------------------------


@pytest.mark.integration
def test_iiif_validator_level2(tmp_path):
    build_pyramid(DATA / "iiif" / f"{VALIDATOR_ID}.png", tmp_path / f"{VALIDATOR_ID}.tif")
    app = DispatcherMiddleware(Response("not here", 404),
                               {"/iiif/image": create_app(DirectoryResolver(tmp_path))})
    server = make_server("127.0.0.1", free_port(), app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        validator = Path(sys.executable).with_name("iiif-validate.py")
        result = subprocess.run(
            [sys.executable, str(validator), "-s", f"127.0.0.1:{server.server_port}",
             "-p", "iiif/image", "-i", VALIDATOR_ID, "--version=3.0", "--level=2"],
            capture_output=True, text=True, timeout=300,
        )
    finally:
        server.shutdown()
        thread.join(timeout=10)
    output = result.stdout + result.stderr
    print(output)
    assert result.returncode == 0, output
    assert "0 failures" in output


def test_stored_tiles_are_sent_as_stored_and_decode_like_libvips(app, client):
    """Aligned tiles are the pyramid's own JPEG bytes (tables spliced in), and they
    decode to exactly the pixels libvips decodes from the TIFF level."""
    source = app.resolver("tractor")
    pyramid = app.pyramids.describe(source)
    for factor, col, row in [(1, 0, 0), (1, 3, 2), (2, 1, 1), (4, 0, 0), (8, 0, 0)]:
        index = factor.bit_length() - 1
        span = 256 * factor
        url = f"/tractor/{col * span},{row * span},{span},{span}/256,/0/default.jpg"
        response = client.get(url)
        assert response.status_code == 200, url
        stored = pyramid.tiff[index].tile_jpeg(source.reader(), col, row)
        assert response.data == stored, url  # not decoded, not re-encoded
        served = pyvips.Image.new_from_buffer(response.data, "")
        level = pyvips.Image.new_from_file(str(source.path), page=index)
        expected = level.crop(col * 256, row * 256, 256, 256)
        assert (served.width, served.height) == (256, 256)
        assert (served - expected).abs().max() == 0, url


def test_edge_tiles_are_cut_to_the_image(client):
    # 4031 × 3023: the last column of tiles at full resolution is 4031 - 15*256 = 191 wide.
    response = client.get("/tractor/3840,2816,191,207/191,/0/default.jpg")
    image = decode(response)
    assert (image.width, image.height) == (191, 207)
    whole = decode(client.get("/tractor/3840,2816,191,207/191,207/0/default.png"))
    assert (image - whole).abs().avg() < 3  # the same pixels, give or take JPEG


def test_the_tile_hot_path_answers_exactly_as_the_general_pipeline(root):
    fast = create_app(DirectoryResolver(root))
    general = create_app(DirectoryResolver(root))
    general.tiles.answer = lambda environ, start_response: None  # always the general path
    urls = ["/tractor/256,256,256,256/256,/0/default.jpg",
            "/tractor/256,256,256,256/256,256/0/default.jpg",
            "/tractor/0,512,256,256/256,256/0/color.jpg",
            "/tractor/1024,1024,1024,1024/256,/0/default.jpg",
            "/tractor/0,0,2048,2048/256,256/0/default.jpg",
            "/tractor/3840,2816,191,207/191,/0/default.jpg",  # an edge: general path
            "/quads/0,0,256,256/256,/0/default.jpg"]
    for url in urls:
        for headers in ({}, {"Host": "images.example.org"}):
            a, b = Client(fast).get(url, headers=headers), Client(general).get(url, headers=headers)
            assert a.status_code == b.status_code == 200, url
            assert a.data == b.data, url
            for name in ("ETag", "Link", "Cache-Control", "Content-Type",
                         "Access-Control-Allow-Origin"):
                assert a.headers[name] == b.headers[name], (url, name)
    # Shaped like tiles, but not what the spec allows: the same error from either path.
    for url in ["/tractor/256,256,256,256/256,0/0/default.jpg",
                "/tractor/256,256,256,256/0,256/0/default.jpg",
                "/tractor/256,256,0,256/256,256/0/default.jpg",
                "/tractor/256,256,256,256/512,512/0/default.jpg",
                "/tractor/99999,0,256,256/256,256/0/default.jpg",
                "/missing/0,0,256,256/256,256/0/default.jpg"]:
        a, b = Client(fast).get(url), Client(general).get(url)
        assert a.status_code == b.status_code and 400 <= a.status_code < 500, url


def test_every_tile_a_viewer_asks_is_the_same_from_either_path(root):
    """All tiles of every level, as OpenSeadragon asks them (``w,h``), edges included:
    the hot path (stored and pre-cut tiles) and the general pipeline agree byte for byte."""
    import math

    fast = create_app(DirectoryResolver(root))
    general = create_app(DirectoryResolver(root))
    general.tiles.answer = lambda environ, start_response: None
    width, height = 4031, 3023
    served_hot = 0
    for level in range(5):
        scale = 1 << level
        span = 256 * scale
        for y in range(0, height, span):
            for x in range(0, width, span):
                w, h = min(span, width - x), min(span, height - y)
                url = f"/tractor/{x},{y},{w},{h}/{math.ceil(w / scale)},{math.ceil(h / scale)}" \
                      "/0/default.jpg"
                environ = {"REQUEST_METHOD": "GET", "PATH_INFO": url, "SERVER_NAME": "a",
                           "SERVER_PORT": "80", "wsgi.url_scheme": "http"}
                served_hot += fast.tiles.answer(environ, lambda *a: None) is not None
                a, b = Client(fast).get(url), Client(general).get(url)
                assert a.status_code == b.status_code == 200, url
                assert (a.data, a.headers["ETag"]) == (b.data, b.headers["ETag"]), url
    assert served_hot > 200  # nearly every tile took the hot path


def test_edge_tiles_are_cut_when_the_pyramid_is_built(root):
    from iiif_server.edges import read_edges

    source = DirectoryResolver(root)("tractor")
    edges = read_edges(source.reader(), source.size)
    assert edges and (0, 15, 0) in edges  # the right column at full resolution
    offset, length, w, h = edges[(0, 15, 0)]
    image = pyvips.Image.new_from_buffer(source.reader()(offset, length), "")
    assert (image.width, image.height) == (w, h) == (191, 256)
    # libvips still reads the file as the same pyramid.
    assert pyvips.Image.new_from_file(str(source.path), page=0).width == 4031


def test_the_tile_hot_path_asks_the_resolver_every_time(root):
    """Access and freshness are checked on every tile, however it is answered."""
    hidden = set()
    inner = DirectoryResolver(root)

    def resolver(identifier: str) -> ImageSource:
        if identifier in hidden:
            raise Forbidden("restricted now")
        return inner(identifier)

    client = Client(create_app(resolver))
    url = "/tractor/256,256,256,256/256,/0/default.jpg"
    first = client.get(url)
    assert first.status_code == 200
    assert client.get(url, headers={"If-None-Match": first.headers["ETag"]}).status_code == 304
    assert client.head(url).data == b""
    hidden.add("tractor")
    assert client.get(url).status_code == 403  # the next request already sees the change


def test_rendered_answers_are_kept_and_match(client, app):
    url = "/tractor/full/!400,400/0/default.jpg"
    app.rendered.items.clear()
    first = client.get(url)
    assert list(app.rendered.items.values()) == [first.data]
    second = client.get(url)
    assert second.data == first.data
    assert decode(second).width == 400
