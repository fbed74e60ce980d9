"""The JSON API: the same services as the portal, as data."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, request

from repository import services
from repository.errors import BadRequest
from repository.search import FACETS, SORTS, Query

bp = Blueprint("api", __name__, url_prefix="/api")


def repo():
    return current_app.extensions["sen"]


def query_from_request(page_size: int) -> Query:
    """A search query from URL parameters, shared by the portal and the API."""
    args = request.args
    try:
        page = max(1, min(int(args.get("page", 1)), 10_000))
    except ValueError:
        raise BadRequest("page must be a number") from None
    sort = args.get("sort", "relevance")
    if sort not in SORTS:
        raise BadRequest(f"sort must be one of {', '.join(SORTS)}")
    fuzzy = args.get("fuzzy", "auto")
    if fuzzy not in ("auto", "always", "never"):
        raise BadRequest("fuzzy must be auto, always or never")
    filters = {f: [v for v in args.getlist(f) if v][:20] for f in FACETS if args.getlist(f)}
    return Query(text=args.get("q", "")[:500], filters=filters, page=page,
                 page_size=page_size, sort=sort, fuzzy=fuzzy)


@bp.after_request
def _cors(response):
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/search")
def search():
    lang = request.args.get("lang", "vi")
    return jsonify(services.search_items(repo(), query_from_request(
        repo().settings.page_size), lang=lang))


@bp.get("/items/<item_id>")
def item(item_id: str):
    return jsonify(services.get_record(repo(), item_id))


@bp.get("/collections")
def collections():
    return jsonify([{"id": c["id"], "name": {"vi": c["name_vi"], "en": c["name_en"]},
                     "items": c["count"]} for c in services.collections(repo())])
