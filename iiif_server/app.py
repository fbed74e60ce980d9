"""The WSGI application: routes, HTTP caching, CORS and errors around the pipeline.

A plain werkzeug application rather than Flask, so that the image server runs
alone (``python -m iiif_server``), mounts under any prefix of another app, and
can be tuned without a framework in the way. Every request goes
parse -> resolve -> describe (cached) -> plan -> [304 | render], and the
cheap steps come first: a malformed URL is refused before any file is
touched, and a cached copy is revalidated before any pixel is decoded.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import zlib
from collections import OrderedDict
from collections.abc import Iterable
from threading import Lock
from typing import TYPE_CHECKING
from urllib.parse import quote

from werkzeug.wrappers import Request, Response

from repository.errors import NotFound, SenError

from . import info, processor
from .pyramid import Pyramids, UnreadableImage
from .request import Limits, largest_size, parse_image_request, plan
from .resolver import ImageSource, Resolver
from .tiff import JPEG

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

logger = logging.getLogger(__name__)

LD_JSON = f'application/ld+json;profile="{info.CONTEXT}"'
#: Longer paths are refused outright (an identifier is at most a few hundred characters).
MAX_PATH_LENGTH = 2048
#: Characters left as they are in the identifier part of ``id`` and ``Link`` URIs:
#: RFC 3986 sub-delims and ":"; the spec's to-encode set and anything else is escaped.
IDENTIFIER_SAFE = "!$&'()*+,;=:"


def create_app(resolver: Resolver, *, max_width: int = 10_000, max_area: int = 25_000_000,
               cache_seconds: int = 86400, prefix: str = "") -> WSGIApplication:
    """The IIIF Image API 3.0 (level 2) service for the pyramids ``resolver`` finds.

    ``max_width`` (also the maximum height) and ``max_area`` bound every output
    image; ``cache_seconds`` is the ``max-age`` that browsers and shared caches
    may keep a response for. ``prefix`` (e.g. ``/iiif/image``) is the path the
    service answers under when it is the whole server, 404 elsewhere; mounted by a
    dispatcher (which sets ``SCRIPT_NAME``), it stays empty.
    """
    return ImageServer(resolver, Limits(max_width, max_area), cache_seconds, prefix)


class ImageServer:
    def __init__(self, resolver: Resolver, limits: Limits, cache_seconds: int,
                 prefix: str = ""):
        self.resolver = resolver
        self.limits = limits
        self.cache_seconds = cache_seconds
        self.prefix = "/" + prefix.strip("/") if prefix.strip("/") else ""
        self.pyramids = Pyramids()
        self.tiles = StoredTiles(self)
        self.rendered = RenderedCache()

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        answered = self.tiles.answer(environ, start_response)
        if answered is not None:
            return answered
        if self.prefix:  # moved into SCRIPT_NAME, as a WSGI mount does
            path = environ.get("PATH_INFO", "")
            if path != self.prefix and not path.startswith(self.prefix + "/"):
                return _error(404, "not found")(environ, start_response)
            environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + self.prefix
            environ["PATH_INFO"] = path[len(self.prefix):]
        request = Request(environ)
        try:
            response = self.dispatch(request)
        except SenError as exc:
            if exc.http_status >= 500:
                logger.error("image request %s failed: %s", request.path, exc)
                response = _error(exc.http_status, "the image service failed")
            else:
                response = _error(exc.http_status, str(exc) or "error")
        except UnreadableImage as exc:
            logger.error("unreadable pyramid: %s", exc)
            response = _error(500, "the stored image cannot be read")
        except Exception:
            logger.exception("image request %s failed", request.path)
            response = _error(500, "the image service failed")
        response.headers["Access-Control-Allow-Origin"] = "*"
        response.headers["Access-Control-Expose-Headers"] = "ETag, Link"
        return response(environ, start_response)

    def dispatch(self, request: Request) -> Response:
        if request.method == "OPTIONS":
            return _preflight()
        if request.method not in ("GET", "HEAD"):
            response = _error(405, f"method {request.method} not allowed")
            response.headers["Allow"] = "GET, HEAD, OPTIONS"
            return response
        path = _path_info(request)
        if len(path) > MAX_PATH_LENGTH:
            return _error(414, "URL too long")
        # The path is already percent-decoded, so an identifier holding an encoded
        # "/" spans several segments: count the IIIF parameters from the end.
        segments = path.removeprefix("/").split("/")
        if segments[-1] == "info.json" and len(segments) >= 2:
            return self.information(request, "/".join(segments[:-1]))
        if len(segments) >= 5:
            return self.image(request, "/".join(segments[:-4]), *segments[-4:])
        if segments[-1] == "" and len(segments) > 1:
            segments.pop()  # "{id}/" is the base URI too
        return self.base_uri(request, "/".join(segments))

    def base_uri(self, request: Request, identifier: str) -> Response:
        """The base URI redirects to the image information (303, as the spec recommends)."""
        self._resolve(identifier)
        return Response(status=303, headers={
            "Location": f"{self.service_id(request, identifier)}/info.json"})

    def information(self, request: Request, identifier: str) -> Response:
        source = self._resolve(identifier)
        pyramid = self.pyramids.describe(source)
        limits = self.limits_for(source)
        service_id = self.service_id(request, identifier)
        media_type = _json_media_type(request)
        response = Response(content_type=media_type)
        response.headers["Vary"] = "Accept"
        response.headers["Link"] = f'<{info.PROFILE_URI}>;rel="profile"'
        etag = _etag(source.etag, service_id, media_type, limits)
        if self._not_modified(request, response, etag):
            return response
        document = info.image_information(service_id, pyramid, limits)
        response.set_data(json.dumps(document, indent=2))
        return response

    def image(self, request: Request, identifier: str, region: str, size: str,
              rotation: str, quality_format: str) -> Response:
        wanted = parse_image_request(region, size, rotation, quality_format)
        source = self._resolve(identifier)
        pyramid = self.pyramids.describe(source)
        limits = self.limits_for(source)
        resolved = plan(wanted, pyramid.width, pyramid.height, limits)
        canonical = f"{self.service_id(request, identifier)}/{resolved.canonical}"
        response = Response(mimetype=wanted.media_type)
        response.headers["Link"] = (
            f'<{canonical}>;rel="canonical", <{info.PROFILE_URI}>;rel="profile"')
        tag = _image_tag(source, limits)
        etag = _image_etag(tag, resolved.canonical)
        if self._not_modified(request, response, etag):
            return response
        data = self.rendered.get((tag, resolved.canonical))
        if data is None:
            data = processor.stored_tile(pyramid, source.reader(), resolved)
            if data is None:
                data = processor.render(self.pyramids, source, pyramid, resolved)
            self.rendered.put((tag, resolved.canonical), data)
        response.set_data(data)
        return response

    def limits_for(self, source: ImageSource) -> Limits:
        """The server's limits, lowered by the image's own (restricted sizes)."""
        if source.max_width is None and source.max_area is None:
            return self.limits
        max_width, max_area = self.limits.max_width, self.limits.max_area
        if source.max_width is not None:
            max_width = min(max_width, source.max_width)
        if source.max_area is not None:
            max_area = min(max_area, source.max_area)
        return Limits(max_width, max_area)

    @staticmethod
    def service_id(request: Request, identifier: str) -> str:
        """The base URI as this request reached it: behind a mount prefix
        (``SCRIPT_NAME``) and with the identifier percent-encoded."""
        return request.root_url + quote(identifier, safe=IDENTIFIER_SAFE)

    def _resolve(self, identifier: str) -> ImageSource:
        if not identifier:
            raise NotFound("no image identifier in the URL")
        return self.resolver(identifier)

    def _not_modified(self, request: Request, response: Response, etag: str) -> bool:
        """Set the validators; turn ``response`` into a 304 if the client's copy is current."""
        response.set_etag(etag)
        response.headers["Cache-Control"] = f"public, max-age={self.cache_seconds}"
        if request.if_none_match.contains_weak(etag):
            response.status_code = 304
            return True
        return False


