"""Publishing the public collections to a CKAN portal, as DCAT datasets.

One dataset per public collection, under an organisation per holding library,
with its licence, its resources (the IIIF Collection, the bulk dumps, the
portal page) and the fields ckanext-dcat turns into DCAT-AP. Publishing is a
reconciliation: Sen computes every dataset it wants, compares a content hash
with what CKAN holds, and writes only what differs — a re-run that changes
nothing writes nothing. Datasets keep their ids (derived from the collection's
URI) and their resources keep theirs; a collection that stops being public is
purged from CKAN.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections import Counter
from dataclasses import dataclass, field

import ckanapi

from opendata import dcat, dumps
from repository import access, links
from repository.errors import SenError
from repository.repo import Repository
from repository.text import slugify

#: Licence of what Sen publishes about its collections (the metadata and dumps).
METADATA_LICENSE = "cc-zero"
METADATA_LICENSE_URI = str(dcat.METADATA_LICENSE)
#: Marks the datasets this Sen manages, so that only those are ever changed or purged.
MANAGED_BY = "sen"
HASH_FIELD = "sen_content_hash"
IANA = "http://www.iana.org/assignments/media-types/"
FILE_TYPE = "http://publications.europa.eu/resource/authority/file-type/"
DUMP_FORMATS = {"nt": ("application/n-triples", "RDF_N_TRIPLES"),
                "jsonld": ("application/ld+json", "JSON_LD"), "csv": ("text/csv", "CSV")}


class CkanError(SenError):
    """CKAN refused something; the message names the dataset and the field."""


@dataclass
class Report:
    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)
    organizations: list[str] = field(default_factory=list)

    @property
    def writes(self) -> int:
        return (len(self.created) + len(self.updated) + len(self.deleted)
                + len(self.organizations))


def dataset_name(collection_id: str) -> str:
    return f"sen-{collection_id}"[:100]


def dataset_id(repo: Repository, collection_id: str) -> str:
    """The same collection always gets the same CKAN id (a UUID from its URI)."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL,
                          links.collection_uri(repo.settings.public_url, collection_id)))


def organization_name(library: str) -> str:
    return f"sen-{slugify(library, 90)}"


def wanted_datasets(repo: Repository) -> tuple[dict[str, dict], dict[str, str]]:
    """Every dataset Sen wants in CKAN (by name), and the organisations they need."""
    base = repo.settings.public_url
    visible = access.visible_levels()
    published = {d["name"]: d for d in (dumps.load_index(repo) or {}).get("dumps", [])}
    datasets, organizations = {}, {}
    for collection in repo.catalogue.collections(visible):
        cid = collection["id"]
        _total, rows = repo.catalogue.list_items(visible, collection_id=cid, limit=1_000_000)
        libraries = Counter(r["holding_library"] for r in rows if r["holding_library"])
        library = libraries.most_common(1)[0][0] if libraries else repo.settings.site_name
        org = organization_name(library)
        organizations[org] = library
        landing = links.collection_page(base, cid)
        resources = [{
            "name": "IIIF Collection", "url": links.iiif_collection(base, cid),
            "format": "IIIF Presentation 3", "mimetype": "application/ld+json",
            "description": "Bộ sưu tập IIIF: mở bằng bất kỳ trình xem IIIF nào / "
                           "IIIF Collection, for any IIIF viewer",
            "access_url": links.iiif_collection(base, cid),
            "license": METADATA_LICENSE_URI}]
        for extension, (media_type, file_type) in DUMP_FORMATS.items():
            dump = published.get(dumps.dump_name(cid, extension))
            if dump is None:
                continue
            resources.append({
                "name": dump["name"], "url": links.dump(base, dump["name"]),
                "download_url": links.dump(base, dump["name"]), "access_url": landing,
                "format": FILE_TYPE + file_type, "mimetype": IANA + media_type,
                "size": dump["size"], "hash": f"sha256:{dump['sha256']}",
                "license": METADATA_LICENSE_URI})
        resources.append({"name": "Trang bộ sưu tập / Collection page", "url": landing,
                          "format": "HTML", "mimetype": "text/html", "access_url": landing,
                          "license": METADATA_LICENSE_URI})
        years = [y for r in rows for y in (r["date_start"], r["date_end"]) if y]
        extras = {
            "uri": links.collection_uri(base, cid), "managed_by": MANAGED_BY,
            "publisher_name": library, "publisher_uri": links.library_uri(base, slugify(library)),
            "language": json.dumps(["http://publications.europa.eu/resource/authority/"
                                    "language/VIE"]),
            "title_en": collection["name_en"] or collection["name_vi"],
            "items": str(len(rows)),
        }
        if years:
            extras["temporal_start"] = f"{min(years):04d}-01-01"
            extras["temporal_end"] = f"{max(years):04d}-12-31"
        name = dataset_name(cid)
        dataset = {
            "id": dataset_id(repo, cid), "name": name, "owner_org": org,
            "title": collection["name_vi"],
            "notes": (f"{collection['name_vi']}: {len(rows)} tài liệu số hoá của "
                      f"{repo.settings.site_name}.\n\n{collection['name_en'] or ''} "
                      f"({len(rows)} digitised documents, {repo.settings.site_name_en})").strip(),
            "license_id": METADATA_LICENSE, "url": landing,
            "tags": [{"name": t} for t in ("iiif", "di-san", "dong-thap", "heritage")],
            "resources": resources,
            "extras": [{"key": k, "value": v} for k, v in sorted(extras.items())],
        }
        dataset["extras"].append({"key": HASH_FIELD, "value": content_hash(dataset)})
        datasets[name] = dataset
    return datasets, organizations


