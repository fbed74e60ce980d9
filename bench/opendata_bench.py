"""Open-data publishing at 10,000 items: ``sen publish dumps`` and a no-op ``sen publish ckan``.

    .venv/bin/python bench/opendata_bench.py [--records 10000]

Makes N preserved items (an OCFL object with its record each — the access level
is read from there — and their catalogue rows), then times writing every dump
(N-Triples, JSON-LD, CSV per collection and for everything), checks that a
second run gives the same bytes, and, when ``services/up ckan`` runs
(``SEN_TEST_CKAN_URL``), times a first CKAN publication and a second one that
must write nothing.
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import sqlalchemy as sa  # noqa: E402
from search_bench import COLLECTIONS, records  # noqa: E402

from opendata import ckan, dumps  # noqa: E402
from repository.catalogue.models import changes, collections, items  # noqa: E402
from repository.config import load_settings  # noqa: E402
from repository.record import canonical_json  # noqa: E402
from repository.repo import Repository  # noqa: E402


def make_items(repo: Repository, count: int) -> float:
    started = time.perf_counter()
    work = repo.scratch / "bench-records"
    work.mkdir(exist_ok=True)
    rows, events = [], []
    for record in records(count):
        path = work / "record.json"
        path.write_bytes(canonical_json(record))
        repo.ocfl.commit(record["identifier"], {"record.json": path}, message="bench",
                         user="bench")
        created = repo.ocfl.inventory(record["identifier"])["versions"]["v1"]["created"]
        rows.append(repo.catalogue._item_row(record, "v1", created, created))
        if record["access"] == "public":
            events.append({"item_id": record["identifier"], "version": "v1", "number": 1,
                           "activity": "Create", "time": rows[-1]["created"]})
    with repo.catalogue.engine.begin() as conn:
        conn.execute(sa.insert(items), rows)
        conn.execute(sa.insert(changes), events)
        conn.execute(sa.insert(collections), [{"id": i, "name_vi": n, "name_en": ""}
                                              for i, n in COLLECTIONS])
    return time.perf_counter() - started


def timed(function, *args, **kwargs):
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return result, time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=10_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sen-opendata-bench-"))
    repo = Repository(load_settings(env={}, data_dir=work,
                                    base_url=f"http://bench-{os.getpid()}.test"))
    repo.init()
    print(f"Making {args.records:,} items…", flush=True)
    print(f"  made in {make_items(repo, args.records):.1f} s")
    first, seconds = timed(dumps.publish, repo)
    again, seconds_again = timed(dumps.publish, repo)
    same = [d["sha256"] for d in first["dumps"]] == [d["sha256"] for d in again["dumps"]]
    size = sum(d["size"] for d in first["dumps"])
    triples = sum(d["triples"] or 0 for d in first["dumps"] if d["name"] == "all.nt")
    print(f"\n{'step':34} {'seconds':>8}")
    print(f"{'sen publish dumps':34} {seconds:8.1f}   {len(first['dumps'])} files, "
          f"{size / 1e6:.1f} MB, {triples:,} triples in all.nt")
    print(f"{'sen publish dumps, again':34} {seconds_again:8.1f}   byte-identical: {same}")
    url, token = os.environ.get("SEN_TEST_CKAN_URL"), os.environ.get("SEN_TEST_CKAN_TOKEN")
    if url and token:
        report, seconds = timed(ckan.publish, repo, url, token)
        print(f"{'sen publish ckan (first)':34} {seconds:8.1f}   {report.writes} writes")
        report, seconds = timed(ckan.publish, repo, url, token)
        print(f"{'sen publish ckan (no change)':34} {seconds:8.2f}   {report.writes} writes")
        for name in ckan.wanted_datasets(repo)[0]:  # leave the portal as it was
            ckan.ckanapi.RemoteCKAN(url, apikey=token).action.dataset_purge(id=name)
    else:
        print("SEN_TEST_CKAN_URL unset (services/up ckan): CKAN not measured")
    repo.close()
    print(f"\n(run at {datetime.datetime.now():%Y-%m-%d %H:%M}, data in {work})")


if __name__ == "__main__":
    main()
