"""Serve pyramids on their own: ``python -m iiif_server ROOT``.

ROOT is a folder of ``<identifier>.tif`` pyramids, or a storage URL such as
``s3://bucket/prefix`` holding them (endpoint and credentials from
``SEN_S3_ENDPOINT_URL``, ``SEN_S3_ACCESS_KEY``, ``SEN_S3_SECRET_KEY``). The same
command serves a laptop demo or one of many image nodes behind a cache.
"""

from __future__ import annotations

import argparse
import logging
import os
from pathlib import Path

from .serve import HEADER_TIMEOUT, ready, serve, tune_libvips


def from_environment():
    """The WSGI app of one worker, from the settings ``main`` put in the environment."""
    from . import DirectoryResolver, create_app

    tune_libvips()
    logging.getLogger("pyvips").setLevel(logging.WARNING)  # libvips narrates every resize
    root = os.environ["SEN_IMAGE_ROOT"]
    if "://" in root:
        from repository.config import load_settings
        from repository.storage import open_storage
        from repository.storage.cache import FileCache

        from .resolver import StorageResolver, remembered

        settings = load_settings()
        storage = open_storage(root, settings)
        resolver = remembered(StorageResolver(storage, FileCache(
            storage, Path(os.environ["SEN_IMAGE_CACHE_DIR"]), settings.image_cache_mb << 20)),
            settings.remote_lookup_seconds)
    else:
        from .resolver import remembered

        resolver = remembered(DirectoryResolver(Path(root)),
                              float(os.environ["SEN_IMAGE_LOOKUP_SECONDS"]))
    return ready(create_app(resolver, max_width=int(os.environ["SEN_IMAGE_MAX_WIDTH"]),
                            max_area=int(os.environ["SEN_IMAGE_MAX_AREA"]),
                            cache_seconds=int(os.environ["SEN_IMAGE_CACHE_SECONDS"]),
                            prefix=os.environ["SEN_IMAGE_PREFIX"]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m iiif_server",
        description="IIIF Image API 3.0 server for <identifier>.tif pyramids in a folder or "
                    "in storage (s3://bucket/prefix).")
    parser.add_argument("root", help="folder, or storage URL, holding the pyramidal TIFFs")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8182, help="port (default 8182)")
    parser.add_argument("--prefix", default="/iiif/image",
                        help="path the service is mounted under (default /iiif/image)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                        help="worker processes (default: one per CPU)")
    parser.add_argument("--max-width", type=int, default=10_000)
    parser.add_argument("--max-area", type=int, default=25_000_000)
    parser.add_argument("--cache-seconds", type=int, default=86400)
    parser.add_argument("--lookup-seconds", type=float, default=1.0,
                        help="how long a worker trusts that a pyramid in a folder is unchanged "
                             "(default 1 s; tiles are cached by browsers for --cache-seconds "
                             "anyway); 0 looks at the file on every request")
    parser.add_argument("--header-timeout", type=float, default=HEADER_TIMEOUT,
                        help="seconds a client may take to send its request headers, and "
                             f"to keep an idle connection (default {HEADER_TIMEOUT:g})")
    parser.add_argument("--no-pin-cpus", dest="pin_cpus", action="store_false",
                        help="let workers run on any CPU (by default each is kept on one of "
                             "the CPUs this process may use)")
    parser.add_argument("--cache-dir", default="",
                        help="local cache of pyramids read from storage (default: a temp dir)")
    args = parser.parse_args(argv)
    if "://" not in args.root and not Path(args.root).is_dir():
        parser.error(f"{args.root} is not a folder")
    root = args.root if "://" in args.root else str(Path(args.root).resolve())
    cache_dir = args.cache_dir or os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                               f"sen-image-cache-{os.getuid()}")
    print(f"Serving {root} at http://{args.host}:{args.port}{args.prefix}/<identifier>/info.json"
          f" with {args.workers} workers", flush=True)
    serve("iiif_server.__main__:from_environment", host=args.host, port=args.port,
          workers=args.workers, header_timeout=args.header_timeout, pin_cpus=args.pin_cpus,
          env={
              "SEN_IMAGE_ROOT": root, "SEN_IMAGE_PREFIX": args.prefix,
              "SEN_IMAGE_MAX_WIDTH": str(args.max_width),
              "SEN_IMAGE_MAX_AREA": str(args.max_area),
              "SEN_IMAGE_CACHE_SECONDS": str(args.cache_seconds),
              "SEN_IMAGE_LOOKUP_SECONDS": str(args.lookup_seconds),
              "SEN_IMAGE_CACHE_DIR": cache_dir})


if __name__ == "__main__":
    main()
