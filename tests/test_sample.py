"""The sample collection of ``sen sample``: what ``make demo`` and many tests ingest.

It must be a valid CSV folder in Sen's format, its images must open at the sizes drawn,
its ALTO must parse and carry the promised OCR errors, and it must be the same bytes on
every run (so ingesting it twice can be checked for idempotence).
"""

from __future__ import annotations

import csv
import hashlib
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import pyvips

from ingest.sample import OCR_NOISE, write_sample

ALTO = "{http://www.loc.gov/standards/alto/ns-v4#}"
REQUIRED = {"identifier", "title", "files"}
DUBLIN_CORE = {"identifier", "title", "alternative", "creator", "contributor", "publisher",
               "date", "type", "language", "subject", "spatial", "description", "rights"}
SEN_COLUMNS = {"access", "category", "collection", "holding_library", "shelfmark", "extent",
               "files", "alto"}
TYPES = {"sách", "báo", "tạp chí", "bản đồ", "ảnh", "sắc phong", "gia phả", "địa bạ",
         "tài liệu Hán Nôm", "tài liệu hành chính", "luận văn", "bản thảo"}
#: Page sizes the generator draws, per item, in reading order.
SIZES = {
    "dt-dc-0001": [(1460, 2070)] * 4,
    "tg-dc-0002": [(1800, 2520)],
    "dt-qh-0003": [(2000, 1450)],
    "dt-qh-0004": [(2000, 910)],
    "dt-qh-0005": [(1340, 1890)] * 2,
    "dt-anh-0006": [(1800, 1200)],
    "dt-nb-0007": [(1240, 1754)],
}
MAGIC = {".png": (b"\x89PNG",), ".jpg": (b"\xff\xd8\xff",), ".tif": (b"II*\x00", b"MM\x00*")}


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """The sample written twice into two folders."""
    top = tmp_path_factory.mktemp("sample")
    first = write_sample(top / "one" / "sample")  # parents are created
    second = write_sample(top / "two")
    return first, second


