"""OAI-PMH 2.0: how union catalogues and aggregators harvest Sen.

http://www.openarchives.org/OAI/openarchivesprotocol.html — all six verbs, metadata in
``oai_dc`` (Simple Dublin Core) and ``edm`` (Europeana Data Model, RDF/XML), sets per
collection (``collection:{id}``) and per holding library (``library:{slug}``).

Records come from :meth:`Catalogue.ever_public`: every item that was ever public, with its
last public change. That change's time is the record's datestamp. An item whose last
change is a Delete (it was made restricted or internal) stays a *deleted record* for good
(``deletedRecord`` is ``persistent``): its header only, never its metadata. Items that were
never public do not exist here at all (``idDoesNotExist``, never counted).

Sets are the collections and holding libraries with at least one public item, and the two
parents of the hierarchy (``collection``, ``library``): naming a set only hidden items are in
would reveal what is hidden. A deleted record keeps the setSpecs of its public sets, so
harvesters of a set learn of the deletion.

Resumption tokens are base64url JSON holding the request's arguments and a keyset cursor,
the (datestamp, id) of the last record sent, plus the number of records sent before, so they
never expire and need no state on the server. Lists are ordered by (datestamp, id), and
every change gives an item a later datestamp, which defines what a harvest that follows its
tokens while the repository changes receives:

- each record that matched when the harvest started and does not change during it: exactly
  once;
- a record that changes (or appears) during the harvest and still matches: in its new state,
  near the end; so once if the harvest had not reached it yet, and a second time, after its
  old state, if it had. Nothing is skipped.

The one limit is the protocol's seconds granularity: a record the harvest had already passed,
changed within the same second as the last datestamp sent and ordered before it by id, is
not sent again in this harvest; the next incremental harvest (``from`` = this harvest's
first ``responseDate``, inclusive, as the protocol recommends) receives it.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import functools
import json
import mimetypes
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

import sqlalchemy as sa
from lxml import etree

from opendata import rdf
from repository import access, links
from repository import record as rec
from repository.catalogue.models import changes, items
from repository.config import Settings
from repository.errors import NotFound
from repository.repo import Repository

#: Records (or headers) per response; a resumption token leads to the next ones.
PAGE_SIZE = 100
#: Who answers for this OAI-PMH service (Identify's adminEmail). To become a setting.
ADMIN_EMAIL = "sen-admin@sen.dongthap.example"

OAI = "http://www.openarchives.org/OAI/2.0/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
OAI_ID = "http://www.openarchives.org/OAI/2.0/oai-identifier"
DC_NS = "http://purl.org/dc/elements/1.1/"
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
SCHEMA_LOCATION = f"{{{XSI}}}schemaLocation"

#: metadataPrefix -> (schema, metadataNamespace).
FORMATS = {
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", OAI_DC),
    "edm": ("http://www.europeana.eu/schemas/edm/EDM.xsd", str(rdf.EDM)),
}
GRANULARITY = "YYYY-MM-DDThh:mm:ssZ"
LIST_VERBS = ("ListIdentifiers", "ListRecords")
#: verb -> (required arguments, optional arguments); resumptionToken is handled apart.
VERBS: dict[str, tuple[frozenset, frozenset]] = {
    "Identify": (frozenset(), frozenset()),
    "ListMetadataFormats": (frozenset(), frozenset({"identifier"})),
    "ListSets": (frozenset(), frozenset()),
    "GetRecord": (frozenset({"identifier", "metadataPrefix"}), frozenset()),
    "ListIdentifiers": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
    "ListRecords": (frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"})),
}
# The XSD's patterns: a value outside them could not even be echoed in <request>.
_PREFIX = re.compile(r"[A-Za-z0-9\-_.!~*'()]+")
_SET_SPEC = re.compile(r"[A-Za-z0-9\-_.!~*'()]+(:[A-Za-z0-9\-_.!~*'()]+)*")
_IDENTIFIER = re.compile(r"[^\s\"<>\\^`{|}]+")
_DOMAIN = re.compile(r"[a-zA-Z][a-zA-Z0-9\-]*(\.[a-zA-Z][a-zA-Z0-9\-]*)+")
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


class OAIError(Exception):
    """One of the protocol's error conditions, answered in the XML with HTTP 200."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


