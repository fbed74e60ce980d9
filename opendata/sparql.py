"""The SPARQL endpoint: read-only SPARQL 1.1 queries over the published graph.

The published graph is the all-public N-Triples dump (:mod:`opendata.dumps`),
loaded once per dump (named by its sha256) into an Oxigraph store on local disk
under ``{data_dir}/sparql/``, without the items hidden since the dump was taken.
Every query runs in a child process that opens the store read-only, so a query
that would run for hours is killed after :data:`TIMEOUT` seconds and costs
nothing more; a thread could only be abandoned, still computing. At most
:data:`SLOTS` queries run at once; results stop at :data:`RESULT_LIMIT` rows or
triples, and the response says so. Updates are refused: the store is opened
read-only, and an update is recognised and answered with a clear message.

Children come from a ``forkserver`` (forking a threaded web server is unsafe),
which, like every non-fork start method, imports the program's main module: a
script that serves Sen must keep its start-up under ``if __name__ == "__main__"``
(``sen serve``, waitress, granian and pytest do).
"""

from __future__ import annotations

import csv
import hashlib
import io
import itertools
import json
import multiprocessing
import os
import re
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox
from rdflib import RDF, RDFS, XSD, Graph, Literal, URIRef
from werkzeug.datastructures import MIMEAccept
from werkzeug.http import parse_accept_header

from opendata import dumps, rdf
from repository import links
from repository.errors import BadRequest, NotFound, SenError
from repository.repo import Repository

#: Seconds a query may run (proposed setting ``sparql_timeout``, SEN_SPARQL_TIMEOUT).
TIMEOUT = 10.0
#: Most rows (SELECT) or triples (CONSTRUCT, DESCRIBE) returned (``sparql_result_limit``).
RESULT_LIMIT = 10_000
#: Queries running at once in this process (``sparql_slots``).
SLOTS = 4
#: Stores of older dumps are removed this long after a newer one was built.
KEEP_OLD_SECONDS = 86_400

SELECT_FORMATS = {"application/sparql-results+json": "json",
                  "application/sparql-results+xml": "xml", "text/csv": "csv",
                  "application/json": "json"}
GRAPH_FORMATS = ("text/turtle", "application/n-triples", "application/rdf+xml",
                 "application/ld+json")
RESULTS_NS = "http://www.w3.org/2005/sparql-results#"
_UPDATE = re.compile(r"(INSERT|DELETE|LOAD|CLEAR|CREATE|DROP|COPY|MOVE|ADD|WITH)\b", re.I)
_PROLOGUE = re.compile(r"\s*(?:PREFIX\s+[^\s:]*:\s*<[^>]*>|BASE\s*<[^>]*>)\s*", re.I)
_COMMENT = re.compile(r"(^|\s)#[^\n]*")


class QueryTimeout(SenError):
    http_status = 503


class Busy(SenError):
    http_status = 503


class NotPublished(SenError):
    http_status = 503


@dataclass(frozen=True)
class Answer:
    body: bytes
    media_type: str
    truncated: bool


def is_update(text: str) -> bool:
    """Whether ``text`` is a SPARQL Update (after its prefixes), to refuse it by name."""
    text = _COMMENT.sub(" ", text)
    position = 0
    while match := _PROLOGUE.match(text, position):
        position = match.end()
    return _UPDATE.match(text, position) is not None


# --------------------------------------------------------------------------- the store


def store_path(repo: Repository) -> Path:
    """The store of the published graph, built on first use (NotPublished before dumps)."""
    index = dumps.load_index(repo)
    try:
        info = dumps.dump_info(index, dumps.dump_name(dumps.ALL, "nt"))
    except NotFound:
        raise NotPublished("the linked data has not been published yet: run "
                           "`sen publish dumps`") from None
    hidden = sorted(dumps.hidden_since(repo, index))
    name = info["sha256"][:32]
    if hidden:
        name += "-" + hashlib.sha256("\n".join(hidden).encode()).hexdigest()[:16]
    path = repo.settings.data_dir / "sparql" / name
    if not path.exists():
        _build(repo, info, hidden, path)
    return path


