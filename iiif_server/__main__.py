"""Serve a folder of pyramids on its own: ``python -m iiif_server DIR``.

Uses waitress (a production WSGI server already among Sen's dependencies),
so the same command serves a laptop demo or one of many image nodes behind a
cache.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from werkzeug.middleware.dispatcher import DispatcherMiddleware
from werkzeug.wrappers import Response

from . import DirectoryResolver, create_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m iiif_server",
        description="IIIF Image API 3.0 server for a folder of <identifier>.tif pyramids.")
    parser.add_argument("root", type=Path, help="folder holding the pyramidal TIFFs")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8182, help="port (default 8182)")
    parser.add_argument("--prefix", default="/iiif/image",
                        help="path the service is mounted under (default /iiif/image)")
    parser.add_argument("--threads", type=int, default=8, help="worker threads (default 8)")
    parser.add_argument("--max-width", type=int, default=10_000)
    parser.add_argument("--max-area", type=int, default=25_000_000)
    parser.add_argument("--cache-seconds", type=int, default=86400)
    args = parser.parse_args(argv)
    if not args.root.is_dir():
        parser.error(f"{args.root} is not a folder")

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("pyvips").setLevel(logging.WARNING)  # libvips narrates every resize
    app = create_app(DirectoryResolver(args.root), max_width=args.max_width,
                     max_area=args.max_area, cache_seconds=args.cache_seconds)
    prefix = "/" + args.prefix.strip("/") if args.prefix.strip("/") else ""
    if prefix:
        app = DispatcherMiddleware(Response("not found\n", 404, mimetype="text/plain"),
                                   {prefix: app})

    import waitress  # only the stand-alone server needs it

    print(f"Serving {args.root} at http://{args.host}:{args.port}{prefix}/<identifier>/info.json")
    waitress.serve(app, host=args.host, port=args.port, threads=args.threads)


if __name__ == "__main__":
    main()
