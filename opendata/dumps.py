"""Bulk dumps: every public item as N-Triples, JSON-LD and CSV, per collection and in all.

``sen publish dumps`` writes them into storage under ``opendata/dumps/``, with
``index.json`` (name, media type, size, sha256, triple count of each, and what
the DCAT catalogue says about each dataset) written last. The same data gives
the same bytes: items in identifier order, N-Triples lines sorted and
deduplicated, no blank nodes (:mod:`opendata.rdf` names every node), JSON-LD
written node by node from the sorted lines, and the only dates are those of
the items themselves (``issued``: the oldest creation, ``modified``: the newest
update). Graphs of any size fit in bounded memory: lines are sorted in runs on
disk and merged, never handed whole to an RDF library.

A dump is a snapshot. An item hidden after it was taken is found by
:func:`hidden_since` (a later version of an item that is no longer public), and
every consumer (downloads, the catalogue, SPARQL) leaves out what it touches
until the dumps are published again.
"""

from __future__ import annotations

import csv
import datetime
import hashlib
import heapq
import json
import tempfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import sqlalchemy as sa

from opendata import rdf
from repository import access, links
from repository.catalogue.models import items as items_table
from repository.errors import NotFound
from repository.repo import Repository

PREFIX = "opendata/dumps/"
INDEX = PREFIX + "index.json"
ALL = "all"
#: Distinct lines kept in memory per dump before a sorted run goes to disk.
RUN_LINES = 200_000
#: Most frequent subjects given as DCAT keywords of a dataset.
KEYWORDS = 20
BATCH = 500
MEDIA_TYPES = {"nt": "application/n-triples", "jsonld": "application/ld+json",
               "csv": "text/csv"}
MULTILINGUAL = ("title", "alternative", "description", "collection")
CSV_FIELDS = ("identifier", "title", "alternative", "creator", "contributor", "publisher",
              "date", "type", "language", "subject", "spatial", "description", "rights",
              "category", "collection", "holding_library", "shelfmark", "extent", "pages",
              "uri", "url", "manifest")

Progress = Callable[[int, int, str], None]


def dump_name(dataset_id: str, extension: str) -> str:
    stem = ALL if dataset_id == ALL else f"collection-{dataset_id}"
    return f"{stem}.{extension}"


def _time(value: datetime.datetime) -> str:
    return value.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class _Sorter:
    """Sorted, distinct lines of any number: sorted runs on disk, merged at the end."""

    def __init__(self, folder: Path):
        self.folder, self.lines, self.runs = folder, set(), []

    def add(self, lines: Iterable[bytes]) -> None:
        self.lines.update(lines)
        if len(self.lines) >= RUN_LINES:
            run = self.folder / f"run-{len(self.runs)}"
            run.write_bytes(b"".join(sorted(self.lines)))
            self.runs.append(run)
            self.lines = set()

    def merged(self) -> Iterator[bytes]:
        files = [open(run, "rb") for run in self.runs]
        try:
            last = None
            for line in heapq.merge(sorted(self.lines), *files):
                if line != last:
                    yield line
                    last = line
        finally:
            for fh in files:
                fh.close()


class _Dataset:
    """What one dump (a collection, or everything public) gathers while items stream by."""

    def __init__(self, dataset_id: str, folder: Path, title: dict | None = None):
        self.id = dataset_id
        self.folder = folder / dataset_id
        self.folder.mkdir()
        self.title = title
        self.sorter = _Sorter(self.folder)
        self.rows = open(self.folder / "rows.jsonl", "w+", encoding="utf-8")
        self.item_ids: list[str] = []
        self.created: list[datetime.datetime] = []
        self.updated: list[datetime.datetime] = []
        self.libraries: set[str | None] = set()
        self.places: set[str] = set()
        self.subjects: Counter = Counter()
        self.languages: set[str] = set()
        self.columns: dict[str, set[str]] = {field: set() for field in MULTILINGUAL}

    def add(self, row: dict, lines: list[bytes], csv_row: dict) -> None:
        record = row["record"]
        self.sorter.add(lines)
        self.rows.write(json.dumps(csv_row, ensure_ascii=False) + "\n")
        self.item_ids.append(row["id"])
        self.created.append(row["created"])
        self.updated.append(row["updated"])
        self.libraries.add(record.get("holding_library"))
        self.places.update(p["id"] for p in record.get("spatial", []) if p.get("id"))
        self.subjects.update(record.get("subject", []))
        self.languages.update(record.get("language", []))
        for field in MULTILINGUAL:
            self.columns[field].update(_language_map(record, field))

    def summary(self) -> dict:
        keywords = sorted(self.subjects.items(), key=lambda kv: (-kv[1], kv[0]))[:KEYWORDS]
        return {"id": self.id, "collection": None if self.id == ALL else self.id,
                "title": self.title, "items": len(self.item_ids),
                "issued": _time(min(self.created)), "modified": _time(max(self.updated)),
                "publisher": next(iter(self.libraries)) if len(self.libraries) == 1 else None,
                "places": sorted(self.places), "keywords": [k for k, _ in keywords],
                "languages": sorted(self.languages)}