def content_hash(dataset: dict) -> str:
    """What Sen wants a dataset to be, as one digest; resource ids are not part of it."""
    body = {k: v for k, v in dataset.items() if k != "extras"}
    body["extras"] = [e for e in dataset["extras"] if e["key"] != HASH_FIELD]
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()
                          ).hexdigest()


def _extra(dataset: dict, key: str) -> str | None:
    return next((e["value"] for e in dataset.get("extras", []) if e["key"] == key), None)


def _call(ckan: ckanapi.RemoteCKAN, action: str, what: str, **data):
    try:
        return ckan.call_action(action, data)
    except ckanapi.ValidationError as exc:
        fields = exc.error_dict if hasattr(exc, "error_dict") else exc.args
        raise CkanError(f"CKAN refused {what}: {fields}") from None
    except ckanapi.NotAuthorized as exc:
        raise CkanError(f"CKAN refused {what}: not authorised ({exc}); check the API token"
                        ) from None
    except ckanapi.CKANAPIError as exc:
        raise CkanError(f"CKAN failed on {what}: {exc}") from None


def publish(repo: Repository, url: str, token: str, *, dry_run: bool = False) -> Report:
    """Bring the CKAN at ``url`` in step with Sen's public collections."""
    ckan = ckanapi.RemoteCKAN(url, apikey=token, user_agent="Sen (ckanapi)")
    wanted, organizations = wanted_datasets(repo)
    report = Report()
    existing_orgs = set(_call(ckan, "organization_list", "the organisation list"))
    for name, title in sorted(organizations.items()):
        if name not in existing_orgs:
            report.organizations.append(name)
            if not dry_run:
                _call(ckan, "organization_create", f"organisation {name!r}", name=name,
                      title=title)
    managed = {d["name"]: d for d in _managed(ckan)}
    for name, dataset in sorted(wanted.items()):
        current = managed.get(name)
        if current is None:
            report.created.append(name)
            if not dry_run:
                _call(ckan, "package_create", f"dataset {name!r}", **dataset)
        elif _extra(current, HASH_FIELD) == _extra(dataset, HASH_FIELD):
            report.unchanged.append(name)
        else:
            report.updated.append(name)
            if not dry_run:
                _keep_resource_ids(dataset, current)
                _call(ckan, "package_update", f"dataset {name!r}", **dataset)
    for name in sorted(set(managed) - set(wanted)):
        report.deleted.append(name)  # no longer public: gone from the portal
        if not dry_run:
            _call(ckan, "dataset_purge", f"dataset {name!r}", id=managed[name]["id"])
    return report


def _managed(ckan: ckanapi.RemoteCKAN) -> list[dict]:
    """The datasets this Sen manages, found by their marker, in every state."""
    found, start = [], 0
    while True:
        page = _call(ckan, "package_search", "the dataset search",
                     fq="name:sen-*", rows=1000, start=start,
                     include_private=True)
        found += page["results"]
        start += len(page["results"])
        if not page["results"] or start >= page["count"]:
            return [d for d in found if _extra(d, "managed_by") == MANAGED_BY]


def _keep_resource_ids(dataset: dict, current: dict) -> None:
    """Give each resource the id it already has in CKAN (matched by name), so links hold."""
    ids = {r["name"]: r["id"] for r in current.get("resources", [])}
    for resource in dataset["resources"]:
        if resource["name"] in ids:
            resource["id"] = ids[resource["name"]]
