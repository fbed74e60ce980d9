"""The sample collection written by ``sen sample DIR``, used by ``make demo`` and the tests.

Seven fictional items in three collections, drawn with pyvips and the standard library
only, so the demo needs no downloads and no third-party scans. Together they exercise
what real ingest meets: PNG, JPEG and TIFF (deflate and uncompressed) masters, multi-page
items mixing formats, French, English and Hán (``lzh``) labels, the old tone placement
(hoà, Thuỵ, khoẻ) beside the new (hòa), an unknown place name, a ``restricted`` and an
``internal`` item, and ALTO files whose OCR errors (``OCR_NOISE``) test the OCR-tolerant
search.

Everything is deterministic: fixed seeds, no timestamps, metadata not kept on save, so two
runs write the same bytes and the idempotence of ingest can be tested on it.

pyvips 3 copies the whole image on every ``draw_*`` call, so pen work (text, rivers, boats,
seals) is rasterised here into a :class:`Mask` of bytes and handed to libvips once.
"""

from __future__ import annotations

import csv
import html
import math
import random
import xml.etree.ElementTree as ET
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache, partial
from pathlib import Path
from typing import NamedTuple

import pyvips

#: Words the simulated OCR gets wrong, clean → as written in the ALTO files. Every
#: occurrence on every text page is damaged, so a hit on the clean word inside a page can
#: only come from OCR-tolerant matching. Kinds: h→b, o→0, m→rn, rn→m, lost marks, l→1.
OCR_NOISE: dict[str, str] = {
    "Tháp": "Tbáp",
    "Cao Lãnh": "Ca0 Lãnh",
    "miếu": "rniếu",
    "Gouverneur": "Gouvemeur",
    "Gò Công": "Go Cong",
    "lúa": "1úa",
}

#: The CSV columns, in the order written (Sen's stable sample interface).
COLUMNS = [
    "identifier", "title", "title@en", "title@fr", "alternative", "alternative@lzh",
    "creator", "contributor", "publisher", "date", "type", "language", "subject", "spatial",
    "description", "description@en", "description@fr", "rights", "access", "category",
    "collection", "collection@en", "holding_library", "shelfmark", "extent", "files", "alto",
]

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
RGB = tuple[float, float, float]
Box = tuple[int, int, int, int]

LOCAL = ("Tài liệu địa chí Đồng Tháp", "Đồng Tháp local studies")
RARE = ("Tài liệu cổ, quý hiếm", "Ancient and rare documents")
VISUAL = ("Ảnh và bản đồ", "Photographs and maps")
LIBRARY = "Thư viện tỉnh Đồng Tháp"


# --------------------------------------------------------------------------- drawing


class Mask:
    """A one-band coverage mask (0–255) drawn with byte spans, then given to libvips once."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.buf = bytearray(width * height)

    def span(self, y: int, x0: float, x1: float, value: int = 255) -> None:
        x0, x1 = max(0, round(x0)), min(self.width, round(x1))
        if 0 <= y < self.height and x1 > x0:
            start = y * self.width
            self.buf[start + x0:start + x1] = bytes((value,)) * (x1 - x0)

    def rect(self, x: float, y: float, w: float, h: float, value: int = 255) -> None:
        for row in range(round(y), round(y + h)):
            self.span(row, x, x + w, value)

    def frame(self, x: float, y: float, w: float, h: float, t: float, value: int = 255) -> None:
        for rx, ry, rw, rh in ((x, y, w, t), (x, y + h - t, w, t), (x, y, t, h),
                               (x + w - t, y, t, h)):
            self.rect(rx, ry, rw, rh, value)

    def disc(self, cx: float, cy: float, r: float, value: int = 255) -> None:
        for dy in range(-math.floor(r), math.floor(r) + 1):
            half = math.sqrt(max(0.0, r * r - dy * dy))
            self.span(round(cy) + dy, cx - half, cx + half + 1, value)

    def stroke(self, points: list[tuple[float, float]], width: float = 3.0,
               value: int = 255) -> None:
        """A pen line through ``points``: discs stamped every half radius."""
        r = width / 2
        for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
            n = max(1, int(math.hypot(x1 - x0, y1 - y0) / max(1.0, r / 2)))
            for i in range(n):
                self.disc(x0 + (x1 - x0) * i / n, y0 + (y1 - y0) * i / n, r, value)
        self.disc(*points[-1], r, value)

    def polygon(self, points: list[tuple[float, float]], value: int = 255) -> None:
        """Even-odd scan-line fill."""
        edges = list(zip(points, points[1:] + points[:1], strict=True))
        ys = [p[1] for p in points]
        for row in range(max(0, math.floor(min(ys))), min(self.height, math.ceil(max(ys)))):
            yc = row + 0.5
            xs = sorted(x0 + (yc - y0) * (x1 - x0) / (y1 - y0)
                        for (x0, y0), (x1, y1) in edges if (y0 <= yc) != (y1 <= yc))
            for a, b in zip(xs[::2], xs[1::2], strict=True):
                self.span(row, a, b, value)

    def paste(self, image: pyvips.Image, x: int, y: int) -> None:
        """OR a one-band uchar image (rendered text) into the mask at (x, y), clipped."""
        data, w = image.write_to_memory(), image.width
        x0, x1 = max(0, x), min(self.width, x + w)
        if x1 <= x0:
            return
        for row in range(max(0, y), min(self.height, y + image.height)):
            src = data[(row - y) * w + x0 - x:(row - y) * w + x1 - x]
            at = row * self.width
            old = int.from_bytes(self.buf[at + x0:at + x1], "big")
            self.buf[at + x0:at + x1] = (old | int.from_bytes(src, "big")).to_bytes(x1 - x0, "big")

    def label(self, text: str, font: str, dpi: int, x: float, y: float,
              angle: float = 0.0) -> Box:
        """Render ``text`` centred on (x, y), turned clockwise by ``angle`` degrees."""
        glyphs = _glyphs(text, font, dpi)[0]
        if angle:
            glyphs = glyphs.rotate(angle, interpolate=pyvips.Interpolate.new("bilinear"))
        left, top = round(x - glyphs.width / 2), round(y - glyphs.height / 2)
        self.paste(glyphs, left, top)
        return left, top, glyphs.width, glyphs.height

    def keep(self, x: int, y: int, w: int, h: int) -> None:
        """Erase everything outside the rectangle."""
        for row in range(self.height):
            if y <= row < y + h:
                self.span(row, 0, x, 0)
                self.span(row, x + w, self.width, 0)
            else:
                self.span(row, 0, self.width, 0)

    def image(self, blur: float = 0.0) -> pyvips.Image:
        img = pyvips.Image.new_from_memory(bytes(self.buf), self.width, self.height, 1, "uchar")
        return img.gaussblur(blur) if blur else img


@cache
def _glyphs(text: str, font: str, dpi: int) -> tuple[pyvips.Image, int, int]:
    """Pango's ink image of ``text`` and its offset from the layout's top left."""
    img = pyvips.Image.text(html.escape(text, quote=False), font=font, dpi=dpi)
    return img, img.get("xoffset"), img.get("yoffset")


class Painter:
    """Shapes in several colours, composed in the order drawn (so nearer things cover)."""

    def __init__(self, width: int, height: int):
        self.width, self.height = width, height
        self.layers: list[tuple[RGB, Mask, float, float]] = []

    def __call__(self, rgb: RGB, opacity: float = 1.0, blur: float = 0.0) -> Mask:
        if self.layers and self.layers[-1][0] == rgb and self.layers[-1][2:] == (opacity, blur):
            return self.layers[-1][1]
        self.layers.append((rgb, Mask(self.width, self.height), opacity, blur))
        return self.layers[-1][1]

    def images(self) -> list[tuple[pyvips.Image, RGB, float]]:
        return [(m.image(blur), rgb, op) for rgb, m, op, blur in self.layers]

    def over(self, base: pyvips.Image) -> pyvips.Image:
        return _compose(base, self.images())


class Pen:
    """A mask's drawing methods with the value to draw already chosen."""

    def __init__(self, mask: Mask, value: int):
        self.mask, self.value = mask, value

    def __getattr__(self, name: str) -> Callable:
        return partial(getattr(self.mask, name), value=self.value)


class Palette(Mask):
    """Opaque shapes in up to 255 colours, each pixel a colour index (0 = nothing drawn):
    a scene of a hundred coloured shapes then costs one table look-up, not a hundred
    layers to compose."""

    def __init__(self, width: int, height: int):
        super().__init__(width, height)
        self.colours: list[RGB] = [(0, 0, 0)]

    def __call__(self, rgb: RGB) -> Pen:
        if rgb not in self.colours:
            self.colours.append(rgb)
        return Pen(self, self.colours.index(rgb))

    def over(self, base: pyvips.Image) -> pyvips.Image:
        table = bytes(round(c) for rgb in self.colours for c in rgb)
        lut = pyvips.Image.new_from_memory(table.ljust(256 * 3, b"\0"), 256, 1, 3, "uchar")
        index = self.image()
        return (index > 0).ifthenelse(index.maplut(lut), base)


def _compose(base: pyvips.Image, layers: list[tuple[pyvips.Image, RGB, float]]) -> pyvips.Image:
    """Mix each layer's colour into ``base`` by its mask's coverage times its opacity."""
    for mask, rgb, opacity in layers:
        alpha = mask * (opacity / 255)
        base = base * (1 - alpha) + alpha * list(rgb)
    return base


SMOOTH = 8  # slowly varying fields are computed at 1/SMOOTH of the page size


