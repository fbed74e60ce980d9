"""Ingest: validate everything, then store each item atomically.

1. **Plan** (nothing is written): read the CSV or bag, map and validate every
   row against the schema, check every image header against the pixel limit and
   decode every image once, so that a corrupt file stops the batch before any
   write. Digests tell which items are new, changed or unchanged.
2. **Run**: per item, commit the OCFL version (the source of truth), then make
   its derivatives, then update the catalogue and the search index. Each step
   can be repeated; a crash leaves whole items, and a re-run completes the rest.

An item that stops being public is first removed from the listings and the
index, then committed: Sen fails closed.
"""

from __future__ import annotations

import hashlib
import shutil
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest import derivatives
from ingest.images import inspect, verify_decodes
from ingest.mapping import Row, check_header, map_row
from ingest.sources import Source, open_source
from repository import access, alto
from repository.errors import IngestError, Problem
from repository.ocfl import sha512_file
from repository.record import canonical_json
from repository.repo import Repository

Progress = Callable[[int, int, str], None]


@dataclass
class PlannedItem:
    row: Row
    status: str  # new | changed | unchanged
    files: dict[str, Path]  # logical path in the object -> local file (record.json excluded)
    digests: dict[str, str]


@dataclass
class Plan:
    source: Source
    items: list[PlannedItem]
    warnings: list[Problem]

    def count(self, status: str) -> int:
        return sum(1 for i in self.items if i.status == status)


@dataclass
class Summary:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    pages: int = 0
    seconds: float = 0.0
    warnings: list[Problem] = field(default_factory=list)
    items: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"created": self.created, "updated": self.updated, "unchanged": self.unchanged,
                "pages": self.pages, "seconds": round(self.seconds, 2),
                "warnings": [str(w) for w in self.warnings], "items": self.items}


def plan(repo: Repository, path: Path, metadata: Path | None = None,
         progress: Progress | None = None) -> Plan:
    """Validate a source completely; raise IngestError with every problem found."""
    source = open_source(path, metadata)
    problems = check_header(source.columns, source.label)
    if problems:
        raise IngestError(problems)
    rows: list[Row] = []
    first_row: dict[str, int] = {}
    for number, raw in source.rows:
        row, row_problems = map_row(raw, number, source.base, source.label)
        problems.extend(row_problems)
        if row is None:
            continue
        item_id = row.record["identifier"]
        if item_id in first_row:
            problems.append(Problem(f"identifier {item_id!r} is already used in row "
                                    f"{first_row[item_id]}", file=source.label, row=number,
                                    field="identifier"))
            continue
        first_row[item_id] = number
        rows.append(row)

    total = sum(len(r.files) for r in rows)
    done = 0
    for row in rows:
        for n, (image, ocr) in enumerate(zip(row.files, row.alto, strict=True), 1):
            label = _relative(image, source.base)
            try:
                inspect(image, repo.settings.max_image_pixels, label=label, row=row.number)
                verify_decodes(image, label=label, row=row.number)
            except IngestError as exc:
                problems.extend(exc.problems)
            if ocr is not None:
                try:
                    alto.parse(ocr.read_bytes())
                except alto.AltoError as exc:
                    problems.append(Problem(str(exc), file=_relative(ocr, source.base),
                                            row=row.number, field="alto"))
            done += 1
            if progress:
                progress(done, total, f"{row.record['identifier']} p.{n}")
    if problems:
        raise IngestError(problems)

    items = []
    for row in rows:
        files: dict[str, Path] = {}
        for page, image, ocr in zip(row.record["pages"], row.files, row.alto, strict=True):
            files[page["file"]] = image
            if ocr is not None:
                files[page["ocr"]] = ocr
        digests = {path: sha512_file(src) for path, src in files.items()}
        items.append(PlannedItem(row, _status(repo, row, digests), files, digests))
    return Plan(source, items, [w for r in rows for w in r.warnings])


def _status(repo: Repository, row: Row, digests: dict[str, str]) -> str:
    inventory = repo.ocfl.inventory(row.record["identifier"])
    if inventory is None:
        return "new"
    wanted = dict(digests, **{"record.json": hashlib.sha512(canonical_json(row.record))
                              .hexdigest()})
    return "unchanged" if repo.ocfl.state(inventory) == wanted else "changed"


def run(repo: Repository, planned: Plan, progress: Progress | None = None) -> Summary:
    """Store every planned item. Call with the plan of the same repository."""
    summary = Summary(warnings=list(planned.warnings))
    started = time.monotonic()
    with repo.writer_lock():
        job = repo.catalogue.start_job("ingest", planned.source.label, len(planned.items))
        try:
            for n, item in enumerate(planned.items, 1):
                version = store_item(repo, item, planned.source)
                status = "unchanged" if version is None else (
                    "created" if version == "v1" else "updated")
                setattr(summary, status, getattr(summary, status) + 1)
                summary.pages += len(item.row.files)
                summary.items.append({"id": item.row.record["identifier"], "status": status,
                                      "version": version or repo.ocfl.inventory(
                                          item.row.record["identifier"])["head"]})
                repo.catalogue.progress_job(job, n)
                if progress:
                    progress(n, len(planned.items), item.row.record["identifier"])
        except BaseException as exc:
            repo.catalogue.finish_job(job, "failed", summary.as_dict(), error=str(exc))
            raise
        summary.seconds = time.monotonic() - started
        repo.catalogue.finish_job(job, "done", summary.as_dict())
    return summary


def store_item(repo: Repository, item: PlannedItem, source: Source) -> str | None:
    record = item.row.record
    item_id = record["identifier"]
    if not access.can_view(record["access"]):
        repo.search.delete(item_id)  # fail closed: hide before publishing
        repo.catalogue.delete_item(item_id)
    work = repo.settings.staging_dir / f"record-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    try:
        record_file = work / "record.json"
        record_file.write_bytes(canonical_json(record))
        version = repo.ocfl.commit(
            item_id, {"record.json": record_file, **item.files},
            message=f"Ingested from {source.csv_path.name}, row {item.row.number}",
            user=repo.settings.agent_name, digests=item.digests)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    inventory = repo.ocfl.inventory(item_id)
    if version is not None or not derivatives.is_current(repo, item_id, inventory):
        derivatives.build(repo, item_id, inventory, record,
                          sources=dict(enumerate(item.row.files, 1)))
    repo.index_item(item_id, inventory)
    return version


def ingest(repo: Repository, path: Path, metadata: Path | None = None,
           progress: Progress | None = None) -> Summary:
    return run(repo, plan(repo, path, metadata, progress), progress)


def _relative(path: Path, base: Path) -> str:
    try:
        return str(path.relative_to(base))
    except ValueError:
        return str(path)
