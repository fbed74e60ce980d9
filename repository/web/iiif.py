"""IIIF Presentation 3: manifests (stored derivatives) and collections (from the catalogue)."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, json

from ingest.manifest import build_collection
from opendata import changes as change_discovery
from repository import services
from repository.errors import NotFound

bp = Blueprint("iiif", __name__, url_prefix="/iiif")
JSONLD = 'application/ld+json;profile="http://iiif.io/api/presentation/3/context.json"'


def repo():
    return current_app.extensions["sen"]


def _json(data: bytes | dict, max_age: int = 300) -> Response:
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    response = Response(body, content_type=JSONLD)
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


@bp.get("/<item_id>/manifest")
def manifest(item_id: str):
    return _json(services.manifest(repo(), item_id))


@bp.get("/activity/all-changes")
def changes():
    return _json(change_discovery.collection(repo()), max_age=60)


@bp.get("/activity/all-changes/page/<int:number>")
def changes_page(number: int):
    found = change_discovery.page(repo(), number)
    if found is None:
        raise NotFound(f"no page {number} of the change stream")
    return _json(found, max_age=60)


@bp.get("/collection/top")
def top_collection():
    r = repo()
    subs = [{"id": c["id"], "label": {"vi": [c["name_vi"]], "en": [c["name_en"] or c["name_vi"]]}}
            for c in services.collections(r)]
    loose = [m for m in services.all_visible(r) if not m["collection"]]
    label = {"vi": [r.settings.site_name], "en": [r.settings.site_name_en]}
    top = build_collection(None, label, loose, r.settings, collections=subs)
    # Where harvesters find what changed since they last looked.
    top["seeAlso"] = [{"id": change_discovery.stream_url(r.settings.public_url),
                       "type": "Dataset", "format": "application/ld+json",
                       "profile": "http://iiif.io/api/discovery/1/context.json",
                       "label": {"vi": ["Dòng thay đổi (IIIF Change Discovery)"],
                                 "en": ["Change stream (IIIF Change Discovery)"]}}]
    return _json(top)


@bp.get("/collection/<collection_id>")
def collection(collection_id: str):
    r = repo()
    found = services.collection(r, collection_id, page_size=1)
    label = {"vi": [found["name_vi"]], "en": [found["name_en"] or found["name_vi"]]}
    return _json(build_collection(collection_id, label,
                                  services.all_visible(r, collection_id=collection_id),
                                  r.settings))
