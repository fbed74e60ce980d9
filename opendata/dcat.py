"""The open-data catalogue: DCAT-AP 3 with a VoID description, at ``/catalog.ttl``.

Open-data portals (CKAN with ckanext-dcat, data.europa.eu) harvest DCAT-AP;
linked-data tools read VoID. One ``dcat:Catalog`` lists a ``dcat:Dataset`` for
everything public and one per public collection. Each dataset's distributions
are the dumps of ``index.json`` (download URL, IANA media type, EU file type,
licence, size, sha256) and its IIIF Collection; the dataset of everything also
has the SPARQL endpoint, described as a ``dcat:DataService``.

Metadata is published under CC0, as Europeana and most aggregators require; the
digitised documents keep their own rights (``edm:rights`` of each item).

What comes from the dumps (keywords, places, dates, publisher, counts) is left
out for a dataset whose dumps may hold an item hidden since they were taken
(:func:`opendata.dumps.stale_datasets`); titles and counts come from the live
catalogue, which only ever lists public items.
"""

from __future__ import annotations

from rdflib import DCTERMS, FOAF, RDF, RDFS, SKOS, XSD, Graph, Literal, URIRef

from opendata import dumps, rdf
from opendata.rdf import DCAT, SPDX, VCARD, VOID
from repository import access, links
from repository.places import default_authority
from repository.repo import Repository

METADATA_LICENSE = URIRef("http://creativecommons.org/publicdomain/zero/1.0/")
IANA = "http://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
FILE_TYPES = {"nt": "RDF_N_TRIPLES", "jsonld": "JSON_LD", "csv": "CSV"}
FORMAT_NAMES = {"nt": "N-Triples (EDM, Dublin Core)", "jsonld": "JSON-LD (EDM, Dublin Core)",
                "csv": "CSV"}
THEMES = URIRef("http://publications.europa.eu/resource/authority/data-theme")
EDUCATION = URIRef(f"{THEMES}/EDUC")
IIIF_PRESENTATION = URIRef("http://iiif.io/api/presentation/3/context.json")
SPARQL_PROTOCOL = URIRef("https://www.w3.org/TR/sparql11-protocol/")
EDM_STANDARD = URIRef("http://www.europeana.eu/schemas/edm/")
PROVINCE = "dong-thap-province"
VOCABULARIES = (rdf.EDM, rdf.ORE, DCTERMS, rdf.DC, SKOS, rdf.SVCS)


def dataset_uri(base: str, dataset_id: str) -> URIRef:
    stem = dumps.dump_name(dataset_id, "x")[:-2]
    return URIRef(f"{links.catalog(base, '')}#{stem}")


def _typed(g: Graph, node: URIRef, *classes: URIRef) -> URIRef:
    """DCAT-AP's shapes check the class of every value: say it."""
    for cls in classes:
        g.add((node, RDF.type, cls))
    return node


def _text(g: Graph, node: URIRef, predicate: URIRef, texts: dict[str, str]) -> None:
    for lang, text in texts.items():
        if text:
            g.add((node, predicate, Literal(text, lang=lang)))


def _agent(g: Graph, node: URIRef, names: dict[str | None, str]) -> URIRef:
    _typed(g, node, FOAF.Agent, FOAF.Organization)
    _text(g, node, FOAF.name, names)
    return node


def _location(g: Graph, settings, place_id: str) -> URIRef:
    place = default_authority().get(place_id)
    node = _typed(g, URIRef(links.place_uri(settings.public_url, place_id)), DCTERMS.Location)
    _text(g, node, SKOS.prefLabel, {lang: place.label(lang) for lang in ("vi", "en")})
    return node


def _common(g: Graph, node: URIRef) -> None:
    """What every distribution shares: the metadata licence."""
    g.add((node, DCTERMS.license, _typed(g, METADATA_LICENSE, DCTERMS.LicenseDocument)))


