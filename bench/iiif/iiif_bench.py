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
import math
import os
import resource
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

    from iiif_server.edges import append_edges
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
    elif append_edges(pyramid):  # a pyramid cached before Sen cut edge tiles at build time
        log("added the pre-cut edge tiles to the cached pyramid")
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


def link_copies(files: dict[str, Path], workdir: Path, copies: int) -> tuple[str, ...]:
    """The one pyramid (and its static tiles) under ``copies`` identifiers, as symbolic
    links in the work folder, plus its own name; the page cache holds it once for all."""
    identifiers = tuple(f"{IDENT}-{i:03d}" for i in range(copies))
    for kind, target, suffix in (("pyramids", files["pyramid"], ".tif"),
                                 ("static", files["static"] / IDENT, "")):
        folder = workdir / kind
        folder.mkdir(exist_ok=True)
        for name in (IDENT, *identifiers):
            link = folder / f"{name}{suffix}"
            if not link.is_symlink():
                link.symlink_to(target)
    return identifiers


def copies_needed(width: int, height: int, duration: int) -> int:
    """Enough copies that a run at 10,000 requests/s does not come back to a URL."""
    tiles, factor = 0, 1
    while factor == 1 or 256 * factor < 2 * max(width, height):
        tiles += math.ceil(width / (256 * factor)) * math.ceil(height / (256 * factor))
        factor *= 2
    return max(1, min(256, math.ceil(10_000 * (duration + 3) * 2 / tiles)))


# -- measuring -------------------------------------------------------------------------------

