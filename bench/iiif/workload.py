"""What the servers are asked: the URL lists, the wrk runs, the response checks, the
memory run.

Every list is built from the server's own info.json (its tile size and scale factors),
shuffled with a fixed seed, and written in the form a viewer would send to that server:
OpenSeadragon 5 asks an Image API 3 server for ``{w},{h}`` tiles and an Image API 2 one
(iipsrv 1.1) for ``{w},``.
"""

from __future__ import annotations

import http.client
import json
import math
import random
import statistics
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import servers

LUA = Path(__file__).with_name("cycle.lua")


@dataclass(frozen=True)
class Ask:
    """One image request, and the size of the answer it must get."""

    region: str  # "full" or "x,y,w,h"
    size: str  # the size parameter; "" for a tile, whose form depends on the API version
    rotation: int
    quality: str
    width: int  # expected output size, after rotation; 0: not checked
    height: int
    exact: bool = True  # False: one pixel of rounding either way is fine
    identifier: str = "bench"

    def path(self, version: int) -> str:
        size = self.size or (f"{self.width},{self.height}" if version == 3 else f"{self.width},")
        return f"{self.region}/{size}/{self.rotation}/{self.quality}.jpg"


def info(server: servers.Server, identifier: str) -> dict:
    with urllib.request.urlopen(server.url(identifier, "info.json"), timeout=30) as response:
        document = json.load(response)
    document["version"] = 3 if "image/3" in str(document.get("@context")) else 2
    return document


def tiles(document: dict) -> list[Ask]:
    """Every tile a viewer can ask for, at every advertised scale factor (OpenSeadragon's
    arithmetic: regions of tile × scale clipped at the edges, sizes rounded up)."""
    width, height = document["width"], document["height"]
    spec = document["tiles"][0]
    asks = []
    for factor in spec["scaleFactors"]:
        span_x, span_y = spec["width"] * factor, spec.get("height", spec["width"]) * factor
        for y in range(0, height, span_y):
            for x in range(0, width, span_x):
                w, h = min(span_x, width - x), min(span_y, height - y)
                region = "full" if (w, h) == (width, height) else f"{x},{y},{w},{h}"
                asks.append(Ask(region, "", 0, "default",
                                math.ceil(w / factor), math.ceil(h / factor)))
    return asks


def unaligned(width: int, height: int, rng: random.Random, count: int = 2000,
              identifiers: tuple[str, ...] = ("bench",)) -> list[Ask]:
    """Random regions and sizes (never upscaled), rotations by 90° (iipsrv 1.1 refuses
    other angles) and a third in gray: what a cropping or annotating client sends."""
    asks = []
    for _ in range(count):
        rw = int(min(width, 2 ** rng.uniform(7, 12)))
        rh = int(min(height, max(64, rw * rng.uniform(0.5, 2))))
        x, y = rng.randrange(width - rw + 1), rng.randrange(height - rh + 1)
        ow = int(min(rw, 2 ** rng.uniform(6, 10)))
        form = rng.choice(["w,", ",h", "!w,h", "w,h"])
        if form == "w,":
            size, out, exact = f"{ow},", (ow, max(1, round(rh * ow / rw))), False
        elif form == ",h":
            oh = max(1, min(rh, ow))
            size, out, exact = f",{oh}", (max(1, round(rw * oh / rh)), oh), False
        elif form == "!w,h":
            scale = min(ow / rw, ow / rh)
            size, out, exact = f"!{ow},{ow}", (round(rw * scale), round(rh * scale)), False
        else:
            oh = max(1, min(rh, round(rh * ow / rw * rng.uniform(0.8, 1.25))))
            size, out, exact = f"{ow},{oh}", (ow, oh), True
        rotation = rng.choice([0, 0, 0, 90, 180, 270])
        if rotation in (90, 270):
            out = out[::-1]
        quality = "gray" if rng.random() < 0.3 else "default"
        asks.append(Ask(f"{x},{y},{rw},{rh}", size, rotation, quality, *out, exact=exact,
                        identifier=rng.choice(identifiers)))
    return asks