def _utc(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _el(parent: etree._Element, tag: str, text: str | None = None, **attrib: str):
    element = etree.SubElement(parent, tag, {k: _NOT_XML.sub("", v) for k, v in attrib.items()})
    if text is not None:
        element.text = _NOT_XML.sub("", text)  # lxml refuses control characters
    return element


def repository_identifier(settings: Settings) -> str:
    """The ``oai-identifier`` namespace: the public host name, when it is a domain name.

    The scheme wants a domain (``sen.dongthap.gov.vn``); an IP address or ``localhost``
    (a laptop's demo) is not one, so those get ``sen.localhost``.
    """
    host = urlsplit(settings.public_url).hostname or ""
    return host if _DOMAIN.fullmatch(host) else "sen.localhost"


# Metadata ------------------------------------------------------------------------
def _by_language(language_map: dict[str, list[str]] | None) -> list[tuple[str, str]]:
    """(language, value) pairs, Vietnamese first, then English: many harvesters keep the
    first title they meet."""
    order = {lang: n for n, lang in enumerate(rec.LANGUAGES)}
    return [(lang, value) for lang in sorted(language_map or {}, key=lambda k: (
        order.get(k, len(order)), k)) for value in language_map[lang]]


def _type_labels(record: rec.Record) -> dict[str, str]:
    return rec.vocabulary("type").get(record["type"], {})


def dublin_core(record: rec.Record, settings: Settings) -> etree._Element:
    """``oai_dc:dc`` per the oai_dc schema: the 15 elements, languages as ``xml:lang``."""
    base, item_id = settings.public_url, record["identifier"]
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC_NS, "xsi": XSI})
    root.set(SCHEMA_LOCATION, f"{OAI_DC} {FORMATS['oai_dc'][0]}")

    def dc(name: str, values: Iterable[str], lang: str | None = None) -> None:
        for value in values:
            _el(root, f"{{{DC_NS}}}{name}", value, **({XML_LANG: lang} if lang else {}))

    for field in ("title", "alternative"):
        for lang, value in _by_language(record.get(field)):
            dc("title", [value], lang)
    for field in ("creator", "subject"):
        dc(field, record.get(field) or [])
    for lang, value in _by_language(record.get("description")):
        dc("description", [value], lang)
    dc("publisher", record.get("publisher") or [])
    dc("contributor", record.get("contributor") or [])
    date = record.get("date")
    if date:
        dc("date", dict.fromkeys(v for v in (date["display"], date.get("iso")) if v))
    labels = _type_labels(record)
    for lang in ("vi", "en"):
        dc("type", [labels[lang]] if lang in labels else [], lang)
    dc("type", [labels["dcmitype"]] if "dcmitype" in labels else [])
    dc("format", sorted({mimetypes.guess_type(p["file"])[0] or "application/octet-stream"
                         for p in record["pages"]}))
    dc("format", [record["extent"]] if record.get("extent") else [])
    dc("identifier", [links.item_uri(base, item_id), links.item_page(base, item_id),
                      links.manifest(base, item_id)])
    source = ", ".join(v for v in (record.get("holding_library"), record.get("shelfmark")) if v)
    dc("source", [source] if source else [])
    dc("language", record.get("language") or [])
    collection = record.get("collection")
    if collection:
        dc("relation", [links.collection_uri(base, collection["id"])])
        for lang, value in _by_language(collection["name"]):
            dc("relation", [value], lang)
    dc("coverage", [place["name"] for place in record.get("spatial") or []])
    dc("rights", [record["rights"]])
    return root


def edm(record: rec.Record, settings: Settings) -> etree._Element:
    """The item's linked-data graph (EDM and DC terms) as RDF/XML, inside ``<metadata>``.

    The same graph that ``/id/item/{id}`` serves, so the two never disagree. Written as
    typed nodes one level deep (``<edm:ProvidedCHO rdf:about=…>``), the form Europeana's
    EDM XML Schema expects, rather than ``rdf:Description`` with ``rdf:type``.
    """
    graph = rdf.new_graph()
    # Bound by hand: rdflib's pretty-xml writer otherwise invents an undeclared "ns1:lang".
    graph.bind("xml", "http://www.w3.org/XML/1998/namespace")
    rdf.item_graph(record, settings, graph)
    return etree.fromstring(graph.serialize(format="pretty-xml", max_depth=1, encoding="utf-8"))