def _language_map(record: dict, field: str) -> dict[str, list[str]]:
    value = record.get(field) or {}
    return value.get("name", {}) if field == "collection" else value


def _csv_row(record: dict, base: str) -> dict:
    """A row as Sen's metadata CSV has it (``title@en``, ``|`` between values), plus links."""
    row: dict = {}
    for field in MULTILINGUAL:
        for lang, values in _language_map(record, field).items():
            row[field if lang == "vi" else f"{field}@{lang}"] = "|".join(values)
    date = record.get("date") or {}
    item_id = record["identifier"]
    row.update({
        "identifier": item_id, "date": date.get("display", ""), "type": record["type"],
        "spatial": "|".join(p["name"] for p in record.get("spatial", [])),
        "pages": len(record["pages"]), "uri": links.item_uri(base, item_id),
        "url": links.item_page(base, item_id), "manifest": links.manifest(base, item_id)})
    for field in ("creator", "contributor", "publisher", "language", "subject"):
        row[field] = "|".join(record.get(field, []))
    for field in ("rights", "category", "holding_library", "shelfmark", "extent"):
        row[field] = record.get(field, "")
    return row


def _csv_columns(dataset: _Dataset) -> list[str]:
    columns = []
    for field in CSV_FIELDS:
        langs = dataset.columns.get(field)
        if langs is None:
            columns.append(field)
            continue
        order = ["vi", "en"] + sorted(langs - {"vi", "en"})
        columns += [field if lang == "vi" else f"{field}@{lang}" for lang in order
                    if lang in langs or lang == "vi"]
    return columns


def public_rows(repo: Repository, progress: Progress | None = None) -> Iterator[dict]:
    """Catalogue rows of public items, in identifier order.

    The catalogue lists; the OCFL object decides: an item whose head version is
    not public is left out even if the listing has not caught up yet.
    """
    ids = repo.catalogue.item_ids()
    for start in range(0, len(ids), BATCH):
        rows = repo.catalogue.get_items(ids[start:start + BATCH])
        for n, item_id in enumerate(ids[start:start + BATCH], start + 1):
            row = rows.get(item_id)
            if row and access.can_view(row["access"]) and access.can_view(
                    repo.access_of(item_id)):
                yield row
            if progress:
                progress(n, len(ids), item_id)


def _latest_change(repo: Repository) -> datetime.datetime | None:
    with repo.catalogue.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.max(items_table.c.updated))).scalar_one()


