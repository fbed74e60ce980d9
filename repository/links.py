"""Every URL Sen publishes for its resources, in one place.

IIIF manifests, linked data and the portal all link to each other; building
the URLs here keeps them consistent. ``base`` is the public base URL.
"""

from __future__ import annotations


def manifest(base: str, item_id: str) -> str:
    return f"{base}/iiif/{item_id}/manifest"


def item_page(base: str, item_id: str) -> str:
    return f"{base}/items/{item_id}"


def item_record(base: str, item_id: str) -> str:
    return f"{base}/api/items/{item_id}"


def canvas(base: str, item_id: str, page: int) -> str:
    return f"{base}/iiif/{item_id}/canvas/p{page}"


def image_service(base: str, item_id: str, page: int) -> str:
    """Image ids are ``{item}~{page}``: ``~`` never occurs in an item identifier."""
    return f"{base}/iiif/image/{image_id(item_id, page)}"


def image_id(item_id: str, page: int) -> str:
    return f"{item_id}~{page}"


def parse_image_id(identifier: str) -> tuple[str, int] | None:
    item_id, sep, page = identifier.rpartition("~")
    if not sep or not page.isdigit() or not item_id or len(page) > 6:
        return None
    return item_id, int(page)


def iiif_collection(base: str, collection_id: str) -> str:
    return f"{base}/iiif/collection/{collection_id}"


def collection_page(base: str, collection_id: str) -> str:
    return f"{base}/collections/{collection_id}"


def thumbnail(base: str, item_id: str, width: int = 300) -> str:
    return f"{image_service(base, item_id, 1)}/full/{width},/0/default.jpg"


# Linked data: things get /id/… URIs, their descriptions live at /doc/… (303 between).
def item_uri(base: str, item_id: str) -> str:
    return f"{base}/id/item/{item_id}"


def collection_uri(base: str, collection_id: str) -> str:
    return f"{base}/id/collection/{collection_id}"


def place_uri(base: str, place_id: str) -> str:
    return f"{base}/id/place/{place_id}"


def library_uri(base: str, library_slug: str) -> str:
    return f"{base}/id/library/{library_slug}"


def subject_uri(base: str, subject_slug: str) -> str:
    return f"{base}/id/subject/{subject_slug}"


def type_uri(base: str, code: str) -> str:
    return f"{base}/id/type/{code}"


def document(base: str, kind: str, identifier: str, extension: str = "") -> str:
    return f"{base}/doc/{kind}/{identifier}{extension}"


def dump(base: str, name: str) -> str:
    return f"{base}/opendata/dumps/{name}"


def catalog(base: str, extension: str = ".ttl") -> str:
    return f"{base}/catalog{extension}"
