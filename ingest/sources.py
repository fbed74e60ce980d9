"""Where ingest reads from: a metadata CSV, a folder holding ``metadata.csv``, or a BagIt bag.

A bag is verified first (every payload digest and the Payload-Oxum), then read
like a folder: its ``data/metadata.csv``, or the CSV given with ``--metadata``
whose ``files`` are relative to the bag's ``data/`` folder.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

import bagit

from repository.errors import IngestError, Problem

CSV_NAME = "metadata.csv"
MAX_CSV_BYTES = 64 * 1024 * 1024


@dataclass
class Source:
    csv_path: Path
    #: Folder that ``files`` in the CSV are relative to.
    base: Path
    columns: list[str]
    #: (spreadsheet row number, raw values); the header is row 1.
    rows: list[tuple[int, dict[str, str | None]]]
    bag: Path | None = None

    @property
    def label(self) -> str:
        return str(self.csv_path)


def open_source(path: Path, metadata: Path | None = None) -> Source:
    path = Path(path)
    if not path.exists():
        raise IngestError(Problem("no such file or folder", file=str(path)))
    bag = None
    if path.is_dir() and (path / "bagit.txt").is_file():
        bag = path
        _verify_bag(path)
        base = path / "data"
        csv_path = Path(metadata) if metadata else base / CSV_NAME
    elif path.is_dir():
        base = path
        csv_path = Path(metadata) if metadata else path / CSV_NAME
    else:
        csv_path = path
        base = path.parent
    if not csv_path.is_file():
        raise IngestError(Problem(
            f"no metadata CSV found (expected {csv_path.name} here, or give one with "
            "--metadata)", file=str(csv_path)))
    columns, rows = read_csv(csv_path)
    return Source(csv_path=csv_path, base=base.resolve(), columns=columns, rows=rows, bag=bag)


def _verify_bag(path: Path) -> None:
    try:
        bag = bagit.Bag(str(path))
        bag.validate(processes=1)
    except bagit.BagValidationError as exc:
        problems = [Problem(f"bag is not valid: {d}", file=str(path / getattr(d, "path", "")))
                    for d in getattr(exc, "details", [])] or [
            Problem(f"bag is not valid: {exc.message}", file=str(path))]
        raise IngestError(problems) from None
    except bagit.BagError as exc:
        raise IngestError(Problem(f"not a readable BagIt bag: {exc}", file=str(path))) from None


def read_csv(path: Path) -> tuple[list[str], list[tuple[int, dict[str, str | None]]]]:
    label = str(path)
    if path.stat().st_size > MAX_CSV_BYTES:
        raise IngestError(Problem(f"the CSV is larger than {MAX_CSV_BYTES >> 20} MB; split it",
                                  file=label))
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise IngestError(Problem(
            f"not UTF-8 text (byte 0x{data[exc.start]:02x}); save the spreadsheet as "
            "CSV UTF-8", file=label, row=line)) from None
    if "\x00" in text:
        raise IngestError(Problem("the file contains NUL bytes: not a CSV", file=label))
    try:
        reader = csv.DictReader(io.StringIO(text, newline=""), strict=True)
        columns = [c.strip() for c in reader.fieldnames or []]
        reader.fieldnames = columns
        rows = []
        # Row numbers as a spreadsheet shows them: the header is row 1.
        for number, raw in enumerate(reader, 2):
            if any((v or "").strip() for k, v in raw.items() if k is not None) or None in raw:
                rows.append((number, raw))
    except csv.Error as exc:
        raise IngestError(Problem(f"malformed CSV: {exc}", file=label,
                                  row=reader.line_num)) from None
    if not columns:
        raise IngestError(Problem("the CSV is empty: it needs a header row", file=label))
    if not rows:
        raise IngestError(Problem("the CSV has a header but no rows", file=label))
    return columns, rows
