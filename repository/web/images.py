"""The image server as Sen runs it: image ids resolved through storage and access.

An image id is ``{item}~{page}``. The item's access level is read from its
OCFL object (:meth:`Repository.access_of`), the same decision every other
route uses, so a hidden item's tiles are as unreachable as its record. This
runs for every tile, so what it reads is cached per version: the item's
``item.json`` by its storage etag.
"""

from __future__ import annotations

import json
import os

from iiif_server.app import create_app
from iiif_server.resolver import ImageSource, remembered, storage_source
from iiif_server.serve import ready, tune_libvips
from repository import access, links
from repository.errors import NotFound
from repository.repo import Repository
from repository.storage.cache import FileCache


def resolver(repo: Repository):
    cache = FileCache(repo.storage, repo.settings.data_dir / "cache" / "pyramids",
                      repo.settings.image_cache_mb * 1024 * 1024)
    pages_of: dict[str, tuple[str, list]] = {}

    def pages(item_id: str) -> list:
        key = repo.derivative_key(item_id, "item.json")
        etag = repo.storage.stat(key).etag
        cached = pages_of.get(item_id)
        if cached is None or cached[0] != etag:
            if len(pages_of) > 10_000:
                pages_of.clear()
            cached = pages_of[item_id] = (etag, json.loads(repo.storage.get(key))["pages"])
        return cached[1]

    def resolve(identifier: str) -> ImageSource:
        parsed = links.parse_image_id(identifier)
        if parsed is None:
            raise NotFound(f"no image {identifier!r}")
        item_id, page = parsed
        access.require_view(item_id, repo.access_of(item_id))
        item_pages = pages(item_id)
        if not 1 <= page <= len(item_pages):
            raise NotFound(f"no image {identifier!r}")
        try:
            return storage_source(repo.storage, cache, item_pages[page - 1]["pyramid"])
        except NotFound:
            raise NotFound(f"the pyramid of {identifier!r} is missing; run "
                           "`sen rebuild derivatives`") from None

    return remembered(resolve, 0 if repo.storage.is_local else
                      repo.settings.remote_lookup_seconds)


def image_app(repo: Repository, prefix: str = ""):
    settings = repo.settings
    return create_app(resolver(repo), max_width=settings.max_image_width,
                      max_area=settings.max_image_area, prefix=prefix)


def from_settings():
    """One worker of ``sen serve-images``: settings from the environment, as ``sen`` reads."""
    from repository.config import load_settings

    tune_libvips()
    repo = Repository(load_settings())
    return ready(image_app(repo, os.environ.get("SEN_IMAGE_PREFIX", "/iiif/image")))
