"""Moving a whole repository to other backends (and back), every digest checked.

Storage is the source of truth, so a migration copies storage and rebuilds the
rest: each OCFL object is copied as one publish (content first, its inventory
last, so the target is valid at every moment) and then verified by re-reading
every file against the inventory's sha512; each derivative is copied and read
back. The catalogue and the search index of the target are then rebuilt from
the target's storage alone.
"""

from __future__ import annotations

import hashlib
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

from repository.errors import StorageError
from repository.repo import DERIVATIVES, Repository

Progress = Callable[[int, int, str], None]


@dataclass
class MigrationReport:
    objects: int = 0
    derivatives: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)


def migrate(source: Repository, target: Repository, progress: Progress | None = None
            ) -> MigrationReport:
    report = MigrationReport()
    target.init()
    ids = sorted(source.ocfl.ids())
    for n, item_id in enumerate(ids, 1):
        _copy_object(source, target, item_id, report)
        report.problems += target.ocfl.verify(item_id)
        report.objects += 1
        if progress:
            progress(n, len(ids), item_id)
    keys = list(source.storage.list(DERIVATIVES))
    for n, key in enumerate(keys, 1):
        data = source.storage.get(key)
        target.storage.put(key, data)
        if hashlib.sha256(target.storage.get(key)).digest() != hashlib.sha256(data).digest():
            report.problems.append(f"{key}: the copy differs from the original")
        report.derivatives += 1
        report.bytes += len(data)
        if progress:
            progress(n, len(keys), key)
    if report.problems:
        raise StorageError("migration copied data that does not verify:\n"
                           + "\n".join(report.problems))
    target.rebuild_indexes(progress)
    return report


def _copy_object(source: Repository, target: Repository, item_id: str,
                 report: MigrationReport) -> None:
    root = source.ocfl.object_root(item_id)
    inventory = source.ocfl.inventory(item_id)
    existing = target.ocfl.inventory(item_id)
    if existing is not None and existing["head"] == inventory["head"] and \
            existing["manifest"] == inventory["manifest"]:
        return  # already there (a migration that was interrupted and run again)
    staged = target.scratch / f"migrate-{uuid.uuid4().hex}"
    try:
        for key in source.storage.list(root):
            path = staged / key[len(root) + 1:]
            path.parent.mkdir(parents=True, exist_ok=True)
            data = source.storage.get(key)
            path.write_bytes(data)
            report.bytes += len(data)
        target.storage.publish(staged, target.ocfl.object_root(item_id))
    finally:
        shutil.rmtree(staged, ignore_errors=True)
