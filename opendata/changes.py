"""IIIF Change Discovery 1.0: the stream of Create, Update and Delete activities.

https://iiif.io/api/discovery/1.0/ — an OrderedCollection whose pages list, oldest
first and newest last, every change of a public manifest: an item becoming
public (Create), a public item's new version (Update), an item hidden again
(Delete). Aggregators read from the last page backwards until they reach what
they already have. The activities come from the catalogue's ``changes`` table,
which is derived from the OCFL version history, so the stream can be rebuilt.
"""

from __future__ import annotations

from repository import links
from repository.repo import Repository

CONTEXT = "http://iiif.io/api/discovery/1/context.json"
PAGE_SIZE = 100


def stream_url(base: str) -> str:
    return f"{base}/iiif/activity/all-changes"


def page_url(base: str, page: int) -> str:
    return f"{stream_url(base)}/page/{page}"


def _last_page(total: int) -> int:
    return max(0, (total - 1) // PAGE_SIZE)


def collection(repo: Repository) -> dict:
    base = repo.settings.public_url
    total = repo.catalogue.count_changes()
    return {
        "@context": CONTEXT, "id": stream_url(base), "type": "OrderedCollection",
        "totalItems": total,
        "first": {"id": page_url(base, 0), "type": "OrderedCollectionPage"},
        "last": {"id": page_url(base, _last_page(total)), "type": "OrderedCollectionPage"},
    }


def page(repo: Repository, number: int) -> dict | None:
    """One page of activities, or None past the last page."""
    base = repo.settings.public_url
    total = repo.catalogue.count_changes()
    last = _last_page(total)
    if number < 0 or number > last:
        return None
    rows = repo.catalogue.list_changes(number * PAGE_SIZE, PAGE_SIZE)
    result = {
        "@context": CONTEXT, "id": page_url(base, number), "type": "OrderedCollectionPage",
        "partOf": {"id": stream_url(base), "type": "OrderedCollection"},
        "startIndex": number * PAGE_SIZE,
        "orderedItems": [{
            "id": f"{base}/iiif/activity/{row['item_id']}/{row['version']}",
            "type": row["activity"],
            "object": {"id": links.manifest(base, row["item_id"]), "type": "Manifest"},
            "endTime": row["time"].strftime("%Y-%m-%dT%H:%M:%SZ"),
        } for row in rows],
    }
    if number > 0:
        result["prev"] = {"id": page_url(base, number - 1), "type": "OrderedCollectionPage"}
    if number < last:
        result["next"] = {"id": page_url(base, number + 1), "type": "OrderedCollectionPage"}
    return result