def _path_info(request: Request) -> str:
    """The decoded path below the mount point, exactly: ``request.path`` would
    drop leading slashes, turning the identifier "/x" (sent as %2Fx) into "x"."""
    return _decoded_path(request.environ)


def _decoded_path(environ: WSGIEnvironment) -> str:
    raw = environ.get("PATH_INFO", "")
    return raw.encode("latin-1", "replace").decode("utf-8", "replace")


class RenderedCache:
    """Recently rendered answers (thumbnails, edge tiles), within a byte budget, by the
    image's ETag prefix and the canonical form of the request.

    A thumbnail or an edge tile is decoded and encoded once per worker, then sent
    from memory; large answers are not kept, so the budget holds many small ones.
    """

    def __init__(self, budget: int = 32 << 20, largest: int = 512 << 10):
        self.budget, self.largest, self.used = budget, largest, 0
        self.items: OrderedDict[tuple[str, str], bytes] = OrderedDict()
        self.lock = Lock()

    def get(self, key: tuple[str, str]) -> bytes | None:
        with self.lock:
            data = self.items.get(key)
            if data is not None:
                self.items.move_to_end(key)
            return data

    def put(self, key: tuple[str, str], data: bytes) -> None:
        if len(data) > self.largest:
            return
        with self.lock:
            if key in self.items:
                return
            self.items[key] = data
            self.used += len(data)
            while self.used > self.budget:
                _old, dropped = self.items.popitem(last=False)
                self.used -= len(dropped)