@pytest.fixture(scope="module")
def rows(runs):
    with open(runs[0], encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def alto_docs(runs, rows):
    """Every ALTO file: (item row, page index, parsed tree)."""
    docs = []
    for row in rows:
        for n, name in enumerate(row["alto"].split("|") if row["alto"] else []):
            if name:
                docs.append((row, n, ET.parse(runs[0].parent / name)))
    return docs


def _strings(tree: ET.ElementTree) -> list[ET.Element]:
    return list(tree.iter(f"{ALTO}String"))


def _box_mean(grey: bytes, stride: int, x: int, y: int, w: int, h: int) -> float:
    """Mean grey level of a box of a one-band 8-bit image held as bytes."""
    return sum(sum(grey[r * stride + x:r * stride + x + w]) for r in range(y, y + h)) / (w * h)


def test_returns_the_csv_inside_dest(runs):
    assert runs[0].name == "metadata.csv" and runs[0].parent.name == "sample"
    assert runs[1] == runs[1].parent / "metadata.csv"


def test_csv_follows_sens_format(runs, rows):
    header = runs[0].read_text(encoding="utf-8").splitlines()[0].split(",")
    base = {c.split("@")[0] for c in header}
    assert REQUIRED <= base and DUBLIN_CORE | SEN_COLUMNS <= base
    assert all(re.fullmatch(r"[a-z]+(@(en|fr|lzh))?|holding_library", c) for c in header)
    assert 5 <= len(rows) <= 7
    assert len({r["identifier"] for r in rows}) == len(rows)
    for row in rows:
        assert re.fullmatch(r"[A-Za-z0-9._-]+", row["identifier"])
        assert row["title"] and row["files"]
        assert row["access"] in {"public", "restricted", "internal"}
        assert row["category"] in {"local_studies", "rare", "special"}
        assert row["type"] in TYPES
        assert set(filter(None, row["language"].split("|"))) <= {"vie", "fra", "lzh"}
        assert re.fullmatch(r"\d{4}|\d{4}-\d{4}|khoảng \d{4}", row["date"])
        assert re.match(r"http://(rightsstatements\.org/vocab|creativecommons\.org)/",
                        row["rights"])
        if row["alto"]:
            assert len(row["alto"].split("|")) == len(row["files"].split("|"))


def test_sample_covers_what_ingest_must_handle(rows):
    """Restricted and internal items, several collections, languages and formats."""
    assert {r["access"] for r in rows} == {"public", "restricted", "internal"}
    assert {r["category"] for r in rows} == {"local_studies", "rare", "special"}
    assert 2 <= len({r["collection"] for r in rows}) <= 3
    assert any(r["title@fr"] for r in rows) and any(r["alternative@lzh"] for r in rows)
    assert re.search(r"[\u4e00-\u9fff]", "".join(r["alternative@lzh"] for r in rows))
    files = [f for r in rows for f in r["files"].split("|")]
    assert {Path(f).suffix for f in files} == {".png", ".jpg", ".tif"}
    assert any(len(r["files"].split("|")) >= 3 for r in rows)
    assert any("" in r["alto"].split("|") for r in rows if r["alto"])  # a page without ALTO
    assert any(d["date"].startswith("khoảng") for d in rows)
    text = " ".join(v for r in rows for v in r.values())
    assert "Plaine des Joncs" in text and "Thư viện Tiền Giang (cơ sở Mỹ Tho)" in text


def test_every_page_is_a_readable_image_of_the_drawn_size(runs, rows):
    folder = runs[0].parent
    assert {r["identifier"] for r in rows} == set(SIZES)
    for row in rows:
        pages = row["files"].split("|")
        assert len(pages) == len(SIZES[row["identifier"]])
        for name, size in zip(pages, SIZES[row["identifier"]], strict=True):
            path = folder / name
            assert path.read_bytes()[:4].startswith(MAGIC[path.suffix]), name
            image = pyvips.Image.new_from_file(str(path), fail_on="error")
            assert (image.width, image.height) == size, name
            assert image.bands == 3 and image.format == "uchar"
            assert 40 < image.avg() < 240, f"{name} is blank"  # every pixel decodes


def test_alto_parses_and_boxes_lie_on_the_page(runs, rows, alto_docs):
    assert len(alto_docs) == 7
    for row, n, tree in alto_docs:
        page = tree.find(f"{ALTO}Layout/{ALTO}Page")
        width, height = int(page.get("WIDTH")), int(page.get("HEIGHT"))
        assert [(width, height)] == SIZES[row["identifier"]][n:n + 1]
        image = tree.findtext(f"{ALTO}Description/{ALTO}sourceImageInformation/{ALTO}fileName")
        assert image == Path(row["files"].split("|")[n]).name
        strings = _strings(tree)
        assert strings and all(s.get("CONTENT") for s in strings)
        for s in strings:
            x, y, w, h = (int(s.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
            assert 0 <= x and x + w <= width and 0 <= y and y + h <= height


def test_alto_words_sit_on_the_printed_words(runs, rows, alto_docs):
    """A search hit is highlighted where the word is printed, page rotation included: the
    String boxes are darker than the page, and darker than the same boxes half a line lower."""
    for row, n, tree in alto_docs:
        page = pyvips.Image.new_from_file(
            str(runs[0].parent / row["files"].split("|")[n])).colourspace("b-w")[0]
        grey = page.write_to_memory()
        on, below = [], []
        for s in _strings(tree):
            x, y, w, h = (int(s.get(k)) for k in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
            on.append(_box_mean(grey, page.width, x, y, w, h))
            below.append(_box_mean(grey, page.width, x, min(page.height - h, y + 3 * h // 2),
                                   w, h))
        mean_on, mean_below = sum(on) / len(on), sum(below) / len(below)
        assert mean_on < page.avg() - 8 and mean_on < mean_below - 5, row["identifier"]


def test_alto_carries_the_ocr_noise_and_never_the_clean_phrase(alto_docs):
    """Every occurrence of an ``OCR_NOISE`` phrase is damaged, with a low confidence."""
    read = " ".join(s.get("CONTENT").strip(".,;:!?«»()") for _, _, tree in alto_docs
                    for s in _strings(tree))
    for clean, damaged in OCR_NOISE.items():
        assert f" {damaged} " in f" {read} ", f"{damaged!r} is missing from the ALTO"
        assert f" {clean} " not in f" {read} ", f"{clean!r} was left undamaged"
    damaged_words = {b for c, d in OCR_NOISE.items()
                     for a, b in zip(c.split(), d.split(), strict=True) if a != b}
    confidences = {s.get("CONTENT").strip(".,;:!?«»()"): float(s.get("WC"))
                   for _, _, tree in alto_docs for s in _strings(tree)}
    assert all(confidences[word] < 0.5 for word in damaged_words)


def test_old_and_new_tone_placement_both_occur(alto_docs):
    """Sen's search must meet ``hoà`` and ``hòa``: the 1934 newspaper prints the old
    placement, the 1963 booklet the new one."""
    by_item = {}
    for row, _, tree in alto_docs:
        by_item.setdefault(row["identifier"], set()).update(
            s.get("CONTENT").strip(".,;:!?()").lower() for s in _strings(tree))
    assert {"hoà", "thuỵ", "khoẻ"} <= by_item["tg-dc-0002"]
    assert "hóa" in by_item["dt-dc-0001"] and "hoà" not in by_item["dt-dc-0001"]


def test_two_runs_write_the_same_bytes(runs):
    def digests(folder: Path) -> dict[str, str]:
        return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(folder.rglob("*")) if p.is_file()}

    one, two = digests(runs[0].parent), digests(runs[1].parent)
    assert len(one) == 19 and one == two

