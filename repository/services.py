"""What readers can ask of Sen, in one layer used by the portal, the API and the CLI.

Every function here applies the access policy, so no caller can forget it.
Results are plain JSON-ready dictionaries.
"""

from __future__ import annotations

from repository import access, links
from repository import record as rec
from repository.errors import NotFound
from repository.places import default_authority
from repository.repo import Repository
from repository.search import FACETS, Query


def item_summary(repo: Repository, row: dict) -> dict:
    """A catalogue row as a search hit or a listing entry."""
    base = repo.settings.public_url
    record = row["record"]
    return {
        "id": row["id"],
        "title": row["title_vi"],
        "title_en": row["title_en"] or row["title_vi"],
        "type": row["type"],
        "date": row["date_display"],
        "collection": row["collection_id"],
        "holding_library": row["holding_library"],
        "pages": row["page_count"],
        "creator": record.get("creator", []),
        "manifest": links.manifest(base, row["id"]),
        "url": links.item_page(base, row["id"]),
        "thumbnail": links.thumbnail(base, row["id"]),
    }


def facet_label(field: str, value: str, lang: str = "vi",
                collections: dict[str, dict] | None = None) -> str:
    """How a facet value reads to a person (``collections``: the catalogue's names)."""
    if field == "collection":
        found = (collections or {}).get(value)
        return (found["name_en"] if lang == "en" and found["name_en"] else
                found["name_vi"]) if found else value
    if field in ("type", "category"):
        return rec.term_label(field, value, lang)
    if field == "place":
        authority = default_authority()
        return authority.get(value).label(lang) if value in authority else value
    if field == "language":
        return rec.language_name(value, lang)
    if field == "decade":
        return f"{value}–{int(value) + 9}" if lang == "en" else f"Thập niên {value}"
    return value


def search_items(repo: Repository, query: Query, user: object | None = None,
                 lang: str = "vi") -> dict:
    query.visible = access.visible_levels(user)
    results = repo.search.search(query)
    rows = repo.catalogue.get_items([hit.id for hit in results.hits])
    items = []
    for hit in results.hits:
        row = rows.get(hit.id)
        if row is None or not access.can_view(row["access"], user):
            continue  # the index lags the catalogue: never show what is not visible now
        items.append(item_summary(repo, row) | {"score": round(hit.score, 4)})
    names = repo.catalogue.collection_names()
    facets = {
        field: [{"value": value, "count": count,
                 "label": facet_label(field, value, lang, names),
                 "selected": value in query.filters.get(field, [])}
                for value, count in results.facets.get(field, [])]
        for field in FACETS}
    return {"query": query.text, "total": results.total, "page": results.page,
            "pages": results.pages, "page_size": results.page_size, "fuzzy": results.fuzzy,
            "items": items, "facets": facets}


def get_record(repo: Repository, item_id: str, user: object | None = None) -> dict:
    """The record of a visible item, read from its OCFL object; NotFound otherwise."""
    access.require_view(item_id, repo.access_of(item_id), user)
    return repo.record(item_id)


def get_item(repo: Repository, item_id: str, user: object | None = None) -> dict:
    """Everything the item page shows: the record, its summary, and its derivatives."""
    record = get_record(repo, item_id, user)
    row = repo.catalogue.get_item(item_id)
    info = repo.item_info(item_id)
    summary = item_summary(repo, row) if row else {}
    return {"record": record, "summary": summary, "pages": info["pages"],
            "manifest": links.manifest(repo.settings.public_url, item_id)}


def manifest(repo: Repository, item_id: str, user: object | None = None) -> bytes:
    access.require_view(item_id, repo.access_of(item_id), user)
    return repo.manifest(item_id)


def collections(repo: Repository, user: object | None = None) -> list[dict]:
    return repo.catalogue.collections(access.visible_levels(user))


def collection(repo: Repository, collection_id: str, user: object | None = None,
               page: int = 1, page_size: int = 20) -> dict:
    visible = access.visible_levels(user)
    found = repo.catalogue.get_collection(collection_id, visible)
    if found is None:
        raise NotFound(f"no collection {collection_id!r}")
    total, rows = repo.catalogue.list_items(visible, collection_id=collection_id,
                                            limit=page_size, offset=(page - 1) * page_size)
    return found | {"total": total, "page": page, "pages": max(1, -(-total // page_size)),
                    "items": [item_summary(repo, r) for r in rows]}


def recent(repo: Repository, user: object | None = None, limit: int = 8) -> list[dict]:
    _total, rows = repo.catalogue.list_items(access.visible_levels(user), limit=limit)
    return [item_summary(repo, r) for r in rows]


def all_visible(repo: Repository, user: object | None = None,
                collection_id: str | None = None) -> list[dict]:
    """Every visible item (for IIIF collections), oldest first."""
    total, rows = repo.catalogue.list_items(access.visible_levels(user),
                                            collection_id=collection_id, limit=1_000_000)
    return [{"id": r["id"], "label": r["record"]["title"], "collection": r["collection_id"]}
            for r in reversed(rows)]
