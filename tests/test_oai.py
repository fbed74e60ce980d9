"""OAI-PMH 2.0 at /oai: every answer valid against the protocol's XML Schema, harvested by
sickle, resumable across changes, and never a word of what is not public."""

from __future__ import annotations

import base64
import datetime
import json
import threading
from urllib.parse import urlencode

import pytest
import rdflib
from lxml import etree
from rdflib.compare import isomorphic
from sickle import Sickle
from werkzeug.serving import make_server

from opendata import oai, rdf
from repository import ocfl
from repository.web import create_app
from tests.conftest import RESTRICTED_IDS, SHARED
from tests.test_ingest import folder, good_row, ingest_rows  # noqa: F401  (fixtures)

NS = {"o": oai.OAI, "dc": oai.DC_NS, "oai_dc": oai.OAI_DC}
PREFIX = "oai:sen.test:"
EDM = rdflib.Namespace("http://www.europeana.eu/schemas/edm/")
ORE = rdflib.Namespace("http://www.openarchives.org/ore/terms/")

# The OAI-PMH schema checks <metadata>, <about> and <description> content strictly
# (processContents="strict"): every element there must be declared. The protocol's XSD and
# Simple DC (dc.xsd) come from ../shared/data/oai; the small schemas below declare, after
# their specifications, what those two import from the network (xml:lang), the oai_dc
# container and the oai-identifier description. For EDM only the rdf:RDF root is declared:
# its content is checked by parsing it as RDF. (Simple DC's schema cannot judge it: EDM's
# dc:type or dc:subject may point to a resource, which Simple DC forbids.)
LOCAL_SCHEMAS = {
    "xml.xsd": """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        targetNamespace="http://www.w3.org/XML/1998/namespace">
      <xs:attribute name="lang" type="xs:language"/></xs:schema>""",
    "oai_dc.xsd": """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        xmlns:dc="http://purl.org/dc/elements/1.1/" elementFormDefault="qualified"
        targetNamespace="http://www.openarchives.org/OAI/2.0/oai_dc/">
      <xs:import namespace="http://purl.org/dc/elements/1.1/" schemaLocation="dc.xsd"/>
      <xs:element name="dc"><xs:complexType><xs:choice minOccurs="0" maxOccurs="unbounded">
        <xs:element ref="dc:title"/><xs:element ref="dc:creator"/>
        <xs:element ref="dc:subject"/><xs:element ref="dc:description"/>
        <xs:element ref="dc:publisher"/><xs:element ref="dc:contributor"/>
        <xs:element ref="dc:date"/><xs:element ref="dc:type"/><xs:element ref="dc:format"/>
        <xs:element ref="dc:identifier"/><xs:element ref="dc:source"/>
        <xs:element ref="dc:language"/><xs:element ref="dc:relation"/>
        <xs:element ref="dc:coverage"/><xs:element ref="dc:rights"/>
      </xs:choice></xs:complexType></xs:element></xs:schema>""",
    "oai-identifier.xsd": """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        elementFormDefault="qualified"
        targetNamespace="http://www.openarchives.org/OAI/2.0/oai-identifier">
      <xs:element name="oai-identifier"><xs:complexType><xs:sequence>
        <xs:element name="scheme"><xs:simpleType><xs:restriction base="xs:string">
          <xs:enumeration value="oai"/></xs:restriction></xs:simpleType></xs:element>
        <xs:element name="repositoryIdentifier"><xs:simpleType>
          <xs:restriction base="xs:string">
          <xs:pattern value="[a-zA-Z][a-zA-Z0-9\\-]*(\\.[a-zA-Z][a-zA-Z0-9\\-]*)+"/>
          </xs:restriction></xs:simpleType></xs:element>
        <xs:element name="delimiter"><xs:simpleType><xs:restriction base="xs:string">
          <xs:enumeration value=":"/></xs:restriction></xs:simpleType></xs:element>
        <xs:element name="sampleIdentifier"><xs:simpleType><xs:restriction base="xs:string">
          <xs:pattern value="oai:[a-zA-Z][a-zA-Z0-9\\-]*(\\.[a-zA-Z][a-zA-Z0-9\\-]*)+:"""
    r"""[a-zA-Z0-9\-_\.!~\*'\(\);/\?:@&amp;=\+$,%]+"/>
          </xs:restriction></xs:simpleType></xs:element>
      </xs:sequence></xs:complexType></xs:element></xs:schema>""",
    "rdf.xsd": """<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema"
        targetNamespace="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <xs:element name="RDF"><xs:complexType><xs:sequence>
        <xs:any processContents="skip" namespace="##any" minOccurs="0" maxOccurs="unbounded"/>
      </xs:sequence><xs:anyAttribute processContents="skip"/></xs:complexType></xs:element>
      </xs:schema>""",
}


