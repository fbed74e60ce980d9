"""Derivatives of an item: its pyramids, ``manifest.json`` and ``item.json``.

They live under ``derivatives/{id}/`` in storage, apart from the OCFL object,
and are rebuilt from it (``sen rebuild derivatives``). ``item.json`` is written
last and says which OCFL version and which base URL the others were made from;
the image server reads the item's access level from it.
"""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pyvips

from ingest.images import build_pyramid
from ingest.manifest import build_manifest
from repository.errors import NotFound
from repository.repo import Repository


def _level_sizes(path: Path) -> list[list[int]]:
    first = pyvips.Image.new_from_file(str(path))
    count = first.get("n-pages") if first.get_typeof("n-pages") else 1
    sizes = []
    for n in range(count):
        level = pyvips.Image.new_from_file(str(path), page=n)
        sizes.append([level.width, level.height])
    return sorted(sizes)


def current_info(repo: Repository, item_id: str) -> dict | None:
    try:
        return repo.item_info(item_id)
    except NotFound:
        return None


def is_current(repo: Repository, item_id: str, inventory: dict) -> bool:
    """True when the derivatives were made from the head version with today's settings."""
    info = current_info(repo, item_id)
    return bool(info) and info["version"] == inventory["head"] and info[
        "base_url"] == repo.settings.public_url and info["tile_size"] == repo.settings.tile_size \
        and all(repo.storage.exists(p["pyramid"]) for p in info["pages"])


def build(repo: Repository, item_id: str, inventory: dict, record: dict,
          sources: dict[int, Path] | None = None) -> dict:
    """(Re)make the derivatives of an item; pyramids whose master did not change are kept.

    ``sources`` maps page numbers to local copies of the masters (ingest has
    them at hand); without it the masters are read from the OCFL object.
    """
    settings = repo.settings
    old = current_info(repo, item_id) or {"pages": [], "tile_size": None}
    state = repo.ocfl.state(inventory)
    work = repo.scratch / f"deriv-{uuid.uuid4().hex}"
    work.mkdir(parents=True)
    try:
        pages = []
        for n, page in enumerate(record["pages"], 1):
            digest = state[page["file"]]
            key = repo.derivative_key(item_id, repo.pyramid_name(n))
            previous = old["pages"][n - 1] if n <= len(old["pages"]) else None
            if (previous and previous["digest"] == digest and old["tile_size"] ==
                    settings.tile_size and repo.storage.exists(key)):
                pages.append(previous)
                continue
            source = sources.get(n) if sources else None
            if source is None:
                source = repo.storage.local_path(
                    repo.ocfl.content_key(item_id, inventory, page["file"]))
            if source is None:
                source = work / f"master-{n:04d}"
                source.write_bytes(repo.ocfl.read(item_id, page["file"], inventory))
            pyramid = work / f"{n:04d}.tif"
            info = build_pyramid(source, pyramid, tile_size=settings.tile_size,
                                 quality=settings.jpeg_quality)
            repo.storage.put_file(key, pyramid)
            pages.append({"width": info.width, "height": info.height,
                          "sizes": _level_sizes(pyramid), "digest": digest, "pyramid": key})
        manifest = build_manifest(record, pages, settings)
        repo.storage.put(repo.derivative_key(item_id, "manifest.json"),
                         json.dumps(manifest, ensure_ascii=False, indent=2).encode())
        item = {"id": item_id, "access": record["access"], "version": inventory["head"],
                "base_url": settings.public_url, "tile_size": settings.tile_size,
                "pages": pages}
        repo.storage.put(repo.derivative_key(item_id, "item.json"),
                         json.dumps(item, ensure_ascii=False, indent=2).encode())
        for n in range(len(record["pages"]) + 1, len(old["pages"]) + 1):
            repo.storage.delete(repo.derivative_key(item_id, repo.pyramid_name(n)))
        return item
    finally:
        shutil.rmtree(work, ignore_errors=True)
