"""Search latency through Sen's JSON API: the embedded SQLite backend and Solr, side by side.

    .venv/bin/python bench/search_bench.py [--records 100000] [--queries 300]

Generates N records with realistic Vietnamese titles, descriptions, people,
places and dates (deterministic), loads them into a catalogue and into both
search backends, serves Sen's web app once per backend on a real port, and
times the same mix of reader queries (folded and accented words, phrases,
facet filters, browsing, OCR-damaged words that need the fuzzy fallback)
through ``GET /api/search``. Prints p50/p95/p99 per backend and their ratio.
Solr comes from ``services/up solr`` (``SEN_TEST_SOLR_URL``); without it only
the embedded backend is measured.
"""

from __future__ import annotations

import argparse
import datetime
import logging
import os
import random
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import requests  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from repository.catalogue.models import items  # noqa: E402
from repository.config import load_settings  # noqa: E402
from repository.repo import Repository  # noqa: E402
from repository.search.document import from_record  # noqa: E402
from repository.web import create_app  # noqa: E402

SURNAMES = ["Nguyễn", "Trần", "Lê", "Phạm", "Huỳnh", "Hoàng", "Võ", "Phan", "Trương", "Bùi",
            "Đặng", "Đỗ", "Ngô", "Hồ", "Dương", "Lý"]
GIVEN = ["Văn Thành", "Thị Hoà", "Minh Khoa", "Thanh Tùng", "Công Bình", "Thị Thuý",
         "Hữu Nghĩa", "Quốc Việt", "Ngọc Lan", "Văn Lượng", "Kim Loan", "Đức Trí"]
PLACES = [("Sa Đéc", "tp-sa-dec"), ("Cao Lãnh", "tp-cao-lanh"), ("Mỹ Tho", "tp-my-tho"),
          ("Gò Công", "tp-go-cong"), ("Hồng Ngự", "tp-hong-ngu"), ("Lai Vung", None),
          ("Tháp Mười", None), ("Cái Bè", None), ("Đồng Tháp Mười", "dong-thap-muoi"),
          ("Tân Hồng", None), ("Chợ Gạo", None), ("Lấp Vò", None)]
TOPICS = ["lịch sử", "địa lý", "văn hoá dân gian", "làng nghề", "chợ nổi", "lúa gạo",
          "kênh đào", "đình làng", "lễ hội", "ca dao", "giáo dục", "thuỷ lợi", "hoa kiểng",
          "đờn ca tài tử", "nghề đan đát", "sông Tiền", "sông Hậu", "mùa nước nổi"]
TITLES = ["Địa chí {place}", "Lịch sử {topic} ở {place}", "{place} xưa và nay",
          "Gia phả họ {surname} ở {place}", "Báo {place} số {n}", "Bản đồ {place} năm {year}",
          "Hồi ký về {topic} vùng {place}", "Sắc phong đình {place}", "Tư liệu {topic} {place}",
          "Khảo cứu {topic} tỉnh Định Tường", "Ảnh {topic} ở {place}"]
SENTENCES = ["Tài liệu ghi chép về {topic} của vùng {place} trong những năm {year}.",
             "Bản in có nhiều trang bị ố vàng, chữ còn đọc được.",
             "Nội dung nói về đời sống người dân ven sông, nghề {topic} và chợ búa.",
             "Tác giả {surname} {given} sưu tầm tại {place}.",
             "Có chú thích tiếng Pháp về Sadec, Mytho và Plaine des Joncs.",
             "Thư viện tỉnh Đồng Tháp tiếp nhận từ gia đình năm {year2}."]
TYPES = ["book", "newspaper", "magazine", "map", "photograph", "royal_decree", "genealogy",
         "land_register", "han_nom", "administrative", "manuscript"]
COLLECTIONS = [("tai-lieu-dia-chi", "Tài liệu địa chí"), ("tai-lieu-co", "Tài liệu cổ, quý hiếm"),
               ("anh-va-ban-do", "Ảnh và bản đồ"), ("bao-chi", "Báo chí Nam Kỳ")]
QUERIES = ["dong thap", "Đồng Tháp", "sa dec", "Sa Đéc", "cao lanh", "gia pha", "lich su",
           '"cho noi"', "hoa kieng sa dec", "dinh lang", "my tho", "mua nuoc noi",
           "Plaine des Joncs", "nguyen van thanh", "ban do 1930", "", "thuy loi -kenh",
           "ca dao*", "tbap muoi", "huynh thi thuy"]
FILTERS = [{}, {"type": "map"}, {"collection": "tai-lieu-co"}, {"decade": "1930"},
           {"type": "book", "place": "tp-sa-dec"}]