def publish(repo: Repository, progress: Progress | None = None) -> dict:
    """Write every dump and ``index.json`` into storage; remove dumps no longer published."""
    base = repo.settings.public_url
    names = repo.catalogue.collection_names()
    # Taken before reading: an item hidden while the dumps are written is newer than this.
    latest = _latest_change(repo)
    with tempfile.TemporaryDirectory(dir=repo.scratch) as tmp:
        folder = Path(tmp)
        datasets = {ALL: _Dataset(ALL, folder, {"vi": repo.settings.site_name,
                                                "en": repo.settings.site_name_en})}
        for row in public_rows(repo, progress):
            record = row["record"]
            lines = rdf.nt_lines(rdf.item_graph(record, repo.settings, rdf.bare_graph()))
            csv_row = _csv_row(record, base)
            datasets[ALL].add(row, lines, csv_row)
            collection_id = row["collection_id"]
            if collection_id:
                if collection_id not in datasets:
                    found = names.get(collection_id) or {"name_vi": collection_id, "name_en": ""}
                    title = {"vi": found["name_vi"]} | (
                        {"en": found["name_en"]} if found["name_en"] else {})
                    datasets[collection_id] = _Dataset(collection_id, folder, title)
                datasets[collection_id].add(row, lines, csv_row)
        for dataset in datasets.values():
            if dataset.id == ALL or not dataset.item_ids:
                continue
            title = {lang: [name] for lang, name in dataset.title.items()}
            lines = rdf.nt_lines(rdf.collection_graph(dataset.id, title, dataset.item_ids,
                                                      repo.settings, rdf.bare_graph()))
            dataset.sorter.add(lines)
            datasets[ALL].sorter.add(lines)
        dumps, summaries = [], []
        for dataset in sorted(datasets.values(), key=lambda d: (d.id != ALL, d.id)):
            if not dataset.item_ids:
                continue
            summary = dataset.summary()
            written = _write_dataset(dataset, folder)
            summary["triples"] = written[0]["triples"]
            summary["dumps"] = [w["name"] for w in written]
            summaries.append(summary)
            dumps += written
        index = {"as_of": _time(latest) if latest else None,
                 "datasets": summaries, "dumps": dumps}
        for dump in dumps:
            repo.storage.put_file(PREFIX + dump["name"], folder / dump["name"])
        repo.storage.put(INDEX, canonical_json(index))
    keep = {PREFIX + d["name"] for d in dumps} | {INDEX}
    for key in list(repo.storage.list(PREFIX)):
        if key not in keep:
            repo.storage.delete(key)
    return index


def canonical_json(data: dict) -> bytes:
    return (json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1) + "\n").encode()


def _write_dataset(dataset: _Dataset, folder: Path) -> list[dict]:
    """The three files of a dataset, described as index.json lists them."""
    nt = folder / dump_name(dataset.id, "nt")
    triples = 0
    with open(nt, "wb") as out:
        for line in dataset.sorter.merged():
            out.write(line)
            triples += 1
    jsonld = folder / dump_name(dataset.id, "jsonld")
    with open(jsonld, "w", encoding="utf-8", newline="") as out:
        out.writelines(rdf.jsonld(rdf.parse_nt(path=str(nt))))
    table = folder / dump_name(dataset.id, "csv")
    dataset.rows.seek(0)
    with open(table, "w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=_csv_columns(dataset), restval="")
        writer.writeheader()
        writer.writerows(json.loads(line) for line in dataset.rows)
    dataset.rows.close()
    return [_describe(path, dataset.id, triples if path.suffix != ".csv" else None)
            for path in (nt, jsonld, table)]


def _describe(path: Path, dataset_id: str, triples: int | None) -> dict:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return {"name": path.name, "dataset": dataset_id, "format": path.suffix[1:],
            "media_type": MEDIA_TYPES[path.suffix[1:]], "size": path.stat().st_size,
            "sha256": digest.hexdigest(), "triples": triples}


# --------------------------------------------------------------------------- reading


def load_index(repo: Repository) -> dict | None:
    """The published index, or None before the first ``sen publish dumps``."""
    try:
        return json.loads(repo.storage.get(INDEX))
    except NotFound:
        return None


def hidden_since(repo: Repository, index: dict | None) -> dict[str, str | None]:
    """Items hidden after the dumps were taken (id -> collection): newer than the dumps'
    ``as_of`` and not public now, so possibly in the dumps still."""
    if not index or not index.get("as_of"):
        return {}
    as_of = datetime.datetime.fromisoformat(index["as_of"].replace("Z", "+00:00"))
    query = sa.select(items_table.c.id, items_table.c.collection_id).where(
        items_table.c.access.not_in(list(access.visible_levels())),
        items_table.c.updated > as_of)
    with repo.catalogue.engine.connect() as conn:
        return {row.id: row.collection_id for row in conn.execute(query)}


def stale_datasets(repo: Repository, index: dict | None) -> set[str]:
    """Datasets whose dumps may hold an item hidden since: not to be served as they are."""
    hidden = hidden_since(repo, index)
    return ({ALL} | {c for c in hidden.values() if c}) if hidden else set()


def dump_info(index: dict | None, name: str) -> dict:
    for dump in (index or {}).get("dumps", []):
        if dump["name"] == name:
            return dump
    raise NotFound(f"no dump {name!r}")


def read_chunks(repo: Repository, name: str, size: int, chunk: int = 1 << 20
                ) -> Iterator[bytes]:
    """A dump's bytes from storage, a piece at a time (dumps can be large)."""
    for start in range(0, size, chunk):
        yield repo.storage.get_range(PREFIX + name, start, chunk)