@pytest.fixture(scope="session")
def oai_schema(tmp_path_factory) -> etree.XMLSchema:
    where = tmp_path_factory.mktemp("oai-xsd")
    for name, text in LOCAL_SCHEMAS.items():
        (where / name).write_text(text, encoding="utf-8")
    dc = (SHARED / "oai" / "dc.xsd").read_text(encoding="utf-8")
    (where / "dc.xsd").write_text(
        dc.replace("http://www.w3.org/2001/03/xml.xsd", "xml.xsd"), encoding="utf-8")
    imports = {oai.OAI: (SHARED / "oai" / "OAI-PMH.xsd").as_uri(),
               oai.OAI_DC: (where / "oai_dc.xsd").as_uri(),
               oai.OAI_ID: (where / "oai-identifier.xsd").as_uri(),
               str(rdflib.RDF): (where / "rdf.xsd").as_uri()}
    driver = where / "all.xsd"
    driver.write_text('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' + "".join(
        f'<xs:import namespace="{ns}" schemaLocation="{loc}"/>' for ns, loc in imports.items())
        + "</xs:schema>", encoding="utf-8")
    return etree.XMLSchema(etree.parse(str(driver)))


class Clock:
    """Stands in for the time OCFL stamps on versions, so datestamps are chosen by tests."""

    def __init__(self):
        self.now = datetime.datetime(2024, 3, 1, 8, 0, 0, tzinfo=datetime.UTC)
        self.step = datetime.timedelta(seconds=1)

    def __call__(self) -> str:
        moment, self.now = self.now, self.now + self.step
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def clock(monkeypatch) -> Clock:
    found = Clock()
    monkeypatch.setattr(ocfl, "_now", found)
    return found


@pytest.fixture
def client(repo):
    return create_app(repo.settings, repo=repo).test_client()


@pytest.fixture
def small_pages(monkeypatch):
    monkeypatch.setattr(oai, "PAGE_SIZE", 2)


class Harvester:
    """Sends requests through the Flask client and checks every answer against the XSD."""

    def __init__(self, client, schema: etree.XMLSchema):
        self.client, self.schema = client, schema

    def __call__(self, *pairs: tuple[str, str], post: bool = False, **args: str):
        query = list(pairs) + [("from" if k == "from_" else k, v) for k, v in args.items()]
        if post:
            response = self.client.post("/oai", data=urlencode(query),
                                        content_type="application/x-www-form-urlencoded")
        else:
            response = self.client.get("/oai?" + urlencode(query))
        assert response.status_code == 200
        assert response.content_type == "text/xml; charset=utf-8"
        document = etree.fromstring(response.data)
        self.schema.assertValid(document)
        return document

    def error(self, *pairs, **args) -> str:
        found = self(*pairs, **args).find("o:error", NS)
        assert found is not None, "an error was expected"
        return found.get("code")

    def walk(self, verb: str, **args) -> list[etree._Element]:
        """Every page of a list, following resumption tokens; returns the pages."""
        pages = [self(verb=verb, **args)]
        while (token := pages[-1].find(f"o:{verb}/o:resumptionToken", NS)) is not None \
                and token.text:
            pages.append(self(verb=verb, resumptionToken=token.text))
        return pages

    def headers(self, verb="ListIdentifiers", **args) -> list[tuple[str, str, bool]]:
        """(id, datestamp, deleted) of every header of a whole list, in order."""
        args.setdefault("metadataPrefix", "oai_dc")
        return [(h.findtext("o:identifier", namespaces=NS).removeprefix(PREFIX),
                 h.findtext("o:datestamp", namespaces=NS), h.get("status") == "deleted")
                for page in self.walk(verb, **args) for h in page.iterfind(".//o:header", NS)]


