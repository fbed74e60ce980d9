"""From an identifier in a URL to the pyramid to read.

The resolver is where the image server meets the rest of Sen: the web app
passes one that looks the identifier up in storage and asks the access policy,
raising ``NotFound`` or ``Forbidden``. ``DirectoryResolver`` is the stand-alone
one: a folder of ``<identifier>.tif`` pyramids.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from repository.errors import NotFound

MAX_IDENTIFIER_LENGTH = 200


@dataclass(frozen=True)
class ImageSource:
    path: Path  # the pyramidal TIFF
    etag: str  # changes whenever the pyramid changes (e.g. the storage etag)
    #: Per-image limits (restricted sizes); None means the server's default.
    #: They can only lower the server's limits, never raise them.
    max_width: int | None = None
    max_area: int | None = None


#: Maps an identifier to its source; raises NotFound or Forbidden.
Resolver = Callable[[str], ImageSource]


class DirectoryResolver:
    """Identifier ``X`` is the file ``root/X.tif``; nothing outside ``root`` is reachable."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def __call__(self, identifier: str) -> ImageSource:
        if not _safe(identifier):
            raise NotFound("no such image")
        path = self.root / f"{identifier}.tif"
        try:
            stat = path.stat()
        except (OSError, ValueError):
            raise NotFound("no such image") from None
        if not path.is_file():
            raise NotFound("no such image")
        return ImageSource(path, etag=f"{stat.st_mtime_ns:x}-{stat.st_size:x}")


def _safe(identifier: str) -> bool:
    """A single, plain file name: no separators, no dot-dot, no control characters."""
    return (
        0 < len(identifier) <= MAX_IDENTIFIER_LENGTH
        and "/" not in identifier
        and "\\" not in identifier
        and ".." not in identifier
        and not identifier.startswith(".")
        and all(ord(c) >= 32 and ord(c) != 127 for c in identifier)
    )
