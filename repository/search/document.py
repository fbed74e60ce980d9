"""From a record (and its OCR text) to the document every search backend indexes."""

from __future__ import annotations

from repository import record as rec
from repository.dates import decades
from repository.places import default_authority
from repository.search import SearchDocument


def _values(language_map: dict | None) -> list[str]:
    return [v for values in (language_map or {}).values() for v in values]


def from_record(record: rec.Record, *, created: str = "", fulltext: str = "") -> SearchDocument:
    authority = default_authority()
    place_names, place_ids = [], []
    for place in record.get("spatial", []):
        place_names.append(place["name"])
        if place.get("id") in authority:
            known = authority.get(place["id"])
            place_ids.append(known.id)
            place_names.extend(known.all_names())  # "Sadec" finds Sa Đéc
    collection = record.get("collection") or {}
    type_labels = rec.vocabulary("type").get(record["type"], {})
    text = {
        "title": " ".join(_values(record.get("title")) + _values(record.get("alternative"))),
        "people": " ".join(record.get("creator", []) + record.get("contributor", [])
                           + record.get("publisher", [])),
        "subjects": " ".join(record.get("subject", []) + place_names
                             + [type_labels.get("vi", ""), type_labels.get("en", "")]
                             + _values(collection.get("name"))),
        "description": " ".join(_values(record.get("description"))
                                + [(record.get("date") or {}).get("display", "")]),
        "fulltext": fulltext,
        "identifiers": " ".join(filter(None, [record["identifier"], record.get("shelfmark"),
                                              record.get("holding_library")])),
    }
    facets = {
        "collection": [collection["id"]] if collection else [],
        "type": [record["type"]],
        "place": place_ids,
        "language": list(record.get("language", [])),
        "decade": [str(d) for d in decades(record.get("date"))],
        "category": [record["category"]] if record.get("category") else [],
    }
    return SearchDocument(
        id=record["identifier"], access=record["access"], text=text, facets=facets,
        date_start=(record.get("date") or {}).get("start"), created=created,
        title_sort=rec.title(record))
