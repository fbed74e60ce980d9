"""Who may see what: the one place where access is decided.

Every route that can reveal an item (portal pages, the JSON API, IIIF
manifests and collections, the image server, search results and facet counts)
asks this module. Until accounts and IIIF Auth exist, only ``public`` items are
visible to anyone; ``restricted`` and ``internal`` items are preserved like any
other but are never listed, searched, shown or served.
"""

from __future__ import annotations

from repository.errors import NotFound

PUBLIC = "public"
LEVELS = ("public", "restricted", "internal")


def visible_levels(user: object | None = None) -> frozenset[str]:
    """The access levels ``user`` (None: an anonymous reader) may see."""
    return frozenset({PUBLIC})


def can_view(access: str | None, user: object | None = None) -> bool:
    return access in visible_levels(user)


def require_view(item_id: str, access: str | None, user: object | None = None) -> None:
    """Raise NotFound, not Forbidden, so that hidden items are not even confirmed to exist."""
    if not can_view(access, user):
        raise NotFound(f"no item {item_id!r}")
