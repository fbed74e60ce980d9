"""The image server as Sen runs it: image ids resolved through storage and access.

An image id is ``{item}~{page}``. The item's access level is read from its
OCFL object (:meth:`Repository.access_of`), the same decision every other
route uses, so a hidden item's tiles are as unreachable as its record.
"""

from __future__ import annotations

from iiif_server.app import create_app
from iiif_server.resolver import ImageSource
from repository import access, links
from repository.errors import NotFound
from repository.repo import Repository
from repository.storage.cache import FileCache


def resolver(repo: Repository):
    def resolve(identifier: str) -> ImageSource:
        parsed = links.parse_image_id(identifier)
        if parsed is None:
            raise NotFound(f"no image {identifier!r}")
        item_id, page = parsed
        access.require_view(item_id, repo.access_of(item_id))
        pages = repo.item_info(item_id)["pages"]
        if not 1 <= page <= len(pages):
            raise NotFound(f"no image {identifier!r}")
        key = pages[page - 1]["pyramid"]
        try:
            etag = repo.storage.stat(key).etag
        except NotFound:
            raise NotFound(f"the pyramid of {identifier!r} is missing; run "
                           "`sen rebuild derivatives`") from None
        return ImageSource(path=cache.path(key, etag), etag=etag)

    cache = FileCache(repo.storage, repo.settings.data_dir / "cache" / "pyramids",
                      repo.settings.image_cache_mb * 1024 * 1024)
    return resolve


def image_app(repo: Repository):
    settings = repo.settings
    return create_app(resolver(repo), max_width=settings.max_image_width,
                      max_area=settings.max_image_area)