def thumbnail(width: int, height: int) -> Ask:
    scale = min(400 / width, 400 / height)
    return Ask("full", "!400,400", 0, "default", round(width * scale), round(height * scale),
               exact=False)


def paths(server: servers.Server, asks: list[Ask], version: int) -> list[str]:
    return [server.image.format(id=a.identifier) + "/" + a.path(version) for a in asks]


def url_lists(started: dict[str, servers.Server], identifiers: tuple[str, ...], seed: int,
              unaligned_count: int = 4000) -> dict:
    """{kind: {server name: (asks, paths)}}; the static server only has tiles.

    Tiles and unaligned regions are spread over all ``identifiers`` (the same pyramid under
    several names), so that a run does not ask for any URL twice: Sen remembers the URLs of
    stored tiles it has answered, and iipsrv keeps a tile cache.
    """
    lists: dict[str, dict] = {"aligned": {}, "unaligned": {}, "thumbnail": {}}
    documents = {name: info(server, identifiers[0]) for name, server in started.items()}
    for name, server in started.items():
        document = documents[name]
        version = 3 if name == "nginx-static" else document["version"]  # dzsave: w,h paths
        grid = tiles(document)
        # "w," leaves the height to the server: iipsrv rounds it down, OpenSeadragon up.
        asks = [replace(a, identifier=i, exact=version == 3) for i in identifiers for a in grid]
        random.Random(seed).shuffle(asks)
        lists["aligned"][name] = (asks, paths(server, asks, version))
        if name == "nginx-static":
            continue
        asks = unaligned(document["width"], document["height"], random.Random(seed),
                         unaligned_count, identifiers)
        lists["unaligned"][name] = (asks, paths(server, asks, version))
        asks = [thumbnail(document["width"], document["height"])]
        lists["thumbnail"][name] = (asks, paths(server, asks, version))
    grids = {name: {a.path(3) for a in asks} for name, (asks, _) in lists["aligned"].items()}
    if len({frozenset(g) for g in grids.values()}) > 1:
        sizes = {name: (documents[name]["tiles"], len(g)) for name, g in grids.items()}
        print(f"  note: the servers advertise different tiles; each gets its own: {sizes}")
    return lists


def one_image_tiles(server: servers.Server, identifier: str, seed: int) -> tuple:
    """Every tile of one image, shuffled: the list that is touched once, then measured."""
    document = info(server, identifier)
    asks = [replace(a, identifier=identifier, exact=document["version"] == 3)
            for a in tiles(document)]
    random.Random(seed).shuffle(asks)
    return asks, paths(server, asks, document["version"])


def first_render_ms(server: servers.Server, identifier: str) -> float:
    """Median latency of 40 thumbnails of distinct sizes, asked one at a time: what a
    thumbnail costs before any cache has seen it."""
    times = []
    for width in range(360, 400):
        started = time.perf_counter()
        status, _ = get(server.url(identifier, f"full/{width},/0/default.jpg"))
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            return math.nan
    return statistics.median(times)


# -- checking and loading ------------------------------------------------------------------------

def check(body: bytes, status: int, ask: Ask) -> str | None:
    """None if ``body`` is a JPEG of the size ``ask`` expects, else what is wrong."""
    if status != 200:
        return f"HTTP {status}: {body[:100]!r}"
    if not body.startswith(b"\xff\xd8\xff"):
        return f"not a JPEG: {body[:40]!r}"
    import pyvips

    try:
        image = pyvips.Image.new_from_buffer(body, "")
    except pyvips.Error as exc:
        return f"undecodable JPEG: {str(exc).splitlines()[0]}"
    if ask.width and (abs(image.width - ask.width) > (0 if ask.exact else 1)
                      or abs(image.height - ask.height) > (0 if ask.exact else 1)):
        return f"{image.width}×{image.height}, expected {ask.width}×{ask.height}"
    return None


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def verify(started: dict[str, servers.Server], lists: dict, seed: int,
           sample: int = 40) -> list[str]:
    """Fetch a sample of every list (the last tiles of each level always among them) and
    check each answer; a 404 storm would otherwise look fast. Returns the problems."""
    problems = []
    rng = random.Random(seed)
    for kind, by_server in lists.items():
        for name, (asks, paths) in by_server.items():
            server = started[name]
            indexes = sorted(set(rng.sample(range(len(asks)), min(sample, len(asks)))))
            if kind == "aligned":  # edge tiles and the smallest levels
                indexes += sorted(range(len(asks)), key=lambda i: asks[i].width * asks[i].height
                                  )[:10]
            bad = 0
            for i in indexes:
                status, body = get(server.base + paths[i])
                problem = check(body, status, asks[i])
                if problem:
                    bad += 1
                    problems.append(f"{name} {kind}: {server.base}{paths[i]} → {problem}")
            print(f"  checked {len(indexes)} {kind} answers of {name}: "
                  f"{'all right' if not bad else f'{bad} wrong'}", flush=True)
    return problems


