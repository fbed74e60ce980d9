"""Serving images in production: pre-forked workers, one thread each.

Granian (a Rust HTTP server) runs the WSGI application in several worker
processes. Each worker has one thread and libvips works single-threaded in it
(``VIPS_CONCURRENCY=1``): requests are small and many, so parallelism comes from
the workers, and each keeps its own file handles, tile-offset tables and
info.json answers warm. Workers are separate processes, so the application is
built inside each one by a factory named by a string.

Each worker is kept on one CPU of those the process may use (``taskset``, a
cgroup cpuset): Granian's event-loop thread and the Python thread hand every
request to each other, and on one CPU the hand-over finds the request and the
answer still in that CPU's caches. On the 2-CPU development machine this gave
13 % more tiles per second. Two image servers on one machine should be given
different CPUs (``taskset -c``), or started with ``--no-pin-cpus``.
"""

from __future__ import annotations

import gc
import multiprocessing
import os

import pyvips

#: Per worker: libvips' own cache of operations and open files.
VIPS_CACHE_MB = 64
VIPS_CACHE_FILES = 64


def tune_libvips() -> None:
    pyvips.cache_set_max_mem(VIPS_CACHE_MB * 1024 * 1024)
    pyvips.cache_set_max_files(VIPS_CACHE_FILES)


def ready(app):
    """``app``, once a worker has built it (before Granian starts the worker's threads,
    which inherit its CPU): what start-up made is frozen out of the cycle collector
    (``gc.freeze``), which would otherwise walk those objects again and again while
    serving, and the worker is pinned to its CPU when ``serve`` was asked to."""
    gc.collect()
    gc.freeze()
    if os.environ.get("SEN_IMAGE_PIN_CPUS") == "1":
        cpus = sorted(os.sched_getaffinity(0))
        number = multiprocessing.current_process()._identity  # (1,), (2,)… as started
        index = number[0] - 1 if number else os.getpid()
        os.sched_setaffinity(0, {cpus[index % len(cpus)]})
    return app


#: Seconds a client may take to send a request's headers (also how long an idle
#: keep-alive connection is kept): a slow or silent client is dropped, and meanwhile
#: it holds no worker, since connections are read by Granian's event loop.
HEADER_TIMEOUT = 10.0


def serve(factory: str, *, host: str, port: int, workers: int, env: dict[str, str],
          header_timeout: float = HEADER_TIMEOUT, pin_cpus: bool = True) -> None:
    """Run ``factory`` (``module:function`` returning a WSGI app, through ``ready``) on
    pre-forked workers, each on a CPU of its own when ``pin_cpus``.

    ``env`` is set before the workers start, so the factory reads it in each.
    """
    from granian import Granian
    from granian.constants import Interfaces
    from granian.http import HTTP1Settings

    os.environ.update(env)
    os.environ["SEN_IMAGE_PIN_CPUS"] = "1" if pin_cpus else "0"
    os.environ["VIPS_CONCURRENCY"] = "1"
    # glibc gives each thread that allocates its own arena, and libvips' threads
    # leave them full of freed blocks: two arenas keep a worker's size flat.
    os.environ.setdefault("MALLOC_ARENA_MAX", "2")
    Granian(factory, factory=True, interface=Interfaces.WSGI, address=host, port=port,
            workers=workers, blocking_threads=1, backlog=2048, respawn_failed_workers=True,
            http1_settings=HTTP1Settings(header_read_timeout=int(header_timeout * 1000)),
            log_level="warning").serve()