DISSEMINATORS: dict[str, Callable[[rec.Record, Settings], etree._Element]] = {
    "oai_dc": dublin_core, "edm": edm}


# Sets ------------------------------------------------------------------------------
@dataclass(frozen=True)
class OAISet:
    spec: str
    name: str
    #: Narrows Catalogue.ever_public in the database; ``match`` is the exact test.
    filters: dict
    match: Callable[[dict], bool]
    titles: dict[str, str]
    uri: str | None = None


def _public_libraries(repo: Repository) -> list[str]:
    visible = list(access.visible_levels())
    query = (sa.select(items.c.holding_library).distinct()
             .where(items.c.access.in_(visible), items.c.holding_library.is_not(None)))
    with repo.catalogue.engine.connect() as conn:
        return sorted(conn.execute(query).scalars())


def _sets(repo: Repository) -> dict[str, OAISet]:
    """Every set, by spec: the parents, each public collection, each public library."""
    base = repo.settings.public_url
    found = [
        OAISet("collection", "Bộ sưu tập / Collections", {},
               lambda row: bool(row["collection_id"]),
               {"vi": "Bộ sưu tập", "en": "Collections"}),
        OAISet("library", "Thư viện lưu giữ / Holding libraries", {},
               lambda row: bool(row["holding_library"]),
               {"vi": "Thư viện lưu giữ", "en": "Holding libraries"}),
    ]
    for c in repo.catalogue.collections(access.visible_levels()):
        found.append(OAISet(
            f"collection:{c['id']}", c["name_vi"], {"collection_id": c["id"]},
            lambda row, cid=c["id"]: row["collection_id"] == cid,
            {"vi": c["name_vi"], **({"en": c["name_en"]} if c["name_en"] else {})},
            links.collection_uri(base, c["id"])))
    by_slug: dict[str, list[str]] = {}
    for name in _public_libraries(repo):
        by_slug.setdefault(rdf.slug(name), []).append(name)
    for slug, names in sorted(by_slug.items()):
        # The library's slug in linked data; a setSpec has no '%', so a name in Hán
        # (percent-encoded there) reads "_E6_A9..." here. Two names folding to one slug
        # (rare) share the set, filtered row by row.
        found.append(OAISet(
            f"library:{slug.replace('%', '_')}", " / ".join(names),
            {"holding_library": names[0]} if len(names) == 1 else {},
            lambda row, names=tuple(names): row["holding_library"] in names,
            {"vi": " / ".join(names)}, links.library_uri(base, slug)))
    return {s.spec: s for s in found}


# Requests --------------------------------------------------------------------------
@dataclass(frozen=True)
class ListRequest:
    """A list request, first or resumed: its arguments and where the last page ended."""

    verb: str
    prefix: str
    since: str | None = None
    until: str | None = None
    set: str | None = None
    after: tuple[datetime.datetime, str] | None = None
    cursor: int = 0

    def token(self) -> str:
        data = {"v": self.verb, "m": self.prefix, "f": self.since, "u": self.until,
                "s": self.set, "a": [self.after[0].isoformat(), self.after[1]], "c": self.cursor}
        raw = json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    @classmethod
    def from_token(cls, verb: str, token: str) -> ListRequest:
        """Decode and check a token; anything amiss is a badResumptionToken."""
        try:
            data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            after = datetime.datetime.fromisoformat(data["a"][0])
            found = cls(verb=data["v"], prefix=data["m"], since=data["f"], until=data["u"],
                        set=data["s"], after=(after, data["a"][1]), cursor=data["c"])
            valid = (data.keys() == {"v", "m", "f", "u", "s", "a", "c"} and found.verb == verb
                     and found.prefix in FORMATS and after.tzinfo is not None
                     and isinstance(found.after[1], str) and type(found.cursor) is int
                     and found.cursor > 0 and len(data["a"]) == 2
                     and all(v is None or isinstance(v, str)
                             for v in (found.since, found.until, found.set)))
            if valid:
                found.bounds()
                return found
        except (ValueError, TypeError, KeyError, IndexError, AttributeError, binascii.Error,
                OAIError):
            pass
        raise OAIError("badResumptionToken", "the resumption token is invalid")

    def bounds(self) -> tuple[datetime.datetime | None, datetime.datetime | None]:
        """``from`` and ``until`` as inclusive bounds; badArgument if malformed or crossed.

        Datestamps are kept to the second, so ``until`` covers its whole second (or day).
        """
        since, since_step = _parse_datestamp(self.since, "from")
        until, until_step = _parse_datestamp(self.until, "until")
        if since_step and until_step and since_step != until_step:
            raise OAIError("badArgument", "from and until must have the same granularity")
        if since and until and since > until:
            raise OAIError("badArgument", "from must not be later than until")
        if until is not None:
            try:
                until += until_step - datetime.timedelta(microseconds=1)
            except OverflowError:  # until=9999-12-31
                until = datetime.datetime.max.replace(tzinfo=datetime.UTC)
        return since, until


