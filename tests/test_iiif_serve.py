"""The image server as it runs in production: ``python -m iiif_server`` on pre-forked
Granian workers, driven over real sockets by well-behaved and hostile clients."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
import pyvips

from ingest.images import build_pyramid
from tests.conftest import free_port

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[1]
HEADER_TIMEOUT = 1.5


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """``python -m iiif_server`` with 2 workers on a folder holding one 1500 × 1000 pyramid."""
    root = tmp_path_factory.mktemp("served")
    source = root / "noise.png"
    pyvips.Image.gaussnoise(1500, 1000, mean=128, sigma=40).bandjoin([
        pyvips.Image.gaussnoise(1500, 1000, mean=100, sigma=30)] * 2).cast("uchar") \
        .copy(interpretation="srgb").pngsave(str(source))
    build_pyramid(source, root / "noise.tif")
    source.unlink()
    port = free_port()
    log = root.parent / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "iiif_server", str(root), "--port", str(port), "--workers",
             "2", "--header-timeout", str(HEADER_TIMEOUT)],
            cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}/iiif/image"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert process.poll() is None, log.read_text()
            try:
                urllib.request.urlopen(f"{base}/noise/info.json", timeout=5)
                break
            except (urllib.error.URLError, OSError):
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
        yield process, port, base
    finally:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _raw(port: int, request: bytes, timeout: float = 5) -> bytes:
    """Send ``request`` as it is; what the server answers before closing or ``timeout``."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        sock.sendall(request)
        return sock.recv(65536)


def _children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rfind(")") + 2:].split()[1]) == pid:
                found.append(int(entry))
    return found


def _cpus(pid: int) -> set[str]:
    """The CPUs each thread of ``pid`` may run on, as /proc lists them."""
    return {Path(f"/proc/{pid}/task/{tid}/status").read_text().split(
        "Cpus_allowed_list:")[1].split()[0] for tid in os.listdir(f"/proc/{pid}/task")}


def test_pre_forked_workers_serve_tiles_and_errors(server):
    process, _port, base = server
    workers = [pid for pid in _children(process.pid) if len(os.listdir(f"/proc/{pid}/task")) > 1]
    assert len(workers) == 2  # one process each, with Granian's threads
    if len(os.sched_getaffinity(0)) >= 2:  # every thread of a worker on one CPU, its own
        pinned = [_cpus(pid) for pid in workers]
        assert all(len(cpus) == 1 for cpus in pinned) and pinned[0] != pinned[1], pinned
    status, tile = _get(f"{base}/noise/0,0,256,256/256,256/0/default.jpg")
    assert status == 200 and tile[:2] == b"\xff\xd8"
    assert pyvips.Image.new_from_buffer(tile, "").width == 256
    assert _get(f"{base}/missing/info.json")[0] == 404
    assert _get(f"{base}/..%2F..%2Fetc%2Fpasswd/info.json")[0] == 404
    assert _get(f"{base}/noise/full/max/0/default.jpg")[0] == 200
    assert _get(f"{base}/noise/full/99999,/0/default.jpg")[0] == 400  # upscaling without ^
    assert _get(f"{base}/noise/full/^99999,/0/default.jpg")[0] == 400  # beyond maxWidth


def test_slow_clients_hold_no_worker_and_are_dropped(server):
    """Many clients that never finish their headers (slowloris): everyone else is still
    served at once, and the silent connections are closed after the header timeout."""
    _process, port, base = server
    slow = []
    for _ in range(64):
        sock = socket.create_connection(("127.0.0.1", port), timeout=10)
        sock.sendall(b"GET /iiif/image/noise/info.json HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        slow.append(sock)
    try:
        started = time.monotonic()
        status, _ = _get(f"{base}/noise/256,0,256,256/256,256/0/default.jpg")
        assert status == 200
        assert time.monotonic() - started < 1.0
        time.sleep(HEADER_TIMEOUT + 1)
        for sock in slow:
            answer = sock.recv(4096)  # the connection is over: closed, or a 408 then closed
            assert answer == b"" or answer.startswith(b"HTTP/1.1 408"), answer[:80]
    finally:
        for sock in slow:
            sock.close()


def test_a_huge_announced_body_is_refused_without_reading_it(server):
    """A POST announcing 10 GB gets its 405 at once; the body is never waited for."""
    _process, port, _base = server
    started = time.monotonic()
    answer = _raw(port, b"POST /iiif/image/noise/info.json HTTP/1.1\r\nHost: x\r\n"
                        b"Content-Length: 10000000000\r\n\r\n")
    assert answer.startswith(b"HTTP/1.1 405"), answer[:80]
    assert time.monotonic() - started < 2.0


def test_oversized_requests_are_refused_fast(server):
    _process, port, _base = server
    started = time.monotonic()
    long_url = b"/iiif/image/" + b"a" * 100_000 + b"/info.json"
    answer = _raw(port, b"GET " + long_url + b" HTTP/1.1\r\nHost: x\r\n\r\n")
    assert answer == b"" or answer.split(b" ")[1][:1] == b"4", answer[:80]
    huge_header = b"X-Big: " + b"b" * 2_000_000 + b"\r\n"
    try:
        answer = _raw(port, b"GET /iiif/image/noise/info.json HTTP/1.1\r\nHost: x\r\n"
                      + huge_header + b"\r\n")
    except (ConnectionResetError, BrokenPipeError):
        answer = b""  # closed while the headers were still being sent: refused
    assert answer == b"" or answer.split(b" ")[1][:1] == b"4", answer[:80]
    assert time.monotonic() - started < 3.0
    assert _get(f"http://127.0.0.1:{port}/iiif/image/noise/info.json")[0] == 200
