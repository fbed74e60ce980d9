"""Sen's IIIF Image API 3.0 server (compliance level 2), deployable on its own.

It serves the pyramidal TIFFs written at ingest. The pipeline follows
Cantaloupe's: ``request`` parses the URL into operations and resolves them
against the image, ``pyramid`` knows the stored levels, ``processor`` applies
the operations with libvips, ``info`` writes info.json and ``app`` wraps it
all in HTTP. ``resolver`` is the one point where Sen decides which file an
identifier means and whether it may be served.
"""

from .app import create_app
from .resolver import DirectoryResolver, ImageSource, Resolver

__all__ = ["DirectoryResolver", "ImageSource", "Resolver", "create_app"]