def _parse_datestamp(value: str | None, name: str):
    if value is None:
        return None, None
    for pattern, fmt, step in ((r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d", datetime.timedelta(days=1)),
                               (r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z", "%Y-%m-%dT%H:%M:%SZ",
                                datetime.timedelta(seconds=1))):
        if re.fullmatch(pattern, value, re.ASCII):
            try:
                parsed = datetime.datetime.strptime(value, fmt)
            except ValueError:
                break
            return parsed.replace(tzinfo=datetime.UTC), step
    raise OAIError("badArgument", f"{name} must be YYYY-MM-DD or YYYY-MM-DDThh:mm:ssZ")


def parse_arguments(pairs: Iterable[tuple[str, str]]) -> tuple[str, dict[str, str]]:
    """The verb and its arguments; badVerb or badArgument for anything the spec forbids."""
    given: dict[str, list[str]] = {}
    for key, value in pairs:
        given.setdefault(key, []).append(value)
    verbs = given.pop("verb", [])
    if len(verbs) != 1 or verbs[0] not in VERBS:
        raise OAIError("badVerb", "the verb is missing, repeated or not an OAI-PMH verb")
    verb = verbs[0]
    required, optional = VERBS[verb]
    if any(len(values) > 1 for values in given.values()):
        raise OAIError("badArgument", "an argument is repeated")
    args = {key: values[0] for key, values in given.items()}
    if "resumptionToken" in args:
        if verb not in (*LIST_VERBS, "ListSets") or len(args) > 1:
            raise OAIError("badArgument", f"{verb} takes resumptionToken alone, if at all")
    else:
        if not required <= args.keys():
            raise OAIError("badArgument", f"{verb} needs {', '.join(sorted(required))}")
        if not args.keys() <= required | optional:
            raise OAIError("badArgument", f"{verb} does not take "
                           f"{', '.join(sorted(args.keys() - required - optional))}")
    checks = {"metadataPrefix": _PREFIX, "set": _SET_SPEC, "identifier": _IDENTIFIER}
    for key, value in args.items():
        if _NOT_XML.search(value) or (key in checks and not checks[key].fullmatch(value)):
            raise OAIError("badArgument", f"the value of {key} is malformed")
    return verb, args


# Responses -------------------------------------------------------------------------
class Provider:
    """Answers OAI-PMH requests for one repository; one instance per request."""

    def __init__(self, repo: Repository):
        self.repo = repo
        self.settings = repo.settings
        self.base_url = f"{self.settings.public_url}/oai"
        self.prefix = f"oai:{repository_identifier(self.settings)}:"

    @functools.cached_property
    def sets(self) -> dict[str, OAISet]:
        return _sets(self.repo)

    def respond(self, pairs: Iterable[tuple[str, str]]) -> bytes:
        root = etree.Element(f"{{{OAI}}}OAI-PMH", nsmap={None: OAI, "xsi": XSI})
        root.set(SCHEMA_LOCATION, f"{OAI} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd")
        _el(root, f"{{{OAI}}}responseDate", _utc(datetime.datetime.now(datetime.UTC)))
        request = _el(root, f"{{{OAI}}}request", self.base_url)
        try:
            verb, args = parse_arguments(pairs)
            request.attrib.update({"verb": verb, **args})
            root.append(getattr(self, verb)(args))
        except OAIError as error:
            if error.code in ("badVerb", "badArgument"):
                request.attrib.clear()  # the spec: echo nothing of a malformed request
            _el(root, f"{{{OAI}}}error", str(error), code=error.code)
        return etree.tostring(root, xml_declaration=True, encoding="UTF-8")

    # Verbs ---------------------------------------------------------------------
    def Identify(self, args: dict) -> etree._Element:  # noqa: N802 (named as the verb)
        oldest = self.repo.catalogue.list_changes(0, 1)
        earliest = oldest[0]["time"] if oldest else datetime.datetime.now(datetime.UTC)
        first = self.repo.catalogue.ever_public(limit=1)
        node = etree.Element(f"{{{OAI}}}Identify")
        for tag, text in (("repositoryName", self.settings.site_name),
                          ("baseURL", self.base_url), ("protocolVersion", "2.0"),
                          ("adminEmail", ADMIN_EMAIL), ("earliestDatestamp", _utc(earliest)),
                          ("deletedRecord", "persistent"), ("granularity", GRANULARITY)):
            _el(node, f"{{{OAI}}}{tag}", text)
        description = _el(node, f"{{{OAI}}}description")
        ident = etree.SubElement(description, f"{{{OAI_ID}}}oai-identifier",
                                 nsmap={None: OAI_ID})
        ident.set(SCHEMA_LOCATION, f"{OAI_ID} http://www.openarchives.org/OAI/2.0/"
                                   "oai-identifier.xsd")
        for tag, text in (("scheme", "oai"),
                          ("repositoryIdentifier", repository_identifier(self.settings)),
                          ("delimiter", ":"),
                          ("sampleIdentifier",
                           self.prefix + (first[0]["id"] if first else "dt-dc-0001"))):
            _el(ident, f"{{{OAI_ID}}}{tag}", text)
        return node

    def ListMetadataFormats(self, args: dict) -> etree._Element:  # noqa: N802
        if "identifier" in args and self._item(args["identifier"])[1]:
            raise OAIError("noMetadataFormats", "the record is deleted: it has no metadata")
        node = etree.Element(f"{{{OAI}}}ListMetadataFormats")
        for prefix, (schema, namespace) in FORMATS.items():
            fmt = _el(node, f"{{{OAI}}}metadataFormat")
            for tag, text in (("metadataPrefix", prefix), ("schema", schema),
                              ("metadataNamespace", namespace)):
                _el(fmt, f"{{{OAI}}}{tag}", text)
        return node

    def ListSets(self, args: dict) -> etree._Element:  # noqa: N802
        if "resumptionToken" in args:  # every set fits in one response
            raise OAIError("badResumptionToken", "ListSets is never split: no token is valid")
        node = etree.Element(f"{{{OAI}}}ListSets")
        for oai_set in self.sets.values():
            entry = _el(node, f"{{{OAI}}}set")
            _el(entry, f"{{{OAI}}}setSpec", oai_set.spec)
            _el(entry, f"{{{OAI}}}setName", oai_set.name)
            dc = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC_NS})
            dc.set(SCHEMA_LOCATION, f"{OAI_DC} {FORMATS['oai_dc'][0]}")
            for lang, title in oai_set.titles.items():
                _el(dc, f"{{{DC_NS}}}title", title, **{XML_LANG: lang})
            if oai_set.uri:
                _el(dc, f"{{{DC_NS}}}identifier", oai_set.uri)
            _el(entry, f"{{{OAI}}}setDescription").append(dc)
        return node

    def GetRecord(self, args: dict) -> etree._Element:  # noqa: N802
        row, deleted = self._item(args["identifier"])
        self._check_prefix(args["metadataPrefix"])
        node = etree.Element(f"{{{OAI}}}GetRecord")
        node.append(self._record(row, args["metadataPrefix"], deleted))
        return node

    def ListIdentifiers(self, args: dict) -> etree._Element:  # noqa: N802
        return self._list(args, "ListIdentifiers")

    def ListRecords(self, args: dict) -> etree._Element:  # noqa: N802
        return self._list(args, "ListRecords")

    # Parts ---------------------------------------------------------------------
    def _check_prefix(self, prefix: str) -> None:
        if prefix not in FORMATS:
            raise OAIError("cannotDisseminateFormat",
                           f"metadataPrefix must be one of {', '.join(FORMATS)}")

    def _item(self, identifier: str) -> tuple[dict, bool]:
        """The item's row with its last public change, and whether it is a deleted record.

        Serving one item, its access level is read from the OCFL object itself, as every
        route serving one item does: a catalogue not yet updated cannot show what was hidden.
        """
        item_id = identifier.removeprefix(self.prefix)
        catalogue, change, row = self.repo.catalogue, None, None
        if item_id != identifier:
            last = (sa.select(changes.c.activity, changes.c.time)
                    .where(changes.c.item_id == item_id)
                    .order_by(changes.c.number.desc()).limit(1))
            with catalogue.engine.connect() as conn:
                change = conn.execute(last).mappings().first()
            row = catalogue.get_item(item_id) if change else None
        if row is None:  # never public, or unknown: the same answer, so nothing is confirmed
            raise OAIError("idDoesNotExist", "no such record in this repository")
        row |= {"activity": change["activity"], "changed": change["time"]}
        try:
            visible = access.can_view(self.repo.access_of(item_id))
        except NotFound:
            visible = False
        return row, not visible or self._deleted(row)

    @staticmethod
    def _deleted(row: dict) -> bool:
        return row["activity"] == "Delete" or not access.can_view(row["access"])

    def _header(self, row: dict, deleted: bool) -> etree._Element:
        header = etree.Element(f"{{{OAI}}}header", {"status": "deleted"} if deleted else {})
        _el(header, f"{{{OAI}}}identifier", self.prefix + row["id"])
        _el(header, f"{{{OAI}}}datestamp", _utc(row["changed"]))
        for oai_set in self.sets.values():
            if oai_set.match(row):
                _el(header, f"{{{OAI}}}setSpec", oai_set.spec)
        return header

    def _record(self, row: dict, prefix: str, deleted: bool) -> etree._Element:
        record = etree.Element(f"{{{OAI}}}record")
        record.append(self._header(row, deleted))
        if not deleted:
            _el(record, f"{{{OAI}}}metadata").append(
                DISSEMINATORS[prefix](row["record"], self.settings))
        return record

    def _list(self, args: dict, verb: str) -> etree._Element:
        if "resumptionToken" in args:
            request = ListRequest.from_token(verb, args["resumptionToken"])
        else:
            request = ListRequest(verb, args["metadataPrefix"], args.get("from"),
                                  args.get("until"), args.get("set"))
            request.bounds()  # badArgument first: it is about the request's form
            self._check_prefix(request.prefix)
        if request.set is not None and request.set not in self.sets:
            raise OAIError("noRecordsMatch", "no set with that setSpec has public records")
        rows, more = self._page(request)
        if not rows:
            raise OAIError("noRecordsMatch", "no records match the request")
        node = etree.Element(f"{{{OAI}}}{verb}")
        for row in rows:
            deleted = self._deleted(row)
            node.append(self._record(row, request.prefix, deleted) if verb == "ListRecords"
                        else self._header(row, deleted))
        if more or request.after is not None:
            token = _el(node, f"{{{OAI}}}resumptionToken", cursor=str(request.cursor))
            if more:
                token.text = replace(request, after=(rows[-1]["changed"], rows[-1]["id"]),
                                     cursor=request.cursor + len(rows)).token()
        return node

    def _page(self, request: ListRequest) -> tuple[list[dict], bool]:
        """Up to PAGE_SIZE matching rows after the cursor, and whether more follow."""
        since, until = request.bounds()
        oai_set = self.sets[request.set] if request.set else None
        rows, after = [], request.after
        while True:
            batch = self.repo.catalogue.ever_public(
                after=after, since=since, until=until, limit=PAGE_SIZE + 1,
                **(oai_set.filters if oai_set else {}))
            for row in batch:
                if oai_set is None or oai_set.match(row):
                    rows.append(row)
                if len(rows) > PAGE_SIZE:
                    return rows[:PAGE_SIZE], True
            if len(batch) <= PAGE_SIZE:
                return rows, False
            after = (batch[-1]["changed"], batch[-1]["id"])


def respond(repo: Repository, pairs: Iterable[tuple[str, str]]) -> bytes:
    """The OAI-PMH response (UTF-8 XML) to a request's arguments, as (name, value) pairs."""
    return Provider(repo).respond(pairs)
