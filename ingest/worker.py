"""Workers: take tasks from the queue and do them, on one machine or many.

``sen ingest`` queues one task per item and works on the queue itself until its
job is done; ``sen worker`` on other machines helps with the same queue. A task
names its input files either by a local path (the embedded queue: one machine)
or by a key in object storage (``incoming/…``, uploaded by ``sen ingest``), so a
worker anywhere can fetch them.
"""

from __future__ import annotations

import logging
import shutil
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from ingest import derivatives
from repository import access
from repository.errors import IngestError, StorageError
from repository.queue import Task
from repository.record import canonical_json
from repository.repo import Repository

logger = logging.getLogger(__name__)
INGEST_ITEM = "ingest-item"
#: Where ``sen ingest`` puts input files for workers on other machines.
INCOMING = "incoming"


def store_item(repo: Repository, record: dict, files: dict[str, Path], digests: dict[str, str],
               message: str, page_files: list[Path]) -> str | None:
    """Commit one item to OCFL, then its derivatives, then the catalogue and the index.

    Each step can be repeated: an unchanged item makes no new version, and
    derivatives that are current are not rebuilt. Returns the new version, or
    None when nothing changed.
    """
    item_id = record["identifier"]
    if not access.can_view(record["access"]):
        repo.search.delete(item_id)  # fail closed: hide before publishing
        repo.catalogue.delete_item(item_id)
    work = repo.scratch / f"record-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    try:
        record_file = work / "record.json"
        record_file.write_bytes(canonical_json(record))
        version = repo.ocfl.commit(item_id, {"record.json": record_file, **files},
                                   message=message, user=repo.settings.agent_name,
                                   digests=digests)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    inventory = repo.ocfl.inventory(item_id)
    if version is not None or not derivatives.is_current(repo, item_id, inventory):
        derivatives.build(repo, item_id, inventory, record,
                          sources=dict(enumerate(page_files, 1)))
    repo.index_item(item_id, inventory)
    return version


def _fetch(repo: Repository, ref: dict, work: Path) -> Path:
    if "path" in ref:
        path = Path(ref["path"])
        if not path.is_file():
            raise IngestError(f"input file {path} is gone (was it moved after `sen ingest`?)")
        return path
    local = repo.storage.local_path(ref["key"])
    if local is not None:
        return local
    target = work / uuid.uuid4().hex
    target.write_bytes(repo.storage.get(ref["key"]))
    return target


def ingest_item(repo: Repository, payload: dict) -> None:
    record = payload["record"]
    item_id = record["identifier"]
    work = repo.scratch / f"inputs-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    try:
        with repo.queue.lock(f"item:{item_id}"):
            files = {path: _fetch(repo, ref, work) for path, ref in payload["files"].items()}
            version = store_item(repo, record, files, payload["digests"], payload["message"],
                                 [files[p["file"]] for p in record["pages"]])
        status = "unchanged" if version is None else "created" if version == "v1" else "updated"
        head = version or repo.ocfl.inventory(item_id)["head"]
        repo.catalogue.record_job_item(payload["job"], item_id, status, version=head,
                                       pages=len(record["pages"]))
    finally:
        shutil.rmtree(work, ignore_errors=True)


HANDLERS: dict[str, Callable[[Repository, dict], None]] = {INGEST_ITEM: ingest_item}


def handle(repo: Repository, task: Task) -> bool:
    """Do one task; on failure, schedule a retry or record it as failed. True if it succeeded."""
    try:
        HANDLERS[task.kind](repo, task.payload)
    except Exception as exc:  # a worker must survive any task
        error = f"{type(exc).__name__}: {exc}"
        retry = repo.queue.fail(task, error)
        logger.warning("task %s (%s) failed%s: %s", task.id, task.kind,
                       ", will retry" if retry else " for good", error)
        if not retry and task.kind == INGEST_ITEM:
            repo.catalogue.record_job_item(task.payload["job"],
                                           task.payload["record"]["identifier"], "failed",
                                           error=error)
            _finish_job_if_done(repo, task)
        return False
    repo.queue.done(task)
    if task.kind == INGEST_ITEM:
        _finish_job_if_done(repo, task)
    return True


def _finish_job_if_done(repo: Repository, task: Task) -> None:
    """The worker that ends a job's last task closes the job and removes its inputs.

    Two workers ending the last two tasks at once both do it; both steps are
    idempotent.
    """
    if repo.queue.pending(task.group) > 0:
        return
    job = task.payload["job"]
    outcomes = repo.catalogue.job_items(job)
    summary = {status: sum(1 for o in outcomes if o["status"] == status)
               for status in ("created", "updated", "unchanged", "failed")}
    summary["pages"] = sum(o["pages"] for o in outcomes)
    repo.catalogue.finish_job(job, "failed" if summary["failed"] else "done", summary)
    if any("key" in ref for ref in task.payload["files"].values()):
        repo.storage.delete_prefix(f"{INCOMING}/{task.group}")


def work(repo: Repository, *, until_group: str | None = None, idle_exit: bool = False,
         progress: Callable[[], None] | None = None, poll: float = 0.2) -> int:
    """Take and do tasks of any job; return when ``until_group`` has none left
    (or, with ``idle_exit``, when the queue is empty). Returns how many were done."""
    recovered = _recover(repo)
    done = 0
    while True:
        task = repo.queue.take(lease=repo.settings.task_lease_seconds)
        if task is not None:
            done += handle(repo, task)
            if progress:
                progress()
            continue
        if until_group is not None and repo.queue.pending(until_group) == 0:
            return done
        if until_group is None and idle_exit:
            return done
        if not recovered:
            recovered = _recover(repo)
        if progress:
            progress()
        time.sleep(poll)


def _recover(repo: Repository) -> bool:
    """Undo what workers that died left half-written; False if storage cannot be reached.

    A worker starting while object storage is away must not die of it: its tasks
    fail and are retried by the queue like any other, and recovery is tried again
    the next time the worker is idle.
    """
    try:
        repo.storage.recover()
    except StorageError as exc:
        logger.warning("could not look for unfinished publishes yet: %s", exc)
        return False
    return True
