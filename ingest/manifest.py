"""IIIF Presentation 3 manifests and collections, built with iiif-prezi3.

Names follow the specification (Manifest, Canvas, Annotation, ``behavior``,
``requiredStatement``). URLs are made from the public base URL in the settings,
so a manifest is the same file whichever process wrote it.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable

from iiif_prezi3 import Canvas as CanvasModel
from iiif_prezi3 import (
    Collection,
    CollectionRef,
    Homepage,
    KeyValueString,
    Manifest,
    ManifestRef,
    Provider,
    ServiceV3,
)

from repository import links
from repository import record as rec

CONTEXT = "http://iiif.io/api/presentation/3/context.json"
IMAGE_PROFILE = "level2"
PAGED_TYPES = {"book", "magazine", "newspaper", "genealogy", "land_register", "han_nom",
               "thesis", "manuscript", "administrative"}
RTL_TYPES = {"han_nom"}

#: Labels of the metadata fields, Vietnamese first.
FIELD_LABELS = {
    "alternative": ("Nhan đề khác", "Other titles"),
    "creator": ("Tác giả", "Creator"),
    "contributor": ("Người đóng góp", "Contributor"),
    "publisher": ("Nhà xuất bản", "Publisher"),
    "date": ("Thời gian", "Date"),
    "type": ("Loại tài liệu", "Type"),
    "language": ("Ngôn ngữ", "Language"),
    "subject": ("Chủ đề", "Subject"),
    "spatial": ("Địa danh", "Place"),
    "collection": ("Bộ sưu tập", "Collection"),
    "category": ("Loại hình", "Category"),
    "extent": ("Mô tả vật lý", "Physical description"),
    "shelfmark": ("Ký hiệu xếp giá", "Shelfmark"),
    "holding_library": ("Đơn vị lưu giữ", "Holding library"),
    "identifier": ("Mã định danh", "Identifier"),
}


def _pair(label: tuple[str, str], vi: Iterable[str], en: Iterable[str] | None = None):
    vi = [v for v in vi if v]
    en = [v for v in (en if en is not None else vi) if v]
    if not vi:
        return None
    return KeyValueString(label={"vi": [label[0]], "en": [label[1]]},
                          value={"vi": vi, "en": en or vi})


def metadata(record: rec.Record) -> list[KeyValueString]:
    lbl = FIELD_LABELS
    date = record.get("date") or {}
    alternative = [v for values in (record.get("alternative") or {}).values() for v in values]
    collection = record.get("collection") or {}
    pairs = [
        _pair(lbl["alternative"], alternative),
        _pair(lbl["creator"], record.get("creator", [])),
        _pair(lbl["contributor"], record.get("contributor", [])),
        _pair(lbl["publisher"], record.get("publisher", [])),
        _pair(lbl["date"], [date.get("display", "")]),
        _pair(lbl["type"], [rec.term_label("type", record["type"], "vi")],
              [rec.term_label("type", record["type"], "en")]),
        _pair(lbl["language"], [rec.language_name(c, "vi") for c in record.get("language", [])],
              [rec.language_name(c, "en") for c in record.get("language", [])]),
        _pair(lbl["subject"], record.get("subject", [])),
        _pair(lbl["spatial"], [p["name"] for p in record.get("spatial", [])]),
        _pair(lbl["collection"], [rec.pick(collection.get("name"), "vi")],
              [rec.pick(collection.get("name"), "en")]),
        _pair(lbl["category"], [rec.term_label("category", record.get("category"), "vi")],
              [rec.term_label("category", record.get("category"), "en")]),
        _pair(lbl["extent"], [record.get("extent", "")]),
        _pair(lbl["shelfmark"], [record.get("shelfmark", "")]),
        _pair(lbl["identifier"], [record["identifier"]]),
    ]
    return [p for p in pairs if p is not None]


def _both(language_map: dict | None) -> dict[str, list[str]]:
    """A language map with at least vi and en (each falling back on the other), in the
    order vi, en, then the rest: the same record always gives the same bytes."""
    language_map = dict(language_map or {})
    for lang in ("vi", "en"):
        if lang not in language_map and language_map:
            language_map[lang] = [rec.pick(language_map, lang)]
    order = ["vi", "en"] + sorted(k for k in language_map if k not in ("vi", "en"))
    return {k: language_map[k] for k in order if k in language_map}


def provider(settings) -> Provider:
    base = settings.public_url
    return Provider(id=f"{base}/#provider", label={"vi": [settings.site_name],
                                                 "en": [settings.site_name_en]},
                 homepage=[Homepage(id=f"{base}/", type="Text", format="text/html",
                                    label={"vi": [settings.site_name],
                                           "en": [settings.site_name_en]})])


def thumbnail_size(sizes: list[list[int]], wanted: int = 300) -> tuple[int, int]:
    """The smallest stored pyramid level at least ``wanted`` wide (else the largest)."""
    fitting = [s for s in sizes if s[0] >= wanted]
    width, height = min(fitting) if fitting else max(sizes)
    return width, height


def build_manifest(record: rec.Record, pages: list[dict], settings) -> dict:
    """The Presentation 3 Manifest of an item.

    ``pages`` gives, per page in order, ``width``, ``height`` and the stored
    pyramid level ``sizes`` (smallest to largest).
    """
    base = settings.public_url
    item_id = record["identifier"]
    holding = " — ".join(filter(None, [record.get("holding_library"), record.get("shelfmark")]))
    manifest = Manifest(
        id=links.manifest(base, item_id),
        label=_both(record["title"]),
        metadata=metadata(record),
        rights=record["rights"],
        requiredStatement=KeyValueString(
            label={"vi": ["Đơn vị lưu giữ"], "en": ["Holding library"]},
            value={"vi": [holding or settings.site_name],
                   "en": [holding or settings.site_name_en]}),
        provider=[provider(settings)],
        homepage=[Homepage(id=links.item_page(base, item_id), type="Text", format="text/html",
                           label=_both(record["title"]), language=["vi", "en"])],
        seeAlso=[{"id": links.item_record(base, item_id), "type": "Dataset",
                  "format": "application/json",
                  "label": {"vi": ["Biểu ghi (JSON)"], "en": ["Record (JSON)"]},
                  "profile": f"{base}/schemas/record.schema.json"}],
    )
    if record.get("description"):
        manifest.summary = _both(record["description"])
    collection = record.get("collection")
    if collection:
        manifest.partOf = [{"id": links.iiif_collection(base, collection["id"]),
                            "type": "Collection", "label": _both(collection["name"])}]
    if record["type"] in PAGED_TYPES and len(pages) > 1:
        manifest.behavior = ["paged"]
    elif record["type"] not in PAGED_TYPES:
        manifest.behavior = ["individuals"]
    if record["type"] in RTL_TYPES:
        manifest.viewingDirection = "right-to-left"
    date = record.get("date")
    if date:
        manifest.navDate = f"{date['start']:04d}-01-01T00:00:00Z"

    for n, page in enumerate(pages, 1):
        service_id = links.image_service(base, item_id, n)
        canvas_id = links.canvas(base, item_id, n)
        canvas = CanvasModel(id=canvas_id, width=page["width"], height=page["height"],
                             label={"vi": [f"Trang {n}"], "en": [f"Page {n}"]})
        service = [ServiceV3(id=service_id, type="ImageService3", profile=IMAGE_PROFILE)]
        canvas.add_image(
            image_url=f"{service_id}/full/max/0/default.jpg",
            anno_id=f"{base}/iiif/{item_id}/annotation/p{n}-image",
            anno_page_id=f"{base}/iiif/{item_id}/page/p{n}",
            format="image/jpeg", width=page["width"], height=page["height"], service=service)
        tw, th = thumbnail_size(page["sizes"])
        canvas.add_thumbnail(f"{service_id}/full/{tw},{th}/0/default.jpg", format="image/jpeg",
                             width=tw, height=th, service=service)
        manifest.add_item(canvas)
        if n == 1:
            manifest.thumbnail = canvas.thumbnail
    return _to_dict(manifest)


def build_collection(collection_id: str | None, label: dict, manifests: list[dict],
                     settings, collections: list[dict] | None = None,
                     summary: dict | None = None) -> dict:
    """A Collection of manifest references (and sub-collections for the top one).

    ``manifests`` are dicts with ``id`` (item id), ``label`` (language map) and,
    optionally, ``thumbnail`` (an image URL).
    """
    base = settings.public_url
    coll = Collection(id=links.iiif_collection(base, collection_id or "top"), label=_both(label),
                      provider=[provider(settings)])
    if summary:
        coll.summary = _both(summary)
    items = []
    for sub in collections or []:
        items.append(CollectionRef(id=links.iiif_collection(base, sub["id"]),
                                   type="Collection", label=_both(sub["label"])))
    for m in manifests:
        items.append(ManifestRef(id=links.manifest(base, m["id"]), type="Manifest",
                                 label=_both(m["label"])))
    coll.items = items
    return _to_dict(coll)


def _to_dict(resource) -> dict:
    with warnings.catch_warnings():
        # iiif-prezi3's own add_thumbnail stores an AnnotationBody where its model
        # expects a Resource; the JSON is right (checked against the IIIF schema).
        warnings.filterwarnings("ignore", "Pydantic serializer warnings", UserWarning)
        return json.loads(resource.jsonld())
