"""Reading ALTO (any version 2–4): the text of a page, for search and display."""

from __future__ import annotations

import xml.etree.ElementTree as ET


class AltoError(ValueError):
    pass


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse(data: bytes) -> ET.Element:
    """Parse and check that the root element is ``alto``; entity expansion is refused."""
    if b"<!ENTITY" in data or b"<!DOCTYPE" in data:
        raise AltoError("ALTO must not declare a DOCTYPE or entities")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise AltoError(f"not well-formed XML ({exc})") from None
    if _local(root.tag) != "alto":
        raise AltoError(f"root element is <{_local(root.tag)}>, not <alto>")
    return root


def text(data: bytes) -> str:
    """The words of the page in reading order, one line per ALTO TextLine."""
    lines = []
    for line in parse(data).iter():
        if _local(line.tag) != "TextLine":
            continue
        words = [s.get("CONTENT", "") for s in line if _local(s.tag) == "String"]
        lines.append(" ".join(w for w in words if w))
    return "\n".join(lines)