def _build(repo: Repository, info: dict, hidden: list[str], path: Path) -> None:
    """Load the dump (less what was hidden since) into a new store, then move it in place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    base = repo.settings.public_url
    starts = tuple(prefix for item_id in hidden for prefix in (
        f"<{links.item_uri(base, item_id)}>", f"<{links.item_uri(base, item_id)}#",
        "<" + links.image_service(base, item_id, 1).rpartition("~")[0] + "~"))
    ends = tuple(f" <{links.item_uri(base, item_id)}> .\n" for item_id in hidden)
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".build-") as tmp:
        source = Path(tmp) / "graph.nt"
        with open(source, "wb") as out:
            for chunk in dumps.read_chunks(repo, info["name"], info["size"]):
                out.write(chunk)
        if hidden:
            kept = Path(tmp) / "kept.nt"
            with open(source, encoding="utf-8", newline="\n") as src, \
                    open(kept, "w", encoding="utf-8", newline="\n") as out:
                out.writelines(line for line in src
                               if not line.startswith(starts) and not line.endswith(ends))
            source = kept
        store = ox.Store(str(Path(tmp) / "store"))
        store.bulk_load(path=str(source), format=ox.RdfFormat.N_TRIPLES)
        store.flush()
        del store
        try:
            os.rename(Path(tmp) / "store", path)
        except OSError:
            pass  # another process built it meanwhile
    for other in path.parent.iterdir():
        if other != path and not other.name.startswith(".") and \
                time.time() - other.stat().st_mtime > KEEP_OLD_SECONDS:
            shutil.rmtree(other, ignore_errors=True)


_open_stores: dict[str, ox.Store] = {}
_open_lock = threading.Lock()


def _read_only(path: Path) -> ox.Store:
    with _open_lock:
        if str(path) not in _open_stores:
            _open_stores.clear()
            _open_stores[str(path)] = ox.Store.read_only(str(path))
        return _open_stores[str(path)]


def describe(repo: Repository, uri: str) -> Graph:
    """What the published graph says about ``uri`` and what links to it; NotFound if nothing
    is said about it (libraries and subjects are known only from the published items)."""
    try:
        store = _read_only(store_path(repo))
    except NotPublished as exc:
        raise NotFound(str(exc)) from None
    node = ox.NamedNode(uri)
    if not any(True for _ in store.quads_for_pattern(node, None, None)):
        raise NotFound(f"nothing is published about {uri}")
    triples = store.query(f"CONSTRUCT {{ <{uri}> ?p ?o . ?s ?q <{uri}> }} WHERE "
                          f"{{ {{ <{uri}> ?p ?o }} UNION {{ ?s ?q <{uri}> }} }}")
    graph = rdf.new_graph()
    graph.parse(data=ox.serialize(triples, format=ox.RdfFormat.N_TRIPLES), format="nt")
    return graph


# --------------------------------------------------------------------------- queries

_slots = threading.BoundedSemaphore(SLOTS)


def _context():
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    return context


def run(repo: Repository, query: str, accept: str = "") -> Answer:
    """Answer a query within :data:`TIMEOUT` seconds, in the format ``accept`` prefers."""
    if not query.strip():
        raise BadRequest("no query: send one in the `query` parameter")
    if is_update(query):
        raise BadRequest("SPARQL Update is refused: this endpoint is read-only")
    path = store_path(repo)
    if not _slots.acquire(timeout=1):
        raise Busy(f"{SLOTS} queries are running already; try again in a moment")
    try:
        context = _context()
        receiver, sender = context.Pipe(duplex=False)
        child = context.Process(target=_child, daemon=True,
                                args=(str(path), query, accept, RESULT_LIMIT, sender))
        child.start()
        sender.close()
        try:
            if not receiver.poll(TIMEOUT):
                raise QueryTimeout(f"the query ran longer than {TIMEOUT:g} s and was stopped; "
                                   "narrow it or add a LIMIT")
            outcome = receiver.recv()
        except EOFError:
            outcome = ("error", 500, "the query stopped unexpectedly")
        finally:
            receiver.close()
            if child.is_alive():
                child.kill()
            child.join()
    finally:
        _slots.release()
    if outcome[0] == "error":
        raise (BadRequest if outcome[1] == 400 else SenError)(outcome[2])
    return Answer(*outcome[1:])


def _child(path: str, query: str, accept: str, limit: int, sender) -> None:
    """In the child process: run the query on the read-only store, send back the answer."""
    try:
        results = ox.Store.read_only(path).query(query, prefixes=rdf.PREFIXES)
        sender.send(("ok", *_serialize(results, accept, limit)))
    except SyntaxError as exc:
        sender.send(("error", 400, f"the query is not valid SPARQL 1.1: {exc}"))
    except Exception as exc:  # reported to the reader, not swallowed
        sender.send(("error", 500, f"the query failed: {exc}"))
    finally:
        sender.close()


def _best(accept: str, offers) -> str:
    found = parse_accept_header(accept, MIMEAccept).best_match(list(offers))
    return found or next(iter(offers))


def _serialize(results, accept: str, limit: int) -> tuple[bytes, str, bool]:
    if isinstance(results, ox.QueryTriples):
        triples = list(itertools.islice(results, limit + 1))
        media_type = _best(accept, GRAPH_FORMATS)
        body = ox.serialize(triples[:limit], format=ox.RdfFormat.from_media_type(media_type),
                            prefixes=rdf.PREFIXES)
        return body, media_type, len(triples) > limit
    media_type = _best(accept, SELECT_FORMATS)
    kind = SELECT_FORMATS[media_type]
    media_type = "application/sparql-results+json" if kind == "json" else media_type
    if isinstance(results, ox.QueryBoolean):
        fmt = {"json": ox.QueryResultsFormat.JSON, "xml": ox.QueryResultsFormat.XML,
               "csv": ox.QueryResultsFormat.CSV}[kind]
        return results.serialize(format=fmt), media_type, False
    names = [v.value for v in results.variables]
    rows = [[solution[name] for name in names]
            for solution in itertools.islice(results, limit + 1)]
    writer = {"json": _json, "xml": _xml, "csv": _csv}[kind]
    return writer(names, rows[:limit]), media_type, len(rows) > limit


def _json_term(term) -> dict:
    if isinstance(term, ox.Literal):
        out = {"type": "literal", "value": term.value}
        if term.language:
            out["xml:lang"] = term.language
        elif term.datatype.value != str(XSD.string):
            out["datatype"] = term.datatype.value
        return out
    return {"type": "bnode" if isinstance(term, ox.BlankNode) else "uri", "value": term.value}


def _json(names: list[str], rows: list) -> bytes:
    bindings = [{n: _json_term(t) for n, t in zip(names, row, strict=True) if t is not None}
                for row in rows]
    return json.dumps({"head": {"vars": names}, "results": {"bindings": bindings}},
                      ensure_ascii=False).encode()


def _xml_term(term) -> str:
    if isinstance(term, ox.Literal):
        attribute = (f" xml:lang={quoteattr(term.language)}" if term.language else
                     "" if term.datatype.value == str(XSD.string) else
                     f" datatype={quoteattr(term.datatype.value)}")
        return f"<literal{attribute}>{escape(term.value)}</literal>"
    tag = "bnode" if isinstance(term, ox.BlankNode) else "uri"
    return f"<{tag}>{escape(term.value)}</{tag}>"


def _xml(names: list[str], rows: list) -> bytes:
    out = [f'<?xml version="1.0" encoding="utf-8"?>\n<sparql xmlns="{RESULTS_NS}"><head>']
    out += [f"<variable name={quoteattr(n)}/>" for n in names]
    out.append("</head><results>")
    for row in rows:
        out.append("<result>")
        out += [f"<binding name={quoteattr(n)}>{_xml_term(t)}</binding>"
                for n, t in zip(names, row, strict=True) if t is not None]
        out.append("</result>")
    out.append("</results></sparql>\n")
    return "".join(out).encode()


def _csv(names: list[str], rows: list) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(names)
    writer.writerows([("" if t is None else t.value) for t in row] for row in rows)
    return text.getvalue().encode()


def service_description(settings) -> Graph:
    """SPARQL 1.1 Service Description of the endpoint, answered when no query is sent."""
    base = settings.public_url
    formats = "http://www.w3.org/ns/formats/"
    graph = rdf.new_graph()
    endpoint = URIRef(f"{base}/sparql")
    graph.add((endpoint, RDF.type, rdf.SD.Service))
    graph.add((endpoint, rdf.SD.endpoint, endpoint))
    graph.add((endpoint, rdf.SD.supportedLanguage, rdf.SD.SPARQL11Query))
    for name in ("SPARQL_Results_JSON", "SPARQL_Results_XML", "SPARQL_Results_CSV", "Turtle",
                 "N-Triples", "RDF_XML", "JSON-LD"):
        graph.add((endpoint, rdf.SD.resultFormat, URIRef(formats + name)))
    graph.add((endpoint, rdf.SD.defaultDataset, URIRef(f"{links.catalog(base, '')}#all")))
    graph.add((endpoint, RDFS.comment, Literal(
        f"Read-only; queries stop after {TIMEOUT:g} s and return at most {RESULT_LIMIT} "
        "rows or triples. Common prefixes (edm, dc, dcterms, skos, ore...) are predeclared.",
        lang="en")))
    return graph