def records(n: int, seed: int = 7):
    rng = random.Random(seed)
    for i in range(n):
        place, place_id = rng.choice(PLACES)
        year = rng.randint(1860, 2020)
        fill = {"place": place, "topic": rng.choice(TOPICS), "surname": rng.choice(SURNAMES),
                "given": rng.choice(GIVEN), "n": rng.randint(1, 300), "year": year,
                "year2": rng.randint(1976, 2025)}
        cid, cname = rng.choice(COLLECTIONS)
        record = {
            "identifier": f"bench-{i:06d}", "title": {"vi": [rng.choice(TITLES).format(**fill)]},
            "creator": [f"{fill['surname']} {fill['given']}"],
            "description": {"vi": [" ".join(s.format(**fill) for s in rng.sample(SENTENCES, 3))]},
            "date": {"display": str(year), "start": year, "end": year},
            "type": rng.choice(TYPES), "language": ["vie"] + (["fra"] if rng.random() < .2 else []),
            "subject": rng.sample(TOPICS, 2),
            "spatial": [{"id": place_id, "name": place} if place_id else {"name": place}],
            "rights": "http://rightsstatements.org/vocab/NoC-NC/1.0/",
            "access": "public" if rng.random() < 0.95 else "restricted",
            "category": rng.choice(["local_studies", "rare", "special"]),
            "collection": {"id": cid, "name": {"vi": [cname]}},
            "holding_library": "Thư viện tỉnh Đồng Tháp",
            "pages": [{"file": "masters/0001.jpg", "source": "p1.jpg"}],
        }
        yield record


def load(repo: Repository, count: int, backends: dict) -> dict[str, float]:
    """Catalogue rows in bulk, and the same documents into every search backend."""
    timings = {}
    created = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    batch, docs = [], []
    started = time.perf_counter()
    with repo.catalogue.engine.begin() as conn:
        for record in records(count):
            batch.append(repo.catalogue._item_row(record, "v1", created.isoformat(),
                                                  created.isoformat()))
            docs.append(from_record(record, created=created.isoformat()))
            if len(batch) == 2000:
                conn.execute(sa.insert(items), batch)
                batch = []
        if batch:
            conn.execute(sa.insert(items), batch)
        for collection_id, name in COLLECTIONS:
            conn.execute(sa.text("INSERT INTO collections (id, name_vi, name_en) "
                                 "VALUES (:i, :n, '')"), {"i": collection_id, "n": name})
    timings["catalogue"] = time.perf_counter() - started
    for name, index in backends.items():
        started = time.perf_counter()
        index.clear()
        for i in range(0, len(docs), 2000):
            index.add(docs[i:i + 2000])
        timings[name] = time.perf_counter() - started
    return timings


def serve(settings, repo):
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, create_app(settings, repo=repo), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{port}"


def measure(url: str, queries: int, seed: int = 11) -> list[float]:
    rng = random.Random(seed)
    session = requests.Session()
    latencies = []
    for i in range(queries + 20):
        params = {"q": rng.choice(QUERIES), **rng.choice(FILTERS)}
        started = time.perf_counter()
        response = session.get(url + "/api/search", params=params, timeout=60)
        elapsed = time.perf_counter() - started
        response.raise_for_status()
        if i >= 20:  # the first requests warm caches
            latencies.append(elapsed * 1000)
    return latencies


def percentile(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="sen-bench-"))
    solr_url = os.environ.get("SEN_TEST_SOLR_URL")
    configs = {"embedded (SQLite FTS5)": ""}
    if solr_url:
        configs["Solr 9"] = solr_url
    else:
        print("SEN_TEST_SOLR_URL unset (services/up solr): measuring the embedded backend only")
    repos = {}
    for name, search_url in configs.items():
        settings = load_settings(env={}, data_dir=work, search_url=search_url,
                                 base_url="http://bench")
        repos[name] = Repository(settings)
    first = next(iter(repos.values()))
    first.init()
    print(f"Loading {args.records:,} records…", flush=True)
    timings = load(first, args.records, {name: r.search for name, r in repos.items()})
    for what, seconds in timings.items():
        print(f"  {what}: {seconds:.1f} s")
    results = {}
    for name, repo in repos.items():
        server, url = serve(repo.settings, repo)
        try:
            results[name] = measure(url, args.queries)
        finally:
            server.shutdown()
    print(f"\n{args.records:,} records, {args.queries} queries through GET /api/search "
          "(20 warm-up requests not counted)\n")
    print(f"{'backend':24} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'mean ms':>8}")
    for name, values in results.items():
        print(f"{name:24} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f} "
              f"{percentile(values, 99):8.1f} {statistics.fmean(values):8.1f}")
    if len(results) == 2:
        (a, va), (b, vb) = results.items()
        print(f"\nratio {b} / {a}: p50 {percentile(vb, 50) / percentile(va, 50):.2f}, "
              f"p95 {percentile(vb, 95) / percentile(va, 95):.2f}")
    for repo in repos.values():
        repo.close()


if __name__ == "__main__":
    main()