def wrk(base: str, listing: Path, duration: float, offset: int) -> dict:
    command = ["wrk", "-t2", "-c4", f"-d{duration}s", "--latency", "-s", str(LUA), base,
               "--", str(listing), str(offset), "2"]
    # Its own session, and always reaped: Ctrl-C reaches this script, which stops wrk.
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate(timeout=duration + 60)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
    line = next((x for x in stdout.splitlines() if x.startswith("SENBENCH ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no result: {stdout[-500:]} {stderr[-500:]}")
    r = json.loads(line.removeprefix("SENBENCH "))
    return {"requests": r["requests"], "rps": r["requests"] / (r["duration_us"] / 1e6),
            "p50_ms": r["p50_us"] / 1000, "p99_ms": r["p99_us"] / 1000,
            "errors": r["status_errors"] + r["socket_errors"],
            "kb_per_answer": r["bytes"] / 1024 / max(r["requests"], 1)}


def fetch_all(server: servers.Server, urls: list[str], connections: int = 4) -> Counter:
    """Every path in ``urls`` once, over ``connections`` keep-alive connections; the
    count of each HTTP status."""
    counts: Counter = Counter()
    lock, queue = threading.Lock(), list(reversed(urls))
    host, port = server.base.removeprefix("http://").split(":")

    def worker():
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        while True:
            with lock:
                if not queue:
                    break
                path = queue.pop()
            try:
                connection.request("GET", path)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=120)
                status = "error"
            with lock:
                counts[status] += 1
        connection.close()

    workers = [threading.Thread(target=worker, daemon=True) for _ in range(connections)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    return counts


def memory_run(args, flags: list[str], workdir: Path, test_files, identifier: str) -> dict:
    """10,000 mixed requests on a giant image against Sen, sampling every process's RSS."""
    width, height = args.memory_size
    files = test_files(width, height, static=False)
    started = time.monotonic()
    server = servers.start_sen(files["pyramids"], workdir, flags, name="sen-memory")
    rng = random.Random(args.seed)
    n = args.memory_requests
    aligned = rng.sample(tiles(info(server, identifier)), int(n * 0.7))
    mix = (aligned + unaligned(width, height, rng, int(n * 0.25))
           + [thumbnail(width, height)] * (n - len(aligned) - int(n * 0.25) - 20)
           + [Ask("full", "max", 0, "default", 0, 0)] * 20)
    rng.shuffle(mix)
    peaks: dict[int, int] = {}
    done = threading.Event()

    def sample():
        while not done.is_set():
            for pid, kb in server.rss_kb().items():
                peaks[pid] = max(peaks.get(pid, 0), kb)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    print(f"  {len(mix)} mixed requests against {server.describe}", flush=True)
    try:
        counts = fetch_all(server, paths(server, mix, 3))
    finally:
        done.set()
        sampler.join()
    workers = {pid: kb for pid, kb in peaks.items() if pid != server.process.pid} or peaks
    servers.stop_all()
    return {"image": f"{width}x{height}", "requests": len(mix),
            "statuses": {str(k): v for k, v in counts.items()},
            "peak_worker_mb": round(max(workers.values()) / 1024, 1),
            "worker_peaks_mb": sorted(round(kb / 1024) for kb in workers.values()),
            "peak_parent_mb": round(peaks.get(server.process.pid, 0) / 1024, 1),
            "processes": len(peaks), "seconds": round(time.monotonic() - started)}
