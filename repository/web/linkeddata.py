"""Linked data over HTTP: ``/id/`` URIs, ``/doc/`` documents, the DCAT catalogue, the
bulk dumps and the SPARQL endpoint.

Things have ``/id/{kind}/{id}`` URIs and their descriptions live at
``/doc/{kind}/{id}.{ttl,jsonld,rdf,nt}`` (the W3C "Cool URIs" 303 pattern): an
``/id/`` URI answers 303 See Other to the document its ``Accept`` header
prefers, or to the portal page for a browser, with ``Vary: Accept`` and a
``Link: rel="alternate"`` for every form. Items are looked up through
:mod:`repository.services`, so a hidden item is a 404 here exactly as in the
portal. Responses carry ETags and ``Cache-Control: no-cache``: a cache must ask
again, so an item made restricted is not served from a cache afterwards.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from urllib.parse import quote

from flask import Blueprint, Response, current_app, redirect, request, send_file
from rdflib import Graph

from opendata import dcat, dumps, rdf, sparql
from repository import links, services
from repository.errors import BadRequest, NotFound, SenError
from repository.repo import Repository
from repository.text import slugify

bp = Blueprint("linkeddata", __name__)

HTML = "text/html"
MEDIA_TYPES = {media_type: ext for ext, (media_type, _) in rdf.FORMATS.items()}


def repo() -> Repository:
    return current_app.extensions["sen"]


# --------------------------------------------------------------------------- describing


def _item(r: Repository, item_id: str) -> Graph:
    return rdf.item_graph(services.get_record(r, item_id), r.settings)


def _collection(r: Repository, collection_id: str) -> Graph:
    found = services.collection(r, collection_id, page_size=1)
    names = {"vi": [found["name_vi"]]} | ({"en": [found["name_en"]]} if found["name_en"] else {})
    ids = [i["id"] for i in services.all_visible(r, collection_id=collection_id)]
    return rdf.collection_graph(collection_id, names, sorted(ids), r.settings)


def _library(r: Repository, slug: str) -> Graph:
    if slug == slugify(r.settings.site_name):
        graph = rdf.new_graph()
        rdf.site_agent(graph, r.settings)
        return graph
    return sparql.describe(r, links.library_uri(r.settings.public_url, quote(slug, safe="-")))


def _subject(r: Repository, slug: str) -> Graph:
    return sparql.describe(r, links.subject_uri(r.settings.public_url, quote(slug, safe="-")))


#: kind -> (its description, its portal page if it has one)
KINDS: dict[str, tuple[Callable[[Repository, str], Graph], Callable[[str, str], str] | None]] = {
    "item": (_item, links.item_page),
    "collection": (_collection, links.collection_page),
    "place": (lambda r, i: rdf.place_graph(i, r.settings),
              lambda base, i: f"{base}/search?place={quote(i)}"),
    "type": (lambda r, i: rdf.type_graph(i, r.settings),
             lambda base, i: f"{base}/search?type={quote(i)}"),
    "library": (_library, None),
    "subject": (_subject, None),
}


def _kind(kind: str):
    if kind not in KINDS:
        raise NotFound(f"no such kind of resource: {kind!r}")
    return KINDS[kind]


def _alternates(kind: str, ident: str) -> str:
    base = repo().settings.public_url
    ident = quote(ident, safe="-._~")
    found = [f'<{links.document(base, kind, ident, "." + ext)}>; rel="alternate"; '
             f'type="{media_type}"' for ext, (media_type, _) in rdf.FORMATS.items()]
    page = KINDS[kind][1]
    if page:
        found.insert(0, f'<{page(base, ident)}>; rel="alternate"; type="{HTML}"')
    return ", ".join(found)


def _negotiate(offers: list[str]) -> str | None:
    if not request.accept_mimetypes:
        return offers[0]
    return request.accept_mimetypes.best_match(offers)


def _not_acceptable(offers: list[str]) -> Response:
    return Response("Not Acceptable: available as " + ", ".join(offers) + "\n", 406,
                    mimetype="text/plain")


def _rdf_response(graph: Graph, ext: str) -> Response:
    body = rdf.serialize(graph, ext)
    response = Response(body, mimetype=rdf.FORMATS[ext][0])
    response.set_etag(hashlib.sha256(body).hexdigest())
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response.make_conditional(request)


@bp.get("/id/<kind>/<ident>")
def resource(kind: str, ident: str):
    """A thing's URI: 303 to the description (or page) that the client prefers."""
    describe, page = _kind(kind)
    describe(repo(), ident)  # NotFound for what does not exist or is hidden
    base = repo().settings.public_url
    offers = [HTML] + list(MEDIA_TYPES)
    chosen = _negotiate(offers)
    if chosen is None:
        response = _not_acceptable(offers)
    elif chosen == HTML and page:
        response = redirect(page(base, quote(ident, safe="-._~")), 303)
    else:  # a browser asking for what has no page of its own reads the Turtle
        ext = MEDIA_TYPES.get(chosen, "ttl")
        response = redirect(links.document(base, kind, quote(ident, safe="-._~"), "." + ext),
                            303)
    response.headers["Vary"] = "Accept"
    response.headers["Link"] = _alternates(kind, ident)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/doc/<kind>/<name>")
