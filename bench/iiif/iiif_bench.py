"""Sen's IIIF image server side by side with iipsrv and nginx serving static tiles (issue 4).

    bench/iiif/run [--duration 10] [--size 20000x15000] [--skip-memory] [--skip-s3]
                   [--repeat 1] [--keep] [--workdir DIR]

One run on one machine, on one pyramid: generate a textured test image (cached in
~/.cache/sen-bench), build its pyramid with Sen's own ``build_pyramid`` and the static
tiles with ``dzsave --layout iiif3``, start Sen's server, iipsrv (FastCGI behind
lighttpd) and nginx on 127.0.0.1, check that each answers real JPEGs of the right size,
then drive the same URL lists through ``wrk`` against each and print requests/s, latency
percentiles, server CPU per request and the ratios the issue sets as targets. Every
process started here is stopped on exit, error or Ctrl-C.
"""

from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import servers
import workload

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("SEN_BENCH_CACHE", "~/.cache/sen-bench")).expanduser()
IDENT = "bench"  # the identifier of the test image on every server
#: Raise when the generated image changes, so that cached files are rebuilt.
GENERATOR_VERSION = 1
PACKAGES = ("iipimage-server", "lighttpd", "nginx", "wrk")

sys.path.insert(0, str(ROOT))


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def install_tools() -> None:
    """Debian packages for the anchors and the load generator, installed once, quietly."""
    missing = [p for p in PACKAGES
               if subprocess.run(["dpkg", "-s", p], capture_output=True).returncode != 0]
    if not missing:
        return
    log(f"installing {' '.join(missing)} (apt-get)")
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    subprocess.run(sudo + ["apt-get", "update", "-qq"], env=env, capture_output=True)
    subprocess.run(sudo + ["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                           *missing], env=env, check=True, stdout=subprocess.DEVNULL)


# -- the test image ------------------------------------------------------------------------

def textured_image(width: int, height: int):
    """A colour image that compresses like a scan, built lazily: libvips computes it tile by
    tile while it is written, so even 40000 × 30000 never sits in memory.

    Perlin and Worley noise give large and small structure (paper, stains), Gaussian noise
    the grain that makes JPEG work hard, and repeated Vietnamese text and ruled lines the
    sharp edges of print and maps.
    """
    import pyvips

    coarse = pyvips.Image.perlin(width, height, cell_size=512, seed=1)
    fine = pyvips.Image.perlin(width, height, cell_size=48, seed=2)
    cells = pyvips.Image.worley(width, height, cell_size=160, seed=3)
    image = (coarse * 60 + fine * 25 - cells * 0.5 + 170).bandjoin([
        coarse * 40 + cells * 0.8 + fine * 20 + 100,
        coarse * -50 + fine * 30 + cells * 0.3 + 90])
    grain = [pyvips.Image.gaussnoise(width, height, sigma=14, mean=0, seed=4 + b)
             for b in range(3)]
    image = image + grain[0].bandjoin(grain[1:])
    text = pyvips.Image.text("Sen · Đồng Tháp 1925 · tài liệu cổ, quý hiếm · Sa Đéc, Mỹ Tho",
                             dpi=220, font="serif")
    ink = text.embed(60, 40, 1700, 700).replicate(width // 1700 + 1, height // 700 + 1)
    xy = pyvips.Image.xyz(width, height)
    rules = (xy[0].remainder_const(613) < 3) | (xy[1].remainder_const(389) < 2)
    darken = (ink.crop(0, 0, width, height).cast("float") * (0.8 / 255)).maxpair(
        rules.cast("float") * (0.6 / 255))
    return (image * (1 - darken)).cast("uchar").copy(interpretation="srgb")


def test_files(width: int, height: int, *, static: bool = True) -> dict[str, Path]:
    """The source image, Sen's pyramid of it and the dzsave tiles, cached by size.

    Each product is written under a temporary name and renamed when complete, so an
    interrupted run leaves nothing that a later run would take for finished.
    """
    import pyvips

    from ingest.images import build_pyramid

    folder = CACHE / f"{width}x{height}-v{GENERATOR_VERSION}"
    folder.mkdir(parents=True, exist_ok=True)
    source = folder / "source.jpg"
    pyramids = folder / "pyramids"
    pyramid = pyramids / f"{IDENT}.tif"
    tiles = folder / "static"
    if not source.exists():
        started = time.monotonic()
        log(f"generating the {width} × {height} test image")
        part = folder / "source.part.jpg"
        textured_image(width, height).jpegsave(str(part), Q=92)
        part.rename(source)
        log(f"  {source.stat().st_size / 1e6:.0f} MB in {time.monotonic() - started:.0f} s")
    if not pyramid.exists():
        started = time.monotonic()
        log("building the pyramid with ingest.images.build_pyramid")
        build_pyramid(source, pyramid)  # writes a temporary file, then renames it
        log(f"  {pyramid.stat().st_size / 1e6:.0f} MB in {time.monotonic() - started:.0f} s")
    if static and not (tiles / IDENT / "info.json").exists():
        started = time.monotonic()
        log("cutting static tiles with dzsave --layout iiif3")
        part = folder / "static.part"
        shutil.rmtree(part, ignore_errors=True)
        part.mkdir()
        pyvips.Image.new_from_file(str(source), access="sequential").dzsave(
            str(part / IDENT), layout="iiif3", tile_size=256, suffix=".jpg[Q=85]")
        shutil.rmtree(tiles, ignore_errors=True)
        part.rename(tiles)
        log(f"  done in {time.monotonic() - started:.0f} s")
    return {"source": source, "pyramids": pyramids, "pyramid": pyramid, "static": tiles}


def warm_page_cache(*paths: Path) -> None:
    """Read every file once, so that no server pays for the disk and the others not."""
    for path in paths:
        files = [path] if path.is_file() else (p for p in path.rglob("*") if p.is_file())
        for file in files:
            with open(file, "rb") as fh:
                while fh.read(1 << 22):
                    pass


# -- measuring -------------------------------------------------------------------------------

def measure(server: servers.Server, urls: list[str], name: str, args, workdir: Path) -> dict:
    """Warm up, then one wrk run with the server's CPU time read around it."""
    listing = workdir / f"{name}.urls"
    listing.write_text("\n".join(urls) + "\n")
    warm = min(3, args.duration)
    workload.wrk(server.base, listing, warm, offset=len(urls) // 4)
    cpu_before = server.cpu_seconds()
    result = workload.wrk(server.base, listing, args.duration, offset=0)
    result["cpu_ms"] = (server.cpu_seconds() - cpu_before) * 1000 / max(result["requests"], 1)
    return result


def run_once(args, lists: dict, started: dict[str, servers.Server], workdir: Path,
             s3: servers.Server | None) -> dict:
    """Every request kind against every server that can answer it: {(kind, server): result}.

    Servers take turns within a kind, so that a noisy moment of the machine hurts one
    kind rather than one server.
    """
    results: dict[tuple[str, str], dict] = {}
    for kind, by_server in lists.items():
        for name in by_server:
            log(f"wrk {kind} → {name}")
            results[kind, name] = measure(started[name], by_server[name][1],
                                          f"{kind}-{name}", args, workdir)
    if s3 is not None:
        log(f"wrk aligned → {s3.name}")
        results["aligned", s3.name] = measure(s3, lists["aligned"]["sen"][1],
                                              "aligned-sen-s3", args, workdir)
    return results


def ratios(results: dict, memory: dict | None) -> list[tuple[str, float | None, str, bool]]:
    """(what, value, goal, met) for each target of the issue."""
    def get(kind, name, key):
        row = results.get((kind, name))
        return row[key] if row else None

    def ratio(a, b):
        return a / b if a is not None and b else None

    rows = []
    aligned = ratio(get("aligned", "sen", "rps"), get("aligned", "iipsrv", "rps"))
    rows.append(("Sen / iipsrv aligned req/s", aligned, "≥ 2.0", aligned, lambda v: v >= 2.0))
    p99 = get("aligned", "sen", "p99_ms")
    rows.append(("Sen aligned p99 (ms)", p99, "≤ 5", p99, lambda v: v <= 5))
    rel = ratio(get("aligned", "sen", "rps"), get("aligned", "nginx-static", "rps"))
    rows.append(("Sen / nginx-static aligned req/s", rel, "≥ 0.5", rel, lambda v: v >= 0.5))
    una = ratio(get("unaligned", "sen", "rps"), get("unaligned", "iipsrv", "rps"))
    rows.append(("Sen / iipsrv unaligned req/s", una, "≥ 0.6", una, lambda v: v >= 0.6))
    thumb = get("thumbnail", "sen", "p50_ms")
    rows.append(("Sen thumbnail median (ms)", thumb, "≤ 5", thumb, lambda v: v <= 5))
    rss = memory.get("peak_worker_mb") if memory else None
    rows.append(("peak worker RSS, 10,000 mixed (MB)", rss, "< 300", rss, lambda v: v < 300))
    s3 = ratio(get("aligned", "sen-s3", "p50_ms"), get("aligned", "sen", "p50_ms"))
    rows.append(("S3 / local aligned p50", s3, "≤ 2.0", s3, lambda v: v <= 2.0))
    return [(what, value, goal, None if v is None else test(v))
            for what, value, goal, v, test in rows]


def print_results(results: dict, sen_mode: str) -> None:
    print(f"\n{'kind':<10} {'server':<14} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'CPU ms/req':>10} {'errors':>7}")
    for (kind, name), r in results.items():
        print(f"{kind:<10} {name:<14} {r['rps']:>9.0f} {r['p50_ms']:>8.2f} {r['p99_ms']:>8.2f} "
              f"{r['cpu_ms']:>10.2f} {r['errors']:>7}")
    print(f"(Sen: {sen_mode}; iipsrv: 2 FastCGI processes behind lighttpd; "
          "nginx: 2 workers; wrk -t2 -c4)")


def print_targets(rows, title: str) -> None:
    print(f"\n{title}")
    for what, value, goal, met in rows:
        shown = "n/a" if value is None else f"{value:.2f}"
        state = "not measured" if met is None else "met" if met else "NOT MET"
        print(f"  {what:<36} {shown:>8}  {goal:<6} {state}")


# -- the run ---------------------------------------------------------------------------------

def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench/iiif/run", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--size", type=parse_size, default=(20000, 15000),
                        help="throughput test image, WxH (default 20000x15000)")
    parser.add_argument("--memory-size", type=parse_size, default=(40000, 30000))
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="measure N times, median ratios")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--workdir", type=Path, help="default: a new temporary folder")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args(argv)

    begun = time.monotonic()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks
    atexit.register(servers.stop_all)
    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="sen-bench-"))
    workdir.mkdir(parents=True, exist_ok=True)
    s3_service = None
    try:
        install_tools()
        width, height = args.size
        files = test_files(width, height)
        log("reading the pyramid and the static tiles into the page cache")
        warm_page_cache(files["pyramid"], files["static"])
        sen_flags, sen_mode = servers.sen_concurrency()
        started = {
            "sen": servers.start_sen(files["pyramids"], workdir, sen_flags),
            "iipsrv": servers.start_iipsrv(files["pyramids"], workdir),
            "nginx-static": servers.start_nginx(files["static"], workdir),
        }
        for server in started.values():
            log(f"{server.name} answers at {server.base} ({server.describe})")
        s3 = None
        if args.skip_s3:
            log("S3 step skipped (--skip-s3)")
        else:
            s3_service = servers.S3Service(ROOT)
            s3 = s3_service.start_sen(files["pyramid"], f"sen-bench/{width}x{height}",
                                      workdir, sen_flags)
        lists = workload.url_lists(started, IDENT, args.seed)
        for kind, by_server in lists.items():
            for name, (_, paths) in by_server.items():
                log(f"{kind} list for {name}: {len(paths)} URLs like "
                    f"{started[name].base}{paths[0]}")
        problems = workload.verify(started, lists, args.seed)
        if s3 is not None:
            log("S3: touching every aligned tile once")
            first = time.monotonic()
            counts = workload.fetch_all(s3, lists["aligned"]["sen"][1])
            log(f"  {dict(counts)} in {time.monotonic() - first:.0f} s")
            problems += workload.verify({"sen-s3": s3},
                                        {"aligned": {"sen-s3": lists["aligned"]["sen"]}},
                                        args.seed)
        all_rows = []
        for round_ in range(args.repeat):
            if args.repeat > 1:
                log(f"measurement {round_ + 1} of {args.repeat}")
            results = run_once(args, lists, started, workdir, s3)
            print_results(results, sen_mode)
            all_rows.append(results)
        memory = None
        if args.skip_memory:
            log("memory step skipped (--skip-memory)")
        else:
            servers.stop_all()  # nothing else competes with the memory run
            memory = workload.memory_run(args, sen_flags, workdir, test_files, IDENT)
        per_round = [ratios(r, memory) for r in all_rows]
        if args.repeat > 1:
            for i, rows in enumerate(per_round, 1):
                print_targets(rows, f"targets, measurement {i}")
        print_targets(median_rows(per_round),
                      "targets" + (f" (median of {args.repeat})" if args.repeat > 1 else ""))
        if memory:
            print(f"  memory: {json.dumps(memory)}")
        for line in problems:
            print(f"  problem: {line}")
        print(f"\nwhole run: {time.monotonic() - begun:.0f} s; work folder {workdir}"
              + (" (kept)" if args.keep else " (removed)"))
        return 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        servers.stop_all()
        if s3_service is not None:
            s3_service.restore()
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)


def median_rows(per_round):
    """The median of each target's value across measurements; met is judged on the median."""
    goals = {"≥": lambda v, g: v >= g, "≤": lambda v, g: v <= g, "<": lambda v, g: v < g}
    out = []
    for i, (what, _, goal, _) in enumerate(per_round[0]):
        values = [rows[i][1] for rows in per_round if rows[i][1] is not None]
        if not values:
            out.append((what, None, goal, None))
            continue
        value = statistics.median(values)
        sign, number = goal.split()
        out.append((what, value, goal, goals[sign](value, float(number))))
    return out