def _distribution(g: Graph, base: str, dump: dict) -> URIRef:
    node = _typed(g, URIRef(f"{links.catalog(base, '')}#{dump['name']}"), DCAT.Distribution)
    url = _typed(g, URIRef(links.dump(base, dump["name"])), RDFS.Resource)
    _text(g, node, DCTERMS.title, {"vi": FORMAT_NAMES[dump["format"]],
                                   "en": FORMAT_NAMES[dump["format"]]})
    g.add((node, DCAT.downloadURL, url))
    g.add((node, DCAT.accessURL, url))
    g.add((node, DCAT.mediaType, _typed(g, URIRef(IANA + dump["media_type"]),
                                        DCTERMS.MediaType)))
    g.add((node, DCTERMS["format"], _typed(g, URIRef(FILE_TYPE + FILE_TYPES[dump["format"]]),
                                           DCTERMS.MediaTypeOrExtent)))
    g.add((node, DCAT.byteSize, Literal(dump["size"], datatype=XSD.nonNegativeInteger)))
    checksum = _typed(g, URIRef(f"{node}-sha256"), SPDX.Checksum)
    g.add((node, SPDX.checksum, checksum))
    g.add((checksum, SPDX.algorithm, _typed(g, SPDX.checksumAlgorithm_sha256,
                                            SPDX.ChecksumAlgorithm)))
    g.add((checksum, SPDX.checksumValue, Literal(dump["sha256"], datatype=XSD.hexBinary)))
    if dump["format"] != "csv":
        g.add((node, DCTERMS.conformsTo, _typed(g, EDM_STANDARD, DCTERMS.Standard)))
    _common(g, node)
    return node


def _iiif_distribution(g: Graph, base: str, dataset_id: str) -> URIRef:
    collection = "top" if dataset_id == dumps.ALL else dataset_id
    node = _typed(g, URIRef(f"{dataset_uri(base, dataset_id)}-iiif"), DCAT.Distribution)
    _text(g, node, DCTERMS.title, {"vi": "Bộ sưu tập IIIF (Presentation 3)",
                                   "en": "IIIF Collection (Presentation 3)"})
    g.add((node, DCAT.accessURL, _typed(g, URIRef(links.iiif_collection(base, collection)),
                                        RDFS.Resource)))
    g.add((node, DCAT.mediaType, _typed(g, URIRef(IANA + "application/ld+json"),
                                        DCTERMS.MediaType)))
    g.add((node, DCTERMS["format"], _typed(g, URIRef(FILE_TYPE + "JSON_LD"),
                                           DCTERMS.MediaTypeOrExtent)))
    g.add((node, DCTERMS.conformsTo, _typed(g, IIIF_PRESENTATION, DCTERMS.Standard)))
    _common(g, node)
    return node


def _sparql_service(g: Graph, base: str, network: URIRef, contact: URIRef) -> URIRef:
    node = _typed(g, URIRef(f"{links.catalog(base, '')}#sparql"), DCAT.DataService)
    endpoint = _typed(g, URIRef(f"{base}/sparql"), RDFS.Resource)
    _text(g, node, DCTERMS.title, {"vi": "Điểm truy vấn SPARQL", "en": "SPARQL endpoint"})
    _text(g, node, DCTERMS.description, {
        "vi": "Truy vấn SPARQL 1.1 (chỉ đọc) trên toàn bộ dữ liệu liên kết đã công bố.",
        "en": "Read-only SPARQL 1.1 queries over all published linked data."})
    g.add((node, DCAT.endpointURL, endpoint))
    g.add((node, DCAT.endpointDescription, endpoint))
    g.add((node, DCTERMS.conformsTo, _typed(g, SPARQL_PROTOCOL, DCTERMS.Standard)))
    g.add((node, DCTERMS.publisher, network))
    g.add((node, DCAT.contactPoint, contact))
    g.add((node, DCAT.servesDataset, dataset_uri(base, dumps.ALL)))
    _common(g, node)
    return node