def document(kind: str, name: str):
    """A description, in the format its extension names or, without one, by ``Accept``.

    Item ids may contain dots: a known extension is always taken as the format
    (``a.ttl`` is item ``a``; item ``a.ttl`` is at ``a.ttl.ttl``).
    """
    describe, _page = _kind(kind)
    stem, dot, ext = name.rpartition(".")
    if dot and ext in rdf.FORMATS:
        response = _rdf_response(describe(repo(), stem), ext)
    else:
        graph = describe(repo(), name)
        chosen = _negotiate(list(MEDIA_TYPES))
        if chosen is None:
            response = _not_acceptable(list(MEDIA_TYPES))
        else:
            response = _rdf_response(graph, MEDIA_TYPES[chosen])
        response.headers["Vary"] = "Accept"
        stem = name
    response.headers["Link"] = _alternates(kind, stem)
    return response


# --------------------------------------------------------------------------- the catalogue


@bp.get("/catalog")
def catalog():
    """The catalogue's URI: 303 to its Turtle or JSON-LD."""
    offers = list(MEDIA_TYPES)
    chosen = _negotiate(offers) or offers[0]
    response = redirect(links.catalog(repo().settings.public_url, "." + MEDIA_TYPES[chosen]),
                        303)
    response.headers["Vary"] = "Accept"
    return response


@bp.get("/catalog.<ext>")
def catalog_document(ext: str):
    if ext not in rdf.FORMATS:
        raise NotFound(f"no catalogue in format {ext!r}")
    return _rdf_response(dcat.catalog_graph(repo()), ext)


# --------------------------------------------------------------------------- dumps


@bp.get("/opendata/dumps/")
@bp.get("/opendata/dumps/index.json")
def dump_index():
    index = dumps.load_index(repo())
    if index is None:
        raise NotFound("no dumps have been published yet")
    response = current_app.response_class(dumps.canonical_json(index),
                                          mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/opendata/dumps/<name>")
def dump(name: str):
    """A dump file, as published; refused while it may hold an item hidden since."""
    r = repo()
    index = dumps.load_index(r)
    info = dumps.dump_info(index, name)
    if info["dataset"] in dumps.stale_datasets(r, index):
        response = Response("This dump is being republished; try again later.\n", 503,
                            mimetype="text/plain")
        response.headers["Retry-After"] = "600"
        return response
    path = r.storage.local_path(dumps.PREFIX + name)
    if path is not None:
        response = send_file(path, mimetype=info["media_type"], etag=info["sha256"],
                             conditional=True, max_age=None)
    else:
        response = Response(dumps.read_chunks(r, name, info["size"]),
                            mimetype=info["media_type"])
        response.headers["Content-Length"] = str(info["size"])
        response.set_etag(info["sha256"])
        response = response.make_conditional(request)
    response.headers["Cache-Control"] = "no-cache"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


# --------------------------------------------------------------------------- SPARQL


def _plain(message: str, status: int) -> Response:
    response = Response(message.rstrip("\n") + "\n", status, mimetype="text/plain")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.route("/sparql", methods=["GET", "POST"])
def sparql_endpoint():
    """The SPARQL 1.1 Protocol: queries by GET, by form POST or as a direct POST body."""
    if request.method == "POST":
        if request.mimetype == "application/sparql-update" or "update" in request.form:
            return _plain("SPARQL Update is refused: this endpoint is read-only", 400)
        if request.mimetype == "application/sparql-query":
            query = request.get_data(as_text=True)
        elif request.mimetype == "application/x-www-form-urlencoded":
            query = request.form.get("query", "")
        else:
            return _plain("send application/sparql-query or a form with `query`", 415)
        params = request.form
    else:
        if "update" in request.args:
            return _plain("SPARQL Update is refused: this endpoint is read-only", 400)
        query, params = request.args.get("query", ""), request.args
    if params.get("default-graph-uri") or params.get("named-graph-uri"):
        return _plain("this endpoint has one graph, the default one: leave out "
                      "default-graph-uri and named-graph-uri", 400)
    if not query.strip() and request.method == "GET":
        return _rdf_response(sparql.service_description(repo().settings), "ttl")
    try:
        answer = sparql.run(repo(), query, request.headers.get("Accept", ""))
    except BadRequest as exc:
        return _plain(str(exc), 400)
    except SenError as exc:
        return _plain(str(exc), exc.http_status)
    response = Response(answer.body, mimetype=answer.media_type)
    response.headers["Sen-Result-Limit"] = str(sparql.RESULT_LIMIT)
    if answer.truncated:
        response.headers["Sen-Result-Truncated"] = "true"
    response.headers["Vary"] = "Accept"
    response.headers["Access-Control-Allow-Origin"] = "*"
    response.headers["Access-Control-Expose-Headers"] = "Sen-Result-Limit, Sen-Result-Truncated"
    return response