def _smooth(w: int, h: int, make: Callable[[int, int], pyvips.Image]) -> pyvips.Image:
    """A slowly varying field (blotches, shading) made at 1/``SMOOTH`` size and enlarged:
    it looks the same and costs ``SMOOTH``² times less."""
    small = make(w // SMOOTH + 2, h // SMOOTH + 2)
    return small.resize(SMOOTH, kernel="linear").crop(0, 0, w, h)


def _perlin(w: int, h: int, cell: int, seed: int) -> pyvips.Image:
    """Perlin noise in -1..1 with cells of about ``cell`` px."""
    return _smooth(w, h, lambda sw, sh: pyvips.Image.perlin(
        sw, sh, cell_size=max(2, cell // SMOOTH), seed=seed))


def _edges(w: int, h: int, strength: float) -> pyvips.Image:
    """A factor darkening the last few dozen pixels of each edge, as on an old sheet."""
    def near(sw: int, sh: int) -> pyvips.Image:
        xyz = pyvips.Image.xyz(sw, sh).cast("float") * SMOOTH
        x, y = xyz[0], xyz[1]
        return 1 - strength * sum((d / -45).exp() for d in (x, y, w - x, h - y))
    return _smooth(w, h, near)


def _grain(w: int, h: int, sigma: float, seed: int) -> pyvips.Image:
    """Fine uniform noise of standard deviation ``sigma`` from Python's seeded generator:
    to the eye the same as libvips' gaussnoise, and seven times cheaper to make."""
    data = random.Random(seed).randbytes(w * h)
    return pyvips.Image.new_from_memory(data, w, h, 1, "uchar").linear(
        sigma * math.sqrt(3) / 127.5, -sigma * math.sqrt(3))


def _paper(w: int, h: int, rgb: RGB, seed: int, *, blotch: float = 5.0, grain: float = 4.0,
           edge: float = 0.0) -> pyvips.Image:
    """Paper as a flatbed scan sees it: a tint, soft blotches, grain, optionally darker edges."""
    tone = (_perlin(w, h, max(w, h) // 5, seed) * blotch
            + _grain(w, h, grain, seed + 1))
    paper = tone + list(rgb)
    return paper * _edges(w, h, edge) if edge else paper


def _rotate(img: pyvips.Image, angle: float) -> pyvips.Image:
    """Rotate about the centre keeping the size: a page laid slightly askew on the glass."""
    a = math.radians(angle)
    cx, cy = img.width / 2, img.height / 2
    return img.affine([math.cos(a), -math.sin(a), math.sin(a), math.cos(a)],
                      oarea=[0, 0, img.width, img.height], idx=-cx, idy=-cy, odx=cx, ody=cy,
                      interpolate=pyvips.Interpolate.new("bilinear"))


def _wobble(points: list[tuple[float, float]], rng: random.Random, amp: float,
            step: float = 6.0) -> list[tuple[float, float]]:
    """A hand-drawn path: points every ``step`` px along the polyline, pushed sideways by
    two slow waves and a little tremor."""
    waves = [(rng.uniform(0.004, 0.012), rng.uniform(0, 6.3)) for _ in range(2)]
    out, walked = [], 0.0
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        length = math.hypot(x1 - x0, y1 - y0)
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        for i in range(max(1, int(length / step))):
            t = i * step / length
            off = amp * sum(math.sin(walked * f + p) for f, p in waves) / 2
            off += rng.uniform(-0.6, 0.6)
            out.append((x0 + (x1 - x0) * t + nx * off, y0 + (y1 - y0) * t + ny * off))
            walked += step
    out.append(points[-1])
    return out


def _save(img: pyvips.Image, path: Path, dpi: float, tiff: str = "deflate") -> None:
    """Save without metadata, so no date or tool version makes two runs differ."""
    img = img.cast("uchar").copy(xres=dpi / 25.4, yres=dpi / 25.4)
    if path.suffix == ".png":
        img.pngsave(str(path), compression=3, keep="none")  # 6 is 4× slower, 4% smaller
    elif path.suffix == ".jpg":
        img.jpegsave(str(path), Q=88, keep="none")
    else:
        img.tiffsave(str(path), compression=tiff, predictor="horizontal", keep="none")


# --------------------------------------------------------------------------- typesetting


@dataclass
class Para:
    """A paragraph and how to set it; sizes in points, spaces in em."""

    text: str
    size: float = 12
    style: str = ""
    family: str = "DejaVu Serif"
    align: str = "justify"  # or "left", "centre", "right"
    indent: float = 1.5
    before: float = 0.0
    after: float = 0.35
    leading: float = 1.38

    def font(self) -> str:
        return " ".join(p for p in (self.family, self.style, f"{self.size:g}") if p)


@dataclass
class Word:
    content: str  # as the simulated OCR read it
    box: Box
    damaged: bool


@dataclass
class Sheet:
    """A page being typeset: its ink, and the ALTO blocks of what was set on it."""

    width: int
    height: int
    dpi: int
    ink: Mask = field(init=False)
    blocks: list[list[list[Word]]] = field(default_factory=list)
    angle: float = 0.0
    jitter: float = 0.0  # px a word may leave the line: a hand does not keep to it
    rng: random.Random = field(default_factory=lambda: random.Random(0))

    def __post_init__(self) -> None:
        self.ink = Mask(self.width, self.height)

    def flow(self, paras: list[Para], frames: list[tuple[int, int, int, int]]) -> int:
        """Set ``paras`` into frames (x, top, width, bottom), going to the next frame when
        one is full, like newspaper columns; returns the y below the last line."""
        frames = list(frames)
        x, y, width, bottom = frames.pop(0)
        for para in paras:
            em = para.size * self.dpi / 72
            pitch, space = round(para.leading * em), 0.3 * em
            y += round(para.before * em)
            block: list[list[Word]] = []
            for n, (line, last) in enumerate(_wrap(para, width, em, self.dpi)):
                if y + pitch > bottom:
                    if not frames:
                        raise ValueError(f"text overflows the page: {para.text[:40]!r}")
                    if block:
                        self.blocks.append(block)
                    block, (x, y, width, bottom) = [], frames.pop(0)
                block.append(self._set_line(para, line, last, x, y, width, em, space,
                                            para.indent * em if n == 0 else 0))
                y += pitch
            self.blocks.append(block)
            y += round(para.after * em)
        return y

    def _set_line(self, para: Para, line: list[tuple[str, str]], last: bool, x: int, y: int,
                  width: int, em: float, space: float, indent: float) -> list[Word]:
        font = para.font()
        glyphs = [_glyphs(clean, font, self.dpi) for clean, _ in line]
        advances = [g.width + dx for g, dx, _ in glyphs]
        free = width - indent - sum(advances) - space * (len(line) - 1)
        gap = space
        if para.align == "justify" and not last and len(line) > 1:
            gap += free / (len(line) - 1)
        elif para.align == "centre":
            indent += free / 2
        elif para.align == "right":
            indent += free
        pen, words = x + indent, []
        for (g, dx, dy), (clean, noisy), adv in zip(glyphs, line, advances, strict=True):
            lift = round(self.rng.uniform(-self.jitter, self.jitter)) if self.jitter else 0
            self.ink.paste(g, round(pen + dx), y + dy + lift)
            box = (round(pen + dx), y + lift, g.width, round(1.2 * em))
            words.append(Word(noisy, box, noisy != clean))
            pen += adv + gap
        return words

    def render(self, paper: pyvips.Image, ink_rgb: RGB, seed: int, *, angle: float = 0.0,
               density: float = 0.92, extra: list | None = None) -> pyvips.Image:
        """Ink laid on paper unevenly (as letterpress prints), softened, then the whole
        sheet turned by ``angle`` degrees; ALTO boxes follow the turn."""
        self.angle = angle
        uneven = _perlin(self.width, self.height, 60, seed) * 0.12 + 0.88
        ink = self.ink.image(0.6) * uneven
        ink = _rotate(ink, angle) if angle else ink
        return _compose(paper, (extra or []) + [(ink, ink_rgb, density)])

    def alto(self, image_name: str, page: int) -> bytes:
        return _alto(image_name, page, self.width, self.height, self.blocks, self.angle)


def _noisy(tokens: list[str]) -> list[str]:
    """The tokens as the simulated OCR reads them: every ``OCR_NOISE`` phrase damaged,
    also across line ends, keeping punctuation attached to the word."""
    out = list(tokens)
    for clean, damaged in OCR_NOISE.items():
        keys, values = clean.split(), damaged.split()
        for i in range(len(out) - len(keys) + 1):
            window = [t.strip(".,;:!?«»()\"'–") for t in tokens[i:i + len(keys)]]
            if window == keys:
                for j, (k, v) in enumerate(zip(keys, values, strict=True)):
                    out[i + j] = out[i + j].replace(k, v, 1)
    return out


def _wrap(para: Para, width: int, em: float, dpi: int):
    """Greedy line breaking on measured words; yields (line of (clean, noisy) words, last)."""
    tokens = para.text.split()
    pairs = list(zip(tokens, _noisy(tokens), strict=True))
    font, space = para.font(), 0.3 * em
    line: list[tuple[str, str]] = []
    used = para.indent * em
    for pair in pairs:
        g, dx, _ = _glyphs(pair[0], font, dpi)
        adv = g.width + dx
        if line and used + space + adv > width:
            yield line, False
            line, used = [], 0.0
        used += (space if line else 0) + adv
        line.append(pair)
    if line:
        yield line, True


def _alto(image_name: str, page: int, width: int, height: int, blocks: list[list[list[Word]]],
          angle: float) -> bytes:
    """ALTO 4 for one page: TextBlock / TextLine / String with pixel boxes (the word boxes
    turned with the page), no processing date so the file is the same on every run."""
    a = math.radians(angle)
    cx, cy = width / 2, height / 2

    def turn(box: Box) -> Box:
        x, y, w, h = box
        mx, my = x + w / 2 - cx, y + h / 2 - cy
        nx, ny = cx + mx * math.cos(a) - my * math.sin(a), cy + mx * math.sin(a) + my * math.cos(a)
        return round(nx - w / 2), round(ny - h / 2), w, h

    def union(boxes: list[Box]) -> Box:
        x0, y0 = min(b[0] for b in boxes), min(b[1] for b in boxes)
        return x0, y0, max(b[0] + b[2] for b in boxes) - x0, max(b[1] + b[3] for b in boxes) - y0

    def place(el: ET.Element, box: Box) -> None:
        for name, v in zip(("HPOS", "VPOS", "WIDTH", "HEIGHT"), box, strict=True):
            el.set(name, str(v))

    ET.register_namespace("", ALTO_NS)
    def q(tag: str) -> str:
        return f"{{{ALTO_NS}}}{tag}"

    root = ET.Element(q("alto"))
    desc = ET.SubElement(root, q("Description"))
    ET.SubElement(desc, q("MeasurementUnit")).text = "pixel"
    ET.SubElement(ET.SubElement(desc, q("sourceImageInformation")), q("fileName")).text = image_name
    step = ET.SubElement(ET.SubElement(desc, q("OCRProcessing"), ID="OCR1"),
                         q("ocrProcessingStep"))
    soft = ET.SubElement(step, q("processingSoftware"))
    ET.SubElement(soft, q("softwareName")).text = "Sen sample generator (simulated OCR)"
    layout_page = ET.SubElement(ET.SubElement(root, q("Layout")), q("Page"), ID=f"P{page}",
                                PHYSICAL_IMG_NR=str(page), WIDTH=str(width), HEIGHT=str(height))
    space = ET.SubElement(layout_page, q("PrintSpace"))
    all_boxes = []
    for b, block in enumerate(blocks, 1):
        lines = [[(w.content, turn(w.box), w.damaged) for w in line] for line in block if line]
        if not lines:
            continue
        tb = ET.SubElement(space, q("TextBlock"), ID=f"P{page}_TB{b}")
        all_boxes.append(union([box for line in lines for _, box, _ in line]))
        place(tb, all_boxes[-1])
        for n, line in enumerate(lines, 1):
            tl = ET.SubElement(tb, q("TextLine"), ID=f"P{page}_TB{b}_L{n}")
            place(tl, union([box for _, box, _ in line]))
            for k, (content, box, hurt) in enumerate(line):
                if k:
                    sp = ET.SubElement(tl, q("SP"))
                    prev = line[k - 1][1]
                    sp.set("HPOS", str(prev[0] + prev[2]))
                    sp.set("VPOS", str(box[1]))
                    sp.set("WIDTH", str(max(1, box[0] - prev[0] - prev[2])))
                s = ET.SubElement(tl, q("String"), CONTENT=content)
                place(s, box)
                s.set("WC", "0.41" if hurt else "0.96")  # a damaged word has a low confidence
    place(space, union(all_boxes) if all_boxes else (0, 0, width, height))
    ET.indent(root)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")
            + "\n").encode("utf-8")


# --------------------------------------------------------------------------- the items

class Page(NamedTuple):
    name: str
    image: pyvips.Image
    dpi: float
    alto: bytes | None = None
    tiff: str = "deflate"  # TIFF compression; scanning workflows often keep "none"


def _h(text: str, size: float = 13.5, **kw) -> Para:
    """A heading: bold, not indented, kept apart from the text around it."""
    return Para(text, size=size, style="Bold", align=kw.pop("align", "left"), indent=0,
                before=kw.pop("before", 0.7), after=kw.pop("after", 0.45), **kw)


def _c(text: str, size: float = 11, **kw) -> Para:
    """A centred line (titles, imprints)."""
    return Para(text, size=size, align="centre", indent=0, **kw)


BOOKLET_BODY = [
    [
        _h("I. VÀI NÉT VỀ ĐỊA LÝ", before=0),
        Para("Sa Đéc và Cao Lãnh nằm hai bên bờ sông Tiền, giữa vùng đất phù sa màu mỡ của "
             "đồng bằng sông Cửu Long. Phía bắc là vùng trũng Đồng Tháp Mười, người Pháp gọi "
             "là Plaine des Joncs; mùa nước nổi, đồng nước mênh mông như biển, chỉ thấy ngọn "
             "tràm và những mái nhà sàn nhô lên giữa trời nước."),
        Para("Phía nam, dải đất kẹp giữa sông Tiền và sông Hậu có kênh rạch chằng chịt. Ghe "
             "xuồng là phương tiện đi lại chính; chợ búa, trường học, đình chùa đều quay mặt ra "
             "bờ sông. Đất ở đây hợp với cây lúa, cây ăn trái và hoa kiểng, nên từ lâu đã nổi "
             "tiếng là nơi trù phú."),
        Para("Người dân quen sống với con nước: mùa khô làm ruộng, mùa nước đánh bắt cá linh, "
             "hái bông điên điển, bông súng. Câu ca dao «Đồng Tháp Mười cò bay thẳng cánh, "
             "nước Tháp Mười lóng lánh cá tôm» nói lên sự giàu có của vùng đất này."),
        _h("II. SA ĐÉC XƯA"),
        Para("Từ thế kỷ XVIII, lưu dân từ miền Trung theo đường biển và đường sông vào khai "
             "phá, lập nên xóm làng dọc các con rạch. Chợ Sa Đéc sớm trở thành nơi tụ hội của "
             "ghe thương hồ, buôn bán lúa gạo, cá khô, trái cây với khắp Lục tỉnh Nam Kỳ."),
    ],
    [
        Para("Dưới thời Pháp thuộc, Sa Đéc là tỉnh lỵ; trên giấy tờ, người Pháp viết là Sadec. "
             "Dọc bờ rạch mọc lên dãy phố lầu, nhà việc, trường học và nhà thương. Nhiều ngôi "
             "nhà cổ của các gia đình buôn lúa gạo còn giữ được lối kiến trúc pha trộn Đông "
             "Tây, mái ngói, cửa gỗ chạm trổ công phu."),
        Para("Làng hoa Tân Quy Đông có từ lâu đời. Mỗi độ Tết đến, hàng trăm chiếc ghe chở "
             "cúc, vạn thọ, mai vàng xuôi về Sài Gòn, Chợ Lớn. Trong làng còn mấy ngôi miếu cổ "
             "mái ngói âm dương rêu phong, nơi dân làng cúng bái vào dịp rằm tháng Giêng."),
        _h("III. CAO LÃNH VÀ VÙNG ĐỒNG THÁP MƯỜI"),
        Para("Theo lời truyền khẩu, tên Cao Lãnh ghép từ tên ông Cả Cao và bà Lãnh, hai vợ "
             "chồng có công giúp đỡ dân nghèo trong một trận dịch. Chợ Cao Lãnh nằm bên con "
             "rạch cùng tên đổ ra sông Tiền, là cửa ngõ đi vào Đồng Tháp Mười."),
        Para("Từ chợ, ghe xuồng theo các con kênh đào đi sâu vào vùng trũng, nơi có rừng "
             "tràm, đầm sen và đồng cỏ năng bạt ngàn. Đời sống người dân nơi đây gắn với chiếc "
             "xuồng ba lá, cây lúa mùa nổi và con cá đồng."),
        Para("Ven sông Tiền, các làng Mỹ Xương, Tân Thuận có những vườn xoài sum suê. Mùa "
             "xoài chín vào khoảng tháng Ba, tháng Tư âm lịch, thương lái từ Sài Gòn xuống tận "
             "vườn mua trái, chở bằng ghe về các chợ lớn."),
    ],
    [
        _h("IV. SINH HOẠT VĂN HÓA", before=0),
        Para("Đình làng là nơi sinh hoạt chung của cộng đồng. Hằng năm, lễ Kỳ yên được tổ "
             "chức long trọng, có hát bội và đờn ca tài tử kéo dài suốt ba đêm. Bên cạnh đình "
             "còn có chùa, miếu Bà Chúa Xứ, miếu Ông Tà, cho thấy tín ngưỡng dân gian phong "
             "phú của người dân Nam Bộ."),
        Para("Các nghề truyền thống như dệt chiếu, làm bột, làm bánh phồng tôm vẫn được gìn "
             "giữ. Những món ăn dân dã như cá lóc nướng trui, canh chua bông điên điển, hủ "
             "tiếu Sa Đéc đã làm nên hương vị riêng của vùng đất sen hồng."),
        Para("Tập sách nhỏ này chỉ mong ghi lại đôi nét về quê hương, để con cháu mai sau "
             "biết đất Sa Đéc, Cao Lãnh đã được ông cha khai phá và gìn giữ ra sao. Mọi thiếu "
             "sót xin bạn đọc chỉ giáo."),
        Para("Sa Đéc, mùa xuân năm Quý Mão (1963)", style="Italic", align="right", indent=0,
             before=1.0),
        Para("L. M. K.", align="right", indent=0),
    ],
]

BOOK_W, BOOK_H, BOOK_DPI = 1460, 2070, 250
BOOK_PAPER, BOOK_INK = (236, 229, 212), (38, 34, 32)


def booklet() -> list[Page]:
    """« Sa Đéc – Cao Lãnh: đất và người » (1963): a title page and three text pages, PNG."""
    sheets = [Sheet(BOOK_W, BOOK_H, BOOK_DPI) for _ in range(4)]
    title = sheets[0]
    title.flow([_c("HỘI KHUYẾN HỌC SA ĐÉC", 11, style="Bold")], [(150, 230, 1160, 400)])
    title.ink.rect(630, 330, 200, 3)
    title.flow([_c("SA ĐÉC – CAO LÃNH", 26, style="Bold", after=0.2),
                _c("ĐẤT VÀ NGƯỜI", 21, style="Bold", after=1.2),
                _c("Lược khảo lịch sử, địa lý và sinh hoạt văn hóa", 13, style="Italic")],
               [(150, 640, 1160, 1100)])
    for i, dx in enumerate((-40, 0, 40)):  # a small printer's ornament
        title.ink.polygon([(730 + dx, 1100 - 12 * (i == 1)), (742 + dx, 1115), (730 + dx, 1130),
                           (718 + dx, 1115)])
    title.flow([_c("LÊ MINH KHOA", 13, style="Bold")], [(150, 1200, 1160, 1300)])
    title.flow([_c("Nhà in Quảng Hưng – Sa Đéc", 10.5), _c("1963", 10.5)],
               [(150, 1780, 1160, 1950)])
    for n, (sheet, paras) in enumerate(zip(sheets[1:], BOOKLET_BODY, strict=True), 2):
        sheet.flow([_c("SA ĐÉC – CAO LÃNH: ĐẤT VÀ NGƯỜI", 8.5)], [(150, 120, 1160, 200)])
        sheet.ink.rect(150, 178, 1160, 2)
        sheet.flow(paras, [(150, 230, 1160, 1890)])
        sheet.flow([_c(f"– {n} –", 9.5)], [(150, 1930, 1160, 2000)])
    pages = []
    for n, sheet in enumerate(sheets, 1):
        paper = _paper(BOOK_W, BOOK_H, BOOK_PAPER, seed=100 + n, edge=0.05)
        img = sheet.render(paper, BOOK_INK, seed=110 + n, angle=(0.35, -0.25, 0.4, -0.3)[n - 1])
        pages.append(Page(f"p{n:03d}.png", img, BOOK_DPI, sheet.alto(f"p{n:03d}.png", n)))
    return pages


NEWS_W, NEWS_H, NEWS_DPI = 1800, 2520, 200


def _news_article(head: str, sub: str | None, paras: list[str]) -> list[Para]:
    out = [_h(head, 14, align="centre", before=0.3, after=0.2, family="DejaVu Serif Condensed")]
    if sub:
        out.append(_c(sub, 10, style="Italic", after=0.5))
    out += [Para(p, size=11, indent=1.2, after=0.15, leading=1.3) for p in paras]
    return out


NEWS_ARTICLES = (
    _news_article("MÙA LÚA Ở GÒ CÔNG", "Nước lớn về sớm, nhiều làng bị thiệt hại", [
        "Năm nay nước lớn về sớm hơn mọi năm, nhiều sở ruộng ở Gò Công bị ngập trắng. Bà "
        "con nông phu than rằng lúa mùa chưa kịp trổ bông đã phải gặt non, hột lép nhiều hơn "
        "hột chắc.",
        "Ở làng Bình Xuân và làng Tân Hoà, chúng tôi thấy dân sự đắp lại bờ bao, tát nước "
        "cứu lúa suốt ngày đêm. Ông hương cả làng Tân Hoà cho biết trong làng đã có hơn ba "
        "chục nhà phải đi vay lúa giống với giá cắt cổ.",
        "Hội đồng quản hạt có hứa sẽ xét việc giảm thuế điền cho những làng bị thiệt hại "
        "nặng. Chúng tôi mong lời hứa ấy sớm thành sự thật, để bà con Gò Công yên lòng lo cho "
        "mùa sau.",
    ])
    + _news_article("CHỢ MỸ THO SAU MÙA NƯỚC", None, [
        "Từ ngày xe lửa Sài Gòn – Mỹ Tho chạy đều mỗi ngày hai chuyến, chợ Mỹ Tho càng thêm "
        "đông đúc. Ghe thương hồ từ Cái Bè, Chợ Gạo, Cù lao Rồng về đậu kín bờ sông, chở "
        "xoài, sầu riêng, chuối, dừa và gạo trắng.",
        "Giá gạo tuần này hơi nhích lên vì nước ngập nhiều nơi. Hàng hoá từ Sài Gòn xuống "
        "như vải, dầu lửa, đường cát thì vẫn giữ giá cũ. Các chủ vựa nói cá linh năm nay về "
        "nhiều, bà con miệt sông Tiền được một mùa khá.",
        "Nhà chức trách đã cho sửa sang dãy nhà lồng chợ cá, tráng xi măng nền và khai thông "
        "cống rãnh, nên chợ sạch sẽ hơn trước nhiều.",
    ])
    + _news_article("TIN TRONG XỨ", None, [
        "Quan Thống đốc Nam Kỳ (Gouverneur de la Cochinchine) sẽ xuống kinh lý hai tỉnh Mỹ "
        "Tho và Gò Công trong tuần tới. Ngài sẽ viếng nhà máy xay lúa, trường Nam học và xem "
        "xét công việc đào kinh ở vùng Đồng Tháp Mười.",
        "Uỷ ban cứu tế hạt Mỹ Tho đã quyên được hơn bốn trăm đồng bạc để giúp những nhà bị "
        "nước lụt. Ai có lòng hảo tâm xin gửi tiền hoặc gạo về toà soạn bổn báo; chúng tôi sẽ "
        "đăng tên trên báo.",
    ])
    + _news_article("TIN THẾ GIỚI", None, [
        "Hội nghị tài binh ở thành Genève bên Thuỵ Sĩ vẫn chưa đi tới đâu. Các cường quốc "
        "bàn cãi mãi về việc giảm bớt binh bị mà chưa ký được tờ hiệp ước nào. Người ta e "
        "rằng nền hoà bình ở Âu châu còn lắm điều đáng lo.",
        "Bên Thuỵ Điển, chánh phủ vừa mở thêm nhiều trường dạy nghề cho con nhà nông. Nhiều "
        "nhà trí thức trong xứ ta cho rằng đó là một gương tốt nên noi theo.",
    ])
    + _news_article("MẮM TÔM CHÀ GÒ CÔNG", None, [
        "Đi chợ Gò Công mấy bữa nay, thấy người ta bày bán mắm tôm chà đỏ au, thơm lừng cả "
        "dãy phố. Mắm làm bằng tôm đất bắt ngoài biển Vàm Láng, đem chà nát rồi trộn muối, "
        "tỏi, ớt, phơi nắng vài tuần mới ăn được.",
        "Nghề này nuôi sống nhiều nhà trong hạt. Mỗi năm ghe buôn chở mắm đi Sài Gòn, Chợ "
        "Lớn và các tỉnh Hậu Giang, có nhà gửi sang tới Nam Vang. Người sành ăn nói mắm để "
        "lâu càng ngon, ăn với thịt luộc, dưa leo thì không chi bằng.",
    ])
    + _news_article("RAO VẶT", None, [
        "– Cần bán một chiếc ghe lường chở lúa, còn tốt, giá 120 đồng. Hỏi ông Sáu Lộc, chợ "
        "Cái Bè.",
        "– Trường tư thục Minh Đức ở Mỹ Tho nhận học trò ban sơ học, có dạy thêm chữ Pháp. "
        "Học phí nhẹ.",
        "– Cô Thuý, thợ may đường Bờ Kinh, nhận may áo dài, áo bà ba; may khéo, giao đúng "
        "hẹn.",
    ])
    + [_h("VĂN UYỂN", 14, align="centre", before=0.3, after=0.2,
          family="DejaVu Serif Condensed"),
       _c("CHIỀU MỸ THO", 10.5, style="Bold", after=0.4)]
    + [Para(line, size=10, style="Italic", family="DejaVu Serif Condensed", align="left",
            indent=1.6 - 1.2 * (i % 2), after=0.05, leading=1.3)
       for i, line in enumerate([
           "Chiều về trên bến Mỹ Tho,", "Con đò nghiêng bóng, câu hò vọng xa.",
           "Gò Công gió lộng bao la,", "Đồng vàng lúa chín, mái nhà khói lam.",
           "Ai về xứ sở phương Nam,", "Nhớ con nước nổi, nhớ cam Cái Bè.",
           "Chiều nay ngồi đợi chuyến xe,", "Tiếng còi hoà với tiếng ghe gọi đò."])]
    + [Para("THUỴ KHANH", size=10, align="right", indent=0, before=0.3, after=0.6)]
)

NEWS_ADS = [
    _c("HOÀ XUÂN ĐƯỜNG", 15, style="Bold", family="DejaVu Sans", after=0.15),
    _c("Tiệm thuốc Bắc – thuốc Nam", 10, style="Italic"),
    _c("Chợ Mỹ Tho, gần bến đò", 10, after=0.4),
    Para("Có bán đủ thứ thuốc bổ huyết, thuốc trị ho, thuốc cho trẻ em mau khoẻ. Giá phải "
         "chăng, gửi thuốc đi các tỉnh.", size=10, indent=0, align="centre"),
]


def newspaper() -> list[Page]:
    """« Tiếng Mỹ Tho » no. 47, 12 May 1934: one front page in three columns, JPEG; old
    tone placement (hoà, Thuỵ, khoẻ, toà) as the press of the time printed it."""
    sheet = Sheet(NEWS_W, NEWS_H, NEWS_DPI)
    sheet.flow([_c("TIẾNG MỸ THO", 44, style="Bold", after=0.1)], [(110, 90, 1580, 400)])
    sheet.ink.rect(110, 300, 1580, 6)
    sheet.flow([_c("TUẦN BÁO RA NGÀY THỨ BẢY  •  Năm thứ ba – Số 47  •  Thứ bảy, 12 Mai 1934  "
                   "•  Giá mỗi số: 0$05", 9.5, after=0.1),
                _c("Chủ nhiệm: HUỲNH VĂN THUẬN  —  Toà soạn: đường Bờ Sông, Mỹ Tho", 9.5,
                   style="Italic")], [(110, 318, 1580, 460)])
    sheet.ink.rect(110, 430, 1580, 3)
    sheet.ink.rect(110, 438, 1580, 2)
    columns = [(110 + i * 540, 475, 500, 2420) for i in range(3)]
    for i in (1, 2):  # column rules
        sheet.ink.rect(110 + i * 540 - 21, 480, 2, 1930)
    top = sheet.flow(NEWS_ARTICLES, columns) + 20  # the advertisement fills the rest
    sheet.ink.frame(1190, top, 500, 2420 - top, 4)
    sheet.ink.frame(1200, top + 10, 480, 2400 - top, 1)
    sheet.flow(NEWS_ADS, [(1220, (top + 2420) // 2 - 170, 440, 2400)])
    paper = _paper(NEWS_W, NEWS_H, (222, 210, 182), seed=201, blotch=9, grain=5, edge=0.08)
    img = sheet.render(paper, (30, 28, 26), seed=202, angle=-0.45, density=0.9)
    return [Page("p001.jpg", img, NEWS_DPI, sheet.alto("p001.jpg", 1))]


MAP_W, MAP_H, MAP_DPI = 2000, 1450, 150
SEPIA_INK, WASH, RED = (72, 50, 32), (118, 150, 150), (160, 52, 38)
TIEN = [(60, 350), (350, 470), (600, 560), (820, 640), (1050, 700), (1300, 820), (1550, 900),
        (1780, 1010), (1940, 1090)]
HAU = [(60, 760), (350, 880), (600, 990), (850, 1090), (1100, 1190), (1350, 1270),
       (1600, 1330), (1940, 1390)]
#: Towns: position, Vietnamese name, French name and which side of the dot to letter them.
TOWNS = [((740, 560), "Cao Lãnh", "Cao-lanh", -1), ((960, 770), "Sa Đéc", "Sadec", 1),
         ((1450, 955), "Vĩnh Long", "Vinhlong", 1), ((1745, 930), "Mỹ Tho", "Mytho", -1),
         ((420, 980), "Long Xuyên", "Longxuyen", 1), ((1330, 765), "Cái Bè", "Caibé", -1)]


def _river(p: Painter, path: list[tuple[float, float]], half: float, rng: random.Random) -> None:
    """A river as a copyist draws it: a pale wash between two trembling bank lines."""
    centre = _wobble(path, rng, amp=9)
    p(WASH, 0.5, 2.0).stroke(centre, width=2 * half)
    for side in (-1, 1):
        bank = []
        for i, (x, y) in enumerate(centre):
            (ax, ay), (bx, by) = centre[max(0, i - 1)], centre[min(len(centre) - 1, i + 1)]
            length = math.hypot(bx - ax, by - ay) or 1
            r = side * half * (1 + 0.12 * math.sin(i / 23)) + rng.uniform(-0.7, 0.7)
            bank.append((x - (by - ay) / length * r, y + (bx - ax) / length * r))
        p(SEPIA_INK, 0.9, 0.7).stroke(bank, width=2.6)


def _compass(ink: Mask, red: Mask, cx: float, cy: float, r: float) -> None:
    """An eight-point compass rose: each point half filled, half outlined; north in red."""
    ring = [(cx + r * math.cos(t / 36 * math.pi), cy + r * math.sin(t / 36 * math.pi))
            for t in range(73)]
    ink.stroke(ring, 2.5)
    ink.stroke([(x * 0.86 + cx * 0.14, y * 0.86 + cy * 0.14) for x, y in ring], 1.5)
    for k in range(8):
        t, length = k * math.pi / 4, r * (1.05 if k % 2 == 0 else 0.6)
        tip = (cx + length * math.sin(t), cy - length * math.cos(t))
        left = (cx + 0.2 * r * math.sin(t - 0.8), cy - 0.2 * r * math.cos(t - 0.8))
        right = (cx + 0.2 * r * math.sin(t + 0.8), cy - 0.2 * r * math.cos(t + 0.8))
        (red if k == 0 else ink).polygon([(cx, cy), tip, left])
        ink.stroke([(cx, cy), tip, right, (cx, cy)], 2)
    ink.label("N", "DejaVu Serif Bold 15", MAP_DPI, cx, cy - r - 28)


def hand_map() -> list[Page]:
    """A hand-drawn map of Sa Đéc and the Plaine des Joncs, about 1920, bilingual labels;
    sepia paper, folded in four, one TIFF (deflate)."""
    rng = random.Random(3)
    p = Painter(MAP_W, MAP_H)
    for path, half in ((TIEN, 30), (HAU, 34)):
        _river(p, path, half, rng)
    for _, mask, *_ in p.layers:  # the rivers stop at the border
        mask.keep(60, 60, MAP_W - 120, MAP_H - 120)
    marsh = p((92, 96, 52), 0.75, 0.6)
    for _ in range(260):  # reeds of the Plaine des Joncs, north of the river, round the name
        x, y = rng.uniform(880, 1640), rng.uniform(130, 560)
        if y < (x - 700) * 0.45 + 430 and not (980 < x < 1500 and 260 < y < 420):
            for dx, dy in ((-7, -12), (0, -16), (7, -12)):
                marsh.stroke([(x, y), (x + dx, y + dy)], 1.6)
            marsh.stroke([(x - 9, y + 1), (x + 9, y + 1)], 1.4)
    ink = p(SEPIA_INK, 0.92, 0.7)
    for a, b in (((1120, 745), (1230, 230)), ((1390, 835), (1520, 270))):  # canals
        for off in (-4, 4):
            ink.stroke(_wobble([(a[0] + off, a[1]), (b[0] + off, b[1])], rng, 2), 1.6)
    road = _wobble([(1745, 935), (1850, 820), (1960, 700)], rng, 4)
    for i in range(0, len(road) - 3, 5):
        ink.stroke(road[i:i + 3], 2.5)
    ink.frame(40, 40, MAP_W - 80, MAP_H - 80, 5)
    ink.frame(58, 58, MAP_W - 116, MAP_H - 116, 2)
    for i in range(1, 10):  # graduation of the inner border
        ink.rect(58 + i * (MAP_W - 116) / 10, 58, 2, 14)
        ink.rect(58 + i * (MAP_W - 116) / 10, MAP_H - 72, 2, 14)
    serif = "DejaVu Serif"
    for (x, y), vi, fr, side in TOWNS:
        ink.disc(x, y, 9)
        ink.stroke([(x + 14 * math.cos(t / 8 * math.pi), y + 14 * math.sin(t / 8 * math.pi))
                    for t in range(17)], 2)
        ink.label(vi, f"{serif} Bold 13", MAP_DPI, x, y + side * 38)
        ink.label(f"({fr})", f"{serif} Italic 10", MAP_DPI, x, y + side * 38 + (24 if side > 0
                                                                                  else -30))
    ink.label("Đ Ồ N G   T H Á P   M Ư Ờ I", f"{serif} Bold 19", MAP_DPI, 1240, 310)
    ink.label("PLAINE  DES  JONCS", f"{serif} Italic 15", MAP_DPI, 1240, 370)
    ink.label("Sông Tiền", f"{serif} Italic 13", MAP_DPI, 1000, 684, angle=16)
    ink.label("(Fleuve Antérieur)", f"{serif} Italic 10", MAP_DPI, 1520, 840, angle=19)
    ink.label("Sông Hậu", f"{serif} Italic 13", MAP_DPI, 980, 1140, angle=22)
    ink.label("(Bassac)", f"{serif} Italic 10", MAP_DPI, 1420, 1235, angle=17)
    ink.label("Route de Saigon →", f"{serif} Italic 10", MAP_DPI, 1830, 720, angle=-45)
    ink.label("← Vers Phnom-Penh", f"{serif} Italic 10", MAP_DPI, 260, 330, angle=22)
    ink.frame(100, 1130, 640, 250, 3)
    ink.frame(110, 1140, 620, 230, 1)
    for n, (text, font) in enumerate((("CARTE DE LA RÉGION DE SADEC", "Bold 15"),
                                      ("et de la Plaine des Joncs", "Italic 13"),
                                      ("Bản đồ vùng Sa Đéc và Đồng Tháp Mười", "Italic 12"),
                                      ("Échelle approximative 1 : 250 000", "10"))):
        ink.label(text, f"{serif} {font}", MAP_DPI, 420, 1175 + n * 40)
    for i in range(5):  # scale bar, 5 km a segment
        (ink.rect if i % 2 == 0 else ink.frame)(230 + i * 76, 1335, 76, 12, *(() if i % 2 == 0
                                                                               else (2,)))
        ink.label(str(5 * i), f"{serif} 8", MAP_DPI, 230 + i * 76, 1322)
    ink.label("25 km", f"{serif} 8", MAP_DPI, 230 + 5 * 76 + 6, 1322)
    red = p(RED, 0.8, 0.8)
    for (x, y), *_ in TOWNS:
        red.disc(x, y, 5)
    _compass(ink, red, 1790, 240, 105)
    stains = p((150, 110, 60), 0.18, 25)  # foxing and a water stain
    for _ in range(9):
        stains.disc(rng.uniform(80, MAP_W - 80), rng.uniform(80, MAP_H - 80), rng.uniform(8, 30))
    stains.disc(1600, 1250, 120)
    paper = _paper(MAP_W, MAP_H, (226, 204, 160), seed=301, blotch=12, grain=5, edge=0.15)
    across = ((pyvips.Image.xyz(MAP_W, 1)[0] - MAP_W / 2).abs() / -5).exp()  # the folds
    down = ((pyvips.Image.xyz(1, MAP_H)[1] - MAP_H / 2).abs() / -5).exp()
    fold = 1 - 0.07 * (across.embed(0, 0, MAP_W, MAP_H, extend="copy")
                       + down.embed(0, 0, MAP_W, MAP_H, extend="copy"))
    return [Page("p001.tif", p.over(paper * fold), MAP_DPI)]


DECREE_W, DECREE_H, DECREE_DPI = 2000, 910, 46


def _fret(mask: Mask, x: float, y: float, size: float, vertical: bool) -> None:
    """One unit of the key-fret (hồi văn) border."""
    unit = [(0, 1), (0, 0), (0.8, 0), (0.8, 0.62), (0.38, 0.62), (0.38, 0.34)]
    mask.stroke([(x + size * (b if vertical else a), y + size * (a if vertical else b))
                 for a, b in unit], 6)


def _pseudo_glyph(mask: Mask, x: float, y: float, size: float, rng: random.Random) -> None:
    """Faded brush strokes standing for a Hán character. No font on this machine has CJK
    glyphs, so the decree's text is shown abraded and illegible; its Hán title is in the
    metadata (``alternative@lzh``)."""
    for _ in range(rng.randint(4, 8)):
        a, b = rng.uniform(0.1, 0.9), rng.uniform(0.1, 0.9)
        kind = rng.choice("hhvvdp")
        if kind == "h":
            pts = [(x + size * 0.1, y + size * a), (x + size * 0.9, y + size * (a + 0.03))]
        elif kind == "v":
            pts = [(x + size * a, y + size * 0.08), (x + size * a, y + size * 0.92)]
        elif kind == "d":
            pts = [(x + size * a, y + size * 0.2), (x + size * (a - 0.3), y + size * 0.85)]
        else:
            pts = [(x + size * a, y + size * b), (x + size * (a + 0.08), y + size * (b + 0.1))]
        mask.stroke(pts, size * 0.09)


def royal_decree() -> list[Page]:
    """A sắc phong of Tự Đức 5 (1852): yellow paper, cloud and key-fret decoration, columns
    of faded text read right to left, the vermilion seal over the date; uncompressed TIFF."""
    rng = random.Random(4)
    p = Painter(DECREE_W, DECREE_H)
    clouds = p((196, 146, 60), 0.35, 1.5)
    for _ in range(16):  # auspicious clouds, printed faint under the text
        cx, cy, turns = rng.uniform(150, 1850), rng.uniform(140, 770), rng.uniform(1.5, 2.5)
        spiral = [(cx + t * 9 * math.cos(t), cy + t * 6 * math.sin(t))
                  for t in (i / 8 for i in range(int(turns * 2 * math.pi * 8)))]
        clouds.stroke(spiral, 5)
        clouds.stroke([spiral[-1], (spiral[-1][0] + 90, spiral[-1][1] + 14)], 5)
    border = p((150, 96, 38), 0.7, 1.0)
    border.frame(28, 28, DECREE_W - 56, DECREE_H - 56, 7)
    border.frame(96, 96, DECREE_W - 192, DECREE_H - 192, 5)
    for x in range(46, DECREE_W - 90, 52):
        _fret(border, x, 46, 40, False)
        _fret(border, x, DECREE_H - 86, 40, False)
    for y in range(98, DECREE_H - 120, 52):
        _fret(border, 46, y, 40, True)
        _fret(border, DECREE_W - 86, y, 40, True)
    ink = p((34, 26, 20), 0.62, 2.2)
    x = 1770  # columns from the right: the large 敕, the text, a gap, the date
    for column, length in enumerate((1, 9, 10, 10, 9, 10, 10, 8, 10, 4, 0, 7)):
        for row in range(length):
            _pseudo_glyph(ink, x, 140 + row * 64, 90 if column == 0 else 58, rng)
        x -= 96 if column else 130
    seal = p((178, 38, 30), 0.78, 1.0)
    sx, sy, side = 576, 240, 270
    seal.frame(sx, sy, side, side, 16)
    for cx in (sx + 28, sx + side / 2 + 6):  # 敕命之寶 in seal script, as a pattern
        for cy in (sy + 28, sy + side / 2 + 6):
            pts, (px, py) = [], (cx, cy)
            for i in range(13):
                px = cx + rng.choice((0, 0.33, 0.66, 1)) * (side / 2 - 40) if i % 2 else px
                py = cy + rng.choice((0, 0.33, 0.66, 1)) * (side / 2 - 40) if not i % 2 else py
                pts.append((px, py))
            seal.stroke(pts, 11)
    paper = _paper(DECREE_W, DECREE_H, (222, 184, 96), seed=401, blotch=14, grain=6, edge=0.2)
    layers = p.images()  # clouds, border, ink, seal: the ink has flaked off in places
    flaking = pyvips.Image.perlin(DECREE_W, DECREE_H, cell_size=18, seed=402) + 0.35
    layers[2] = (layers[2][0] * (flaking > 0).ifthenelse(1.0, 0.25), *layers[2][1:])
    return [Page("p001.tif", _compose(paper, layers), DECREE_DPI, tiff="none")]


NOTE_W, NOTE_H, NOTE_DPI = 1340, 1890, 200
BLUE_BLACK, PENCIL_BLACK = (34, 44, 112), (44, 42, 40)
HAND = "DejaVu Serif"

GENEALOGY_TEXT = [
    "Bản chép lại năm Mậu Dần (1938) theo bản chữ Nho ông bà để lại, vì bản cũ đã mục "
    "nát. Con cháu phải giữ gìn cẩn thận, không được đem cho người ngoài coi.",
    "Đời thứ nhất. Ông Trần Văn Lượng, gốc người Quảng Ngãi, theo ghe bầu vào Nam lập "
    "nghiệp ở làng Mỹ Trà. Ông khai phá được mười hai mẫu ruộng bên rạch Cái Sao. Mộ "
    "táng tại giồng Cây Sung.",
    "Đời thứ hai. Ông Trần Văn Hựu, bà Nguyễn Thị Lành. Sinh hạ được hai trai hai gái. "
    "Ông làm thầy thuốc Nam, được dân trong làng kính trọng.",
    "Đời thứ ba. Ông Trần Văn Khiêm làm hương cả trong làng, có công đứng ra quyên tiền "
    "dựng lại ngôi miếu thờ Bà bên rạch. Ông Trần Văn Nhượng lên Đồng Tháp Mười khẩn "
    "đất, lập vườn ở Mỹ Hiệp.",
    "Ngày giỗ tổ: mồng mười tháng Ba âm lịch. Con cháu các chi nhớ về cho đủ mặt.",
]

#: The family tree on page 2: (generation, x, name, note), parent index; the fourth
#: generation was added later in another ink.
TREE = [((1, 670, "Trần Văn Lượng", "khoảng 1790 – 1852"), None),
        ((2, 670, "Trần Văn Hựu", "vợ: Nguyễn Thị Lành"), 0),
        ((3, 320, "Trần Văn Khiêm", ""), 1), ((3, 610, "Trần Văn Nhượng", ""), 1),
        ((3, 895, "Trần Thị Gấm", ""), 1), ((3, 1160, "Trần Thị Thêu", ""), 1),
        ((4, 330, "Trần Công Bình", "1912 – 1980"), 2), ((4, 600, "Trần Công Định", ""), 2),
        ((4, 890, "Trần Văn Tâm", "1925 – ?"), 3)]


def _notebook(seed: int, first_line: int, pitch: int, angle: float) -> pyvips.Image:
    """A school exercise book page: ruled lines and a red margin on greyish paper, turned
    by ``angle`` like the writing on it."""
    p = Painter(NOTE_W, NOTE_H)
    rules = p((120, 150, 200), 0.45, 0.6)
    for y in range(first_line, NOTE_H - 90, pitch):
        rules.rect(0, y, NOTE_W, 2)
    p((200, 70, 70), 0.5, 0.6).rect(170, 0, 3, NOTE_H)
    paper = _paper(NOTE_W, NOTE_H, (232, 230, 218), seed=seed, blotch=7, grain=4, edge=0.1)
    return _compose(paper, [(_rotate(m, angle), rgb, op) for m, rgb, op in p.images()])


def genealogy() -> list[Page]:
    """Gia phả họ Trần: a handwritten copy (1938) in an exercise book, then the family tree
    completed in 1972; page 1 PNG with ALTO, page 2 JPEG without (a diagram, no lines)."""
    pitch = 58
    text = Sheet(NOTE_W, NOTE_H, NOTE_DPI, jitter=3, rng=random.Random(5))
    text.flow([Para("GIA PHẢ HỌ TRẦN", 16, "Bold Italic", HAND, "centre", 0, after=0.2),
               Para("Chi phái ở làng Mỹ Trà, quận Cao Lãnh", 12, "Italic", HAND, "centre", 0,
                    after=0.6)], [(200, 120, 1040, 400)])
    on_the_rules = pitch / (12 * NOTE_DPI / 72)  # every line sits on a ruled line
    text.flow([Para(t, 12, "Italic", HAND, indent=2, after=0, leading=on_the_rules)
               for t in GENEALOGY_TEXT], [(200, 290, 1040, NOTE_H - 120)])
    first = text.render(_notebook(501, 290 + 44, pitch, 0.6), BLUE_BLACK, seed=502,
                        angle=0.6, density=0.85)

    tree = Sheet(NOTE_W, NOTE_H, NOTE_DPI)
    later = Mask(NOTE_W, NOTE_H)
    tree.ink.label("SƠ ĐỒ CÁC ĐỜI", f"{HAND} Bold Italic 15", NOTE_DPI, 670, 190)
    rng, boxes = random.Random(6), []
    for (gen, x, name, note), parent in TREE:
        pen = later if gen == 4 else tree.ink
        y = 160 + gen * 300
        size = 12 if gen < 3 else 10
        left, top, w, h = pen.label(name, f"{HAND} Italic {size}", NOTE_DPI, x, y)
        if note:
            note_left, _, note_w, _ = pen.label(note, f"{HAND} Italic 9", NOTE_DPI, x, y + 46)
            left, w = min(left, note_left), max(w, note_w)
        box = (left - 18, top - 16, w + 36, h + (78 if note else 32))
        corners = [(box[0], box[1]), (box[0] + box[2], box[1]), (box[0] + box[2], box[1] + box[3]),
                   (box[0], box[1] + box[3]), (box[0], box[1])]
        pen.stroke(_wobble(corners, rng, 1.5), 2.4)
        if parent is not None:
            bx, by, bw, bh = boxes[parent]
            px, pbottom = bx + bw / 2, by + bh
            mid = (pbottom + box[1]) / 2
            pen.stroke(_wobble([(px, pbottom), (px, mid), (x, mid), (x, box[1])], rng, 1.2), 2.4)
        boxes.append(box)
    tree.ink.label("Đời thứ tư chép thêm năm 1972 – T. C. B.", f"{HAND} Italic 10", NOTE_DPI,
                   670, 1720)
    paper = _notebook(503, 334, pitch, -0.4)
    second = tree.render(paper, BLUE_BLACK, seed=504, angle=-0.4, density=0.85,
                         extra=[(later.image(0.6), PENCIL_BLACK, 0.85)])
    return [Page("p001.png", first, NOTE_DPI, text.alto("p001.png", 1)),
            Page("p002.jpg", second, NOTE_DPI)]


PHOTO_W, PHOTO_H, PHOTO_DPI = 1800, 1200, 300
HORIZON = 430


def _boat(pal: Palette, shadows: Mask, x: float, y: float, length: float,
          rng: random.Random, *, cargo: tuple[RGB, ...] = (), people: int = 1,
          cabin: bool = False, pole: bool = False) -> None:
    """A wooden market boat at waterline ``y``, bow to the right: its reflection, hull,
    painted gunwale and bow eye, cargo heaped on deck, cabin, people in conical hats, and
    the « cây bẹo » pole from which floating-market boats hang what they sell."""
    d, left = length * 0.13, x - length / 2
    ts = [i / 24 for i in range(25)]
    gunwale = [(left + length * t, y - d * (1 + 0.9 * (2 * t - 1) ** 6)) for t in ts]
    keel = [(left + length * t, y + d * 0.3 * math.sin(math.pi * t)) for t in reversed(ts)]
    shadows.polygon([(a, y + (y - b) * 0.6 + d * 0.3) for a, b in gunwale] + keel)
    pal((80, 54, 36)).polygon(gunwale + keel)
    pal((50, 92, 140)).stroke(gunwale[2:-1], d * 0.22)
    pal((232, 226, 210)).disc(left + length * 0.9, y - d * 0.75, d * 0.14)
    pal((20, 20, 20)).disc(left + length * 0.9, y - d * 0.75, d * 0.07)
    deck = y - d
    if cabin:
        cx0, cw, ch = left + length * 0.55, length * 0.22, d * 1.6
        pal((112, 84, 58)).rect(cx0, deck - ch, cw, ch)
        pal((62, 54, 50)).polygon([(cx0 - 8, deck - ch), (cx0 + cw / 2, deck - ch * 1.35),
                                   (cx0 + cw + 8, deck - ch)])
    for i, rgb in enumerate(cargo):  # a heap: rows of fruit, narrower upwards
        r, x0 = d * 0.32, left + length * (0.2 + 0.18 * i)
        for row in range(3):
            for k in range(4 - row):
                pal(rgb).disc(x0 + (k + row / 2) * r * 1.7 + rng.uniform(-2, 2),
                              deck - r * 0.6 - row * r * 1.4, r)
        pal(tuple(min(255, c + 40) for c in rgb)).disc(x0 + r * 1.2, deck - r * 2.2, r * 0.35)
    for k in range(people):
        px, h = left + length * (0.12 + 0.55 * k), d * 2.6
        pal(rng.choice(((170, 60, 50), (60, 92, 150), (224, 214, 192), (95, 120, 80)))).rect(
            px - h * 0.16, deck - h * 0.75, h * 0.32, h * 0.75)
        pal((165, 118, 88)).disc(px, deck - h * 0.86, h * 0.12)
        pal((222, 206, 166)).polygon([(px - h * 0.3, deck - h * 0.86), (px, deck - h * 1.18),
                                      (px + h * 0.3, deck - h * 0.86)])
    if pole:
        top_y, px = deck - length * 0.55, left + length * 0.42
        pal((96, 72, 50)).stroke([(px, deck), (px + 6, top_y)], max(3.0, length / 90))
        for k, rgb in enumerate(((62, 110, 50), (214, 150, 40), (190, 60, 50))):
            pal(rgb).disc(px + 6 + (k - 1) * d * 0.35, top_y + d * 0.25 + (k % 2) * 8, d * 0.2)


def photograph() -> list[Page]:
    """A colour print of 1996: boats of the floating market on the Sa Đéc river at dawn,
    houses on stilts on the far bank; grain, vignette, the camera's date in the corner."""
    rng = random.Random(7)
    w, h = PHOTO_W, PHOTO_H
    yy = pyvips.Image.xyz(w, h)[1].cast("float")
    t_sky, t_water = yy / HORIZON, (yy - HORIZON) / (h - HORIZON)
    sky = t_sky * [64, 34, 0] + [168, 186, 200]
    sky += _perlin(w, h, 260, 701) * 18
    water = t_water * [-52, -44, -30] + [150, 130, 96]
    streaks = pyvips.Image.gaussnoise(w // 40, h, sigma=16, mean=0, seed=702)
    water += streaks.resize(40, vscale=1, kernel="linear").crop(0, 0, w, h)
    base = (yy < HORIZON).ifthenelse(sky, water)
    p, pal = Painter(w, h), Palette(w, h)
    trees = p((56, 76, 46), 1.0, 1.4)  # the far bank, a little hazy
    for x in range(-20, w + 40, 22):
        trees.disc(x + rng.uniform(-8, 8), HORIZON - 30 - rng.uniform(0, 40), rng.uniform(20, 44))
    trees.rect(0, HORIZON - 40, w, 52)
    highlights = p((86, 106, 62), 0.7, 1.4)
    for x in range(0, w, 37):
        highlights.disc(x + rng.uniform(-8, 8), HORIZON - 60 - rng.uniform(0, 30),
                        rng.uniform(8, 18))
    p((44, 52, 36), 0.5, 8).rect(0, HORIZON + 12, w, 30)  # the bank's reflection
    shadows = p((48, 40, 28), 0.35, 8)
    for hx in (180, 560, 990, 1430, 1650):  # houses on stilts
        pal((70, 60, 48)).rect(hx, HORIZON - 6, 66, 4)
        for sx in range(hx + 4, hx + 66, 15):
            pal((70, 60, 48)).rect(sx, HORIZON - 6, 3, 20)
        pal((204, 192, 170)).rect(hx + 4, HORIZON - 42, 58, 36)
        pal((60, 50, 42)).rect(hx + 24, HORIZON - 32, 14, 26)
        pal((146, 76, 52)).polygon([(hx - 6, HORIZON - 41), (hx + 33, HORIZON - 66),
                                    (hx + 72, HORIZON - 41)])
    _boat(pal, shadows, 420, 520, 260, rng, cargo=((62, 110, 50),), people=1)
    _boat(pal, shadows, 1360, 548, 320, rng, cargo=((214, 140, 40),), people=2, cabin=True,
          pole=True)
    _boat(pal, shadows, 860, 650, 480, rng, cargo=((62, 110, 50), (214, 170, 60)), people=2,
          cabin=True, pole=True)
    _boat(pal, shadows, 1480, 930, 560, rng, cargo=((226, 120, 150), (240, 220, 120)),
          people=1)
    _boat(pal, shadows, 360, 1010, 720, rng,
          cargo=((62, 110, 50), (62, 110, 50), (214, 140, 40)), people=2, pole=True)
    mottle = _perlin(w, h, 90, 704) * 0.08 + 1  # no flat colour
    scene = pal.over(p.over(base)) * mottle
    date = Mask(w, h)  # the camera printed the date on the film
    date.label("'96  3 14", "DejaVu Sans Mono Bold 9", PHOTO_DPI, w - 260, h - 80)
    img = _compose(scene.gaussblur(1.3), [(date.image(0.9), (255, 150, 60), 0.9)])

    def vignette(sw: int, sh: int) -> pyvips.Image:
        xyz = pyvips.Image.xyz(sw, sh).cast("float") * SMOOTH
        r2 = ((xyz[0] - w / 2) ** 2 + (xyz[1] - h / 2) ** 2) / ((w / 2) ** 2 + (h / 2) ** 2)
        return 1 - 0.35 * r2

    img = img * _smooth(w, h, vignette) + _grain(w, h, 9, 703)
    img = img * [0.95, 0.93, 0.86] + [14, 10, 6]  # a print that has faded a little warmer
    return [Page("p001.jpg", img, PHOTO_DPI)]


A4_W, A4_H, A4_DPI = 1240, 1754, 150
SANS = "DejaVu Sans"


def _official_seal(mask: Mask, cx: float, cy: float, r: float) -> None:
    """A round office seal: two rings, the library's name around, a star in the middle."""
    for radius, width in ((r, 6), (r * 0.66, 3)):
        mask.stroke([(cx + radius * math.cos(t / 40 * math.pi),
                      cy + radius * math.sin(t / 40 * math.pi)) for t in range(81)], width)
    text = "THƯ VIỆN TỈNH ĐỒNG THÁP ★ "
    for i, char in enumerate(text):
        if char.strip():
            t = i * 360 / len(text) - 120
            mask.label(char, f"{SANS} Bold 9", A4_DPI, cx + r * 0.83 * math.sin(math.radians(t)),
                       cy - r * 0.83 * math.cos(math.radians(t)), angle=t)
    mask.polygon([(cx + r * (0.36 if k % 2 == 0 else 0.14) * math.sin(k * math.pi / 5),
                   cy - r * (0.36 if k % 2 == 0 else 0.14) * math.cos(k * math.pi / 5))
                  for k in range(10)])


def inventory() -> list[Page]:
    """An internal record (2024): the inventory of rare documents before digitisation, as
    laser-printed, signed and stamped; deflate TIFF with ALTO. Access ``internal``."""
    sheet = Sheet(A4_W, A4_H, A4_DPI)
    sheet.flow([_c("SỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH", 10, family=SANS, after=0),
                _c("THƯ VIỆN TỈNH ĐỒNG THÁP", 10, style="Bold", family=SANS, after=0.6),
                _c("Số: 45/BB-TV", 10, family=SANS)], [(90, 110, 460, 300)])
    sheet.flow([_c("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 10, style="Bold", family=SANS,
                   after=0),
                _c("Độc lập – Tự do – Hạnh phúc", 10.5, style="Bold", family=SANS, after=0.6),
                _c("Cao Lãnh, ngày 18 tháng 3 năm 2024", 10, style="Italic", family=SANS)],
               [(560, 110, 600, 300)])
    sheet.ink.rect(240, 172, 160, 2)  # the rules under the two header lines
    sheet.ink.rect(745, 176, 230, 2)
    body = [_c("BIÊN BẢN", 14, style="Bold", family=SANS, after=0.1),
            _c("Kiểm kê tài liệu cổ, quý hiếm trước khi số hóa", 12, style="Bold",
               family=SANS, after=1.0)]
    body += [Para(t, 11.5, family=SANS, indent=2 if not t[0].isdigit() else 0, after=0.4,
                  leading=1.45) for t in (
        "Hôm nay, vào lúc 8 giờ 30 ngày 18 tháng 3 năm 2024, tại kho tài liệu quý hiếm của "
        "Thư viện tỉnh Đồng Tháp, chúng tôi gồm: bà Võ Thị Ngọc Hân, Phó Giám đốc, trưởng "
        "đoàn; ông Lâm Quốc Việt, phụ trách kho; bà Đặng Thị Kim Loan, cán bộ số hóa; đã "
        "cùng kiểm kê các tài liệu dưới đây trước khi đưa vào số hóa:",
        "1. Sắc phong năm Tự Đức thứ 5 (1852), 01 tờ, giấy sắc vàng, mép trái rách khoảng "
        "3 cm; cần gia cố trước khi chụp.",
        "2. Gia phả họ Trần ở Mỹ Trà, 01 cuốn, chữ Quốc ngữ viết tay; gia đình gửi lưu giữ, "
        "chỉ số hóa để bảo quản, không công bố.",
        "3. Bản đồ vùng Sa Đéc và Đồng Tháp Mười, vẽ tay khoảng năm 1920, 01 tờ; có nếp "
        "gấp, mực phai màu.",
        "4. Sa Đéc – Cao Lãnh: đất và người, in năm 1963, 01 cuốn; tình trạng tốt.",
        "Các tài liệu trên được bàn giao cho bộ phận số hóa, chụp ở độ phân giải 400 dpi, "
        "lưu tệp gốc dạng TIFF không nén. Biên bản lập thành 02 bản, mỗi bên giữ 01 bản.")]
    y = sheet.flow(body, [(130, 330, 980, 1400)])
    for x, role, name in ((130, "NGƯỜI LẬP BIÊN BẢN", "Đặng Thị Kim Loan"),
                          (690, "TRƯỞNG ĐOÀN", "Võ Thị Ngọc Hân")):
        sheet.flow([_c(role, 10.5, style="Bold", family=SANS, after=0),
                    _c("(ký, ghi rõ họ tên)", 9.5, style="Italic", family=SANS)],
                   [(x, y + 40, 420, y + 200)])
        sheet.flow([_c(name, 10.5, style="Bold", family=SANS)], [(x, y + 310, 420, y + 380)])
    rng, pen = random.Random(8), Mask(A4_W, A4_H)
    for x in (250, 820):  # signatures
        loops = [(x + i * 9 + 30 * math.sin(i * 0.9), y + 230 + 26 * math.cos(i * 1.3)
                  + rng.uniform(-3, 3)) for i in range(20)]
        pen.stroke(loops, 3)
    seal = Mask(A4_W, A4_H)
    _official_seal(seal, 830, y + 250, 105)
    paper = _paper(A4_W, A4_H, (246, 245, 240), seed=701, blotch=2, grain=3)
    img = sheet.render(paper, (24, 24, 26), seed=702, angle=0.2, density=0.95,
                       extra=[(pen.image(0.8), (30, 50, 140), 0.9)])
    img = _compose(img, [(seal.image(0.8), (200, 40, 48), 0.7)])
    return [Page("p001.tif", img, A4_DPI, sheet.alto("p001.tif", 1))]


# --------------------------------------------------------------------------- the catalogue

NOC_NC = "http://rightsstatements.org/vocab/NoC-NC/1.0/"
PD_MARK = "http://creativecommons.org/publicdomain/mark/1.0/"
CC_BY = "http://creativecommons.org/licenses/by/4.0/"
IN_COPYRIGHT = "http://rightsstatements.org/vocab/InC/1.0/"
INC_EDU = "http://rightsstatements.org/vocab/InC-EDU/1.0/"


def _row(collection: tuple[str, str], **values: str) -> dict[str, str]:
    return {"collection": collection[0], "collection@en": collection[1],
            "holding_library": LIBRARY, **values}


#: Each item: its CSV row (without files and alto) and the function that draws its pages.
ITEMS: list[tuple[dict[str, str], Callable[[], list[Page]]]] = [
    (_row(LOCAL, identifier="dt-dc-0001", title="Sa Đéc – Cao Lãnh: đất và người",
          **{"title@en": "Sa Đéc – Cao Lãnh: the land and its people",
             "description@en": "A short booklet on the geography, settlement history, markets, "
             "the Tân Quy Đông flower village and the cultural life of Sa Đéc, Cao Lãnh and "
             "the Plain of Reeds."},
          alternative="Lược khảo lịch sử, địa lý và sinh hoạt văn hóa Sa Đéc – Cao Lãnh",
          creator="Lê Minh Khoa", contributor="Hội Khuyến học Sa Đéc",
          publisher="Nhà in Quảng Hưng", date="1963", type="sách", language="vie",
          subject="Lịch sử địa phương|Địa lý|Văn hóa dân gian|Làng hoa",
          spatial="Sa Đéc|Cao Lãnh|Đồng Tháp Mười",
          description="Tập sách nhỏ giới thiệu địa lý, lịch sử khai phá, chợ búa, làng hoa Tân "
          "Quy Đông và sinh hoạt văn hóa của Sa Đéc, Cao Lãnh và vùng Đồng Tháp Mười.",
          rights=INC_EDU, access="public", category="local_studies", shelfmark="ĐC.00123",
          extent="4 tr. ; 21 cm"), booklet),
    (_row(LOCAL, identifier="tg-dc-0002",
          title="Tiếng Mỹ Tho: tuần báo, số 47, ngày 12 tháng 5 năm 1934",
          **{"title@en": "Tiếng Mỹ Tho (weekly), no. 47, 12 May 1934"},
          contributor="Huỳnh Văn Thuận", publisher="Toà soạn Tiếng Mỹ Tho", date="1934",
          type="báo", language="vie", subject="Nông nghiệp|Lũ lụt|Chợ|Báo chí Nam Kỳ",
          spatial="Mỹ Tho|Gò Công",
          description="Trang nhất tuần báo in theo lối chính tả thời ấy (hoà, Thuỵ, khoẻ): mùa "
          "lúa ở Gò Công, chợ Mỹ Tho sau mùa nước, tin trong xứ, tin thế giới, mắm tôm chà "
          "Gò Công, rao vặt, thơ và quảng cáo.",
          rights=NOC_NC, access="public", category="local_studies",
          holding_library="Thư viện Tiền Giang (cơ sở Mỹ Tho)", shelfmark="TG.BC.01934",
          extent="1 tr. ; 32 cm"), newspaper),
    (_row(VISUAL, identifier="dt-qh-0003", title="Bản đồ vùng Sa Đéc và Đồng Tháp Mười",
          **{"title@fr": "Carte de la région de Sadec et de la Plaine des Joncs",
             "title@en": "Map of the Sa Đéc region and the Plain of Reeds",
             "description@fr": "Carte manuscrite en couleurs : le Fleuve Antérieur et le "
             "Bassac, les chefs-lieux, les canaux de la Plaine des Joncs, rose des vents."},
          date="khoảng 1920", type="bản đồ", language="fra|vie",
          subject="Bản đồ|Sông ngòi|Kênh đào",
          spatial="Sa Đéc|Cao Lãnh|Mỹ Tho|Đồng Tháp Mười|Plaine des Joncs",
          description="Bản đồ vẽ tay tô màu, chú thích song ngữ Việt – Pháp: sông Tiền, sông "
          "Hậu, các tỉnh lỵ, kênh đào vùng Đồng Tháp Mười, hoa gió. Có nếp gấp làm tư.",
          rights=PD_MARK, access="public", category="rare", shelfmark="QH.BĐ.0007",
          extent="1 tờ : vẽ tay, màu ; 25 x 34 cm"), hand_map),
    (_row(RARE, identifier="dt-qh-0004",
          title="Sắc phong Thành hoàng bổn cảnh, năm Tự Đức thứ 5 (1852)",
          **{"title@fr": "Brevet royal conférant le titre de génie tutélaire du village, "
             "5e année de Tự Đức (1852)",
             "alternative@lzh": "敕封本境城隍尊神",
             "description@fr": "Brevet royal en caractères chinois sur papier jaune, décor de "
             "nuages et de grecques, sceau vermillon sur la date."},
          creator="Triều Nguyễn", date="1852", type="sắc phong", language="lzh",
          subject="Sắc phong|Tín ngưỡng dân gian|Thành hoàng|Triều Nguyễn",
          spatial="Sa Đéc|Cồn Bà Lụa",
          description="Sắc phong chữ Hán trên giấy sắc vàng, trang trí mây và hồi văn, ấn son "
          "đóng trên dòng niên hiệu. Đình làng gửi Thư viện bảo quản năm 2019.",
          rights=PD_MARK, access="public", category="rare", shelfmark="QH.HN.0004",
          extent="1 tờ ; 50 x 110 cm"), royal_decree),
    (_row(RARE, identifier="dt-qh-0005", title="Gia phả họ Trần ở Mỹ Trà",
          creator="Trần Công Bình", date="1938-1972", type="gia phả", language="vie",
          subject="Gia phả|Dòng họ", spatial="Cao Lãnh",
          description="Gia phả chép tay bằng chữ Quốc ngữ năm 1938, bổ sung đời thứ tư năm "
          "1972. Tài liệu gia đình gửi lưu giữ; chỉ đọc tại chỗ theo thỏa thuận với gia đình.",
          rights=IN_COPYRIGHT, access="restricted", category="rare", shelfmark="QH.GP.0012",
          extent="2 tr. ; 24 cm"), genealogy),
    (_row(VISUAL, identifier="dt-anh-0006", title="Chợ nổi trên sông Sa Đéc",
          **{"title@en": "Floating market on the Sa Đéc river",
             "description@en": "Colour print: market boats at dawn, each showing its goods "
             "on a « cây bẹo » pole; houses on stilts on the far bank."},
          creator="Phạm Thanh Tùng", date="1996", type="ảnh",
          subject="Chợ nổi|Đời sống sông nước|Ghe thương hồ", spatial="Sa Đéc",
          description="Ảnh màu chụp ghe thương hồ buôn bán trên sông lúc sáng sớm; cây bẹo "
          "treo hàng để khách nhận ra từ xa, nhà sàn bên kia sông.",
          rights=CC_BY, access="public", category="special", shelfmark="ANH.0456",
          extent="1 ảnh : màu ; 10 x 15 cm"), photograph),
    (_row(RARE, identifier="dt-nb-0007",
          title="Biên bản kiểm kê tài liệu cổ, quý hiếm trước khi số hóa (2024)",
          creator="Thư viện tỉnh Đồng Tháp", date="2024", type="tài liệu hành chính",
          language="vie", subject="Kiểm kê|Số hóa|Bảo quản", spatial="Cao Lãnh",
          description="Biên bản nội bộ số 45/BB-TV ngày 18-3-2024: kiểm kê bốn tài liệu quý "
          "hiếm trước khi số hóa, ghi tình trạng và yêu cầu bảo quản.",
          rights=IN_COPYRIGHT, access="internal", category="special", shelfmark="NB.2024.045",
          extent="1 tr. ; 30 cm"), inventory),
]


def write_sample(dest: Path) -> Path:
    """Write the sample collection into ``dest`` (created if needed): one folder of page
    images and ALTO files per item and ``metadata.csv``, whose path is returned."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    rows, saving = [], []
    # libvips computes and saves the pixels of one item while Python draws the next.
    with ThreadPoolExecutor(max_workers=2) as pool:
        for row, draw in ITEMS:
            files, altos = [], []
            for page in draw():
                name = f"{row['identifier']}/{page.name}"
                (dest / name).parent.mkdir(parents=True, exist_ok=True)
                saving.append(pool.submit(_save, page.image, dest / name, page.dpi, page.tiff))
                files.append(name)
                altos.append("" if page.alto is None else name.rsplit(".", 1)[0] + ".alto.xml")
                if page.alto is not None:
                    (dest / altos[-1]).write_bytes(page.alto)
            rows.append({**row, "files": "|".join(files),
                         "alto": "|".join(altos) if any(altos) else ""})
        for job in saving:
            job.result()  # raise here any error met while saving
    csv_path = dest / "metadata.csv"
    with open(csv_path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return csv_path