def measure(server: servers.Server, urls: list[str], name: str, args, workdir: Path) -> dict:
    """Warm up on another part of the list, then one wrk run with the server's CPU time
    read around it. ``passes`` > 1 means the run came back to URLs it had asked."""
    listing = workdir / f"{name}.urls"
    listing.write_text("\n".join(urls) + "\n")
    workload.wrk(server.base, listing, min(3, args.duration), offset=len(urls) // 4)
    cpu_before, busy_before, wrk_before = server.cpu_seconds(), busy_seconds(), children_cpu()
    result = workload.wrk(server.base, listing, args.duration, offset=0)
    server_cpu = server.cpu_seconds() - cpu_before
    result["cpu_ms"] = server_cpu * 1000 / max(result["requests"], 1)
    result["passes"] = result["requests"] / len(urls)
    others = busy_seconds() - busy_before - server_cpu - (children_cpu() - wrk_before)
    result["others_pct"] = max(0.0, others) * 100 / (args.duration * (os.cpu_count() or 1))
    return result


def busy_seconds() -> float:
    """CPU time the whole machine has spent on anything but idling and waiting."""
    with open("/proc/stat") as fh:
        ticks = [int(v) for v in fh.readline().split()[1:]]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def children_cpu() -> float:
    """CPU time of this script's finished children (the wrk runs)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_once(args, lists: dict, started: dict[str, servers.Server], workdir: Path) -> dict:
    """Every request kind against every server that can answer it: {(kind, server): result}.

    Servers take turns within a kind, so that a noisy moment of the machine hurts one
    kind rather than one server.
    """
    results: dict[tuple[str, str], dict] = {}
    for kind, by_server in lists.items():
        for name, (_, urls) in by_server.items():
            log(f"wrk {kind} → {name}")
            results[kind, name] = measure(started[name], urls, f"{kind}-{name}", args, workdir)
    return results


TARGETS = [  # what, (kind, server, key) / (kind, server, key), goal, test
    ("Sen / iipsrv aligned req/s", ("aligned", "sen", "rps"), ("aligned", "iipsrv", "rps"),
     "≥ 2.0", lambda v: v >= 2.0),
    ("Sen aligned p99 (ms)", ("aligned", "sen", "p99_ms"), None, "≤ 5", lambda v: v <= 5),
    ("Sen / nginx-static aligned req/s", ("aligned", "sen", "rps"),
     ("aligned", "nginx-static", "rps"), "≥ 0.5", lambda v: v >= 0.5),
    ("Sen / iipsrv unaligned req/s", ("unaligned", "sen", "rps"),
     ("unaligned", "iipsrv", "rps"), "≥ 0.6", lambda v: v >= 0.6),
    ("Sen thumbnail median (ms)", ("thumbnail", "sen", "p50_ms"), None, "≤ 5",
     lambda v: v <= 5),
    ("peak worker RSS, 10,000 mixed (MB)", ("memory", "sen", "peak_worker_mb"), None, "< 300",
     lambda v: v < 300),
    ("S3 / local p50, touched tiles", ("touched", "sen-s3", "p50_ms"),
     ("touched", "sen", "p50_ms"), "≤ 2.0", lambda v: v <= 2.0),
]


def target_values(results: dict) -> list[float | None]:
    """The value of each target in one measurement; None where it was not measured."""
    values = []
    for _, top, bottom, _, _ in TARGETS:
        a = results.get(top[:2], {}).get(top[2])
        b = results.get(bottom[:2], {}).get(bottom[2]) if bottom else 1
        values.append(a / b if a is not None and b else None)
    return values


def print_results(results: dict, sen_mode: str) -> None:
    print(f"\n{'kind':<10} {'server':<13} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} "
          f"{'CPU ms/req':>10} {'kB/answer':>9} {'passes':>6} {'errors':>6} {'others':>6}")
    for (kind, name), r in results.items():
        if kind == "memory":
            continue
        print(f"{kind:<10} {name:<13} {r['rps']:>8.0f} {r['p50_ms']:>7.2f} {r['p99_ms']:>7.2f} "
              f"{r['cpu_ms']:>10.2f} {r['kb_per_answer']:>9.1f} {r['passes']:>6.2f} "
              f"{r['errors']:>6} {r['others_pct']:>5.0f}%")
    print(f"Sen: {sen_mode}; iipsrv: 2 FastCGI processes behind lighttpd; nginx: 2 workers; "
          "wrk -t2 -c4.\npasses: times the run went through its URL list; others: CPU share "
          "of the machine taken by processes other than the server and wrk during the run")


def print_targets(title: str, values: list[float | None]) -> None:
    print(f"\n{title}")
    for (what, _, _, goal, test), value in zip(TARGETS, values, strict=True):
        shown = "n/a" if value is None else f"{value:.2f}"
        state = "not measured" if value is None else "met" if test(value) else "NOT MET"
        print(f"  {what:<36} {shown:>8}  {goal:<6} {state}")


# -- the run ---------------------------------------------------------------------------------

def parse_size(text: str) -> tuple[int, int]:
    width, _, height = text.lower().partition("x")
    return int(width), int(height)


def arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench/iiif/run", description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--size", type=parse_size, default=(20000, 15000),
                        help="throughput test image, WxH (default 20000x15000)")
    parser.add_argument("--copies", type=int,
                        help="identifiers serving the image (default: enough that no run "
                             "asks for a URL twice)")
    parser.add_argument("--memory-size", type=parse_size, default=(40000, 30000))
    parser.add_argument("--memory-requests", type=int, default=10_000)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-s3", action="store_true")
    parser.add_argument("--repeat", type=int, default=1, help="measure N times, median ratios")
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--workdir", type=Path,
                        help="work folder, kept (default: a temporary one, removed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary work folder")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = arguments(argv)
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
        copies = args.copies or copies_needed(width, height, args.duration)
        identifiers = link_copies(files, workdir, copies)
        log(f"serving the image as {IDENT} and {copies} more identifiers "
            f"({identifiers[0]}…), links to one pyramid")
        log("reading the pyramid and the static tiles into the page cache")
        warm_page_cache(files["pyramid"], files["static"])
        sen_flags, sen_mode = servers.sen_concurrency()
        started = {
            "sen": servers.start_sen(workdir / "pyramids", workdir, sen_flags),
            "iipsrv": servers.start_iipsrv(workdir / "pyramids", workdir),
            "nginx-static": servers.start_nginx(workdir / "static", workdir),
        }
        for server in started.values():
            log(f"{server.name} answers at {server.base} ({server.describe})")
        lists = workload.url_lists(started, identifiers, args.seed)
        for kind, by_server in lists.items():
            for name, (_, urls) in by_server.items():
                log(f"{kind} list for {name}: {len(urls)} URLs like "
                    f"{started[name].base}{urls[0]}")
        problems = workload.verify(started, lists, args.seed)
        if args.skip_s3:
            log("S3 step skipped (--skip-s3)")
        else:
            s3_service = servers.S3Service(ROOT)
            s3 = s3_service.start_sen(files["pyramid"], f"sen-bench/{width}x{height}",
                                      workdir, sen_flags)
            if s3 is not None:
                log(f"{s3.name} answers at {s3.base} ({s3.describe})")
                started["sen-s3"] = s3
                touched = {name: workload.one_image_tiles(started[name], IDENT, args.seed)
                           for name in ("sen", "sen-s3")}
                for name, (_, urls) in touched.items():
                    first = time.monotonic()
                    counts = workload.fetch_all(started[name], urls)
                    log(f"touched the {len(urls)} tiles of {IDENT} once on {name}: "
                        f"{dict(counts)} in {time.monotonic() - first:.1f} s")
                problems += workload.verify(started, {"touched": touched}, args.seed)
                lists["touched"] = touched
        notes = [f"first render of a thumbnail (40 sizes, one at a time, uncached): {name} "
                 f"{workload.first_render_ms(started[name], IDENT):.1f} ms median"
                 for name in ("sen", "iipsrv")]
        measurements = []
        for round_ in range(args.repeat):
            if args.repeat > 1:
                log(f"measurement {round_ + 1} of {args.repeat}")
            results = run_once(args, lists, started, workdir)
            print_results(results, sen_mode)
            measurements.append(results)
        if args.skip_memory:
            log("memory step skipped (--skip-memory)")
        else:
            servers.stop_all()  # nothing else competes with the memory run
            log(f"memory: {args.memory_requests} mixed requests on "
                f"{args.memory_size[0]} × {args.memory_size[1]}")
            memory = workload.memory_run(args, sen_flags, workdir, test_files, IDENT)
            print(f"  {json.dumps(memory)}")
            for results in measurements:
                results["memory", "sen"] = memory
        print()
        for note in notes:
            print(note)
        per_round = [target_values(results) for results in measurements]
        if args.repeat > 1:
            for i, values in enumerate(per_round, 1):
                print_targets(f"targets, measurement {i}", values)
        medians = [statistics.median(v) if (v := [x for x in column if x is not None]) else None
                   for column in zip(*per_round, strict=True)]
        print_targets("targets" + (f" (median of {args.repeat})" if args.repeat > 1 else ""),
                      medians)
        for line in problems:
            print(f"  problem: {line}")
        print(f"\nwhole run: {time.monotonic() - begun:.0f} s; work folder {workdir}"
              + (" (removed)" if args.workdir is None and not args.keep else " (kept)"))
        return 1 if problems else 0
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    finally:
        servers.stop_all()
        if s3_service is not None:
            s3_service.restore()
        if args.workdir is None and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
