"""The public portal: home, collections, search, item pages."""

from __future__ import annotations

from flask import Blueprint, current_app, g, render_template, request, url_for

from opendata.rdf import schema_org
from repository import record as rec
from repository import services
from repository.errors import BadRequest
from repository.search import FACETS
from repository.web.api import query_from_request
from repository.web.citation import citation

bp = Blueprint("public", __name__)


def repo():
    return current_app.extensions["sen"]


@bp.app_context_processor
def helpers() -> dict:
    def lang_url(lang: str) -> str:
        args = request.args.to_dict(flat=False) | {"lang": [lang]}
        return url_for(request.endpoint or "public.home", **(request.view_args or {}),
                       **args)

    def page_url(page: int) -> str:
        args = request.args.to_dict(flat=False) | {"page": [str(page)]}
        return url_for(request.endpoint, **(request.view_args or {}), **args)

    def pick(language_map) -> str:
        return rec.pick(language_map, g.get("lang", "vi"))

    settings = repo().settings
    return {"lang_url": lang_url, "page_url": page_url, "pick": pick,
            "site_name": settings.site_name_en if g.get("lang") == "en" else settings.site_name,
            "term_label": lambda field, code: rec.term_label(field, code, g.get("lang", "vi"))}


@bp.get("/")
def home():
    r = repo()
    return render_template("home.html", collections=services.collections(r),
                           recent=services.recent(r), total=sum(
                               c["count"] for c in services.collections(r)))


@bp.get("/collections/")
def collections():
    return render_template("collections.html", collections=services.collections(repo()))


@bp.get("/collections/<collection_id>")
def collection(collection_id: str):
    try:
        page = max(1, int(request.args.get("page", 1)))
    except ValueError:
        raise BadRequest("page must be a number") from None
    found = services.collection(repo(), collection_id, page=page,
                                page_size=repo().settings.page_size)
    return render_template("collection.html", collection=found)


@bp.get("/search")
def search():
    query = query_from_request(repo().settings.page_size)
    result = services.search_items(repo(), query, lang=g.lang)
    return render_template("search.html", result=result, query=query, facet_names=FACETS)


@bp.get("/items/<item_id>")
def item(item_id: str):
    found = services.get_item(repo(), item_id)
    record = found["record"]
    found["languages"] = [rec.language_name(c, g.lang) for c in record.get("language", [])]
    return render_template("item.html", item=found, record=record,
                           citation=citation(record, found["summary"].get("url", ""), g.lang),
                           schema_org=schema_org(record, repo().settings))