@pytest.fixture
def harvest(client, oai_schema) -> Harvester:
    return Harvester(client, oai_schema)


def one_page_row(**changes) -> dict:
    return good_row(files="p1.jpg", **changes)


def test_every_verb_answers_valid_xml_over_the_library(library, oai_schema, monkeypatch):
    monkeypatch.setattr(oai, "PAGE_SIZE", 3)
    harvest = Harvester(create_app(library.settings, repo=library).test_client(), oai_schema)
    identify = harvest(verb="Identify").find("o:Identify", NS)
    assert identify.findtext("o:baseURL", namespaces=NS) == "http://sen.test/oai"
    assert identify.findtext("o:deletedRecord", namespaces=NS) == "persistent"
    oldest = library.catalogue.list_changes(0, 1)[0]["time"]
    assert identify.findtext("o:earliestDatestamp", namespaces=NS) == oldest.strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    formats = harvest(verb="ListMetadataFormats").iterfind(".//o:metadataPrefix", NS)
    assert [f.text for f in formats] == ["oai_dc", "edm"]
    sets = {s.findtext("o:setSpec", namespaces=NS): s.findtext("o:setName", namespaces=NS)
            for s in harvest(verb="ListSets").iterfind(".//o:set", NS)}
    assert sets["collection:tai-lieu-dia-chi-dong-thap"] == "Tài liệu địa chí Đồng Tháp"
    assert "library:thu-vien-tinh-dong-thap" in sets and "collection" in sets
    assert "collection:gia-pha" not in sets  # only restricted items are in it

    public = {row["id"] for row in library.catalogue.ever_public(limit=1000)}
    for prefix in ("oai_dc", "edm"):
        listed = harvest.headers("ListRecords", metadataPrefix=prefix)
        assert sorted(i for i, _, _ in listed) == sorted(public)
        assert not any(deleted for _, _, deleted in listed)
    assert not set(RESTRICTED_IDS) & public
    for item_id in sorted(public):
        for prefix in ("oai_dc", "edm"):
            harvest(verb="GetRecord", identifier=PREFIX + item_id, metadataPrefix=prefix)
        harvest(verb="ListMetadataFormats", identifier=PREFIX + item_id)
    for item_id in RESTRICTED_IDS:
        assert harvest.error(verb="GetRecord", identifier=PREFIX + item_id,
                             metadataPrefix="oai_dc") == "idDoesNotExist"
    record = harvest(verb="GetRecord", identifier=PREFIX + "dt-dc-0001", metadataPrefix="oai_dc")
    dc = record.find(".//oai_dc:dc", NS)
    assert [(t.text, t.get(oai.XML_LANG)) for t in dc.iterfind("dc:title", NS)][:2] == [
        ("Sa Đéc – Cao Lãnh: đất và người", "vi"),
        ("Sa Đéc – Cao Lãnh: the land and its people", "en")]
    assert {t.text for t in dc.iterfind("dc:type", NS)} >= {"Sách", "Book", "Text"}
    assert {"http://sen.test/id/item/dt-dc-0001", "http://sen.test/iiif/dt-dc-0001/manifest"
            } <= {t.text for t in dc.iterfind("dc:identifier", NS)}
    assert [t.text for t in dc.iterfind("dc:language", NS)] == ["vie"]
    assert "Sa Đéc" in [t.text for t in dc.iterfind("dc:coverage", NS)]
    assert dc.findtext("dc:rights", namespaces=NS).startswith("http://rightsstatements.org/")


def test_edm_records_are_rdf_with_cho_aggregation_and_web_resource(library, oai_schema):
    harvest = Harvester(create_app(library.settings, repo=library).test_client(), oai_schema)
    page = harvest(verb="GetRecord", identifier=PREFIX + "peraire-1905", metadataPrefix="edm")
    rdf_xml = etree.tostring(page.find(".//o:metadata", NS)[0])
    graph = rdflib.Graph().parse(data=rdf_xml, format="xml")
    cho = rdflib.URIRef("http://sen.test/id/item/peraire-1905")
    assert (cho, rdflib.RDF.type, EDM.ProvidedCHO) in graph
    aggregation = graph.value(predicate=EDM.aggregatedCHO, object=cho)
    assert (aggregation, rdflib.RDF.type, ORE.Aggregation) in graph
    assert str(graph.value(aggregation, EDM.rights)) == "http://creativecommons.org/licenses/by/4.0/"
    assert str(graph.value(aggregation, EDM.isShownAt)) == "http://sen.test/items/peraire-1905"
    shown_by = graph.value(aggregation, EDM.isShownBy)
    assert (shown_by, rdflib.RDF.type, EDM.WebResource) in graph
    assert rdflib.Literal("Journal de voyage en Indochine", lang="fr") in set(
        graph.objects(cho, rdflib.DC.title))
    # The very graph the linked-data URIs serve.
    assert isomorphic(graph, rdf.item_graph(library.record("peraire-1905"), library.settings))


