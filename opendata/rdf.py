"""Items as linked data: the Europeana Data Model, Dublin Core and schema.org.

Europeana and most heritage aggregators harvest EDM, generic linked-data tools
read Dublin Core terms, and search engines read schema.org, so an item is
described in all three from its record alone:

* the ``edm:ProvidedCHO`` is the item URI (``/id/item/{id}``), described with
  EDM's own mix of ``dc:`` elements and ``dcterms:`` refinements, plus the
  ``dcterms:`` counterparts of the ``dc:`` statements for tools that only know
  DCMI terms (``dcterms:title``, ``dcterms:type`` as a DCMI Type...);
* an ``ore:Aggregation`` (``{item}#aggregation``) carries the digital
  representation: the page images as ``edm:WebResource`` with their IIIF image
  service (``svcs:has_service``) and manifest (``dcterms:isReferencedBy``), as
  Europeana's IIIF guidelines ask, the item page, the thumbnail and the rights;
* places, subjects, document types, libraries and collections are URIs of
  Sen's own authorities (:mod:`repository.links`), described where they are used.

Every node has a URI, never a blank node, so graphs of different items merge
and sort into byte-stable dumps. Text carries its language tag (``vi``, ``en``,
``fr``, ``lzh``...); names of people, organisations and places as typed stay
untagged, since a name has no language to claim. Only public items are ever
described: :func:`item_graph` refuses any other.
"""

from __future__ import annotations

import functools
import itertools
import json
import re
from collections.abc import Iterable, Iterator
from urllib.parse import quote

import pycountry
import pyoxigraph as ox
from rdflib import DCTERMS, FOAF, OWL, RDF, RDFS, SKOS, XSD, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DC, DCMITYPE, DOAP

from repository import access, links
from repository import record as rec
from repository.errors import NotFound
from repository.places import default_authority
from repository.text import slugify

