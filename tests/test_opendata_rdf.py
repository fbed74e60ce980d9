"""Linked data, the DCAT-AP 3 catalogue, bulk dumps and SPARQL, checked by rdflib and pyshacl.

Every RDF output is parsed back by rdflib in every serialisation; EDM graphs are
validated against Sen's EDM shapes and the catalogue against the official DCAT-AP 3
shapes; hidden items must never appear anywhere, also when they were hidden after
the dumps were taken.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
import shutil
from pathlib import Path

import pyshacl
import pytest
from click.testing import CliRunner
from rdflib import DCTERMS, RDF, BNode, Graph, Literal, URIRef
from rdflib.namespace import DC, SKOS

from opendata import dcat, dumps, rdf, sparql
from repository import access
from repository.cli import cli
from repository.config import SCHEMAS_DIR
from repository.errors import NotFound
from repository.repo import Repository
from repository.web import create_app
from tests.conftest import BASE_URL, RESTRICTED_IDS, make_settings, write_csv

# rdflib's own JSON-LD parser uses its deprecated ConjunctiveGraph: not Sen's to fix.
pytestmark = pytest.mark.filterwarnings("ignore:ConjunctiveGraph is deprecated")

EDM_SHAPES = SCHEMAS_DIR / "shacl" / "edm.shacl.ttl"
DCAT_AP_DIR = Path(__file__).resolve().parents[1].parent / "shared/data/dcat-ap"
RDFLIB_FORMATS = {ext: fmt for ext, (_mt, fmt) in rdf.FORMATS.items()}


def local(url: str) -> str:
    return url.replace(BASE_URL, "")


def public_ids(repo: Repository) -> list[str]:
    return [i for i in repo.catalogue.item_ids() if access.can_view(repo.access_of(i))]


def parse(data: bytes, ext: str) -> Graph:
    return Graph().parse(data=data, format=RDFLIB_FORMATS[ext])


def triples(graph: Graph) -> set:
    return set(graph)


def dcat_ap_shapes() -> Graph:
    paths = [Path(p) for p in os.environ.get("SEN_TEST_DCAT_AP3_SHAPES", "").split(",") if p]
    paths = paths or sorted(DCAT_AP_DIR.glob("*.ttl"))
    if not paths or not all(p.exists() for p in paths):
        pytest.skip("the DCAT-AP 3 SHACL shapes are not available: set SEN_TEST_DCAT_AP3_SHAPES "
                    f"or put them in {DCAT_AP_DIR}")
    shapes = Graph()
    for path in paths:
        shapes.parse(path)
    return shapes


@pytest.fixture(scope="module")
def published(library):
    return dumps.publish(library)


@pytest.fixture(scope="module")
def client(library, published):
    return create_app(library.settings, repo=library).test_client()


# --------------------------------------------------------------------------- item graphs


def test_every_public_item_is_edm_and_parses_in_every_serialisation(library):
    shapes = Graph().parse(EDM_SHAPES)
    for item_id in public_ids(library):
        graph = rdf.item_graph(library.record(item_id), library.settings)
        conforms, _report, text = pyshacl.validate(graph, shacl_graph=shapes)
        assert conforms, f"{item_id}:\n{text}"
        for ext in rdf.FORMATS:
            assert triples(parse(rdf.serialize(graph, ext), ext)) == triples(graph), (item_id,
                                                                                      ext)
        # Text is language-tagged; names (of people, libraries, places as typed) are not.
        for predicate in (DC.title, DCTERMS.title, DC.description, DCTERMS.alternative,
                          DCTERMS.extent, DC.date, SKOS.prefLabel):
            for subject, _p, value in graph.triples((None, predicate, None)):
                if (subject, RDF.type, rdf.EDM.Agent) not in graph:
                    assert value.language, (item_id, predicate, value)


def test_an_item_graph_says_what_edm_and_dublin_core_ask(library):
    graph = rdf.item_graph(library.record("dt-qh-0003"), library.settings)
    cho = URIRef(f"{BASE_URL}/id/item/dt-qh-0003")
    aggregation = URIRef(f"{cho}#aggregation")
    assert Literal("Carte de la région de Sadec et de la Plaine des Joncs", lang="fr") in \
        set(graph.objects(cho, DCTERMS.title))
    assert graph.value(cho, rdf.EDM.type) == Literal("IMAGE")
    assert graph.value(cho, DCTERMS.type) == URIRef("http://purl.org/dc/dcmitype/StillImage")
    assert graph.value(cho, DCTERMS.isPartOf) == URIRef(f"{BASE_URL}/id/collection/anh-va-ban-do")
    assert graph.value(cho, DCTERMS.created) == Literal("1920~", datatype=rdf.EDTF)
    place = URIRef(f"{BASE_URL}/id/place/dong-thap-muoi")
    assert place in set(graph.objects(cho, DCTERMS.spatial))
    assert Literal("Plaine des Joncs", lang="fr") in set(graph.objects(place, SKOS.prefLabel))
    shown = graph.value(aggregation, rdf.EDM.isShownBy)
    assert str(shown) == f"{BASE_URL}/iiif/image/dt-qh-0003~1/full/max/0/default.jpg"
    service = graph.value(shown, rdf.SVCS.has_service)
    assert graph.value(service, DCTERMS.conformsTo) == rdf.IIIF_IMAGE_API
    assert graph.value(service, rdf.DOAP.implements) == rdf.IIIF_LEVEL2
    assert str(graph.value(shown, DCTERMS.isReferencedBy)) == \
        f"{BASE_URL}/iiif/dt-qh-0003/manifest"
    assert graph.value(aggregation, rdf.EDM.isShownAt) == URIRef(f"{BASE_URL}/items/dt-qh-0003")
    assert graph.value(aggregation, rdf.EDM.dataProvider) == \
        URIRef(f"{BASE_URL}/id/library/thu-vien-tinh-dong-thap")
    assert graph.value(aggregation, rdf.EDM.rights) == \
        URIRef("http://creativecommons.org/publicdomain/mark/1.0/")
    assert not any(isinstance(term, BNode) for triple in graph for term in triple)
    photo = rdf.item_graph(library.record("dt-anh-0006"), library.settings)
    sa_dec = URIRef(f"{BASE_URL}/id/place/tp-sa-dec")
    assert float(photo.value(sa_dec, rdf.WGS84.lat)) == pytest.approx(10.3)
    assert float(photo.value(sa_dec, rdf.WGS84.long)) == pytest.approx(105.767)


def test_edm_shapes_catch_what_edm_forbids(library):
    shapes = Graph().parse(EDM_SHAPES)
    graph = rdf.item_graph(library.record("dt-dc-0001"), library.settings)
    cho = URIRef(f"{BASE_URL}/id/item/dt-dc-0001")
    aggregation = URIRef(f"{cho}#aggregation")
    for predicate in (DC.title, DC.description, DC.language):
        graph.remove((cho, predicate, None))
    graph.remove((aggregation, rdf.EDM.isShownAt, None))
    graph.remove((aggregation, rdf.EDM.isShownBy, None))
    graph.set((aggregation, rdf.EDM.rights, URIRef("http://example.org/my-licence")))
    graph.add((cho, rdf.EDM.type, Literal("BOOK")))
    conforms, _report, text = pyshacl.validate(graph, shacl_graph=shapes)
    assert not conforms
    for message in ("dc:title or dc:description", "needs dc:language",
                    "edm:isShownAt or edm:isShownBy", "rights statement Europeana accepts",
                    "exactly one of TEXT"):
        assert message in text, message


@pytest.mark.parametrize("item_id", RESTRICTED_IDS)
def test_hidden_items_are_never_described(client, library, item_id):
    with pytest.raises(NotFound):
        rdf.item_graph(library.record(item_id), library.settings)
    portal = client.get(f"/items/{item_id}")
    assert portal.status_code == 404
    for path in [f"/id/item/{item_id}", f"/doc/item/{item_id}"] + [
            f"/doc/item/{item_id}.{ext}" for ext in rdf.FORMATS]:
        response = client.get(path, headers={"Accept": "text/turtle"})
        assert response.status_code == 404, path
        assert library.record(item_id)["title"]["vi"][0] not in response.get_data(as_text=True)


# --------------------------------------------------------------------------- HTTP


@pytest.mark.parametrize("accept, target", [
    ("text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
     "/items/dt-dc-0001"),
    (None, "/items/dt-dc-0001"),
    ("text/turtle", "/doc/item/dt-dc-0001.ttl"),
    ("application/ld+json", "/doc/item/dt-dc-0001.jsonld"),
    ("application/rdf+xml", "/doc/item/dt-dc-0001.rdf"),
    ("application/n-triples", "/doc/item/dt-dc-0001.nt"),
    ("application/rdf+xml;q=0.5, text/turtle", "/doc/item/dt-dc-0001.ttl"),
])
def test_item_uris_answer_303_by_content_negotiation(client, accept, target):
    response = client.get("/id/item/dt-dc-0001", headers={"Accept": accept} if accept else {})
    assert response.status_code == 303
    assert local(response.headers["Location"]) == target
    assert response.headers["Vary"] == "Accept"
    link = response.headers["Link"]
    for media_type in ("text/html", "text/turtle", "application/ld+json",
                       "application/rdf+xml", "application/n-triples"):
        assert f'rel="alternate"; type="{media_type}"' in link
    assert f"<{BASE_URL}/doc/item/dt-dc-0001.ttl>" in link


def test_documents_by_extension_and_by_accept(client):
    uri = URIRef(f"{BASE_URL}/id/item/dt-dc-0001")
    for ext, (media_type, _fmt) in rdf.FORMATS.items():
        response = client.get(f"/doc/item/dt-dc-0001.{ext}")
        assert response.status_code == 200 and response.mimetype == media_type
        assert (uri, RDF.type, rdf.EDM.ProvidedCHO) in parse(response.data, ext)
        assert 'rel="alternate"' in response.headers["Link"]
        again = client.get(f"/doc/item/dt-dc-0001.{ext}",
                           headers={"If-None-Match": response.headers["ETag"]})
        assert again.status_code == 304
    negotiated = client.get("/doc/item/dt-dc-0001", headers={"Accept": "application/ld+json"})
    assert negotiated.mimetype == "application/ld+json"
    assert negotiated.headers["Vary"] == "Accept"
    assert client.get("/id/item/dt-dc-0001", headers={"Accept": "image/png"}).status_code == 406
    assert client.get("/id/item/no-such-item").status_code == 404
    assert client.get("/doc/thing/dt-dc-0001.ttl").status_code == 404


@pytest.mark.parametrize("kind, ident, page", [
    ("collection", "anh-va-ban-do", "/collections/anh-va-ban-do"),
    ("place", "dong-thap-muoi", "/search?place=dong-thap-muoi"),
    ("type", "map", "/search?type=map"),
    ("library", "thu-vien-tinh-dong-thap", None),
    ("library", "thu-vien-so-dong-thap", None),
    ("subject", "ban-do", None),
])
def test_every_uri_sen_mints_dereferences(client, kind, ident, page):
    html = client.get(f"/id/{kind}/{ident}", headers={"Accept": "text/html"})
    assert html.status_code == 303
    assert local(html.headers["Location"]) == (page or f"/doc/{kind}/{ident}.ttl")
    turtle = client.get(f"/id/{kind}/{ident}", headers={"Accept": "text/turtle"})
    assert local(turtle.headers["Location"]) == f"/doc/{kind}/{ident}.ttl"
    for ext in rdf.FORMATS:
        graph = parse(client.get(f"/doc/{kind}/{ident}.{ext}").data, ext)
        assert any(graph.triples((URIRef(f"{BASE_URL}/id/{kind}/{ident}"), None, None))), ext


def test_collection_documents_list_only_public_items(client, library):
    graph = parse(client.get("/doc/collection/tai-lieu-co-quy-hiem.ttl").data, "ttl")
    parts = {str(o) for o in graph.objects(None, DCTERMS.hasPart)}
    assert parts == {f"{BASE_URL}/id/item/dt-qh-0004"}
    assert client.get("/id/collection/gia-pha").status_code == 404
    assert client.get("/id/subject/no-such-subject").status_code == 404
    # A subject only a hidden item has is not published.
    assert client.get("/id/subject/dong-ho").status_code == 404


def test_item_page_embeds_schema_org(client):
    page = client.get("/items/dt-qh-0003").get_data(as_text=True)
    found = re.search(r'<script type="application/ld\+json">(.*?)</script>', page, re.S)
    data = json.loads(found.group(1))
    assert data["@type"] == "Map" and data["@context"] == "https://schema.org"
    assert {"@value": "Bản đồ vùng Sa Đéc và Đồng Tháp Mười", "@language": "vi"} in data["name"]
    assert data["sameAs"] == f"{BASE_URL}/id/item/dt-qh-0003"
    assert data["url"] == f"{BASE_URL}/items/dt-qh-0003"
    assert data["inLanguage"] == ["fr", "vi"]
    assert data["isPartOf"]["@id"] == f"{BASE_URL}/id/collection/anh-va-ban-do"
    assert data["license"] == "http://creativecommons.org/publicdomain/mark/1.0/"
    assert any(p.get("@id") == f"{BASE_URL}/id/place/dong-thap-muoi"
               for p in data["spatialCoverage"])
    # Parsed as RDF (schema.org's context, which rdflib would fetch, given inline).
    graph = Graph().parse(data=json.dumps(data | {"@context": {"@vocab": "https://schema.org/"}}),
                          format="json-ld")
    names = set(graph.objects(None, URIRef("https://schema.org/name")))
    assert Literal("Bản đồ vùng Sa Đéc và Đồng Tháp Mười", lang="vi") in names


# --------------------------------------------------------------------------- dumps


def test_dumps_are_indexed_complete_and_free_of_hidden_items(library, published):
    public = set(public_ids(library))
    index = dumps.load_index(library)
    assert index == published
    hidden_words = [library.record(i)["title"]["vi"][0] for i in RESTRICTED_IDS]
    for dump in index["dumps"]:
        data = library.storage.get(dumps.PREFIX + dump["name"])
        assert len(data) == dump["size"]
        assert hashlib.sha256(data).hexdigest() == dump["sha256"]
        assert dump["media_type"] == dumps.MEDIA_TYPES[dump["format"]]
        text = data.decode("utf-8")
        for item_id, title in zip(RESTRICTED_IDS, hidden_words, strict=True):
            assert f"/id/item/{item_id}" not in text and title not in text, dump["name"]
        if dump["format"] == "csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            ids = {row["identifier"] for row in rows}
            assert ids <= public
            if dump["dataset"] == dumps.ALL:
                assert ids == public
            continue
        graph = parse(data, dump["format"])
        assert len(graph) == dump["triples"]
        chos = {str(s) for s in graph.subjects(RDF.type, rdf.EDM.ProvidedCHO)}
        if dump["dataset"] == dumps.ALL:
            assert chos == {f"{BASE_URL}/id/item/{i}" for i in public}
    everything = parse(library.storage.get(dumps.PREFIX + "all.nt"), "nt")
    conforms, _report, text = pyshacl.validate(everything, shacl_graph=Graph().parse(EDM_SHAPES))
    assert conforms, text
    # The JSON-LD and the N-Triples of a dataset are the same graph.
    for dataset in index["datasets"]:
        nt, jsonld, _csv = dataset["dumps"]
        assert triples(parse(library.storage.get(dumps.PREFIX + nt), "nt")) == \
            triples(parse(library.storage.get(dumps.PREFIX + jsonld), "jsonld"))
    datasets = {d["id"] for d in index["datasets"]}
    assert datasets == {dumps.ALL} | {c["id"] for c in library.catalogue.collections({"public"})}
    assert "gia-pha" not in datasets


def test_dumps_are_reproducible_byte_for_byte(library, published, tmp_path):
    before = {d["name"]: d["sha256"] for d in published["dumps"]}
    assert dumps.publish(library) == published
    copy = tmp_path / "copy"
    shutil.copytree(library.settings.data_dir, copy)
    other = Repository(make_settings(copy))
    try:
        other.storage.delete_prefix(dumps.PREFIX)
        again = dumps.publish(other)
        assert {d["name"]: d["sha256"] for d in again["dumps"]} == before
        for name in before:
            assert other.storage.get(dumps.PREFIX + name) == \
                library.storage.get(dumps.PREFIX + name)
    finally:
        other.close()


def test_dumps_are_served_with_etags(client, library, published):
    info = dumps.dump_info(published, "all.nt")
    response = client.get("/opendata/dumps/all.nt")
    assert response.status_code == 200
    assert response.mimetype == "application/n-triples"
    assert response.headers["ETag"].strip('"') == info["sha256"]
    assert response.data == library.storage.get(dumps.PREFIX + "all.nt")
    cached = client.get("/opendata/dumps/all.nt", headers={"If-None-Match": f'"{info["sha256"]}"'})
    assert cached.status_code == 304
    assert client.get("/opendata/dumps/all.csv").mimetype == "text/csv"
    assert client.get("/opendata/dumps/index.json").get_json() == published
    assert client.get("/opendata/dumps/nothing.nt").status_code == 404


# --------------------------------------------------------------------------- the catalogue


def test_catalogue_is_dcat_with_void_and_matches_the_dumps(client, library, published):
    graph = parse(client.get("/catalog.ttl").data, "ttl")
    assert triples(parse(client.get("/catalog.jsonld").data, "jsonld")) == triples(graph)
    for ext in ("rdf", "nt"):
        assert triples(parse(client.get(f"/catalog.{ext}").data, ext)) == triples(graph)
    negotiated = client.get("/catalog", headers={"Accept": "application/ld+json"})
    assert negotiated.status_code == 303 and local(negotiated.headers["Location"]) == \
        "/catalog.jsonld"
    catalog = URIRef(f"{BASE_URL}/catalog")
    assert (catalog, RDF.type, rdf.DCAT.Catalog) in graph
    datasets = set(graph.objects(catalog, rdf.DCAT.dataset))
    expected = {dcat.dataset_uri(BASE_URL, d["id"]) for d in published["datasets"]}
    assert datasets == expected
    for dump in published["dumps"]:
        distribution = URIRef(f"{BASE_URL}/catalog#{dump['name']}")
        assert graph.value(distribution, rdf.DCAT.downloadURL) == \
            URIRef(f"{BASE_URL}/opendata/dumps/{dump['name']}")
        assert int(graph.value(distribution, rdf.DCAT.byteSize)) == dump["size"]
        checksum = graph.value(distribution, rdf.SPDX.checksum)
        assert str(graph.value(checksum, rdf.SPDX.checksumValue)) == dump["sha256"]
        assert graph.value(checksum, rdf.SPDX.algorithm) == rdf.SPDX.checksumAlgorithm_sha256
        assert str(graph.value(distribution, rdf.DCAT.mediaType)).startswith(
            "http://www.iana.org/assignments/media-types/")
    everything = dcat.dataset_uri(BASE_URL, dumps.ALL)
    assert int(graph.value(everything, rdf.VOID.triples)) == \
        dumps.dump_info(published, "all.nt")["triples"]
    assert graph.value(everything, rdf.VOID.sparqlEndpoint) == URIRef(f"{BASE_URL}/sparql")
    assert graph.value(everything, rdf.VOID.dataDump) == \
        URIRef(f"{BASE_URL}/opendata/dumps/all.nt")
    body = client.get("/catalog.ttl").get_data(as_text=True)
    assert "gia-pha" not in body and "Dòng họ" not in body


def test_catalogue_conforms_to_dcat_ap_3(library, published):
    shapes = dcat_ap_shapes()
    graph = dcat.catalog_graph(library)
    for inference in ("none", "rdfs"):
        conforms, _report, text = pyshacl.validate(graph, shacl_graph=shapes,
                                                   inference=inference)
        assert conforms, text


# --------------------------------------------------------------------------- SPARQL


def select(client, query: str, **kwargs) -> list[dict]:
    response = client.get("/sparql", query_string={"query": query},
                          headers={"Accept": "application/sparql-results+json"}, **kwargs)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.mimetype == "application/sparql-results+json"
    return response.get_json()["results"]["bindings"]


def test_sparql_counts_exactly_the_public_items(client, library):
    rows = select(client, "SELECT (COUNT(DISTINCT ?item) AS ?n) WHERE "
                          "{ ?item a edm:ProvidedCHO }")
    public, _ = library.catalogue.list_items({"public"}, limit=1)
    assert int(rows[0]["n"]["value"]) == public == len(public_ids(library))
    items = {r["item"]["value"] for r in select(
        client, "SELECT ?item WHERE { ?item a <http://www.europeana.eu/schemas/edm/ProvidedCHO> }")}
    assert not {f"{BASE_URL}/id/item/{i}" for i in RESTRICTED_IDS} & items
    posted = client.post("/sparql", data={"query": "ASK { ?s dc:title ?t }"},
                         headers={"Accept": "application/sparql-results+xml"})
    assert posted.mimetype == "application/sparql-results+xml" and b"true" in posted.data
    direct = client.post("/sparql", data="SELECT ?t WHERE { ?s dcterms:title ?t } LIMIT 2",
                         content_type="application/sparql-query", headers={"Accept": "text/csv"})
    assert direct.mimetype == "text/csv" and len(direct.get_data(as_text=True).splitlines()) == 3
    construct = client.get("/sparql", query_string={
        "query": f"DESCRIBE <{BASE_URL}/id/item/dt-dc-0001>"}, headers={"Accept": "text/turtle"})
    graph = parse(construct.data, "ttl")
    assert (URIRef(f"{BASE_URL}/id/item/dt-dc-0001"), RDF.type, rdf.EDM.ProvidedCHO) in graph
    assert construct.headers["Sen-Result-Limit"] == str(sparql.RESULT_LIMIT)
    description = client.get("/sparql")
    assert (URIRef(f"{BASE_URL}/sparql"), RDF.type, rdf.SD.Service) in parse(description.data,
                                                                               "ttl")


def test_sparql_refuses_updates_and_bad_queries(client):
    update = "PREFIX ex: <http://example.org/#>\n# a comment\nINSERT DATA { ex:a ex:b ex:c }"
    for response in (
            client.get("/sparql", query_string={"update": update}),
            client.get("/sparql", query_string={"query": update}),
            client.post("/sparql", data={"update": update}),
            client.post("/sparql", data=update, content_type="application/sparql-update")):
        assert response.status_code == 400
        assert "read-only" in response.get_data(as_text=True)
    bad = client.get("/sparql", query_string={"query": "SELEKT * WHERE {}"})
    assert bad.status_code == 400 and "not valid SPARQL" in bad.get_data(as_text=True)
    assert sparql.is_update("DELETE WHERE { ?s ?p ?o }")
    assert not sparql.is_update("PREFIX x: <http://x/#insert>\nSELECT * WHERE { ?s ?p ?o }")


def test_sparql_stops_long_queries_and_cuts_long_results(client, monkeypatch):
    monkeypatch.setattr(sparql, "TIMEOUT", 0.5)
    slow = client.get("/sparql", query_string={"query": "SELECT (COUNT(*) AS ?n) WHERE "
                      "{ ?a ?b ?c . ?d ?e ?f . ?g ?h ?i . ?j ?k ?l }"})
    assert slow.status_code == 503
    assert "longer than 0.5 s" in slow.get_data(as_text=True)
    monkeypatch.setattr(sparql, "RESULT_LIMIT", 5)
    response = client.get("/sparql", query_string={"query": "SELECT * WHERE { ?s ?p ?o }"},
                          headers={"Accept": "application/sparql-results+json"})
    assert len(response.get_json()["results"]["bindings"]) == 5
    assert response.headers["Sen-Result-Truncated"] == "true"
    assert response.headers["Sen-Result-Limit"] == "5"


# --------------------------------------------------------------------------- hidden later


def test_items_hidden_after_the_dumps_are_withheld_until_republished(library, tmp_path,
                                                                    monkeypatch):
    """An item made restricted after ``sen publish dumps`` disappears from SPARQL and the
    catalogue at once; the dumps that hold it are refused until they are published again."""
    from ingest import pipeline

    monkeypatch.setenv("SEN_BASE_URL", BASE_URL)
    data = tmp_path / "data"
    shutil.copytree(library.settings.data_dir, data)
    result = CliRunner().invoke(cli, ["--data-dir", str(data), "publish", "dumps", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "all.nt" in result.output
    repo = Repository(make_settings(data))
    try:
        client = create_app(repo.settings, repo=repo).test_client()
        sample = library.settings.data_dir.parent / "sample"
        source = tmp_path / "again"
        source.mkdir()
        os.symlink(sample / "tg-dc-0002", source / "tg-dc-0002")
        with open(sample / "metadata.csv", encoding="utf-8") as fh:
            row = next(r for r in csv.DictReader(fh) if r["identifier"] == "tg-dc-0002")
        write_csv(source / "metadata.csv", [row | {"access": "restricted"}])
        pipeline.ingest(repo, source)
        uri = f"{BASE_URL}/id/item/tg-dc-0002"

        assert dumps.hidden_since(repo, dumps.load_index(repo)) == {
            "tg-dc-0002": "tai-lieu-dia-chi-dong-thap"}
        for name in ("all.nt", "collection-tai-lieu-dia-chi-dong-thap.csv"):
            assert client.get(f"/opendata/dumps/{name}").status_code == 503
        assert client.get("/opendata/dumps/collection-anh-va-ban-do.nt").status_code == 200
        ask = client.get("/sparql", query_string={"query": f"ASK {{ <{uri}> ?p ?o }}"},
                         headers={"Accept": "application/sparql-results+json"})
        assert ask.get_json()["boolean"] is False
        assert not select(client, f"SELECT ?s WHERE {{ ?s ?p <{uri}> }}")
        catalogue = client.get("/catalog.ttl").get_data(as_text=True)
        assert "Báo chí Nam Kỳ" not in catalogue  # a keyword only that item gave
        assert client.get("/id/item/tg-dc-0002").status_code == 404

        index = dumps.publish(repo)
        assert dumps.hidden_since(repo, index) == {}
        body = client.get("/opendata/dumps/all.nt").get_data(as_text=True)
        assert uri not in body
        assert "tg-dc-0002" not in client.get(
            "/opendata/dumps/collection-tai-lieu-dia-chi-dong-thap.csv").get_data(as_text=True)
    finally:
        repo.close()