#: A viewer's tile request: ``{id}/{x},{y},{w},{h}/{tw},{th}|{tw},/0/default.jpg``.
_TILE = (r"/(.+)/(\d{1,9}),(\d{1,9}),(\d{1,9}),(\d{1,9})"
         r"/(\d{1,5}),(\d{0,5})/0/(?:default|color)\.jpg")


class _Prepared:
    """What every tile of one pyramid shares, worked out on its first tile."""

    __slots__ = ("width", "height", "levels", "edges", "read", "limits", "tag")

    def __init__(self, server: ImageServer, source: ImageSource):
        pyramid = server.pyramids.describe(source)
        self.width, self.height = pyramid.width, pyramid.height
        #: per level: its TIFF directory if its tiles are square JPEG ones, else None
        self.levels = tuple(level if level.compression == JPEG
                            and level.tile_width == level.tile_height else None
                            for level in pyramid.tiff)
        self.edges = pyramid.edges or {}
        self.read = source.reader()
        self.limits = server.limits_for(source)
        self.tag = _image_tag(source, self.limits)


class StoredTiles:
    """The hot path: a viewer's request for a stored tile, answered without a framework.

    Most requests a viewer makes are for the pyramid's own tiles. Those are
    recognised by one regular expression and a little arithmetic, and answered
    from the file with a positioned read: no request object, no general planning,
    no decoding. The identifier is resolved on every request (access, and
    whether the pyramid changed); what the tiles of one pyramid share (its
    description, open file, limits, ETag prefix) is worked out once per version
    of it, and the answer — bytes, ETag, canonical Link — is exactly what the
    general pipeline gives for the same URL (a test compares them). Anything else
    falls through to the general pipeline.
    """

    def __init__(self, server: ImageServer, size: int = 256):
        self.server = server
        self.size = size
        self.prepared: OrderedDict[tuple, _Prepared] = OrderedDict()
        self.services: dict[tuple[str, str, str, str], str] = {}
        self.cache_control = f"public, max-age={server.cache_seconds}"
        self.pattern = re.compile(f"^{re.escape(server.prefix)}{_TILE}$")

    def answer(self, environ: WSGIEnvironment, start_response: StartResponse):
        method = environ.get("REQUEST_METHOD")
        if method != "GET" and method != "HEAD":
            return None
        path = environ.get("PATH_INFO", "")
        m = self.pattern.match(path if path.isascii() else _decoded_path(environ))
        if m is None:
            return None
        identifier, x, y, w, h, sw, sh = m.groups()
        x, y, w, h, sw = int(x), int(y), int(w), int(h), int(sw)
        if sh:
            sh = int(sh)
        elif w == h:
            sh = sw  # "w,": the height follows from a square region
        else:
            return None  # "w," on a rectangle: the general pipeline works out the height
        if not (w and h and sw and sh):
            return None
        try:
            source = self.server.resolver(identifier)
            key = (source.name, source.etag, source.path, source.max_width, source.max_area)
            image = self.prepared.get(key)  # a lock-free read; eviction is FIFO
            if image is None:
                image = self.prepared[key] = _Prepared(self.server, source)
                while len(self.prepared) > self.size:
                    self.prepared.popitem(last=False)
        except Exception:
            return None  # the general pipeline answers with the right error
        # The level: the scale 2**index for which the region is one tile's box (a whole
        # tile, or one cut short by the image's right or bottom edge).
        index = (-(-w // sw) - 1).bit_length()
        if index >= len(image.levels):
            return None
        level = image.levels[index]
        if level is None:
            return None
        tile = level.tile_width
        span = tile << index
        if (x % span or y % span or w != min(span, image.width - x)
                or h != min(span, image.height - y) or sw != -(-w >> index)
                or sh != -(-h >> index)):
            return None
        col, row = x // span, y // span
        if sw == tile and sh == tile and (col + 1) * tile <= level.width \
                and (row + 1) * tile <= level.height:
            made = None  # a whole stored tile
        else:
            made = image.edges.get((index, col, row))
            if made is None or made[2] != sw or made[3] != sh:
                return None  # an edge tile of an older pyramid: decoded by the pipeline
        limits = image.limits
        if sw > limits.max_width or sh > limits.max_width or sw * sh > limits.max_area:
            return None
        # The canonical size is "max" when the tile is the region shrunk to the limits
        # (at scale 1, or under tight per-image limits).
        if w <= limits.max_width and h <= limits.max_width and w * h <= limits.max_area:
            size = "max" if sw == w and sh == h else f"{sw},{sh}"
        else:
            size = "max" if (sw, sh) == largest_size(w, h, limits, allow_upscale=False) \
                else f"{sw},{sh}"
        if x or y or w != image.width or h != image.height:
            canonical = f"{x},{y},{w},{h}/{size}/0/default.jpg"
        else:
            canonical = f"full/{size}/0/default.jpg"
        etag = _image_etag(image.tag, canonical)
        headers = [("Content-Type", "image/jpeg"), ("ETag", f'"{etag}"'),
                   ("Cache-Control", self.cache_control),
                   ("Link", f'<{self.service(environ, identifier)}/{canonical}>;'
                            f'rel="canonical", <{info.PROFILE_URI}>;rel="profile"'),
                   ("Access-Control-Allow-Origin", "*"),
                   ("Access-Control-Expose-Headers", "ETag, Link")]
        if etag in environ.get("HTTP_IF_NONE_MATCH", ""):
            start_response("304 Not Modified", headers[1:])
            return []
        data = level.tile_jpeg(image.read, col, row) if made is None \
            else image.read(made[0], made[1])
        headers.append(("Content-Length", str(len(data))))
        start_response("200 OK", headers)
        return [] if method == "HEAD" else [data]

    def service(self, environ: WSGIEnvironment, identifier: str) -> str:
        """The image's base URI, as ``ImageServer.service_id`` makes it (remembered)."""
        key = (environ.get("wsgi.url_scheme", "http"),
               environ.get("HTTP_HOST") or environ.get("SERVER_NAME", ""),
               environ.get("SCRIPT_NAME", ""), identifier)
        found = self.services.get(key)
        if found is None:
            if len(self.services) > 10_000:
                self.services.clear()
            found = self.services[key] = f"{key[0]}://{key[1]}{key[2]}{self.server.prefix}/" \
                f"{quote(identifier, safe=IDENTIFIER_SAFE)}"
        return found


def _json_media_type(request: Request) -> str:
    """JSON-LD when asked for it or when nothing is asked (spec 5.1), else plain JSON."""
    accept = request.accept_mimetypes
    if not accept or accept.best_match(["application/json", "application/ld+json"]) == (
            "application/ld+json"):
        return LD_JSON
    return "application/json"


def _etag(*parts: object) -> str:
    return hashlib.blake2b("\0".join(map(str, parts)).encode(), digest_size=16).hexdigest()


def _image_tag(source: ImageSource, limits: Limits) -> str:
    """What the ETag of every answer from one pyramid shares: its version, the limits
    it is served under, and the version of the rendering code."""
    return _etag(source.etag, limits, processor.RENDERING_VERSION)[:24]


def _image_etag(tag: str, canonical: str) -> str:
    """The ETag of one answer. An ETag only tells the versions of one URL apart, so the
    canonical form need not be hashed strongly: CRC-32 makes the answers of one image
    differ too, at a fraction of the cost."""
    return f"{tag}{zlib.crc32(canonical.encode()):08x}"


def _preflight() -> Response:
    return Response(status=204, headers={
        "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
        "Access-Control-Allow-Headers": "Accept, Authorization, If-None-Match, Range",
        "Access-Control-Max-Age": "86400",
        "Allow": "GET, HEAD, OPTIONS",
    })


def _error(status: int, message: str) -> Response:
    """A short plain-text error; never cached, since the image may appear or open later."""
    response = Response(message + "\n", status=status, mimetype="text/plain")
    response.headers["Cache-Control"] = "no-store"
    return response