EDM = Namespace("http://www.europeana.eu/schemas/edm/")
ORE = Namespace("http://www.openarchives.org/ore/terms/")
SVCS = Namespace("http://rdfs.org/sioc/services#")
WGS84 = Namespace("http://www.w3.org/2003/01/geo/wgs84_pos#")
EBUCORE = Namespace("http://www.ebu.ch/metadata/ontologies/ebucore/ebucore#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
VOID = Namespace("http://rdfs.org/ns/void#")
VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")
SPDX = Namespace("http://spdx.org/rdf/terms#")
SD = Namespace("http://www.w3.org/ns/sparql-service-description#")
#: Extended Date/Time Format, for dates XSD cannot type (ranges, approximate years).
EDTF = URIRef("http://id.loc.gov/datatypes/edtf")
LEXVO = "http://lexvo.org/id/iso639-3/"
IIIF_IMAGE_API = URIRef("http://iiif.io/api/image")
IIIF_LEVEL2 = URIRef("http://iiif.io/api/image/3/level2.json")

#: Prefixes of every serialisation (Turtle, JSON-LD context, SPARQL queries).
PREFIXES = {
    "dc": str(DC), "dcterms": str(DCTERMS), "dcmitype": str(DCMITYPE), "edm": str(EDM),
    "ore": str(ORE), "skos": str(SKOS), "foaf": str(FOAF), "svcs": str(SVCS),
    "doap": str(DOAP), "wgs84_pos": str(WGS84), "ebucore": str(EBUCORE), "owl": str(OWL),
    "rdf": str(RDF), "rdfs": str(RDFS), "xsd": str(XSD), "dcat": str(DCAT), "void": str(VOID),
    "vcard": str(VCARD), "spdx": str(SPDX), "sd": str(SD),
}
#: Serialisations by file extension: (media type, rdflib format name).
FORMATS = {
    "ttl": ("text/turtle", "turtle"),
    "jsonld": ("application/ld+json", "json-ld"),
    "rdf": ("application/rdf+xml", "xml"),
    "nt": ("application/n-triples", "nt"),
}
#: EDM's five kinds of object, from the DCMI type of each document type.
EDM_TYPES = {"Text": "TEXT", "StillImage": "IMAGE", "Sound": "SOUND",
             "MovingImage": "VIDEO", "PhysicalObject": "3D"}
#: schema.org classes of Sen's document types (CreativeWork for the rest).
SCHEMA_TYPES = {"book": "Book", "newspaper": "PublicationIssue", "magazine": "PublicationIssue",
                "map": "Map", "photograph": "Photograph", "thesis": "Thesis",
                "manuscript": "Manuscript", "poster": "Poster"}
#: Types whose date is a publication date; for the others it is when they were made.
PUBLISHED_TYPES = {"book", "newspaper", "magazine", "thesis", "postcard", "poster"}


def new_graph() -> Graph:
    graph = Graph(bind_namespaces="none")
    for prefix, uri in PREFIXES.items():
        graph.bind(prefix, uri)
    return graph


def bare_graph() -> Graph:
    """A graph only to be written as N-Triples (dumps): no prefixes and rdflib's store
    without contexts, which builds an item's graph twice as fast."""
    return Graph(store="SimpleMemory", bind_namespaces="none")


# --------------------------------------------------------------------------- URIs


def site_uri(settings) -> URIRef:
    """The network itself, as an organisation: the provider of everything."""
    return URIRef(links.library_uri(settings.public_url, slug(settings.site_name)))


def library_uri(settings, name: str) -> URIRef:
    return URIRef(links.library_uri(settings.public_url, slug(name)))


def subject_uri(settings, subject: str) -> URIRef:
    return URIRef(links.subject_uri(settings.public_url, slug(subject)))


def slug(name: str) -> str:
    """A URI segment for a name; non-Latin names (Hán) are percent-encoded."""
    return quote(slugify(name), safe="-")


def page_image(base: str, item_id: str, page: int) -> str:
    return f"{links.image_service(base, item_id, page)}/full/max/0/default.jpg"


def dcmi_type(code: str) -> str:
    return rec.vocabulary("type")[code]["dcmitype"]


def bcp47(code: str) -> str:
    """An ISO 639-3 code as a BCP 47 tag: the two-letter code where there is one."""
    found = pycountry.languages.get(alpha_3=code)
    return getattr(found, "alpha_2", None) or code


# --------------------------------------------------------------------------- EDM


def _texts(graph: Graph, node: URIRef, predicates: Iterable[URIRef],
           language_map: dict | None) -> None:
    for lang, values in (language_map or {}).items():
        for value in values:
            for predicate in predicates:
                graph.add((node, predicate, Literal(value, lang=lang)))


def _created(date: dict) -> Literal:
    """The date typed: xsd:gYear / gYearMonth / date when exact, EDTF otherwise."""
    iso = date.get("iso")
    if iso is None:
        start, end = f"{date['start']:04d}", f"{date['end']:04d}"
        mark = "~" if date.get("approximate") else ""
        iso = f"{start}{mark}" if start == end else f"{start}{mark}/{end}{mark}"
    for pattern, datatype in ((r"\d{4}", XSD.gYear), (r"\d{4}-\d{2}", XSD.gYearMonth),
                              (r"\d{4}-\d{2}-\d{2}", XSD.date)):
        if re.fullmatch(pattern, iso):
            return Literal(iso, datatype=datatype)
    return Literal(iso, datatype=EDTF)


def agent(graph: Graph, node: URIRef, labels: dict[str | None, str],
          homepage: str | None = None) -> URIRef:
    """A library or the network, as EDM wants data providers (edm:Agent)."""
    graph.add((node, RDF.type, EDM.Agent))
    graph.add((node, RDF.type, FOAF.Organization))
    for lang, label in labels.items():
        graph.add((node, SKOS.prefLabel, Literal(label, lang=lang)))
        graph.add((node, FOAF.name, Literal(label, lang=lang)))
    if homepage:
        graph.add((node, FOAF.homepage, URIRef(homepage)))
    return node


def site_agent(graph: Graph, settings) -> URIRef:
    return agent(graph, site_uri(settings), {"vi": settings.site_name,
                                             "en": settings.site_name_en},
                 f"{settings.public_url}/")


def place(graph: Graph, settings, place_id: str) -> URIRef:
    """An authority place: names by language, other names, coordinates, containing unit."""
    base = settings.public_url
    found = default_authority().get(place_id)
    node = URIRef(links.place_uri(base, place_id))
    graph.add((node, RDF.type, EDM.Place))
    preferred = {}
    for name in found.names:
        preferred.setdefault(name.lang, name.value)
    for lang, value in preferred.items():
        graph.add((node, SKOS.prefLabel, Literal(value, lang=lang)))
    for name in found.names:
        if preferred[name.lang] != name.value:
            graph.add((node, SKOS.altLabel, Literal(name.value, lang=name.lang)))
    for alias in found.aliases:
        if alias not in preferred.values():
            graph.add((node, SKOS.altLabel, Literal(alias)))
    if found.lat is not None and found.long is not None:
        graph.add((node, WGS84.lat, Literal(str(found.lat), datatype=XSD.float)))
        graph.add((node, WGS84.long, Literal(str(found.long), datatype=XSD.float)))
    if found.part_of:
        graph.add((node, DCTERMS.isPartOf, URIRef(links.place_uri(base, found.part_of))))
    for successor in found.replaced_by:
        graph.add((node, DCTERMS.isReplacedBy, URIRef(links.place_uri(base, successor))))
    if found.note:
        graph.add((node, SKOS.note, Literal(found.note, lang="en")))
    return node


def type_concept(graph: Graph, settings, code: str) -> URIRef:
    node = URIRef(links.type_uri(settings.public_url, code))
    graph.add((node, RDF.type, SKOS.Concept))
    for lang in rec.LANGUAGES:
        graph.add((node, SKOS.prefLabel, Literal(rec.term_label("type", code, lang), lang=lang)))
    return node


def subject_concept(graph: Graph, settings, subject: str) -> URIRef:
    node = subject_uri(settings, subject)
    graph.add((node, RDF.type, SKOS.Concept))
    graph.add((node, SKOS.prefLabel, Literal(subject, lang="vi")))
    return node


def collection_node(graph: Graph, settings, collection_id: str,
                    names: dict[str, list[str]]) -> URIRef:
    base = settings.public_url
    node = URIRef(links.collection_uri(base, collection_id))
    graph.add((node, RDF.type, DCMITYPE.Collection))
    _texts(graph, node, (DCTERMS.title,), names)
    graph.add((node, FOAF.page, URIRef(links.collection_page(base, collection_id))))
    graph.add((node, RDFS.seeAlso, URIRef(links.iiif_collection(base, collection_id))))
    return node


def item_graph(record: rec.Record, settings, graph: Graph | None = None) -> Graph:
    """The EDM and Dublin Core description of a public item; NotFound for any other."""
    if not access.can_view(record.get("access")):
        raise NotFound(f"no item {record.get('identifier')!r}")
    g = graph if graph is not None else new_graph()
    base = settings.public_url
    item_id = record["identifier"]
    cho = URIRef(links.item_uri(base, item_id))
    kind = dcmi_type(record["type"])

    g.add((cho, RDF.type, EDM.ProvidedCHO))
    g.add((cho, EDM.type, Literal(EDM_TYPES[kind])))
    _texts(g, cho, (DC.title, DCTERMS.title), record["title"])
    _texts(g, cho, (DCTERMS.alternative,), record.get("alternative"))
    _texts(g, cho, (DC.description, DCTERMS.description), record.get("description"))
    for field in ("creator", "contributor", "publisher"):
        for name in record.get(field, []):
            g.add((cho, DC[field], Literal(name)))
            g.add((cho, DCTERMS[field], Literal(name)))
    date = record.get("date")
    if date:
        g.add((cho, DC.date, Literal(date["display"], lang="vi")))
        g.add((cho, DCTERMS.date, Literal(date["display"], lang="vi")))
        g.add((cho, DCTERMS.created, _created(date)))
    g.add((cho, DC.type, type_concept(g, settings, record["type"])))
    g.add((cho, DCTERMS.type, DCMITYPE[kind]))
    # EDM wants a language for every text; "und" (ISO 639: undetermined) says none is known.
    languages = record.get("language") or (["und"] if kind == "Text" else [])
    for code in languages:
        g.add((cho, DC.language, Literal(code)))
        g.add((cho, DCTERMS.language, URIRef(LEXVO + code)))
    for subject in record.get("subject", []):
        concept = subject_concept(g, settings, subject)
        g.add((cho, DC.subject, concept))
        g.add((cho, DCTERMS.subject, concept))
    for spot in record.get("spatial", []):
        known = spot.get("id") in default_authority()
        g.add((cho, DCTERMS.spatial,
               place(g, settings, spot["id"]) if known else Literal(spot["name"])))
    rights = URIRef(record["rights"])
    g.add((cho, DCTERMS.rights, rights))
    if record.get("extent"):
        g.add((cho, DCTERMS.extent, Literal(record["extent"], lang="vi")))
    collection = record.get("collection")
    if collection:
        g.add((cho, DCTERMS.isPartOf,
               collection_node(g, settings, collection["id"], collection["name"])))
    for identifier in (item_id, record.get("shelfmark")):
        if identifier:
            g.add((cho, DC.identifier, Literal(identifier)))
    g.add((cho, DCTERMS.identifier, Literal(item_id)))

    aggregation = URIRef(f"{cho}#aggregation")
    provider = site_agent(g, settings)
    holder = record.get("holding_library")
    g.add((aggregation, RDF.type, ORE.Aggregation))
    g.add((aggregation, EDM.aggregatedCHO, cho))
    g.add((aggregation, EDM.provider, provider))
    g.add((aggregation, EDM.dataProvider,
           agent(g, library_uri(settings, holder), {None: holder}) if holder else provider))
    g.add((aggregation, EDM.isShownAt, URIRef(links.item_page(base, item_id))))
    g.add((aggregation, EDM.object, URIRef(links.thumbnail(base, item_id))))
    g.add((aggregation, EDM.rights, rights))
    manifest = URIRef(links.manifest(base, item_id))
    previous = None
    for page in range(1, len(record["pages"]) + 1):
        image = URIRef(page_image(base, item_id, page))
        service = URIRef(links.image_service(base, item_id, page))
        g.add((aggregation, EDM.isShownBy if page == 1 else EDM.hasView, image))
        g.add((image, RDF.type, EDM.WebResource))
        g.add((image, EBUCORE.hasMimeType, Literal("image/jpeg")))
        g.add((image, EDM.rights, rights))
        g.add((image, SVCS.has_service, service))
        g.add((image, DCTERMS.isReferencedBy, manifest))
        if previous is not None:
            g.add((image, EDM.isNextInSequence, previous))
        g.add((service, RDF.type, SVCS.Service))
        g.add((service, DCTERMS.conformsTo, IIIF_IMAGE_API))
        g.add((service, DOAP.implements, IIIF_LEVEL2))
        previous = image
    return g


def collection_graph(collection_id: str, names: dict[str, list[str]], item_ids: Iterable[str],
                     settings, graph: Graph | None = None) -> Graph:
    """A collection and its public items (``item_ids``: only those, the caller decides)."""
    g = graph if graph is not None else new_graph()
    node = collection_node(g, settings, collection_id, names)
    g.add((node, DCTERMS.publisher, site_agent(g, settings)))
    for item_id in item_ids:
        g.add((node, DCTERMS.hasPart, URIRef(links.item_uri(settings.public_url, item_id))))
    return g


def place_graph(place_id: str, settings) -> Graph:
    """A place of the authority (NotFound if unknown), with the units it lies in."""
    g = new_graph()
    authority = default_authority()
    place(g, settings, place_id)
    for parent in authority.ancestors(place_id):
        place(g, settings, parent.id)
    return g


def type_graph(code: str, settings) -> Graph:
    if code not in rec.vocabulary("type"):
        raise NotFound(f"no document type {code!r}")
    g = new_graph()
    type_concept(g, settings, code)
    return g


# --------------------------------------------------------------------------- serialisation


def serialize(graph: Graph, extension: str) -> bytes:
    """A graph in one of :data:`FORMATS`; N-Triples sorted, JSON-LD compact and stable."""
    if extension == "nt":
        return b"".join(sorted(set(nt_lines(graph))))
    if extension == "jsonld":
        return "".join(jsonld(parse_nt(serialize(graph, "nt")))).encode()
    return graph.serialize(format=FORMATS[extension][1], encoding="utf-8")


def nt_lines(graph: Graph) -> list[bytes]:
    """The N-Triples lines of a graph, as UTF-8 bytes each ending in a newline.

    Split on ``\n`` only: a literal may hold U+2028 and other characters that
    Python's ``splitlines`` would also break on.
    """
    data = graph.serialize(format="nt", encoding="utf-8")
    return [line + b"\n" for line in data.split(b"\n") if line.strip()]


def parse_nt(data: bytes | None = None, path: str | None = None) -> Iterator[ox.Triple]:
    source = {"path": path} if path else {"input": data}
    return (quad.triple for quad in ox.parse(format=ox.RdfFormat.N_TRIPLES, **source))


@functools.lru_cache(maxsize=4096)
def _curie(iri: str) -> str:
    for prefix, namespace in PREFIXES.items():
        if iri.startswith(namespace) and re.fullmatch(r"[A-Za-z_][\w.-]*",
                                                      iri[len(namespace):]):
            return f"{prefix}:{iri[len(namespace):]}"
    return iri


def _value(term) -> dict | str:
    if isinstance(term, ox.Literal):
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == str(XSD.string):
            return term.value
        return {"@value": term.value, "@type": _curie(term.datatype.value)}
    return {"@id": term.value}


def jsonld(triples: Iterable[ox.Triple]) -> Iterator[str]:
    """Compact JSON-LD, one node per line, from triples grouped by subject (sorted N-Triples).

    Written here rather than by a library so a dump of any size streams in
    constant memory and the same triples always give the same bytes.
    """
    yield '{"@context": ' + json.dumps(PREFIXES, sort_keys=True) + ',\n"@graph": ['
    first = True
    for subject, group in itertools.groupby(triples, key=lambda t: t.subject):
        node: dict = {"@id": subject.value}
        for triple in group:
            if triple.predicate.value == str(RDF.type):
                node.setdefault("@type", []).append(_curie(triple.object.value))
            else:
                node.setdefault(_curie(triple.predicate.value), []).append(_value(triple.object))
        node = {k: v[0] if isinstance(v, list) and len(v) == 1 else v for k, v in node.items()}
        yield ("\n" if first else ",\n") + json.dumps(node, ensure_ascii=False, sort_keys=True)
        first = False
    yield "\n]}\n"


# --------------------------------------------------------------------------- schema.org


def _language_values(language_map: dict | None) -> list[dict]:
    return [{"@value": value, "@language": lang}
            for lang, values in (language_map or {}).items() for value in values]


def schema_org(record: rec.Record, settings) -> dict:
    """schema.org JSON-LD for the item page, for search engines and citation tools."""
    base = settings.public_url
    item_id = record["identifier"]
    code = record["type"]
    data: dict = {
        "@context": "https://schema.org",
        "@type": SCHEMA_TYPES.get(code, "CreativeWork"),
        "name": _language_values(record["title"]),
        "genre": [{"@value": rec.term_label("type", code, lang), "@language": lang}
                  for lang in rec.LANGUAGES],
        "identifier": item_id,
        "url": links.item_page(base, item_id),
        "sameAs": links.item_uri(base, item_id),
        "image": links.thumbnail(base, item_id),
        "license": record["rights"],
        "provider": {"@type": "Organization", "@id": str(site_uri(settings)),
                     "name": settings.site_name, "url": f"{base}/"},
    }
    if record.get("alternative"):
        data["alternateName"] = _language_values(record["alternative"])
    if record.get("description"):
        data["description"] = _language_values(record["description"])
    # Whether a creator is a person or an organisation is not recorded: names stay untyped.
    for field, key in (("creator", "author"), ("contributor", "contributor"),
                       ("publisher", "publisher")):
        if record.get(field):
            data[key] = [{"name": name} for name in record[field]]
    iso = (record.get("date") or {}).get("iso")
    if iso and re.fullmatch(r"\d{4}(-\d{2}){0,2}", iso):
        data["datePublished" if code in PUBLISHED_TYPES else "dateCreated"] = iso
    if record.get("language"):
        data["inLanguage"] = [bcp47(c) for c in record["language"]]
    if record.get("subject"):
        data["keywords"] = [{"@value": s, "@language": "vi"} for s in record["subject"]]
    places = []
    for spot in record.get("spatial", []):
        if spot.get("id") in default_authority():
            found = default_authority().get(spot["id"])
            entry = {"@type": "Place", "@id": links.place_uri(base, found.id),
                     "name": [{"@value": n.value, "@language": n.lang} for n in found.names]}
            if found.lat is not None and found.long is not None:
                entry["geo"] = {"@type": "GeoCoordinates", "latitude": found.lat,
                                "longitude": found.long}
            places.append(entry)
        else:
            places.append({"@type": "Place", "name": spot["name"]})
    if places:
        data["spatialCoverage"] = places
    collection = record.get("collection")
    if collection:
        data["isPartOf"] = {"@type": "Collection",
                            "@id": links.collection_uri(base, collection["id"]),
                            "name": _language_values(collection["name"]),
                            "url": links.collection_page(base, collection["id"])}
    return data