def catalog_graph(repo: Repository) -> Graph:
    """The DCAT-AP 3 catalogue and its VoID description, from the live catalogue and
    the published dumps."""
    settings = repo.settings
    base = settings.public_url
    index = dumps.load_index(repo)
    stale = dumps.stale_datasets(repo, index)
    published = {d["id"]: d for d in (index or {}).get("datasets", []) if d["id"] not in stale}
    files = {d["name"]: d for d in (index or {}).get("dumps", [])}
    collections = repo.catalogue.collections(access.visible_levels())
    names = {"vi": settings.site_name, "en": settings.site_name_en}

    g = rdf.new_graph()
    catalog = _typed(g, URIRef(links.catalog(base, "")), DCAT.Catalog)
    network = _agent(g, rdf.site_uri(settings), names)
    contact = _typed(g, URIRef(f"{catalog}#contact"), VCARD.Kind, VCARD.Organization)
    _text(g, contact, VCARD.fn, names)
    g.add((contact, VCARD.hasURL, URIRef(f"{base}/")))
    _text(g, catalog, DCTERMS.title, {"vi": f"Danh mục dữ liệu mở — {names['vi']}",
                                      "en": f"Open data catalogue — {names['en']}"})
    _text(g, catalog, DCTERMS.description, {
        "vi": "Tài liệu địa chí và tài liệu cổ, quý hiếm của mạng lưới thư viện tỉnh Đồng Tháp "
              "đã số hóa: siêu dữ liệu EDM và Dublin Core, ảnh IIIF, tải về toàn bộ và SPARQL.",
        "en": "The digitised local-studies and rare documents of the Đồng Tháp provincial "
              "library network: EDM and Dublin Core metadata, IIIF images, bulk downloads "
              "and SPARQL."})
    g.add((catalog, DCTERMS.publisher, network))
    g.add((catalog, FOAF.homepage, _typed(g, URIRef(f"{base}/"), FOAF.Document)))
    g.add((catalog, DCTERMS.license, _typed(g, METADATA_LICENSE, DCTERMS.LicenseDocument)))
    for code in ("vie", "eng"):
        g.add((catalog, DCTERMS.language, _typed(g, URIRef(rdf.LEXVO + code),
                                                 DCTERMS.LinguisticSystem)))
    g.add((catalog, DCTERMS.spatial, _location(g, settings, PROVINCE)))
    g.add((catalog, DCAT.themeTaxonomy, _typed(g, THEMES, SKOS.ConceptScheme)))
    _text(g, THEMES, DCTERMS.title, {"en": "Data theme"})
    _typed(g, EDUCATION, SKOS.Concept)
    _text(g, EDUCATION, SKOS.prefLabel, {"vi": "Giáo dục, văn hóa và thể thao",
                                         "en": "Education, culture and sport"})
    g.add((EDUCATION, SKOS.inScheme, THEMES))
    g.add((catalog, DCAT.service, _sparql_service(g, base, network, contact)))
    everything = published.get(dumps.ALL)
    if everything:
        g.add((catalog, DCTERMS.issued, Literal(everything["issued"], datatype=XSD.dateTime)))
        g.add((catalog, DCTERMS.modified, Literal(everything["modified"],
                                                  datatype=XSD.dateTime)))

    total, _rows = repo.catalogue.list_items(access.visible_levels(), limit=1)
    entries = [(dumps.ALL, {"vi": f"Tất cả tài liệu công khai — {names['vi']}",
                            "en": f"All public documents — {names['en']}"}, total)]
    entries += [(c["id"], {"vi": c["name_vi"], "en": c["name_en"] or c["name_vi"]}, c["count"])
                for c in sorted(collections, key=lambda c: c["id"])]
    for dataset_id, title, count in entries:
        node = dataset_uri(base, dataset_id)
        g.add((catalog, DCAT.dataset, node))
        _typed(g, node, DCAT.Dataset)
        _text(g, node, DCTERMS.title, title)
        _text(g, node, DCTERMS.description, {
            "vi": f"Siêu dữ liệu (EDM, Dublin Core) và ảnh IIIF của {count} tài liệu số hóa "
                  f"— {title['vi']}.",
            "en": f"Metadata (EDM, Dublin Core) and IIIF images of {count} digitised "
                  f"documents — {title['en']}."})
        g.add((node, DCTERMS.identifier, Literal(str(node))))
        g.add((node, DCTERMS.license, _typed(g, METADATA_LICENSE, DCTERMS.LicenseDocument)))
        g.add((node, DCAT.contactPoint, contact))
        g.add((node, DCAT.theme, EDUCATION))
        page = (f"{base}/collections/" if dataset_id == dumps.ALL
                else links.collection_page(base, dataset_id))
        g.add((node, DCAT.landingPage, _typed(g, URIRef(page), FOAF.Document)))
        g.add((node, DCAT.distribution, _iiif_distribution(g, base, dataset_id)))
        summary = published.get(dataset_id)
        holder = summary and summary["publisher"]
        g.add((node, DCTERMS.publisher, _agent(g, rdf.library_uri(settings, holder),
                                               {None: holder}) if holder else network))
        if dataset_id == dumps.ALL:
            sparql = _typed(g, URIRef(f"{node}-sparql"), DCAT.Distribution)
            _text(g, sparql, DCTERMS.title, {"vi": "SPARQL", "en": "SPARQL"})
            g.add((sparql, DCAT.accessURL, URIRef(f"{base}/sparql")))
            g.add((sparql, DCAT.accessService, URIRef(f"{catalog}#sparql")))
            _common(g, sparql)
            g.add((node, DCAT.distribution, sparql))
        if not summary:
            continue
        g.add((node, DCTERMS.issued, Literal(summary["issued"], datatype=XSD.dateTime)))
        g.add((node, DCTERMS.modified, Literal(summary["modified"], datatype=XSD.dateTime)))
        for keyword in summary["keywords"]:
            g.add((node, DCAT.keyword, Literal(keyword, lang="vi")))
        for place_id in summary["places"]:
            if place_id in default_authority():
                g.add((node, DCTERMS.spatial, _location(g, settings, place_id)))
        for code in summary["languages"]:
            g.add((node, DCTERMS.language, _typed(g, URIRef(rdf.LEXVO + code),
                                                  DCTERMS.LinguisticSystem)))
        for name in summary["dumps"]:
            g.add((node, DCAT.distribution, _distribution(g, base, files[name])))
        _void(g, base, node, summary, files)
    return g


def _void(g: Graph, base: str, node: URIRef, summary: dict, files: dict) -> None:
    """VoID: size, items, dump and URI space of a dataset; the endpoint and subsets of the
    whole."""
    g.add((node, RDF.type, VOID.Dataset))
    g.add((node, VOID.triples, Literal(summary["triples"], datatype=XSD.integer)))
    items = URIRef(f"{node}-items")
    g.add((node, VOID.classPartition, items))
    g.add((items, VOID["class"], rdf.EDM.ProvidedCHO))
    g.add((items, VOID.entities, Literal(summary["items"], datatype=XSD.integer)))
    nt = next(name for name in summary["dumps"] if files[name]["format"] == "nt")
    g.add((node, VOID.dataDump, URIRef(links.dump(base, nt))))
    g.add((node, VOID.uriSpace, Literal(f"{base}/id/")))
    for vocabulary in VOCABULARIES:
        g.add((node, VOID.vocabulary, URIRef(str(vocabulary))))
    if summary["id"] == dumps.ALL:
        g.add((node, VOID.sparqlEndpoint, URIRef(f"{base}/sparql")))
    else:
        g.add((dataset_uri(base, dumps.ALL), VOID.subset, node))