def test_sickle_harvests_every_record_once_deleted_ones_marked(
        repo, folder, clock, monkeypatch, oai_schema):  # noqa: F811
    monkeypatch.setattr(oai, "PAGE_SIZE", 3)
    ingest_rows(repo, folder, [one_page_row(identifier=f"item-{n}") for n in range(7)]
                + [one_page_row(identifier="secret", title="Bí mật", access="internal")])
    ingest_rows(repo, folder, [one_page_row(identifier="item-2", access="restricted")])
    server = make_server("127.0.0.1", 0, create_app(repo.settings, repo=repo), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        sickle = Sickle(f"http://127.0.0.1:{server.server_port}/oai", max_retries=0)
        for prefix in ("oai_dc", "edm"):
            records = list(sickle.ListRecords(metadataPrefix=prefix))
            ids = [r.header.identifier.removeprefix(PREFIX) for r in records]
            assert sorted(ids) == [f"item-{n}" for n in range(7)]  # each once, "secret" never
            assert {i for i, r in zip(ids, records, strict=True) if r.deleted} == {"item-2"}
            for r in records:
                oai_schema.assertValid(etree.fromstring(etree.tostring(
                    r.xml.getroottree().getroot())))
            assert all(r.metadata for r in records if not r.deleted)
        headers = list(sickle.ListIdentifiers(metadataPrefix="oai_dc"))
        assert sorted(h.identifier.removeprefix(PREFIX) for h in headers) == [
            f"item-{n}" for n in range(7)]
        assert [h.deleted for h in headers].count(True) == 1
        assert len(list(sickle.ListIdentifiers(metadataPrefix="oai_dc", set="collection:"
                                                "tai-lieu-dia-chi"))) == 7
    finally:
        server.shutdown()
        thread.join()


def test_resumption_tokens_survive_concurrent_changes(
        repo, folder, clock, harvest, small_pages):  # noqa: F811
    """The keyset guarantee (see opendata.oai): unchanged records once each, changed ones in
    their new state at the end (again if already sent), nothing skipped."""
    for name in "abcdef":
        ingest_rows(repo, folder, [one_page_row(identifier=name)])
    first = harvest(verb="ListIdentifiers", metadataPrefix="oai_dc")
    sent = [h.text.removeprefix(PREFIX) for h in first.iterfind(".//o:identifier", NS)]
    assert sent == ["a", "b"]
    token = first.find(".//o:resumptionToken", NS)
    assert token.get("cursor") == "0" and token.text

    ingest_rows(repo, folder, [one_page_row(identifier="b", title="b, sửa")])  # sent: again
    ingest_rows(repo, folder, [one_page_row(identifier="d", title="d, sửa")])  # not yet sent
    ingest_rows(repo, folder, [one_page_row(identifier="e", access="restricted")])  # hidden
    ingest_rows(repo, folder, [one_page_row(identifier="g")])  # new
    pages = [first]
    while token is not None and token.text:
        pages.append(harvest(verb="ListIdentifiers", resumptionToken=token.text))
        token = pages[-1].find(".//o:resumptionToken", NS)
    headers = [(h.findtext("o:identifier", namespaces=NS).removeprefix(PREFIX),
                h.get("status") == "deleted") for p in pages for h in p.iterfind(".//o:header",
                                                                                  NS)]
    assert headers == [("a", False), ("b", False), ("c", False), ("f", False), ("b", False),
                       ("d", False), ("e", True), ("g", False)]
    cursors = [p.find(".//o:resumptionToken", NS).get("cursor") for p in pages]
    assert cursors == ["0", "2", "4", "6"] and pages[-1].findtext(".//o:resumptionToken",
                                                                   namespaces=NS) == ""
    # A new harvest sees each once, in its current state.
    assert harvest.headers() == [("a", "2024-03-01T08:00:00Z", False),
                                 ("c", "2024-03-01T08:00:02Z", False),
                                 ("f", "2024-03-01T08:00:05Z", False),
                                 ("b", "2024-03-01T08:00:06Z", False),
                                 ("d", "2024-03-01T08:00:07Z", False),
                                 ("e", "2024-03-01T08:00:08Z", True),
                                 ("g", "2024-03-01T08:00:09Z", False)]


def test_records_in_the_same_second_are_paged_by_id(
        repo, folder, clock, harvest, small_pages):  # noqa: F811
    clock.step = datetime.timedelta(0)
    ingest_rows(repo, folder, [one_page_row(identifier=n) for n in ("e", "c", "a", "d", "b")])
    listed = harvest.headers()
    assert [i for i, _, _ in listed] == ["a", "b", "c", "d", "e"]
    assert {d for _, d, _ in listed} == {"2024-03-01T08:00:00Z"}


def test_from_until_and_sets_select(repo, folder, clock, harvest):  # noqa: F811
    clock.step = datetime.timedelta(days=1)  # item-0 on 1 March, item-1 on 2 March, ...
    for n in range(4):
        ingest_rows(repo, folder, [one_page_row(
            identifier=f"item-{n}", collection="Sách cổ" if n % 2 else "Tài liệu địa chí",
            holding_library="Thư viện Mỹ Tho" if n == 3 else "Thư viện tỉnh Đồng Tháp")])
    ingest_rows(repo, folder, [one_page_row(identifier="hidden", collection="Gia phả",
                                            holding_library="Thư viện nhà", access="internal")])

    def ids(**args):
        return [i for i, _, _ in harvest.headers(**args)]

    assert ids(from_="2024-03-02", until="2024-03-03") == ["item-1", "item-2"]
    assert ids(from_="2024-03-02T08:00:00Z", until="2024-03-03T08:00:00Z") == [
        "item-1", "item-2"]  # both bounds inclusive, to the second
    assert ids(from_="2024-03-02T08:00:01Z") == ["item-2", "item-3"]
    assert ids(until="2024-03-01T23:59:59Z") == ["item-0"]
    assert ids(from_="0001-01-01", until="9999-12-31") == ids() == [f"item-{n}" for n in range(4)]
    assert harvest.error(verb="ListRecords", metadataPrefix="oai_dc",
                         from_="2025-01-01") == "noRecordsMatch"
    for bad in ({"from_": "2024-03-02", "until": "2024-03-01"},
                {"from_": "2024-03-02", "until": "2024-03-03T00:00:00Z"},
                {"from_": "2024-13-01"}, {"until": "2024-03-01T08:00:00"},
                {"from_": "2024-03-01T08:00Z"}, {"until": "yesterday"}, {"from_": ""},
                {"from_": "2024-03-01T08:00:00+07:00"}, {"until": "２０２４-03-01"}):
        assert harvest.error(verb="ListIdentifiers", metadataPrefix="oai_dc", **bad) == \
            "badArgument", bad

    sets = [s.findtext("o:setSpec", namespaces=NS)
            for s in harvest(verb="ListSets").iterfind(".//o:set", NS)]
    assert sets == ["collection", "library", "collection:sach-co", "collection:tai-lieu-dia-chi",
                    "library:thu-vien-my-tho", "library:thu-vien-tinh-dong-thap"]
    assert ids(set="collection:sach-co") == ["item-1", "item-3"]
    assert ids(set="library:thu-vien-my-tho") == ["item-3"]
    assert ids(set="library:thu-vien-tinh-dong-thap", from_="2024-03-02") == ["item-1",
                                                                               "item-2"]
    assert ids(set="collection") == ids(set="library") == ids()
    for absent in ("collection:gia-pha", "library:thu-vien-nha", "collection:nothing", "other"):
        assert harvest.error(verb="ListIdentifiers", metadataPrefix="oai_dc",
                             set=absent) == "noRecordsMatch"
    header = harvest(verb="GetRecord", identifier=PREFIX + "item-3", metadataPrefix="oai_dc")
    assert [s.text for s in header.iterfind(".//o:setSpec", NS)] == [
        "collection", "library", "collection:sach-co", "library:thu-vien-my-tho"]


def test_deleted_records_persist_as_headers_and_never_show_metadata(
        repo, folder, clock, harvest, client, monkeypatch):  # noqa: F811
    ingest_rows(repo, folder, [one_page_row(identifier="open"),
                               one_page_row(identifier="closed", title="Tên công khai"),
                               one_page_row(identifier="never", title="Không bao giờ công khai",
                                            collection="Hồ sơ mật", access="restricted")])
    ingest_rows(repo, folder, [one_page_row(identifier="closed", title="Tên mật",
                                            description="Mô tả mật", access="restricted")])
    for prefix in ("oai_dc", "edm"):
        record = harvest(verb="GetRecord", identifier=PREFIX + "closed",
                         metadataPrefix=prefix).find(".//o:record", NS)
        assert record.find("o:header", NS).get("status") == "deleted"
        assert record.find("o:metadata", NS) is None
        assert [e.tag for e in record] == [f"{{{oai.OAI}}}header"]
    assert harvest.error(verb="ListMetadataFormats",
                         identifier=PREFIX + "closed") == "noMetadataFormats"
    assert harvest.headers() == [("open", "2024-03-01T08:00:00Z", False),
                                 ("closed", "2024-03-01T08:00:03Z", True)]

    # Still deleted after more changes while hidden, and after a rebuild from storage.
    ingest_rows(repo, folder, [one_page_row(identifier="closed", title="Tên mật 2",
                                            access="internal")])
    repo.rebuild_indexes()
    assert harvest.headers()[-1] == ("closed", "2024-03-01T08:00:03Z", True)

    # Nothing of what is hidden, in any answer of any verb (but the echo of the request).
    def answer(query: dict) -> bytes:
        document = etree.fromstring(client.get("/oai?" + urlencode(query)).data)
        document.remove(document.find("o:request", NS))
        return etree.tostring(document, encoding="utf-8")

    answers = b"".join(answer(q) for q in (
        {"verb": "Identify"}, {"verb": "ListSets"},
        {"verb": "ListRecords", "metadataPrefix": "oai_dc"},
        {"verb": "ListRecords", "metadataPrefix": "edm"},
        {"verb": "ListIdentifiers", "metadataPrefix": "edm"},
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": PREFIX + "closed"},
        {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": PREFIX + "never"}))
    for secret in ("Tên mật", "Mô tả mật", "Tên công khai", "never", "Không bao giờ",
                   "Hồ sơ mật", "ho-so-mat"):
        assert secret.encode() not in answers, secret

    # A catalogue lagging storage (a crash before the index update) shows no metadata:
    # serving one record, the access level is read from the OCFL object.
    monkeypatch.setattr(repo, "access_of", lambda item_id: "restricted")
    record = harvest(verb="GetRecord", identifier=PREFIX + "open", metadataPrefix="oai_dc")
    assert record.find(".//o:header", NS).get("status") == "deleted"
    assert record.find(".//o:metadata", NS) is None


def test_every_error_code(repo, folder, clock, harvest, small_pages):  # noqa: F811
    ingest_rows(repo, folder, [one_page_row(identifier=f"item-{n}") for n in range(3)])
    page = harvest(verb="ListRecords", metadataPrefix="oai_dc")
    token = page.findtext(".//o:resumptionToken", namespaces=NS)
    cases = {
        "badVerb": [{}, {"verb": "ListThings"}, {"verb": "identify"},
                    [("verb", "Identify"), ("verb", "Identify")]],
        "badArgument": [
            {"verb": "Identify", "metadataPrefix": "oai_dc"},
            {"verb": "ListRecords"}, {"verb": "ListIdentifiers", "set": "collection"},
            {"verb": "GetRecord", "identifier": PREFIX + "item-1"},
            {"verb": "GetRecord", "metadataPrefix": "oai_dc"},
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": token},
            {"verb": "ListSets", "set": "collection"},
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "colour": "blue"},
            [("verb", "ListRecords"), ("metadataPrefix", "oai_dc"),
             ("metadataPrefix", "oai_dc")],
            {"verb": "ListRecords", "metadataPrefix": "oai dc"},
            {"verb": "ListRecords", "metadataPrefix": "oai_dc", "set": "a b"},
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "with space"},
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "x\x01"},
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": ""}],
        "badResumptionToken": [
            {"verb": "ListRecords", "resumptionToken": "nonsense"},
            {"verb": "ListRecords", "resumptionToken": "e30"},  # {}
            {"verb": "ListIdentifiers", "resumptionToken": token},  # another verb's
            {"verb": "ListRecords", "resumptionToken": token[:-4]},
            {"verb": "ListRecords", "resumptionToken": "Zm9v£"},
            {"verb": "ListSets", "resumptionToken": token}],
        "cannotDisseminateFormat": [
            {"verb": "ListRecords", "metadataPrefix": "marc21"},
            {"verb": "GetRecord", "metadataPrefix": "mods", "identifier": PREFIX + "item-1"}],
        "idDoesNotExist": [
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": PREFIX + "nope"},
            {"verb": "GetRecord", "metadataPrefix": "oai_dc",
             "identifier": "oai:elsewhere.org:item-1"},
            {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": "item-1"},
            {"verb": "ListMetadataFormats", "identifier": PREFIX + "nope"}],
        "noRecordsMatch": [{"verb": "ListRecords", "metadataPrefix": "edm",
                            "until": "2000-01-01"}],
    }
    for code, requests in cases.items():
        for args in requests:
            pairs = args if isinstance(args, list) else list(args.items())
            document = harvest(*pairs)
            assert document.find("o:error", NS).get("code") == code, args
            echoed = dict(document.find("o:request", NS).attrib)
            # badVerb and badArgument echo nothing of the request; others echo it all.
            assert echoed == ({} if code in ("badVerb", "badArgument") else dict(pairs)), args
    # noMetadataFormats: a deleted record (see above); noSetHierarchy: Sen has sets.

    def tampered(**changes) -> str:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        raw = json.dumps(data | changes).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    for changes in ({"c": -1}, {"c": "2"}, {"m": "marc"}, {"f": "2024-99-01"},
                    {"a": ["2024-03-01T08:00:00", "x"]}, {"a": ["x"]}, {"extra": 1}):
        assert harvest.error(verb="ListRecords", resumptionToken=tampered(**changes)) == \
            "badResumptionToken", changes


def test_post_and_get_answer_the_same(repo, folder, clock, harvest):  # noqa: F811
    ingest_rows(repo, folder, [one_page_row()])
    args = {"verb": "GetRecord", "metadataPrefix": "oai_dc", "identifier": PREFIX + "dt-0001"}
    by_get, by_post = harvest(**args), harvest(post=True, **args)
    for document in (by_get, by_post):
        document.find("o:responseDate", NS).text = ""
    assert etree.tostring(by_get) == etree.tostring(by_post)


def test_the_schema_check_has_teeth(library, oai_schema):
    """The validation above means something: what the schemas forbid is caught."""
    client = create_app(library.settings, repo=library).test_client()
    record = client.get(f"/oai?verb=GetRecord&metadataPrefix=oai_dc&identifier={PREFIX}"
                        "dt-dc-0001").data
    identify = client.get("/oai?verb=Identify").data

    def breaks(document: bytes, change) -> bool:
        root = etree.fromstring(document)
        change(root)
        return not oai_schema.validate(root)

    assert not breaks(record, lambda root: None) and not breaks(identify, lambda root: None)
    dc = f"{{{oai.DC_NS}}}"
    assert breaks(record, lambda r: setattr(r.find(".//dc:rights", NS), "tag", dc + "licence"))
    assert breaks(record, lambda r: r.find(".//dc:title", NS).set(oai.XML_LANG, "not a tag"))
    assert breaks(record, lambda r: setattr(r.find(".//oai_dc:dc", NS), "tag", "{urn:x}dc"))
    assert breaks(record, lambda r: r.find(".//o:metadata", NS).append(etree.Element(
        f"{{{oai.OAI_DC}}}dc")))  # one metadata root only
    assert breaks(record, lambda r: setattr(r.find(".//o:setSpec", NS), "text", "a b"))
    assert breaks(identify, lambda r: setattr(r.find(".//{*}delimiter"), "text", "/"))
    assert breaks(identify, lambda r: r.find(".//o:granularity", NS).addprevious(
        etree.Element(f"{{{oai.OAI}}}compression")))
